"""The MQTT sink: events through a durable spool to the broker, plus states, snapshots, control.

Delivery of events (``<prefix>/<device>/events``, QoS 1)::

    publish(event) ──► GroupCommitter ──► Spool.put_many (one commit per batch)
                       ──► wake I/O thread ──► paho publish (mid)
                           PUBACK(mid) ──► Spool.ack(row)

``publish`` commits an event that arrives alone at once (in the caller's thread) and
queues the events of a burst for the spool's writer thread, which stores them in one
transaction (one fsync). ``mark_frame`` (called before each
frame) waits for the previous frame's events to be committed, so an event is on disk
before the next frame is analysed, and no row is handed to paho before its commit.

One I/O thread owns the paho client (paho's external-loop API: ``loop_read``,
``loop_write``, ``loop_misc`` around our own ``select``), so every paho call and callback
runs on that thread and callers never block on the network. The thread hands spool rows
to paho in id order, at most :data:`WINDOW` unacknowledged at a time (memory stays bounded
during long outages: the backlog stays on disk, not in paho's queue).

No double sending within a process: rows already handed to paho are never handed again —
after a reconnect paho itself re-sends its unacknowledged messages (DUP flag, same mid),
before any newer row, so order is kept. After a restart the process has no paho state and
re-sends every row still in the spool; a message whose PUBACK was lost is then delivered
twice, with the same ``event_id`` and ``seq``, which is how subscribers drop it.

The connection uses a stable client id and a persistent session (MQTT 5: clean start off
with a session expiry; MQTT 3.1.1: clean session off) so the broker keeps our control
subscription; subscriptions are re-made after every connect anyway. Reconnects back off
exponentially from ``mqtt.reconnect_min_s`` to ``mqtt.reconnect_max_s`` with full jitter
between half and all of the step. Errors (refused, bad credentials, untrusted
certificate) are logged as one line naming the fix; the password never appears in logs.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import select
import socket
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from visionedge.config import Config
from visionedge.errors import ConfigError
from visionedge.service.control import Controller
from visionedge.service.credentials import Secret, read_password
from visionedge.sinks.discovery import Topics, discovery_json, discovery_topic
from visionedge.sinks.mqtt_diagnose import (
    describe_connack,
    describe_connect_error,
    response_topic_allowed,
)
from visionedge.spool import Spool
from visionedge.spool.writer import GroupCommitter

__all__ = ["WINDOW", "MqttCounters", "MqttSink", "default_client_id", "spool_path"]

log = logging.getLogger(__name__)

WINDOW = 100
"""Spool rows handed to paho and not yet acknowledged, at most."""

SYNC_TIMEOUT_S = 5.0
"""Longest wait for the spool's writer at a frame boundary or a flush."""

SESSION_EXPIRY_S = 24 * 3600
"""MQTT 5 session expiry: the broker keeps our session (subscriptions) this long offline."""


def default_client_id(device: str) -> str:
    """The stable client id used when ``mqtt.client_id`` is empty."""
    return f"visionedge-{device}"


def spool_path(config: Config) -> Path:
    """Where the spool lives: ``spool.path``, else ``<state dir>/spool.sqlite3``."""
    import os

    if config.spool.path:
        return Path(config.spool.path)
    state = config.daemon.state_dir or os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    return Path(state or "state") / "spool.sqlite3"


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


class MqttSink:
    """An :class:`~visionedge.protocols.EventSink` that publishes to MQTT without losing events.

    ``publish`` returns once the event is committed to the spool. ``state``, ``snapshot``
    and ``publish_stats`` are latest-wins while the broker is away. ``controller`` (set by
    the daemon) answers ``set/...`` commands. Call :meth:`start` once; :meth:`close` flushes
    as far as the broker allows within its timeout, publishes ``offline`` and disconnects.
    """

    def __init__(
        self,
        config: Config,
        *,
        spool: Spool | None = None,
        controller: Controller | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        mc = config.mqtt
        self.config = config
        self.topics = Topics.for_device(mc.prefix, config.device.name)
        self.client_id = mc.client_id or default_client_id(config.device.name)
        self.controller = controller
        self.counters = MqttCounters()
        self.last_error = ""
        self.connected = threading.Event()
        self._password: Secret | None = read_password(
            mc.password_file, dict(env) if env is not None else None
        )
        # The client first: its TLS checks fail fast, before a spool file is created.
        self._client = self._make_client()
        self.spool = spool or Spool(
            spool_path(config),
            max_bytes=config.spool.max_bytes,
            max_age_s=config.spool.max_age_s,
            synchronous=config.spool.synchronous,
        )
        self._committer = GroupCommitter(self.spool, self._on_committed)
        self._lock = threading.Lock()
        self._pending_retained: dict[str, bytes] = {}
        self._pending_stats: bytes | None = None
        self._stop = threading.Event()
        self._closing = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread: threading.Thread | None = None
        # I/O-thread state: rows handed to paho (mid -> row id), the highest row handed.
        self._inflight: dict[int, int] = {}
        self._put_times: dict[int, float] = {}
        self._cursor = 0
        self._acked: list[int] = []
        self._need_connect = True
        self._awaiting_connack_until = 0.0
        self._just_connected = False
        self._refusal = ""
        self._announce = False
        oc = config.objects
        self._count_labels: set[str] = set(oc.labels) if oc.mode != "motion" else set()
        self._ever_connected = False
        self._attempt = 0
        self._next_attempt = 0.0
        self._offline_mid: int | None = None
        self._offline_acked = threading.Event()
        self._frame_t: float | None = None
        self.on_delivered: Callable[[float], None] | None = None
        """Called on the I/O thread with frame→PUBACK seconds for each acknowledged event."""

    # -- construction ---------------------------------------------------------------------

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

    # -- EventSink --------------------------------------------------------------------------

    def start(self) -> MqttSink:
        """Start the I/O thread (idempotent); returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="mqtt-io", daemon=True)
            self._thread.start()
        return self

    def mark_frame(self, t_monotonic: float) -> None:
        """A new frame arrived: the previous frame's events are committed first (barrier).

        ``t_monotonic`` is when the frame arrived (for the frame→publish latency).
        """
        if not self._committer.wait(SYNC_TIMEOUT_S):
            log.warning("spool: events not committed within %.0f s; continuing", SYNC_TIMEOUT_S)
        self._frame_t = t_monotonic

    def publish(self, event: Mapping[str, Any]) -> None:
        """Queue the event for the spool's next commit; it is sent once committed."""
        payload = json.dumps(event, separators=(",", ":")).encode()
        t = self._frame_t if self._frame_t is not None else time.monotonic()
        self._committer.submit(self.topics.events, payload, self.config.mqtt.qos, t)

    def sync(self, timeout: float = SYNC_TIMEOUT_S) -> bool:
        """Wait until every event published so far is committed to the spool."""
        return self._committer.wait(timeout)

    def _on_committed(self, rows: list[int | None], times: list[Any]) -> None:
        # On the spool writer thread, right after a commit.
        with self._lock:
            for row, t in zip(rows, times, strict=True):
                if row is not None:
                    self.counters.events_spooled += 1
                    self._put_times[row] = float(t)
            while len(self._put_times) > 10_000:
                # Only feeds the latency metric: during a long outage keep the newest.
                del self._put_times[next(iter(self._put_times))]
        self._wake()

    def state(self, name: str, value: str, detail: Mapping[str, Any] | None = None) -> None:
        """Motion ON/OFF, tamper and camera state+reason as retained messages (latest wins)."""
        if name == "motion":
            self._set_retained(self.topics.motion, value.upper().encode())
        elif name == "tamper":
            on = value.lower() not in ("ok", "off", "")
            body = {"state": "ON" if on else "OFF", "reason": (detail or {}).get("reason", "")}
            self._set_retained(self.topics.tamper, json.dumps(body).encode())
        elif name == "camera":
            body = {"state": value, "reason": (detail or {}).get("reason", "")}
            self._set_retained(self.topics.camera, json.dumps(body).encode())
        elif name == "availability":
            self._set_retained(self.topics.availability, value.encode())
        elif name == "count":
            # Objects in view per label (object mode); a new label is announced to HA.
            label = str((detail or {}).get("label", "object"))
            self._set_retained(self.topics.count(label), value.encode())
            with self._lock:
                new = label not in self._count_labels
                self._count_labels.add(label)
            if new:
                self._announce = True
                self._wake()

    def snapshot(self, event_id: str, jpeg: bytes) -> None:
        """Publish the event's best frame as a retained JPEG (latest wins)."""
        if self.config.mqtt.snapshot:
            self._set_retained(self.topics.snapshot, jpeg)

    def publish_stats(self, stats: Mapping[str, Any]) -> None:
        """Publish a stats message (not retained; skipped while disconnected)."""
        body = dict(stats)
        body.update(self.stats())
        with self._lock:
            self._pending_stats = json.dumps(body, separators=(",", ":")).encode()
        self._wake()

    def stats(self) -> dict[str, Any]:
        """The sink's own figures: spool depth, drops, connection counters."""
        c = self.counters
        return {
            "connected": self.connected.is_set(),
            "spool_depth": self.spool.depth,
            "spool_bytes": self.spool.size_bytes,
            "spool_dropped": self.spool.dropped,
            "events_acked": c.events_acked,
            "reconnects": c.reconnects,
            "connect_failures": c.connect_failures,
            "control_ok": c.control_ok,
            "control_rejected": c.control_rejected,
            "unknown_messages": c.unknown_messages,
            "broker_rejected": c.broker_rejected,
            "response_topics_refused": c.response_topics_refused,
        }

    def flush(self, timeout: float) -> bool:
        """Wait until every spooled event is acknowledged; False if ``timeout`` ran out."""
        deadline = time.monotonic() + timeout
        self._committer.wait(timeout)
        while time.monotonic() < deadline:
            if self.spool.depth == 0 and self._committer.pending == 0:
                return True
            self._wake()
            time.sleep(0.02)
        return self.spool.depth == 0

    def close(self, timeout: float = 5.0) -> None:
        """Flush within ``timeout``, publish ``offline``, disconnect and close the spool."""
        deadline = time.monotonic() + timeout
        if self._thread is None:
            self._committer.close(timeout)
            self.spool.close()
            return
        if self.connected.is_set():
            flushed = self.flush(max(0.0, timeout * 0.8))
            if not flushed:
                log.warning(
                    "mqtt: %d event(s) still spooled at shutdown; they are sent after the "
                    "next start",
                    self.spool.depth,
                )
        self._closing.set()
        self._wake()
        if self.connected.is_set():
            self._offline_acked.wait(max(0.05, deadline - time.monotonic()))
        self._stop.set()
        self._wake()
        self._thread.join(max(0.5, deadline - time.monotonic() + 1.0))
        self._thread = None
        self._committer.close(max(0.5, deadline - time.monotonic()))
        self.spool.close()
        log.info(
            "mqtt: closed; spool %d (%d event(s) acknowledged this run, %d dropped)",
            self.spool.depth,
            self.counters.events_acked,
            self.spool.dropped,
        )
        self._wake_r.close()
        self._wake_w.close()

    # -- helpers for any thread ------------------------------------------------------------

    def _wake(self) -> None:
        # A full pipe means a wake-up is pending anyway; a closed one means shutdown.
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _set_retained(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self._pending_retained[topic] = payload
        self._wake()

    # -- the I/O thread ---------------------------------------------------------------------

    def _run(self) -> None:
        last_expire = [time.monotonic()]
        while not self._stop.is_set():
            try:
                self._iterate(last_expire)
            except Exception as exc:
                # A bug (or a paho error we did not foresee) must not silently end the only
                # thread that talks to the broker while the daemon reports "connected".
                log.exception("mqtt: unexpected error in the I/O thread; reconnecting")
                self.connected.clear()
                self._connection_failed(f"unexpected error: {type(exc).__name__}: {exc}")
        self._shutdown_client()

    def _iterate(self, last_expire: list[float]) -> None:
        """One turn of the I/O loop: connect, or select and let paho read/write."""
        client = self._client
        now = time.monotonic()
        if self._need_connect:
            if now < self._next_attempt:
                self._wait_wake(min(0.5, self._next_attempt - now))
                return
            self._try_connect()
            return
        if self._awaiting_connack_until and now > self._awaiting_connack_until:
            self._connection_failed("no CONNACK from the broker within 10 s")
            return
        sock = client.socket()
        if sock is None:
            self._connection_lost("socket closed")
            return
        wlist = [sock] if client.want_write() else []
        try:
            readable, writable, _ = select.select([sock, self._wake_r], wlist, [], 0.25)
        except (OSError, ValueError):
            self._connection_lost("socket error")
            return
        if self._wake_r in readable:
            self._drain_wake()
        rc = MQTTErrorCode.MQTT_ERR_SUCCESS
        if sock in readable:
            rc = client.loop_read()
        if rc == MQTTErrorCode.MQTT_ERR_SUCCESS and sock in writable:
            rc = client.loop_write()
        if rc == MQTTErrorCode.MQTT_ERR_SUCCESS:
            rc = client.loop_misc()
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or client.socket() is None:
            self._connection_lost(mqtt.error_string(rc))
            return
        self._settle_acks()
        if self.connected.is_set():
            self._after_connect()
            self._send_retained()
            self._pump()
            self._send_stats()
            if self._closing.is_set() and self._offline_mid is None:
                info = client.publish(self.topics.availability, b"offline", qos=1, retain=True)
                self._offline_mid = info.mid
        if now - last_expire[0] > 60.0:
            last_expire[0] = now
            self.spool.expire()

    def _wait_wake(self, timeout: float) -> None:
        try:
            readable, _, _ = select.select([self._wake_r], [], [], max(0.0, timeout))
        except (OSError, ValueError):
            time.sleep(max(0.0, timeout))
            return
        if readable:
            self._drain_wake()
        self._settle_acks()

    def _drain_wake(self) -> None:
        try:
            while self._wake_r.recv(4096):
                pass
        except (BlockingIOError, OSError):
            pass

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

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any
    ) -> None:
        row = self._inflight.pop(mid, None)
        if row is not None:
            if getattr(reason, "is_failure", False):
                # MQTT 5: the broker answered but refused the message (typically its ACL).
                # Sending it again cannot succeed, so it leaves the spool, counted and logged.
                self.counters.broker_rejected += 1
                if self.counters.broker_rejected == 1 or self.counters.broker_rejected % 100 == 0:
                    log.error(
                        "mqtt: the broker refused an event (%s; %d so far); check the broker's "
                        "ACL allows publishing to %s",
                        reason,
                        self.counters.broker_rejected,
                        self.topics.events,
                    )
            self._acked.append(row)
        if mid == self._offline_mid:
            self._offline_acked.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        topic = message.topic
        ha_status = f"{self.config.mqtt.discovery_prefix}/status"
        if topic == ha_status:
            if message.payload.strip().lower() == b"online":
                self._announce = True
            return
        if not topic.startswith(self.topics.set_prefix):
            self.counters.unknown_messages += 1
            return
        command = topic.removeprefix(self.topics.set_prefix)
        if self.controller is None:
            self.counters.control_rejected += 1
            body = json.dumps({"command": f"set/{command}", "ok": False,
                               "error": "runtime control is not available in this mode"})
            self._reply(message, body.encode())
            return
        reply = self.controller.handle(command, bytes(message.payload))
        if reply.ok:
            self.counters.control_ok += 1
            log.info("mqtt: control %s accepted: %s", reply.command, dict(reply.detail))
        else:
            self.counters.control_rejected += 1
            if len(message.payload) > self.config.mqtt.max_payload_bytes:
                self.counters.oversized_messages += 1
            log.warning("mqtt: control rejected: %s", reply.error)
        self._reply(message, reply.to_json())

    def _reply(self, message: mqtt.MQTTMessage, body: bytes) -> None:
        self._client.publish(self.topics.reply, body, qos=1)
        props = getattr(message, "properties", None)
        response_topic = getattr(props, "ResponseTopic", None) if props is not None else None
        if response_topic and not response_topic_allowed(str(response_topic), self.topics):
            # A control message must not make us publish onto our events, discovery or
            # set/ topics: replies stay in our own reply namespace (answered there above).
            self.counters.response_topics_refused += 1
            log.warning(
                "mqtt: ignored response topic %r; replies go only to %s or below it",
                str(response_topic)[:200],
                self.topics.reply,
            )
            return
        if response_topic:
            out = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
            corr = getattr(props, "CorrelationData", None)
            if corr is not None:
                out.CorrelationData = corr
            self._client.publish(response_topic, body, qos=1, properties=out)

    # -- work done on the I/O thread while connected -----------------------------------------

    def _after_connect(self) -> None:
        mc = self.config.mqtt
        if self._just_connected:
            self._just_connected = False
            # Subscriptions are restored on every connect (the session may be new).
            self._client.subscribe(self.topics.set_filter, qos=1)
            if mc.discovery:
                self._client.subscribe(f"{mc.discovery_prefix}/status", qos=1)
            self._client.publish(self.topics.availability, b"online", qos=1, retain=True)
            self._announce = True
        if self._announce:
            self._announce = False
            if mc.discovery:
                topic = discovery_topic(mc.discovery_prefix, self.config.device.name)
                with self._lock:
                    labels = sorted(self._count_labels)
                payload = discovery_json(
                    self.topics, self.config.device.name, self.config.device.camera, labels
                )
                self._client.publish(topic, payload, qos=1, retain=True)

    def _send_retained(self) -> None:
        with self._lock:
            pending, self._pending_retained = self._pending_retained, {}
        for topic, payload in pending.items():
            self._client.publish(topic, payload, qos=1, retain=True)

    def _send_stats(self) -> None:
        with self._lock:
            body, self._pending_stats = self._pending_stats, None
        if body is not None:
            self._client.publish(self.topics.stats, body, qos=0)

    def _pump(self) -> None:
        room = WINDOW - len(self._inflight)
        if room <= 0 or (self._closing.is_set() and self.spool.depth == 0):
            return
        rows = self.spool.fetch(self._cursor, room)
        # Rows in paho's hands are as good as delivered: the spool's bounds leave them be.
        self.spool.hold(r for r in rows if r.qos)
        for row in rows:
            info = self._client.publish(row.topic, row.payload, qos=row.qos)
            self._cursor = row.id
            self.counters.publishes += 1
            if row.qos == 0:
                self._acked.append(row.id)  # QoS 0 has no PUBACK: handed over is all we get
            else:
                self._inflight[info.mid] = row.id

    def _settle_acks(self) -> None:
        if not self._acked:
            return
        acked, self._acked = self._acked, []
        self.spool.ack(acked)
        self.counters.events_acked += len(acked)
        now = time.monotonic()
        with self._lock:
            times = [self._put_times.pop(r, None) for r in acked]
        for t in times:
            if t is not None:
                self.counters.ack_latency_s.append(now - t)
                if self.on_delivered is not None:
                    self.on_delivered(now - t)


def _factory(config: Config) -> MqttSink | None:
    if not config.mqtt.enabled:
        return None
    return MqttSink(config).start()


def _register() -> None:
    from visionedge.sinks import register_sink

    register_sink("mqtt", _factory)


_register()
