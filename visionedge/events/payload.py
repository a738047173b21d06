"""The event payload: field order, rounding and the one JSON encoding every sink uses.

Byte-identical replays depend on three things fixed here: keys always in
:data:`EVENT_FIELDS` order, floats rounded before they are stored (percentages to 3
decimals, box coordinates and scores to 4), and one ``json.dumps`` call with fixed
separators. Python's float repr is the shortest round-tripping form, identical on every
platform, so the same numbers give the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources
from typing import Any

from visionedge.protocols import Box

__all__ = [
    "EVENT_FIELDS",
    "OPTIONAL_FIELDS",
    "RECORDING_FIELDS",
    "SCHEMA_VERSION",
    "box_list",
    "encode_event",
    "load_schema",
    "round_pct",
    "round_score",
]

SCHEMA_VERSION = 1
"""Bumped when a field changes meaning or is removed (adding fields does not bump it)."""

EVENT_FIELDS: tuple[str, ...] = (
    "schema",
    "type",
    "event_id",
    "seq",
    "device",
    "camera",
    "source",
    "reason",
    "continues",
    "start_frame",
    "start_ts_ms",
    "frame",
    "ts_ms",
    "end_frame",
    "end_ts_ms",
    "duration_ms",
    "frames",
    "end_reason",
    "short",
    "changed_pct",
    "peak_changed_pct",
    "mean_changed_pct",
    "box",
    "zones",
    "label",
    "score",
    "classified_frames",
    "model",
)
"""Every payload has these keys, in this order (docs/events.md describes each)."""

OPTIONAL_FIELDS: tuple[str, ...] = ("raw_label", "raw_score")
"""Keys present only when the model has a label map (presets): right after ``score``. The
firmware never sends them. Adding them does not bump :data:`SCHEMA_VERSION`."""


def _order(keys: set[str], fields: tuple[str, ...]) -> tuple[str, ...]:
    at = fields.index("score") + 1
    extra = tuple(k for k in OPTIONAL_FIELDS if k in keys)
    return fields[:at] + extra + fields[at:]

RECORDING_FIELDS: tuple[str, ...] = ("recording", "snapshot")
"""With ``recording.enabled``, every ``end`` payload also carries these two keys, after the
others: the recording folder (``visionedge replay`` accepts it) and the snapshot JPEG, each a
path or null (docs/recordings.md). Without recordings no payload has them, so the firmware and
the golden files keep the base keys only."""


def round_pct(value: float) -> float:
    """Percentages travel with 3 decimals, like the gate reports them."""
    return round(float(value), 3)


def round_score(value: float) -> float:
    """Scores and box coordinates travel with 4 decimals."""
    return round(float(value), 4)


def with_raw_label(
    payload: dict[str, Any], raw: tuple[str, float] | None
) -> dict[str, Any]:
    """``payload`` with ``raw_label``/``raw_score`` inserted right after ``score``.

    For label-map models only (docs/events.md); ``raw`` is the vote's ``best_raw(label)``,
    None while the event has no label. Motion and object events share it.
    """
    items = list(payload.items())
    at = [k for k, _ in items].index("score") + 1
    extra = [("raw_label", raw[0] if raw else None),
             ("raw_score", round_score(raw[1]) if raw else None)]
    return dict(items[:at] + extra + items[at:])


def box_list(box: Box | None) -> list[float] | None:
    """``[x0, y0, x1, y1]`` rounded to 4 decimals, or None."""
    if box is None:
        return None
    return [round_score(box.x0), round_score(box.y0), round_score(box.x1), round_score(box.y1)]


def encode_event(event: Mapping[str, Any]) -> str:
    """One JSON line (without the newline), keys in :data:`EVENT_FIELDS` order.

    Raises ValueError for a payload with missing or unknown keys or a NaN/inf number: those
    are bugs in the producer, and a sink must never write a line the schema rejects.
    Object events (``schema`` 2) are encoded by their own field list.
    """
    if event.get("schema") == 2:
        from visionedge.objects.payload import encode_object_event

        return encode_object_event(event)
    keys = set(event)
    fields = EVENT_FIELDS
    if "recording" in keys and event.get("type") == "end":
        fields = EVENT_FIELDS + RECORDING_FIELDS
    if keys - set(OPTIONAL_FIELDS) != set(fields):
        missing = sorted(set(fields) - keys)
        extra = sorted(keys - set(fields) - set(OPTIONAL_FIELDS))
        raise ValueError(f"event payload keys differ from the schema: missing {missing}, extra {extra}")
    ordered = {name: event[name] for name in _order(keys, fields)}
    return json.dumps(ordered, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


@lru_cache(maxsize=1)
def load_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of event payloads, read from the package data."""
    text = (resources.files("visionedge") / "schema" / "event.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
