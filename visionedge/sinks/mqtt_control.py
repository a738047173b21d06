"""The MQTT sink's control topics: ``set/...`` commands answered, Home Assistant status.

A mixin of :class:`visionedge.sinks.mqtt.MqttSink`, called on its I/O thread. A reply goes
to ``<reply topic>`` and, when the MQTT 5 request names one, to its response topic, but only
inside our own reply namespace.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from visionedge.service.control import Controller
from visionedge.sinks.mqtt_diagnose import response_topic_allowed
from visionedge.sinks.mqtt_session import MqttSession

__all__ = ["MqttControl"]

log = logging.getLogger("visionedge.sinks.mqtt")  # one logger for the whole sink


class MqttControl(MqttSession):
    """Control-message handling of :class:`~visionedge.sinks.mqtt.MqttSink` (mixin)."""

    controller: Controller | None
    _announce: bool

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
