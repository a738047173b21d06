"""One-line diagnoses of MQTT connection failures, each naming the setting that fixes it.

A failed connect surfaces as a CONNACK reason code, an ``ssl`` exception or a socket
error; the same exception class can have different causes (a certificate signed by an
unknown CA, or valid but for another host name; a refused TCP connection, or a TLS
handshake against a port that speaks plain MQTT), so the message is chosen from the
details, not the class. Also here: which MQTT 5 response topics a reply may go to.
"""

from __future__ import annotations

import ssl
from typing import Any

from visionedge.config import MqttConfig
from visionedge.sinks.discovery import Topics

__all__ = ["describe_connack", "describe_connect_error", "response_topic_allowed"]

# OpenSSL X509_V_ERR_* codes (x509_vfy.h) that mean "valid certificate, wrong name".
_NAME_MISMATCH = {62, 64}  # HOSTNAME_MISMATCH, IP_ADDRESS_MISMATCH
_EXPIRED = {9, 10}  # CERT_NOT_YET_VALID, CERT_HAS_EXPIRED


def describe_connack(reason: Any, client_id: str) -> str:
    """A refused CONNACK (MQTT 5 reason code or 3.1.1 return code) and what to change."""
    text = str(reason)
    value = getattr(reason, "value", None)
    denied = (
        "check mqtt.username and the password file, and that the broker allows client id "
        f"'{client_id}' (ACL, clientid_prefixes)"
    )
    fix = {
        134: "check mqtt.username and the password file",
        135: denied,
        133: "the broker refuses the client id; set mqtt.client_id to an id it accepts",
        4: "check mqtt.username and the password file",
        5: denied,
        2: "the broker refuses the client id; set mqtt.client_id to an id it accepts",
        132: "set mqtt.protocol to the version the broker speaks",
    }.get(int(value) if value is not None else -1, "see the broker's log")
    return f"{text}; {fix}"


def describe_connect_error(exc: BaseException, mc: MqttConfig) -> str:
    """Why opening the connection to the broker failed, and the setting that fixes it."""
    where = f"{mc.host}:{mc.port}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = getattr(exc, "verify_code", None)
        detail = getattr(exc, "verify_message", "") or str(exc)
        if code in _NAME_MISMATCH:
            return (
                f"TLS: the broker's certificate at {where} is not valid for the name "
                f"'{mc.host}' ({detail}); set mqtt.host to a name the certificate lists "
                "(its subjectAltName), or reissue the certificate for this name"
            )
        if code in _EXPIRED:
            return (
                f"TLS: the broker's certificate at {where} is outside its validity period "
                f"({detail}); renew the certificate or check this board's clock"
            )
        return (
            f"TLS: the broker's certificate at {where} is not trusted ({detail}); set "
            "mqtt.tls.ca_file to the CA that signed it"
        )
    if mc.tls.enabled and isinstance(
        exc, ssl.SSLEOFError | ssl.SSLZeroReturnError | ConnectionResetError | BrokenPipeError
    ):
        return (
            f"TLS handshake with {where} failed: the broker closed the connection "
            f"({type(exc).__name__}); this port probably speaks plain MQTT: set mqtt.port "
            "to the broker's TLS listener (usually 8883) or mqtt.tls.enabled = false"
        )
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or str(exc)
        if mc.tls.enabled and reason in ("WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE",
                                         "PACKET_LENGTH_TOO_LONG"):
            return (
                f"TLS handshake with {where} failed ({reason}): the port does not speak TLS; "
                "set mqtt.port to the broker's TLS listener (usually 8883) or "
                "mqtt.tls.enabled = false"
            )
        if "CERTIFICATE" in str(reason).upper():
            return (
                f"TLS handshake with {where} failed ({reason}): the broker did not accept "
                "our client certificate; set mqtt.tls.certfile and mqtt.tls.keyfile to a "
                "certificate its CA signed"
            )
        return f"TLS handshake with {where} failed ({reason}); check the mqtt.tls settings"
    if isinstance(exc, ConnectionRefusedError | TimeoutError):
        return (
            f"cannot reach the broker at {where} ({type(exc).__name__}); check "
            "mqtt.host/mqtt.port and that the broker runs"
        )
    if isinstance(exc, ValueError):
        return f"cannot connect to {where} ({exc}); check mqtt.host"
    strerror = getattr(exc, "strerror", None)
    return (
        f"cannot reach the broker at {where} ({strerror or exc}); check mqtt.host/mqtt.port "
        "and the network"
    )


def response_topic_allowed(topic: str, topics: Topics) -> bool:
    """True for our reply topic or a topic below it (no wildcards): replies go nowhere else."""
    if "#" in topic or "+" in topic or "\0" in topic:
        return False
    return topic == topics.reply or topic.startswith(topics.reply + "/")
