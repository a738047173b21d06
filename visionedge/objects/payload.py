"""The object event payload (schema 2): field order, encoding and its JSON Schema.

Object events travel on the same topic/file as motion events (schema 1); ``schema`` tells
them apart. Floats are rounded before they are stored, like motion events, so the same
frames give the same bytes (:func:`encode_object_event`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from visionedge.events.payload import OPTIONAL_FIELDS

__all__ = [
    "OBJECT_EVENT_FIELDS",
    "OBJECT_RECORDING_FIELDS",
    "OBJECT_SCHEMA_VERSION",
    "encode_object_event",
    "load_object_schema",
]

OBJECT_SCHEMA_VERSION = 2
"""The ``schema`` of object events (motion events stay at 1)."""

OBJECT_EVENT_FIELDS: tuple[str, ...] = (
    "schema",
    "type",
    "event_id",
    "object_id",
    "seq",
    "device",
    "camera",
    "source",
    "start_frame",
    "start_ts_ms",
    "frame",
    "ts_ms",
    "end_frame",
    "end_ts_ms",
    "duration_ms",
    "frames",
    "end_reason",
    "state",
    "stationary",
    "box",
    "area_pct",
    "path",
    "zones",
    "entered_zones",
    "zone_dwell_ms",
    "label",
    "score",
    "classified_frames",
    "model",
    "best",
)
"""Every object payload has these keys, in this order (docs/objects.md); label-map models add
:data:`~visionedge.events.payload.OPTIONAL_FIELDS` right after ``score``."""

OBJECT_RECORDING_FIELDS: tuple[str, ...] = ("recording", "snapshot")
"""Keys a recorder may add, after the others, to an ``end`` payload (both or neither), as it
does for motion events: the recording folder and the snapshot JPEG, each a path or null."""


def encode_object_event(event: Mapping[str, Any]) -> str:
    """One JSON line (no newline), keys in :data:`OBJECT_EVENT_FIELDS` order.

    Raises ValueError for missing/unknown keys or NaN/inf, like the motion encoder.
    """
    keys = set(event)
    fields = OBJECT_EVENT_FIELDS
    if keys & set(OPTIONAL_FIELDS):
        # raw_label/raw_score (label-map models) come together, right after "score".
        at = fields.index("score") + 1
        fields = fields[:at] + OPTIONAL_FIELDS + fields[at:]
    if "recording" in keys and event.get("type") == "end":
        fields = fields + OBJECT_RECORDING_FIELDS
    if keys != set(fields):
        missing = sorted(set(fields) - keys)
        extra = sorted(keys - set(fields))
        raise ValueError(
            f"object event keys differ from the schema: missing {missing}, extra {extra}"
        )
    ordered = {name: event[name] for name in fields}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@lru_cache(maxsize=1)
def load_object_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of object event payloads, from the package data."""
    text = (resources.files("visionedge") / "schema" / "object_event.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
