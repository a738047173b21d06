"""Tracked objects and per-object events (``objects.mode = "object"`` or ``"both"``).

:class:`ObjectTracker` turns the gate's motion regions into objects with stable ids
(integer-only, specified in docs/gate-algorithm.md §7 for the firmware port);
:class:`ObjectEvents` turns them into schema-2 start/update/end payloads;
:class:`TrackingStage` wires both with per-object classification for the pipeline.
"""

from __future__ import annotations

from visionedge.objects.events import CountChange, ObjectEvents
from visionedge.objects.payload import (
    OBJECT_EVENT_FIELDS,
    OBJECT_SCHEMA_VERSION,
    encode_object_event,
    load_object_schema,
)
from visionedge.objects.stage import TrackingStage
from visionedge.objects.track import EndReason, ObjectTracker, Track, TrackState, TrackStep

__all__ = [
    "OBJECT_EVENT_FIELDS",
    "OBJECT_SCHEMA_VERSION",
    "CountChange",
    "EndReason",
    "ObjectEvents",
    "ObjectTracker",
    "Track",
    "TrackState",
    "TrackStep",
    "TrackingStage",
    "encode_object_event",
    "load_object_schema",
]
