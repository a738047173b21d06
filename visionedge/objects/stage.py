"""The object stage of the pipeline: tracker, per-object classification and object events.

Per frame: the gate's regions go to :class:`~visionedge.objects.track.ObjectTracker`; then up
to ``objects.classify_per_frame`` objects (the model card's ``objects.classify_per_frame``
when the config leaves the built-in default) seen on this frame are classified on their own box
(fewest classifications first, then lowest id; the box grown to the card's
``objects.min_crop_px``, :mod:`visionedge.objects.crop`), each at most every
``classifier.every_n_frames`` frames and ``classifier.max_per_event`` times; then
:class:`~visionedge.objects.events.ObjectEvents` makes the payloads.

The settle rule (``objects.settle_after`` > 0): an object whose last ``settle_after``
classifications agree (same top label, or no label each time) and whose vote says that label
is *settled*: it is due again only ``objects.recheck_s`` of stream time after its last
classification (a re-check), so a busy scene's classifier cost is its new objects plus one
crop per object every few seconds. A re-check that disagrees breaks the streak: the object is
classified at the usual cadence until it settles again.

The back-off (``objects.backoff_after`` > 0): an object whose last ``backoff_after`` or more
classifications reported no label is due only after ``every_n_frames`` times 2, 4, 8 ...
frames (one doubling per no-label answer from the ``backoff_after``-th on), or once
``objects.recheck_s`` of stream time has passed since its last classification, whichever
comes first (never sooner than ``every_n_frames``); a labelled answer resets the gap.

The idle sample (``objects.idle_sample_s`` > 0): on a frame the gate is closed, at most
every ``idle_sample_s`` (so at once when it closes after a longer busy spell), the tracked
objects not seen on that frame (stopped or hidden) with classifications left are classified
on their box (up to ``classify_per_frame``, at least one; fewest classifications first), so
an object that stopped before it was labelled still gets its label (and, with
``objects.labels``, counts). Nothing else changes: the tracker sees the same regions.

With ``keep_views`` set, the stage also keeps, per tracked object, the frame of its best view
(``best_view``), for the snapshot JPEGs of recordings and MQTT; and it can export and import its state
(``export_state``/``import_state``) for recordings that replay exactly.
"""

from __future__ import annotations

import copy
from typing import Any

from visionedge.config import Config
from visionedge.events.ids import IdFactory
from visionedge.events.tracker import ModelInfo
from visionedge.frame import Frame
from visionedge.objects.crop import fill_pct, grow_to
from visionedge.objects.events import ObjectEvents
from visionedge.objects.geometry import box_to_px, milli, px_to_box
from visionedge.objects.measures import clip_box
from visionedge.objects.track import ObjectTracker, TrackState, TrackStep
from visionedge.protocols import Box, Classification, Classifier, GateResult, ObjectOutput

__all__ = ["TrackingStage"]

_MAX_DOUBLINGS = 20
"""The back-off's gap stops doubling here (the recheck_s cap has long taken over by then), so
the frame gap stays a small integer in both ports."""

_CONFIG_ATTRS = frozenset(
    {"cfg", "_events_cfg", "_device", "_classifier_cfg", "_ids", "_model", "_zones"}
)
"""Attributes of the tracker and the emitter that come from the config, not from frames."""


def _state_of(obj: Any) -> dict[str, Any]:
    names: list[str] = list(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        names += [n for n in getattr(cls, "__slots__", ()) if n not in ("__dict__", "__weakref__")]
    return {n: copy.deepcopy(getattr(obj, n)) for n in names if n not in _CONFIG_ATTRS and hasattr(obj, n)}


class TrackingStage:
    """The :class:`~visionedge.protocols.ObjectStage` of the pipeline (see the module doc)."""

    def __init__(
        self,
        config: Config,
        *,
        id_factory: IdFactory,
        classifier: Classifier | None = None,
        model: ModelInfo | None = None,
    ) -> None:
        self.config = config
        self.classifier = classifier
        self._ids = id_factory
        self._model = model
        self._tracker: ObjectTracker | None = None
        self._events: ObjectEvents | None = None
        self._source = ""
        self._idle_ts: int | None = None  # stream time of the last idle sample
        self._views: dict[int, tuple[Frame, Box]] = {}
        self._frame_size: tuple[int, int] | None = None
        """(width, height) of the last full frame a crop was cut from: the fill check
        (``min_fill_pct``) needs the frame's size, not its BGR conversion."""
        self._ended: list[int] = []
        self.classifications = 0
        self.idle_classifications = 0
        self.keep_views = False
        """Keep best-view frames (``best_view``); set by their users (recorder, MQTT snapshots),
        because each costs a full frame in memory (at most one per tracked object)."""

    @property
    def tracker(self) -> ObjectTracker | None:
        """The tracker (None until the first frame fixes the plane size)."""
        return self._tracker

    @property
    def open_events(self) -> int:
        """Objects whose event started and has not ended."""
        if self._events is None:
            return 0
        return sum(1 for o in self._events._objs.values() if o.counts)

    def best_view(self, object_id: int) -> tuple[Frame, Box] | None:
        """The frame of the object's best view and its box there (normalised), if kept.

        Valid for live objects and for those that ended on the last frame (or in the last
        :meth:`finish`): read it when their ``end`` is published.
        """
        return self._views.get(object_id)

    def set_id_factory(self, id_factory: IdFactory) -> None:
        """Name the events that start from now on with ``id_factory`` (replay of a recording)."""
        self._ids = id_factory
        if self._events is not None:
            self._events._ids = id_factory

    def reconfigure(self, config: Config) -> None:
        """Take new settings; tracked objects continue under them."""
        self.config = config
        if self._tracker is not None and self._events is not None:
            self._tracker.reconfigure(config.objects)
            self._events.reconfigure(config.objects, config.events, config.classifier)

    def _build(self, w: int, h: int) -> tuple[ObjectTracker, ObjectEvents]:
        cfg = self.config
        self._tracker = ObjectTracker(cfg.objects, w, h)
        self._events = ObjectEvents(
            cfg.objects, cfg.events, cfg.device, cfg.classifier, cfg.gate.zones, w, h,
            id_factory=self._ids, model=self._model,
        )
        return self._tracker, self._events

    def _ensure(self, frame: Frame) -> tuple[ObjectTracker, ObjectEvents]:
        h, w = frame.plane.shape[:2]
        if self._tracker is None or self._events is None or (self._tracker.width, self._tracker.height) != (w, h):
            return self._build(w, h)
        return self._tracker, self._events

    def on_frame(self, frame: Frame, result: GateResult) -> ObjectOutput:
        """Track, classify and emit for one frame."""
        for oid in self._ended:
            self._views.pop(oid, None)
        self._ended = []
        if self._tracker is not None and (self._tracker.width, self._tracker.height) != frame.plane.shape[:2][::-1]:
            out = self.finish(frame.index, frame.ts_ms, "stopped")
        else:
            out = ObjectOutput()
        tracker, events = self._ensure(frame)
        self._source = frame.source
        w, h = tracker.width, tracker.height
        blind = bool(result.reason) and not result.opened
        step = tracker.update(
            [box_to_px(b, w, h) for b in result.regions], frame.index, frame.ts_ms, blind=blind
        )
        out.classifications = self._classify(frame, step, events, self._idle_due(frame, result, blind))
        payloads, counts = events.on_frame(
            step, out.classifications, frame.source, frame.index, frame.ts_ms
        )
        self._note_views(frame, step, events)
        out.payloads += payloads
        out.counts += [(c.label, c.count) for c in counts]
        return out

    def is_idle_on(self, frame: Frame) -> bool:
        """Whether :meth:`on_frame` on a closed-gate ``frame`` would change nothing.

        True when nothing is tracked (not even a tentative object), no object ended on the
        previous frame (its view is still to be dropped), ``frame`` comes from the source and
        plane size seen before, and no idle sample is due (the pipeline's still-frame path,
        visionedge/pipeline/still.py).
        """
        tracker = self._tracker
        if tracker is None or tracker.tracks or self._ended or self._source != frame.source:
            return False
        every = self.config.objects.idle_sample_s
        if every > 0:
            # The rule of _idle_due: a due sample moves its clock.
            last = self._idle_ts
            if last is None or frame.ts_ms - last >= round(every * 1000):
                return False
        h, w = frame.plane.shape[:2]
        return w == tracker.width and h == tracker.height

    def _idle_due(self, frame: Frame, result: GateResult, blind: bool) -> bool:
        """Whether this frame is an idle sample (see the module doc)."""
        every = self.config.objects.idle_sample_s
        if every <= 0 or result.motion or blind:
            return False
        # The first closed frame after a busy spell is due at once (a stopped object is
        # still tracked then); gate flicker does not multiply the samples.
        if self._idle_ts is None or frame.ts_ms - self._idle_ts >= round(every * 1000):
            self._idle_ts = frame.ts_ms
            return True
        return False

    def _classify(
        self, frame: Frame, step: TrackStep, events: ObjectEvents, idle: bool
    ) -> dict[int, Classification]:
        cc = self.config.classifier
        if self.classifier is None or not cc.enabled or self._tracker is None:
            return {}
        w, h = self._tracker.width, self._tracker.height
        settle = self.config.objects.settle_after
        recheck_ms = milli(self.config.objects.recheck_s)
        backoff_after = self.config.objects.backoff_after
        due: list[tuple[int, int]] = []
        for t in step.tracks:
            count, last = events.classified(t.object_id)
            if count >= cc.max_per_event:
                continue
            if settle > 0:
                since = events.settled_since(t.object_id, settle)
                if since is not None and frame.ts_ms - since < recheck_ms:
                    continue
            if idle:
                # Stopped or hidden objects, where they were last seen (inside the frame).
                b = t.box
                if t.state is TrackState.SEEN or b[2] <= 0 or b[3] <= 0 or b[0] >= w or b[1] >= h:
                    continue
            elif t.state is not TrackState.SEEN or (
                last is not None and not self._cadence_due(
                    frame, last, events, t.object_id, backoff_after, recheck_ms
                )
            ):
                continue
            due.append((count, t.object_id))
        if not due:
            return {}  # most busy frames: every object classified recently or settled
        # The card's smallest crop (objects.min_crop_px; 0 for the board's models).
        min_px = int(getattr(self.classifier, "object_min_crop_px", 0))
        min_fill = int(getattr(self.classifier, "object_min_fill_pct", 0))
        if min_px > 0 and min_fill > 0:
            # A box lost in its grown crop is not what the crop shows: not classified on
            # this frame (it stays due, and counts no classification).
            if self._frame_size is None:
                full_h, full_w = frame.image().shape[:2]
                self._frame_size = (full_w, full_h)
            full_w, full_h = self._frame_size
            boxes = {t.object_id: t.box for t in step.tracks}
            due = [(c, oid) for c, oid in due
                   if fill_pct(px_to_box(boxes[oid], w, h), full_w, full_h, min_px) >= min_fill]
            if not due:
                return {}
        due.sort()
        per_frame = self._per_frame()
        # The idle sample classifies one object at least: classify_per_frame = 0 means
        # "classify nothing that moves", not "never classify".
        chosen = {oid for _, oid in due[: max(per_frame, 1) if idle else per_frame]}
        out: dict[int, Classification] = {}
        # A cascade card may look again at the object's own box (objects.confirm_px).
        classify_object = getattr(self.classifier, "classify_object", None)
        for t in step.tracks:
            if t.object_id in chosen:
                own = box = px_to_box(t.box, w, h)
                if min_px > 0:
                    full_h, full_w = frame.image().shape[:2]
                    self._frame_size = (full_w, full_h)
                    box = grow_to(box, full_w, full_h, min_px)
                out[t.object_id] = (classify_object(frame, box, own) if classify_object is not None
                                    else self.classifier.classify(frame, box))
                self.classifications += 1
                self.idle_classifications += int(idle)
        return out

    def _cadence_due(
        self, frame: Frame, last: int, events: ObjectEvents, object_id: int, after: int, recheck_ms: int
    ) -> bool:
        """Whether a seen object classified last on frame ``last`` is due by its cadence:
        ``every_n_frames``, stretched by the back-off (see the module doc)."""
        every_n = self.config.classifier.every_n_frames
        gap = frame.index - last
        if gap < every_n:
            return False
        doublings = events.backoff(object_id, after)
        if doublings == 0 or gap >= every_n << min(doublings, _MAX_DOUBLINGS):
            return True
        last_ts = events.last_classified_ts(object_id)
        return last_ts is not None and frame.ts_ms - last_ts >= recheck_ms

    def _per_frame(self) -> int:
        """``objects.classify_per_frame``, or the card's when the config leaves the built-in
        default (as the card's classifier settings apply: docs/classify.md, Cards)."""
        n = self.config.objects.classify_per_frame
        card = int(getattr(self.classifier, "object_classify_per_frame", 0))
        default = type(self.config.objects).model_fields["classify_per_frame"].default
        return card if card > 0 and n == default else n

    def _note_views(self, frame: Frame, step: TrackStep, events: ObjectEvents) -> None:
        """Keep the frame of each object whose best view is this frame."""
        self._ended += [t.object_id for t in step.ended]
        if not self.keep_views:
            return
        w, h = events.width, events.height
        for t in step.tracks:
            o = events._objs.get(t.object_id)
            if o is not None and o.best is not None and o.best.frame == frame.index:
                self._views[t.object_id] = (frame, Box(*clip_box(o.best.box, w, h)))

    def finish(self, frame_index: int, ts_ms: int, reason: str) -> ObjectOutput:
        """End every tracked object."""
        if self._tracker is None or self._events is None:
            return ObjectOutput()
        tracks = self._tracker.finish()
        payloads, counts = self._events.finish(tracks, reason, self._source, frame_index, ts_ms)
        self._ended += [t.object_id for t in tracks]
        return ObjectOutput(payloads, [(c.label, c.count) for c in counts])

    # -- recordings ------------------------------------------------------------------------
    def export_state(self) -> dict[str, Any] | None:
        """What decides the next frame's object events, as picklable data (None: no frame yet)."""
        if self._tracker is None or self._events is None:
            return None
        return {
            "size": (self._tracker.width, self._tracker.height),
            "tracker": _state_of(self._tracker),
            "events": _state_of(self._events),
            "source": self._source,
            "idle_ts": self._idle_ts,
        }

    def import_state(self, state: dict[str, Any] | None) -> None:
        """Continue from :meth:`export_state` output (a fresh stage, before its first frame)."""
        if state is None:
            return
        tracker, events = self._build(*state["size"])
        for obj, values in ((tracker, state["tracker"]), (events, state["events"])):
            for key, value in values.items():
                setattr(obj, key, copy.deepcopy(value))
        self._source = state["source"]
        self._idle_ts = state["idle_ts"]
