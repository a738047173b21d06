"""Turning gate output and classifications into start → update* → end events.

The public pieces: :class:`EventTracker` (the lifecycle), :func:`encode_event` (the one
byte-stable JSON encoding every sink uses), :func:`random_ids` / :func:`deterministic_ids`
(event id factories for live runs and replays), :class:`StateWatcher` (motion/tamper states
for sinks) and :func:`load_schema` (the JSON Schema of the payloads, shipped as package data).
"""

from __future__ import annotations

from visionedge.events.ids import IdFactory, deterministic_ids, random_ids
from visionedge.events.payload import (
    EVENT_FIELDS,
    RECORDING_FIELDS,
    SCHEMA_VERSION,
    encode_event,
    load_schema,
)
from visionedge.events.states import StateChange, StateWatcher
from visionedge.events.tracker import EventTracker, ModelInfo
from visionedge.events.vote import LabelVote

__all__ = [
    "EVENT_FIELDS",
    "RECORDING_FIELDS",
    "SCHEMA_VERSION",
    "EventTracker",
    "IdFactory",
    "LabelVote",
    "ModelInfo",
    "StateChange",
    "StateWatcher",
    "deterministic_ids",
    "encode_event",
    "load_schema",
    "random_ids",
]
