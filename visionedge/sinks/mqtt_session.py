"""The MQTT sink's connection: the paho client, TLS, connect with backoff, CONNACK handling.

A mixin of :class:`visionedge.sinks.mqtt.MqttSink` (the state lives on the sink, which
sets every attribute declared here). Everything but :meth:`MqttSession._make_client` (called
by the constructor) runs on the sink's I/O thread.
"""

from __future__ import annotations

import logging
import random
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from visionedge.config import Config
from visionedge.errors import ConfigError
from visionedge.service.credentials import Secret
from visionedge.sinks.discovery import Topics
from visionedge.sinks.mqtt_diagnose import describe_connack, describe_connect_error

__all__ = ["SESSION_EXPIRY_S", "WINDOW", "MqttCounters", "MqttSession", "default_client_id"]

# One logger for the whole sink (its name predates the split; users filter on it).
log = logging.getLogger("visionedge.sinks.mqtt")

WINDOW = 100
"""Spool rows handed to paho and not yet acknowledged, at most."""

SESSION_EXPIRY_S = 24 * 3600
"""MQTT 5 session expiry: the broker keeps our session (subscriptions) this long offline."""


def default_client_id(device: str) -> str:
    """The stable client id used when ``mqtt.client_id`` is empty."""
    return f"visionedge-{device}"




@dataclass(slots=True)
class MqttCounters:
    """What the sink has done since it started (published in stats and metrics)."""

    events_spooled: int = 0
    events_acked: int = 0
    publishes: int = 0
    connects: int = 0
    reconnects: int = 0
    connect_failures: int = 0
    control_ok: int = 0
    control_rejected: int = 0
    unknown_messages: int = 0
    oversized_messages: int = 0
    broker_rejected: int = 0
    response_topics_refused: int = 0
    ack_latency_s: deque[float] = field(default_factory=lambda: deque(maxlen=1000))


class MqttSession:
    """Connection handling of :class:`~visionedge.sinks.mqtt.MqttSink` (mixin)."""

    config: Config
    client_id: str
    topics: Topics
    counters: MqttCounters
    connected: threading.Event
    last_error: str
    _password: Secret | None
    _client: mqtt.Client
    _closing: threading.Event
    _need_connect: bool
    _awaiting_connack_until: float
    _just_connected: bool
    _refusal: str
    _ever_connected: bool
    _attempt: int
    _next_attempt: float

    # Callbacks the other parts of the sink provide (mqtt_io, mqtt_control): declared for
    # the type checker only (MqttSink combines the parts; an annotation adds no attribute).
    _on_publish: Callable[[mqtt.Client, Any, int, Any, Any], None]
    _on_message: Callable[[mqtt.Client, Any, mqtt.MQTTMessage], None]

    def _make_client(self) -> mqtt.Client:
        mc = self.config.mqtt
        v5 = mc.protocol == "5"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=self.client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else False,
        )
        client.max_inflight_messages_set(WINDOW)
        client.max_queued_messages_set(0)
        client.connect_timeout = 5.0
        client.suppress_exceptions = True
        if mc.username or self._password:
            client.username_pw_set(
                mc.username or None, self._password.reveal() if self._password else None
            )
        if mc.tls.enabled:
            self._configure_tls(client)
        client.will_set(self.topics.availability, b"offline", qos=1, retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        props: Properties | None = None
        if v5:
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = SESSION_EXPIRY_S
        client.connect_async(
            mc.host,
            mc.port,
            keepalive=mc.keepalive_s,
            clean_start=False if v5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=props,
        )
        return client

    def _configure_tls(self, client: mqtt.Client) -> None:
        tls = self.config.mqtt.tls
        for key in ("ca_file", "certfile", "keyfile"):
            path = getattr(tls, key)
            if path and not Path(path).is_file():
                raise ConfigError(f"mqtt.tls.{key}: {path} does not exist; point it at a PEM file")
        if bool(tls.certfile) != bool(tls.keyfile):
            raise ConfigError("mqtt.tls.certfile and mqtt.tls.keyfile go together (mutual TLS)")
        try:
            client.tls_set(
                ca_certs=tls.ca_file or None,
                certfile=tls.certfile or None,
                keyfile=tls.keyfile or None,
                cert_reqs=ssl.CERT_REQUIRED,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        except (ssl.SSLError, OSError) as exc:
            raise ConfigError(
                f"mqtt.tls: cannot load the CA/client certificate ({exc}); check that "
                "ca_file, certfile and keyfile are PEM files"
            ) from None

    def _backoff(self) -> float:
        mc = self.config.mqtt
        step = min(mc.reconnect_max_s, mc.reconnect_min_s * (2 ** min(self._attempt, 30)))
        self._attempt += 1
        return random.uniform(step / 2, step)

    def _try_connect(self) -> None:
        mc = self.config.mqtt
        try:
            self._client.reconnect()
        except (OSError, ValueError) as exc:
            self._connection_failed(describe_connect_error(exc, mc))
            return
        self._need_connect = False
        self._awaiting_connack_until = time.monotonic() + 10.0

    def _connection_failed(self, why: str) -> None:
        self.counters.connect_failures += 1
        delay = self._backoff()
        self._next_attempt = time.monotonic() + delay
        self._need_connect = True
        self._awaiting_connack_until = 0.0
        self.connected.clear()
        if why != self.last_error:
            log.error("mqtt: %s; retrying in %.1f s", why, delay)
        else:
            log.warning("mqtt: still failing (%s); retrying in %.1f s", why.split(";")[0], delay)
        self.last_error = why

    def _connection_lost(self, why: str) -> None:
        if self._awaiting_connack_until and not self.connected.is_set():
            refusal, self._refusal = self._refusal, ""
            if not refusal:
                tls = self.config.mqtt.tls
                hint = (
                    "if the broker requires a client certificate, set mqtt.tls.certfile and "
                    "mqtt.tls.keyfile"
                    if tls.enabled and not tls.certfile
                    else "see the broker's log (protocol version, TLS, listener settings)"
                )
                refusal = f"the broker closed the connection during CONNECT ({why}); {hint}"
            self._connection_failed(refusal)
            return
        was = self.connected.is_set()
        self.connected.clear()
        self._need_connect = True
        if was:
            # The first retry comes quickly (a broker restart), then the backoff grows.
            self._attempt = 0
            delay = self._backoff()
            self._next_attempt = time.monotonic() + delay
            log.warning("mqtt: connection lost (%s); reconnecting in %.1f s", why, delay)
        else:
            self._next_attempt = time.monotonic() + self._backoff()

    def _shutdown_client(self) -> None:
        if self.connected.is_set():
            try:
                self._client.disconnect()
                self._client.loop_write()
            except Exception as exc:  # a dying socket at shutdown is not worth a traceback
                log.debug("mqtt: disconnect: %s", exc)
        self.connected.clear()

    # -- paho callbacks (I/O thread) ---------------------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if reason.is_failure:
            # Logged once the broker closes the socket (_connection_lost), with the backoff.
            self._refusal = f"broker refused the connection: {describe_connack(reason, self.client_id)}"
            return
        self._awaiting_connack_until = 0.0
        self._attempt = 0
        self.counters.connects += 1
        if self._ever_connected:
            self.counters.reconnects += 1
        self._ever_connected = True
        self.last_error = ""
        self._just_connected = True
        self.connected.set()
        mc = self.config.mqtt
        log.info(
            "mqtt: connected to %s:%d as %s (session %s)",
            mc.host,
            mc.port,
            self.client_id,
            "resumed" if flags.session_present else "new",
        )

    def _on_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if self.connected.is_set() and not self._closing.is_set():
            log.debug("mqtt: disconnected (%s)", reason)

