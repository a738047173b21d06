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
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from visionedge.config import Config
from visionedge.service.control import Controller
from visionedge.service.credentials import read_password
from visionedge.sinks.discovery import Topics
from visionedge.sinks.mqtt_control import MqttControl
from visionedge.sinks.mqtt_io import MqttIo
from visionedge.sinks.mqtt_session import (
    SESSION_EXPIRY_S,
    WINDOW,
    MqttCounters,
    default_client_id,
)
from visionedge.spool import Spool
from visionedge.spool.writer import GroupCommitter

__all__ = [
    "GIL_SWITCH_S",
    "SESSION_EXPIRY_S",
    "WINDOW",
    "MqttCounters",
    "MqttSink",
    "default_client_id",
    "spool_path",
]
# The sink is split by job: connection (mqtt_session), the I/O thread (mqtt_io), control
# topics (mqtt_control); this module keeps the public API and re-exports their names.

log = logging.getLogger(__name__)

SYNC_TIMEOUT_S = 5.0
"""Longest wait for the spool's writer at a frame boundary or a flush."""

GIL_SWITCH_S = 0.001
"""The interpreter's thread switch interval while a sink runs (Python's default: 5 ms).

The I/O thread wakes to send a committed event while the analysis thread runs Python code;
it gets the GIL only when that thread blocks or the switch interval forces a hand-over. At
5 ms that wait was most of the way from commit to subscriber (bench/mqtt.py on 2 loaded
cores: p50 commit -> received 1.5-2.1 ms at 5 ms, 0.65 ms at 1 ms; p90 frame -> received
96-112 ms -> 45-49 ms). A forced switch only happens while another thread waits for the GIL."""


def spool_path(config: Config) -> Path:
    """Where the spool lives: ``spool.path``, else ``<state dir>/spool.sqlite3``."""
    import os

    if config.spool.path:
        return Path(config.spool.path)
    state = config.daemon.state_dir or os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    return Path(state or "state") / "spool.sqlite3"


class MqttSink(MqttIo, MqttControl):
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
        self._password = read_password(
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

    # -- EventSink --------------------------------------------------------------------------

    def start(self) -> MqttSink:
        """Start the I/O thread (idempotent); returns self."""
        if self._thread is None:
            if sys.getswitchinterval() > GIL_SWITCH_S:
                sys.setswitchinterval(GIL_SWITCH_S)
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


def _factory(config: Config) -> MqttSink | None:
    if not config.mqtt.enabled:
        return None
    return MqttSink(config).start()


def _register() -> None:
    from visionedge.sinks import register_sink

    register_sink("mqtt", _factory)


_register()
