"""Home Assistant MQTT discovery: one device-based config message announcing every entity.

Home Assistant (2024.11+) reads ``<discovery_prefix>/device/<device_id>/config``: a JSON
object with the device (``dev``), the origin (``o``, who publishes the discovery), shared
availability, and the entities under ``cmps`` (each with its platform ``p`` and a
``unique_id``). The message is retained and re-sent whenever Home Assistant publishes
``online`` on ``<discovery_prefix>/status`` (its birth message), so a restarted Home
Assistant — or one that lost retained messages — finds the device again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from visionedge import __version__

__all__ = ["Topics", "count_key", "discovery_json", "discovery_payload", "discovery_topic"]


@dataclass(frozen=True, slots=True)
class Topics:
    """Every topic of one device: ``<prefix>/<device>/...``."""

    base: str

    @classmethod
    def for_device(cls, prefix: str, device: str) -> Topics:
        """Topics under ``<prefix>/<device>``."""
        return cls(f"{prefix.rstrip('/')}/{device}")

    @property
    def availability(self) -> str:
        """``online``/``offline``, retained; also the last will."""
        return f"{self.base}/availability"

    @property
    def events(self) -> str:
        """Event JSON (start/update/end), QoS 1, not retained."""
        return f"{self.base}/events"

    @property
    def motion(self) -> str:
        """``ON``/``OFF``, retained."""
        return f"{self.base}/motion"

    @property
    def tamper(self) -> str:
        """``{"state": "ON"|"OFF", "reason": ...}``, retained."""
        return f"{self.base}/tamper"

    @property
    def camera(self) -> str:
        """``{"state": "ok"|"reconnecting"|"lost", "reason": ...}``, retained."""
        return f"{self.base}/camera"

    @property
    def snapshot(self) -> str:
        """JPEG of the best frame of the latest event, retained."""
        return f"{self.base}/snapshot"

    @property
    def stats(self) -> str:
        """Periodic JSON statistics."""
        return f"{self.base}/stats"

    @property
    def set_prefix(self) -> str:
        """Control commands live below this (``.../set/gate/start_pct``)."""
        return f"{self.base}/set/"

    @property
    def set_filter(self) -> str:
        """Subscription filter for control commands."""
        return f"{self.base}/set/#"

    @property
    def reply(self) -> str:
        """Answers to control commands."""
        return f"{self.base}/reply"

    def count(self, label: str) -> str:
        """Objects in view with ``label`` (a number, retained): ``<base>/person``.

        The label is reduced to ``[a-z0-9_-]``; one that would shadow another topic of the
        device (``motion``, ``events``, ...) gets an ``object_`` prefix.
        """
        return f"{self.base}/{count_key(label)}"


_RESERVED = {"availability", "events", "motion", "tamper", "snapshot", "stats", "set", "reply"}


def count_key(label: str) -> str:
    """The topic level (and discovery key) of a label's count."""
    key = re.sub(r"[^a-z0-9_-]", "_", label.lower()) or "object"
    return f"object_{key}" if key in _RESERVED else key


def discovery_topic(discovery_prefix: str, device: str) -> str:
    """The device-based discovery topic."""
    return f"{discovery_prefix.rstrip('/')}/device/{device}/config"


def discovery_payload(
    topics: Topics, device: str, camera: str, labels: Sequence[str] = ()
) -> dict[str, Any]:
    """Build the device discovery message: motion, label, tamper, camera, snapshot,
    availability, and one "objects in view" sensor per label in ``labels`` (object mode).

    The camera entity is a connectivity sensor: ON while frames arrive, OFF while the source
    is reconnecting or lost (its ``state`` and ``reason`` are attributes). Availability stays
    about the daemon, so the camera's own state stays visible while it is down.
    """
    uid = f"visionedge_{device}"
    payload: dict[str, Any] = {
        "dev": {
            "ids": [uid],
            "name": f"visionedge {device}",
            "mf": "visionedge",
            "mdl": f"edge camera ({camera})",
            "sw": __version__,
        },
        "o": {"name": "visionedge", "sw": __version__},
        "availability": [
            {
                "topic": topics.availability,
                "payload_available": "online",
                "payload_not_available": "offline",
            }
        ],
        "cmps": {
            "motion": {
                "p": "binary_sensor",
                "name": "Motion",
                "device_class": "motion",
                "state_topic": topics.motion,
                "payload_on": "ON",
                "payload_off": "OFF",
                "unique_id": f"{uid}_motion",
            },
            "label": {
                "p": "sensor",
                "name": "Detected object",
                "icon": "mdi:shape",
                "state_topic": topics.events,
                # Messages before the first classification carry no label: shown as "none".
                "value_template": "{{ value_json.label if value_json.label else 'none' }}",
                "json_attributes_topic": topics.events,
                "unique_id": f"{uid}_label",
            },
            "tamper": {
                "p": "binary_sensor",
                "name": "Camera tamper",
                "device_class": "tamper",
                "state_topic": topics.tamper,
                "value_template": "{{ value_json.state }}",
                "payload_on": "ON",
                "payload_off": "OFF",
                "json_attributes_topic": topics.tamper,
                "unique_id": f"{uid}_tamper",
            },
            "camera": {
                "p": "binary_sensor",
                "name": "Camera connected",
                "device_class": "connectivity",
                "entity_category": "diagnostic",
                "state_topic": topics.camera,
                "value_template": "{{ 'ON' if value_json.state == 'ok' else 'OFF' }}",
                "payload_on": "ON",
                "payload_off": "OFF",
                "json_attributes_topic": topics.camera,
                "unique_id": f"{uid}_camera",
            },
            "snapshot": {
                "p": "image",
                "name": "Snapshot",
                "image_topic": topics.snapshot,
                "content_type": "image/jpeg",
                "unique_id": f"{uid}_snapshot",
            },
        },
        "qos": 1,
    }
    for label in sorted({count_key(x) for x in labels}):
        payload["cmps"][f"count_{label}"] = {
            "p": "sensor",
            "name": f"{label} in view",
            "icon": "mdi:counter",
            "state_topic": f"{topics.base}/{label}",
            "state_class": "measurement",
            "unique_id": f"{uid}_count_{label}",
        }
    return payload


def discovery_json(topics: Topics, device: str, camera: str, labels: Sequence[str] = ()) -> bytes:
    """The discovery message as compact JSON bytes."""
    return json.dumps(
        discovery_payload(topics, device, camera, labels), separators=(",", ":")
    ).encode()
