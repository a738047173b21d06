"""The object stage of the pipeline: tracker, per-object classification and object events.

Per frame: the gate's regions go to :class:`~visionedge.objects.track.ObjectTracker`; then up
to ``objects.classify_per_frame`` objects seen on this frame are classified on their own box
(fewest classifications first, then lowest id), each at most every
``classifier.every_n_frames`` frames and ``classifier.max_per_event`` times; then
:class:`~visionedge.objects.events.ObjectEvents` makes the payloads.
"""

from __future__ import annotations

from visionedge.config import Config
from visionedge.events.ids import IdFactory
from visionedge.events.tracker import ModelInfo
from visionedge.frame import Frame
from visionedge.objects.events import ObjectEvents
from visionedge.objects.geometry import box_to_px, px_to_box
from visionedge.objects.track import ObjectTracker, TrackState, TrackStep
from visionedge.protocols import Classification, Classifier, GateResult, ObjectOutput

__all__ = ["TrackingStage"]


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
        self.classifications = 0

    @property
    def tracker(self) -> ObjectTracker | None:
        """The tracker (None until the first frame fixes the plane size)."""
        return self._tracker

    def reconfigure(self, config: Config) -> None:
        """Take new settings; tracked objects continue under them."""
        self.config = config
        if self._tracker is not None and self._events is not None:
            self._tracker.reconfigure(config.objects)
            self._events.reconfigure(config.objects, config.events, config.classifier)

    def _ensure(self, frame: Frame) -> tuple[ObjectTracker, ObjectEvents]:
        h, w = frame.plane.shape[:2]
        if self._tracker is None or self._events is None or (self._tracker.width, self._tracker.height) != (w, h):
            cfg = self.config
            self._tracker = ObjectTracker(cfg.objects, w, h)
            self._events = ObjectEvents(
                cfg.objects, cfg.events, cfg.device, cfg.classifier, cfg.gate.zones, w, h,
                id_factory=self._ids, model=self._model,
            )
        return self._tracker, self._events

    def on_frame(self, frame: Frame, result: GateResult) -> ObjectOutput:
        """Track, classify and emit for one frame."""
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
        out.classifications = self._classify(frame, step, events)
        payloads, counts = events.on_frame(
            step, out.classifications, frame.source, frame.index, frame.ts_ms
        )
        out.payloads += payloads
        out.counts += [(c.label, c.count) for c in counts]
        return out

    def _classify(self, frame: Frame, step: TrackStep, events: ObjectEvents) -> dict[int, Classification]:
        cc = self.config.classifier
        if self.classifier is None or not cc.enabled or self._tracker is None:
            return {}
        due: list[tuple[int, int]] = []
        for t in step.tracks:
            if t.state is not TrackState.SEEN:
                continue
            count, last = events.classified(t.object_id)
            if count >= cc.max_per_event:
                continue
            if last is not None and frame.index - last < cc.every_n_frames:
                continue
            due.append((count, t.object_id))
        due.sort()
        chosen = {oid for _, oid in due[: self.config.objects.classify_per_frame]}
        out: dict[int, Classification] = {}
        w, h = self._tracker.width, self._tracker.height
        for t in step.tracks:
            if t.object_id in chosen:
                out[t.object_id] = self.classifier.classify(frame, px_to_box(t.box, w, h))
                self.classifications += 1
        return out

    def finish(self, frame_index: int, ts_ms: int, reason: str) -> ObjectOutput:
        """End every tracked object."""
        if self._tracker is None or self._events is None:
            return ObjectOutput()
        payloads, counts = self._events.finish(
            self._tracker.finish(), reason, self._source, frame_index, ts_ms
        )
        return ObjectOutput(payloads, [(c.label, c.count) for c in counts])
