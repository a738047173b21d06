"""The MQTT sink's I/O thread: select loop, spool rows to paho in order, PUBACKs back to the spool.

A mixin of :class:`visionedge.sinks.mqtt.MqttSink` (the state lives on the sink). One
thread owns the paho client (paho's external-loop API: ``loop_read``, ``loop_write``,
``loop_misc`` around our own ``select``), so every paho call and callback runs here and
callers never block on the network. Rows go to paho in id order, at most
:data:`~visionedge.sinks.mqtt_session.WINDOW` unacknowledged at a time.
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from visionedge.sinks.discovery import discovery_json, discovery_topic
from visionedge.sinks.mqtt_session import WINDOW, MqttSession
from visionedge.spool import Spool

__all__ = ["MqttIo"]

log = logging.getLogger("visionedge.sinks.mqtt")  # one logger for the whole sink


class MqttIo(MqttSession):
    """The I/O thread of :class:`~visionedge.sinks.mqtt.MqttSink` (mixin)."""

    spool: Spool
    on_delivered: Callable[[float], None] | None
    _lock: threading.Lock
    _stop: threading.Event
    _wake_r: socket.socket
    _pending_retained: dict[str, bytes]
    _pending_stats: bytes | None
    _inflight: dict[int, int]
    _put_times: dict[int, float]
    _cursor: int
    _acked: list[int]
    _announce: bool
    _count_labels: set[str]
    _offline_mid: int | None
    _offline_acked: threading.Event

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
        if self.connected.is_set():
            self._after_connect()
            self._send_retained()
            self._pump()
            self._send_stats()
            if self._closing.is_set() and self._offline_mid is None:
                info = client.publish(self.topics.availability, b"offline", qos=1, retain=True)
                self._offline_mid = info.mid
        # After the pump: a new event goes out before the deletes of acknowledged ones.
        self._settle_acks()
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

