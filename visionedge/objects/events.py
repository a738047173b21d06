"""Per-object events: tracked objects (and their classifications) in, schema-2 payloads out.

An object's event starts once it *counts*: it has an id, it has travelled (steady moves of
both box edges, :func:`~visionedge.objects.measures.travelled`) or the classifier is sure of
it (``objects.still_min_score``, ``still_min_votes``), its largest box so far is
within the area filters, it has entered one of ``objects.required_zones`` (when set) and, when ``objects.labels`` is
set, its voted label is one of them with at least the label's ``min_score``. From then on it
counts until it ends. Updates go out every ``events.update_every`` frames while it moves, and
at once when its label, its zones or its stationary flag change; a stationary object is not
re-announced by the periodic updates. The best view and the zone rules are integer (plane
pixels), like the tracker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from visionedge.config import (
    ClassifierConfig,
    DeviceConfig,
    EventsConfig,
    ObjectsConfig,
    ZoneConfig,
)
from visionedge.events.ids import IdFactory
from visionedge.events.payload import round_score
from visionedge.events.tracker import ModelInfo, _public_source
from visionedge.events.vote import LabelVote
from visionedge.objects.geometry import (
    SUB,
    PxBox,
    area,
    inside_polygon,
    milli,
    polygon_to_sub,
)
from visionedge.objects.measures import best_key, travel_step, travelled
from visionedge.objects.message import object_payload
from visionedge.objects.track import Track, TrackState, TrackStep
from visionedge.protocols import Classification

__all__ = ["CountChange", "ObjectEvents"]

_STILL_DEFAULT = ObjectsConfig.model_fields["still_min_score"].default
"""The built-in ``objects.still_min_score``: a model card's per-label bars apply while the
config leaves it there (as the card's other object settings do)."""

_AREA_SCALE = 100_000
"""Area filters are compared as ``area * 100000 >= pct * 1000 * frame_area`` (integers)."""


@dataclass(frozen=True, slots=True)
class CountChange:
    """Objects in view with ``label`` (``"object"`` when unlabelled) is now ``count``."""

    label: str
    count: int


@dataclass(slots=True)
class _Best:
    key: tuple[int, int]
    frame: int
    ts_ms: int
    box: PxBox
    label: str | None
    score: float | None


@dataclass(slots=True)
class _Obj:
    """What the emitter knows about one tracked object."""

    object_id: int
    first_frame: int
    first_ts_ms: int
    event_id: str = ""
    counts: bool = False
    seq: int = 0
    frames: int = 0
    vote: LabelVote = field(default_factory=LabelVote)
    last_classified: int | None = None
    best: _Best | None = None
    path: list[tuple[int, int]] = field(default_factory=list)
    path_stride: int = 1
    path_seen: int = 0
    zones: frozenset[str] = frozenset()
    entered: list[str] = field(default_factory=list)
    dwell: dict[str, int] = field(default_factory=dict)
    last_ts_ms: int = 0
    sent_frame: int = 0
    sent_label: str | None = None
    sent_zones: frozenset[str] = frozenset()
    sent_stationary: bool = False
    origin: PxBox | None = None
    first: PxBox | None = None
    largest: PxBox = (0, 0, 0, 0)
    travelled: bool = False
    tx: int = 0
    ty: int = 0
    last_classified_ts: int = 0
    """Stream time of the last classification (the settle rule's re-check clock); last of the
    fields, so recorded states pickled before it keep the other fields in place."""


class ObjectEvents:
    """Turns :class:`~visionedge.objects.track.TrackStep` s into object event payloads."""

    def __init__(
        self,
        objects_cfg: ObjectsConfig,
        events_cfg: EventsConfig,
        device_cfg: DeviceConfig,
        classifier_cfg: ClassifierConfig,
        zones: list[ZoneConfig],
        width: int,
        height: int,
        *,
        id_factory: IdFactory,
        model: ModelInfo | None = None,
    ) -> None:
        self.cfg = objects_cfg
        self._events_cfg = events_cfg
        self._device = device_cfg
        self._classifier_cfg = classifier_cfg
        self._ids = id_factory
        self._model = model
        self.width, self.height = width, height
        rules = {z.name: z.labels for z in objects_cfg.zones}
        self._zones = [
            (z.name, polygon_to_sub(z.polygon, width, height), rules.get(z.name, []))
            for z in zones
        ]
        self._objs: dict[int, _Obj] = {}
        self._counts: dict[str, int] = {}
        self.events_started = 0

    # -- state the stage reads -----------------------------------------------------------
    def classified(self, object_id: int) -> tuple[int, int | None]:
        """How often the object was classified, and on which frame last."""
        o = self._objs.get(object_id)
        return (o.vote.count, o.last_classified) if o else (0, None)

    def settled_since(self, object_id: int, after: int) -> int | None:
        """The stream time of the object's last classification when its label has settled
        (:meth:`~visionedge.events.vote.LabelVote.settled` with ``after``), else None."""
        o = self._objs.get(object_id)
        if o is None or not o.vote.settled(after):
            return None
        return o.last_classified_ts

    def last_classified_ts(self, object_id: int) -> int | None:
        """The stream time of the object's last classification (None: never classified)."""
        o = self._objs.get(object_id)
        return None if o is None else o.last_classified_ts

    def backoff(self, object_id: int, after: int) -> int:
        """The object's back-off doublings (:meth:`~visionedge.events.vote.LabelVote.backoff`)."""
        o = self._objs.get(object_id)
        return 0 if o is None or after <= 0 else o.vote.backoff(after)

    @property
    def counts(self) -> dict[str, int]:
        """Objects that count and are in view, per label."""
        return dict(self._counts)

    def reconfigure(
        self, objects_cfg: ObjectsConfig, events_cfg: EventsConfig, classifier_cfg: ClassifierConfig
    ) -> None:
        """Take new settings; objects continue under them (zone polygons stay)."""
        self.cfg, self._events_cfg, self._classifier_cfg = objects_cfg, events_cfg, classifier_cfg

    # -- inputs ----------------------------------------------------------------------------
    def on_frame(
        self,
        step: TrackStep,
        classifications: Mapping[int, Classification],
        source: str,
        frame: int,
        ts_ms: int,
    ) -> tuple[list[dict[str, Any]], list[CountChange]]:
        """One frame: the payloads to publish, in order, and the per-label count changes."""
        out: list[dict[str, Any]] = []
        # Each object's voted label, read once per frame (the vote changes only in add()).
        labels: dict[int, tuple[str | None, float | None]] = {}
        for t in step.tracks:
            o = self._objs.get(t.object_id)
            if o is None:
                o = self._objs[t.object_id] = _Obj(
                    t.object_id, t.first_frame, t.first_ts_ms, vote=self._new_vote()
                )
                o.last_ts_ms = t.first_ts_ms
            c = classifications.get(t.object_id)
            if c is not None:
                o.vote.add(c)
                o.last_classified = frame
                o.last_classified_ts = ts_ms
            voted = labels[t.object_id] = self._label(o)
            label = voted[0]
            self._observe(o, t, c, ts_ms, label)
            if not o.counts and self._qualifies(o, voted):
                o.counts = True
                o.event_id = self._ids(f"{_public_source(source) or self._device.camera}#{t.object_id}",
                                       t.first_frame)
                self.events_started += 1
                out.append(self._message(o, t, "start", source, frame, ts_ms, voted=voted))
            elif o.counts:
                due = (
                    frame - o.sent_frame >= self._events_cfg.update_every and not t.stationary
                )
                if (
                    due
                    or label != o.sent_label
                    or o.zones != o.sent_zones
                    or t.stationary != o.sent_stationary
                ):
                    out.append(self._message(o, t, "update", source, frame, ts_ms, voted=voted))
        for t in step.ended:
            out += self._end(t, t.ended.value if t.ended else "lost", source, frame, ts_ms)
        return out, self._count_changes(labels)

    def finish(
        self, tracks: list[Track], reason: str, source: str, frame: int, ts_ms: int
    ) -> tuple[list[dict[str, Any]], list[CountChange]]:
        """End every object still tracked (``reason`` = stopped / end_of_clip)."""
        out: list[dict[str, Any]] = []
        for t in tracks:
            out += self._end(t, reason, source, frame, ts_ms)
        self._objs.clear()
        return out, self._count_changes()

    # -- internals -------------------------------------------------------------------------
    def _new_vote(self) -> LabelVote:
        # The card's vote rule, as for motion events (events/tracker.py): one definition per
        # preset for both modes. min_agree 1 is the plain mean vote the firmware implements.
        if self._model is None:
            return LabelVote()
        return LabelVote(min_agree=self._model.min_agree, min_share=self._model.min_share)

    def _end(self, t: Track, reason: str, source: str, frame: int, ts_ms: int) -> list[dict[str, Any]]:
        o = self._objs.pop(t.object_id, None)
        if o is None or not o.counts:
            return []
        return [self._message(o, t, "end", source, frame, ts_ms, reason)]

    def _label(self, o: _Obj) -> tuple[str | None, float | None]:
        if not (self._classifier_cfg.enabled and self._model is not None):
            return None, None
        best = o.vote.best()
        return (best[0], best[1]) if best else (None, None)

    def _area_ok(self, b: PxBox, f_min: float, f_max: float) -> bool:
        # The largest view decides: an object entering or leaving shows only a sliver.
        # pct of the frame, compared in integers: area / frame * 100 vs pct (3 decimals).
        a = area(b) * _AREA_SCALE
        frame_area = self.width * self.height
        return a >= milli(f_min) * frame_area and a <= milli(f_max) * frame_area

    def _qualifies(self, o: _Obj, voted: tuple[str | None, float | None]) -> bool:
        cfg = self.cfg
        label, score = voted
        if not o.travelled and not self._sure_still(o, label, score):
            return False
        f = cfg.filters.get(label or "", cfg.filters.get("*"))
        if f is not None and not self._area_ok(o.largest, f.min_area_pct, f.max_area_pct):
            return False
        if cfg.labels and (label is None or label not in cfg.labels):
            return False
        if f is not None and f.min_score > 0 and (score is None or score < f.min_score):
            return False
        return not cfg.required_zones or any(z in o.entered for z in cfg.required_zones)

    def _sure_still(self, o: _Obj, label: str | None, score: float | None) -> bool:
        """Whether an object that has not travelled counts anyway: the classifier is sure of
        it (``objects.still_min_score`` and ``still_min_votes``; the model card's bar for the
        label while the config leaves ``still_min_score`` at its built-in default)."""
        if label is None or score is None:
            return False
        need = self.cfg.still_min_score
        if self._model is not None and need == _STILL_DEFAULT:
            # A few (label, bar) pairs: scanned in place, no mapping built per call, and
            # read each time so a live reconfigure of still_min_score takes effect.
            need = next((bar for lab, bar in self._model.still_min_score if lab == label), need)
        return (need > 0 and score >= need
                and o.vote.wins.get(label, 0) >= self.cfg.still_min_votes)

    def _observe(
        self, o: _Obj, t: Track, cl: Classification | None, ts_ms: int, label: str | None
    ) -> None:
        o.frames += int(t.state is not TrackState.MISSING)
        if self._zones:
            self._observe_zones(o, t, ts_ms, label)
        else:
            # No zone configured: none entered, none to dwell in (a fresh empty set, as the
            # zone step leaves it, so recorded states stay the same bytes).
            o.zones = frozenset()
        o.last_ts_ms = ts_ms
        if t.state is TrackState.SEEN:
            # The travel step counts only until the object has travelled.
            step = (
                travel_step(o.origin, t.box, self.width, self.height)
                if o.origin is not None and not o.travelled
                else None
            )
            if o.first is None:
                o.first = t.box
            if step is not None:
                o.tx += step[0]
                o.ty += step[1]
                # Both the steady edge shifts and the centre's net move must be far enough:
                # foliage cut by the frame border grows one edge but goes nowhere.
                f = o.first
                nx = abs(t.box[0] + t.box[2] - f[0] - f[2]) // 2
                ny = abs(t.box[1] + t.box[3] - f[1] - f[3]) // 2
                o.travelled = all(
                    travelled(x, y, t.box, self.width, self.height,
                              self.cfg.min_travel, self.cfg.min_travel_pct)
                    for x, y in ((o.tx, o.ty), (nx, ny))
                )
            o.origin = t.box
            if area(t.box) > area(o.largest):
                o.largest = t.box
            self._path(o, t.box)
            self._best(o, t, cl)

    def _observe_zones(self, o: _Obj, t: Track, ts_ms: int, label: str | None) -> None:
        """The zones the object stands in now, entered, and the time it dwelt in each."""
        # Zones: the box's bottom centre, the point that stands on the ground.
        ax = (t.box[0] + t.box[2]) * (SUB // 2)
        ay = t.box[3] * SUB
        now: set[str] = set()
        for name, poly, labels in self._zones:
            if labels and label not in labels:
                continue
            if inside_polygon(ax, ay, poly):
                now.add(name)
        dt = ts_ms - o.last_ts_ms
        for name in o.zones & now:
            o.dwell[name] = o.dwell.get(name, 0) + dt
        for name in sorted(now - o.zones):
            o.dwell.setdefault(name, 0)
            if name not in o.entered:
                o.entered.append(name)
        o.zones = frozenset(now)

    def _path(self, o: _Obj, b: PxBox) -> None:
        # Keep every stride-th sighting; when full, drop every other point and double the
        # stride, so the summary stays evenly spaced over the whole passage.
        if o.path_seen % o.path_stride == 0:
            o.path.append((b[0] + b[2], b[1] + b[3]))
            if len(o.path) > self.cfg.path_points:
                o.path = o.path[::2]
                o.path_stride *= 2
        o.path_seen += 1

    def _best(self, o: _Obj, t: Track, c: Classification | None) -> None:
        top = c.best if c is not None else None
        key = best_key(t.box, self.width, self.height, milli(top.score) if top else 0)
        if o.best is None or key > o.best.key:
            o.best = _Best(
                key, t.last_seen_frame, t.last_seen_ts_ms, t.box,
                top.label if top else None, round_score(top.score) if top else None,
            )

    def _count_changes(
        self, labels: Mapping[int, tuple[str | None, float | None]] | None = None
    ) -> list[CountChange]:
        """The per-label count changes since the last call (``labels``: the votes read on
        this frame, by object id; the others are read here)."""
        now: dict[str, int] = {}
        for o in self._objs.values():
            if o.counts:
                voted = labels.get(o.object_id) if labels is not None else None
                name = (voted if voted is not None else self._label(o))[0] or "object"
                now[name] = now.get(name, 0) + 1
        changes = [
            CountChange(name, now.get(name, 0))
            for name in sorted(set(now) | set(self._counts))
            if now.get(name, 0) != self._counts.get(name, 0)
        ]
        self._counts = {k: v for k, v in now.items() if v}
        return changes

    def _message(
        self,
        o: _Obj,
        t: Track,
        kind: str,
        source: str,
        frame: int,
        ts_ms: int,
        end_reason: str | None = None,
        voted: tuple[str | None, float | None] | None = None,
    ) -> dict[str, Any]:
        label, score = voted if voted is not None else self._label(o)
        classify = self._classifier_cfg.enabled and self._model is not None
        payload = object_payload(
            o, t, kind, source=source, frame=frame, ts_ms=ts_ms, end_reason=end_reason,
            label=label, score=score, width=self.width, height=self.height,
            device=self._device, model=self._model if classify else None,
        )
        o.seq += 1
        o.sent_frame = frame
        o.sent_label = label
        o.sent_zones = o.zones
        o.sent_stationary = t.stationary
        return payload

