"""The event lifecycle: gate output (and classifications) in, start/update/end payloads out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from visionedge.config import ClassifierConfig, DeviceConfig, EventsConfig
from visionedge.events.ids import IdFactory
from visionedge.events.payload import (
    SCHEMA_VERSION,
    box_list,
    round_pct,
    round_score,
    with_raw_label,
)
from visionedge.events.vote import LabelVote
from visionedge.frame import Frame
from visionedge.protocols import Box, Classification, GateResult

__all__ = ["EventTracker", "ModelInfo"]

_USERINFO = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@")


def _public_source(name: str) -> str:
    """Strip ``user:password@`` from a stream URL: events must never carry credentials."""
    return _USERINFO.sub(r"\1", name)


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Which model labelled an event (the ``model`` field of the payload)."""

    name: str
    sha256: str
    raw_labels: bool = False
    """The model reports its own labels behind mapped ones: payloads get raw_label/raw_score."""
    min_agree: int = 1
    """Classifications the voted label must top (its card's ``vote.min_agree``; see LabelVote)."""
    min_share: float = 0.0
    """Share of the classifications the voted label must top (its card's ``vote.min_share``)."""
    still_min_score: tuple[tuple[str, float], ...] = ()
    """Per label, the mean score at which an object that has not travelled counts (its card's
    ``objects.still_min_score``, sorted pairs; empty: ``objects.still_min_score`` for all)."""


@dataclass(slots=True)
class _Open:
    """Everything known about the event in progress."""

    event_id: str
    source: str
    reason: str
    continues: str | None
    start_frame: int
    start_ts_ms: int
    frame: int
    ts_ms: int
    seq: int = 0
    frames: int = 0
    measured: int = 0
    pct_sum: float = 0.0
    peak: float = 0.0
    last_pct: float = 0.0
    box: Box | None = None
    zones: set[str] = field(default_factory=set)
    vote: LabelVote = field(default_factory=LabelVote)
    sent_frame: int = 0
    sent_zones: frozenset[str] = frozenset()
    sent_label: str | None = None


class EventTracker:
    """Turns per-frame gate results and classifications into event payloads.

    An event starts on the frame the gate opens and ends on the frame it closes
    (``end_reason = "quiet"``), when it has lasted ``events.max_duration_s`` (it ends with
    ``"max_duration"`` and a new event with ``reason = "continued"`` starts on the same
    frame, naming the old one in ``continues``), or when the pipeline stops (:meth:`finish`).
    While open, an ``update`` goes out every ``events.update_every`` frames, and at once
    when the set of zones grows or the voted label changes. Every method returns the
    payloads to publish, in order; payloads are plain dicts with the keys of
    :data:`~visionedge.events.payload.EVENT_FIELDS`. Frames the gate rejected while the
    event was open (``reason`` set on a frame that did not open it: a lighting or exposure
    change) count toward ``frames`` but not toward peak/mean, box or zones.
    """

    def __init__(
        self,
        events_cfg: EventsConfig,
        device_cfg: DeviceConfig,
        classifier_cfg: ClassifierConfig,
        *,
        id_factory: IdFactory,
        model: ModelInfo | None = None,
    ) -> None:
        self._events_cfg = events_cfg
        self._device = device_cfg
        self._classifier_cfg = classifier_cfg
        self._ids = id_factory
        self._model = model
        self._open: _Open | None = None
        self.events_started = 0

    # -- state the pipeline reads -------------------------------------------------------
    @property
    def is_open(self) -> bool:
        """Whether an event is in progress."""
        return self._open is not None

    @property
    def event_id(self) -> str:
        """The id of the event in progress, or ``""``."""
        return self._open.event_id if self._open else ""

    @property
    def box(self) -> Box | None:
        """The union box of the event in progress so far."""
        return self._open.box if self._open else None

    @property
    def classified_frames(self) -> int:
        """How many frames of the event in progress were classified."""
        return self._open.vote.count if self._open else 0

    @property
    def start_frame(self) -> int | None:
        """First frame of the event in progress."""
        return self._open.start_frame if self._open else None

    def set_model(self, model: ModelInfo | None) -> None:
        """Name the model whose classifications follow (None: no classifier)."""
        self._model = model

    def reconfigure(self, events_cfg: EventsConfig, classifier_cfg: ClassifierConfig) -> None:
        """Take new settings; the event in progress continues under them."""
        self._events_cfg = events_cfg
        self._classifier_cfg = classifier_cfg

    # -- inputs -------------------------------------------------------------------------
    def on_gate(self, frame: Frame, result: GateResult) -> list[dict[str, Any]]:
        """Feed one frame's gate result; return the payloads it causes."""
        ev = self._open
        if ev is None:
            if not result.motion:
                return []
            ev = self._start(frame, result.reason or "motion", None)
            self._add_frame(ev, frame, result)
            return [self._message(ev, "start")]
        self._add_frame(ev, frame, result)
        if not result.motion:
            return [self._end(ev, "quiet")]
        if frame.ts_ms - ev.start_ts_ms >= self._events_cfg.max_duration_s * 1000.0:
            out = [self._end(ev, "max_duration")]
            nxt = self._start(frame, "continued", ev.event_id)
            self._add_frame(nxt, frame, result)
            out.append(self._message(nxt, "start"))
            return out
        due = frame.index - ev.sent_frame >= self._events_cfg.update_every
        if due or frozenset(ev.zones) != ev.sent_zones:
            return [self._message(ev, "update")]
        return []

    def on_classification(self, classification: Classification) -> list[dict[str, Any]]:
        """Count one classification toward the open event's vote; an update if the label changed."""
        ev = self._open
        if ev is None:
            return []
        ev.vote.add(classification)
        best = ev.vote.best()
        label = best[0] if best else None
        if label != ev.sent_label:
            return [self._message(ev, "update")]
        return []

    def finish(self, ts_ms: int, frame_index: int, reason: str = "stopped") -> list[dict[str, Any]]:
        """End the event in progress (shutdown, end of clip); ``reason`` becomes ``end_reason``."""
        ev = self._open
        if ev is None:
            return []
        # The last frame already counted; only the end time can move forward.
        if frame_index >= ev.frame:
            ev.frame, ev.ts_ms = frame_index, ts_ms
        return [self._end(ev, reason)]

    # -- internals ----------------------------------------------------------------------
    def _start(self, frame: Frame, reason: str, continues: str | None) -> _Open:
        source = _public_source(frame.source) or self._device.camera
        ev = _Open(
            event_id=self._ids(source, frame.index),
            source=source,
            reason=reason,
            continues=continues,
            start_frame=frame.index,
            start_ts_ms=frame.ts_ms,
            frame=frame.index,
            ts_ms=frame.ts_ms,
            sent_frame=frame.index,
            vote=LabelVote(min_agree=self._model.min_agree if self._model else 1,
                           min_share=self._model.min_share if self._model else 0.0),
        )
        self._open = ev
        self.events_started += 1
        return ev

    def _add_frame(self, ev: _Open, frame: Frame, result: GateResult) -> None:
        pct = round_pct(result.changed_pct)
        ev.frame, ev.ts_ms = frame.index, frame.ts_ms
        ev.frames += 1
        ev.last_pct = pct
        # A frame the gate rejected (light switch, exposure jump) says nothing about what
        # moved: its near-100 % and whole-frame box stay out of the statistics.
        if result.reason and not result.opened:
            return
        ev.measured += 1
        ev.pct_sum += pct
        ev.peak = max(ev.peak, pct)
        if result.box is not None:
            ev.box = result.box if ev.box is None else ev.box.union(result.box)
        ev.zones.update(result.zones)

    def _end(self, ev: _Open, end_reason: str) -> dict[str, Any]:
        self._open = None
        return self._message(ev, "end", end_reason)

    def _message(self, ev: _Open, kind: str, end_reason: str | None = None) -> dict[str, Any]:
        # A label already voted stays when the classifier is turned off mid-event: what was
        # seen does not become unseen (the vote just stops growing).
        classify = self._model is not None and (self._classifier_cfg.enabled or ev.vote.count > 0)
        best = ev.vote.best() if classify else None
        label = best[0] if best else None
        ended = kind == "end"
        payload: dict[str, Any] = {
            "schema": SCHEMA_VERSION,
            "type": kind,
            "event_id": ev.event_id,
            "seq": ev.seq,
            "device": self._device.name,
            "camera": self._device.camera,
            "source": ev.source,
            "reason": ev.reason,
            "continues": ev.continues,
            "start_frame": ev.start_frame,
            "start_ts_ms": ev.start_ts_ms,
            "frame": ev.frame,
            "ts_ms": ev.ts_ms,
            "end_frame": ev.frame if ended else None,
            "end_ts_ms": ev.ts_ms if ended else None,
            "duration_ms": ev.ts_ms - ev.start_ts_ms,
            "frames": ev.frames,
            "end_reason": end_reason,
            "short": ended and ev.frames < self._events_cfg.min_frames,
            "changed_pct": ev.last_pct,
            "peak_changed_pct": ev.peak,
            "mean_changed_pct": round_pct(ev.pct_sum / ev.measured) if ev.measured else 0.0,
            "box": box_list(ev.box),
            "zones": sorted(ev.zones),
            "label": label,
            "score": round_score(best[1]) if best else None,
            "classified_frames": ev.vote.count if classify else 0,
            "model": (
                {"name": self._model.name, "sha256": self._model.sha256}
                if classify and self._model is not None
                else None
            ),
        }
        if classify and self._model is not None and self._model.raw_labels:
            # Label-map models only (docs/events.md): inserted right after "score".
            payload = with_raw_label(
                payload, ev.vote.best_raw(label) if label is not None else None
            )
        ev.seq += 1
        ev.sent_frame = ev.frame
        ev.sent_zones = frozenset(ev.zones)
        ev.sent_label = label
        return payload
