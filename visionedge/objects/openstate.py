"""The open object events, kept on disk so a crash cannot leave a ``start`` without an ``end``.

:class:`OpenObjectStore` is the per-object counterpart of
:class:`~visionedge.events.openstate.OpenEventStore`: ``open-objects.json`` in the state
directory (beside the MQTT spool) holds the last ``start``/``update`` payload of every object
event in progress, plus the labels whose retained count (``<prefix>/<device>/<label>``) a
previous run may have left non-zero. It is rewritten (one small atomic write: temp file,
fsync, rename) once per object message sent, never per frame: *before* the sinks see a
``start``/``update``, and after they took an ``end`` (which drops that object). A crash
between the two then yields an ``end`` for a start a subscriber may not have seen, never a
start without an end.

At the next start :meth:`recover` turns every kept object into its ``end``
(``end_reason: "restarted"``, same ``event_id``, ``seq`` + 1, ``end_frame``/``end_ts_ms`` =
the last message's ``frame``/``ts_ms``), which the pipeline publishes through the same sinks,
and names the labels whose count is reset to 0. Labels stay in the file across runs (the
count of 0 published at start-up is retained state, sent asynchronously: a kill right after
must not lose it), bounded to :data:`MAX_LABELS`; objects are bounded by
``objects.max_objects`` (the tracker never has more). An unreadable or damaged file is
logged in one line and renamed to ``open-objects.json.damaged``: it cannot be turned into
valid ends, and the daemon carries on.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionedge.config import Config
from visionedge.events.openstate import write_json_durably
from visionedge.objects.payload import OBJECT_EVENT_FIELDS

__all__ = ["MAX_LABELS", "OPEN_OBJECTS_FILE", "OpenObjectStore", "Recovered", "keep_open_objects"]

log = logging.getLogger(__name__)

OPEN_OBJECTS_FILE = "open-objects.json"
FORMAT = 1
"""``version`` of the file; another value is treated as damaged."""
MAX_LABELS = 256
"""Labels remembered for the count reset at most (the oldest are forgotten first)."""


@dataclass(slots=True)
class Recovered:
    """What a previous run left open: the ends to publish, the counts to reset."""

    ends: list[dict[str, Any]] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


def count_label(payload: Mapping[str, Any]) -> str:
    """The label an object is counted under (``"object"`` when unlabelled), as the stage does."""
    label = payload.get("label")
    return label if isinstance(label, str) and label else "object"


class OpenObjectStore:
    """Keeps the open object events' last messages in ``<directory>/open-objects.json``."""

    def __init__(self, directory: Path, *, max_objects: int = 64) -> None:
        self.path = directory / OPEN_OBJECTS_FILE
        self._max = max_objects
        self._objects: dict[str, dict[str, Any]] = {}  # event_id -> last start/update, oldest first
        self._labels: list[str] = []
        self._warned = False
        self._dropped_warned = False

    def record(self, payload: Mapping[str, Any]) -> None:
        """Note an object message about to be published: starts/updates are kept (one write)."""
        if payload.get("type") == "end":
            return  # dropped by :meth:`published` once the sinks have it
        event_id = str(payload["event_id"])
        self._objects.pop(event_id, None)
        self._objects[event_id] = dict(payload)
        while len(self._objects) > self._max:
            # More open than the tracker can hold (max_objects lowered between runs): the
            # oldest loses its crash recovery, said once.
            oldest = next(iter(self._objects))
            del self._objects[oldest]
            if not self._dropped_warned:
                self._dropped_warned = True
                log.warning("more than objects.max_objects=%d open object events; %s is no "
                            "longer kept in %s", self._max, oldest, self.path)
        label = count_label(payload)
        if label in self._labels:
            self._labels.remove(label)
        self._labels.append(label)
        del self._labels[:-MAX_LABELS]
        self._write()

    def published(self, payload: Mapping[str, Any]) -> None:
        """The sinks took ``payload``; an ``end`` drops its object (one write)."""
        if payload.get("type") == "end" and self._objects.pop(str(payload["event_id"]), None):
            self._write()

    def recover(self) -> Recovered:
        """The ``end`` of every object event a previous run left open, oldest start first,
        and the labels whose count to reset; each end leaves the file once :meth:`published`."""
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return Recovered()
        except OSError as exc:
            log.error("cannot read %s (%s); object events a crash left open stay without an end",
                      self.path, exc.strerror)
            return Recovered()
        try:
            objects, labels = _parse(text)
        except ValueError as exc:
            aside = self.path.with_name(self.path.name + ".damaged")
            with contextlib.suppress(OSError):
                os.replace(self.path, aside)
            log.warning("%s is damaged (%s); set aside as %s, the object events it held get "
                        "no end", self.path, exc, aside.name)
            return Recovered()
        objects.sort(key=lambda p: (p["start_ts_ms"], p["object_id"]))
        self._objects = {str(p["event_id"]): p for p in objects}
        self._labels = labels
        ends = [_restarted_end(p) for p in objects]
        reset = list(dict.fromkeys([*labels, *(count_label(p) for p in objects)]))
        return Recovered(ends, reset)

    def _write(self) -> None:
        body = {"version": FORMAT, "objects": list(self._objects.values()), "labels": self._labels}
        try:
            write_json_durably(self.path, body)
            self._warned = False
        except OSError as exc:
            # Losing crash recovery must not stop the events themselves; say so once.
            if not self._warned:
                self._warned = True
                log.warning("cannot keep the open object events in %s (%s); a crash now would "
                            "leave them without an end", self.path, exc.strerror)


def keep_open_objects(pipeline: Any, cfg: Config, directory: Path) -> None:
    """Give ``pipeline`` (a :class:`~visionedge.pipeline.Pipeline`) a store in ``directory``
    and end the object events a crashed run left open; nothing in ``"motion"`` mode."""
    if cfg.objects.mode == "motion":
        return
    pipeline.object_store = OpenObjectStore(directory, max_objects=cfg.objects.max_objects)
    ends = pipeline.end_crashed_objects()
    if ends:
        log.warning(
            "%d object event(s) were left open by the previous run (crash or kill); ended "
            "them (end_reason restarted): %s", len(ends), ", ".join(e["event_id"] for e in ends),
        )


def _parse(text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The kept payloads and labels of a file's text; ValueError when it is not one we wrote."""
    body = json.loads(text)
    if not isinstance(body, dict) or body.get("version") != FORMAT:
        raise ValueError(f"not a version {FORMAT} open-objects file")
    objects, labels = body.get("objects"), body.get("labels")
    if not isinstance(objects, list) or not isinstance(labels, list):
        raise ValueError("objects or labels missing")
    if not all(isinstance(x, str) for x in labels):
        raise ValueError("a label is not a string")
    for p in objects:
        if not isinstance(p, dict) or set(p) != set(OBJECT_EVENT_FIELDS):
            raise ValueError("an entry is not an object event payload")
        if p["type"] not in ("start", "update") or not isinstance(p["seq"], int):
            raise ValueError("an entry is not a start or update")
        if not isinstance(p["start_ts_ms"], int) or not isinstance(p["object_id"], int):
            raise ValueError("an entry has no start time or object id")
    return objects, list(labels)


def _restarted_end(last: dict[str, Any]) -> dict[str, Any]:
    end = {name: last[name] for name in OBJECT_EVENT_FIELDS}
    end.update(
        type="end",
        seq=last["seq"] + 1,
        end_frame=last["frame"],
        end_ts_ms=last["ts_ms"],
        end_reason="restarted",
    )
    return end
