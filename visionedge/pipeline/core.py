"""The :class:`Pipeline`: moves frames through the stages :mod:`visionedge.pipeline` wires.

``step`` handles one frame and returns its :class:`~visionedge.protocols.FrameTrace`; ``run``
drains the source until it ends or ``stop_event`` is set, then ends the open event. A frame
the gate keeps closed while no motion event is open and the object stage tracks nothing
(:mod:`visionedge.pipeline.still`) takes a short path: the event tracker, the classifier
budget and the object stage are left out, because on such a frame they change nothing; the
state watcher, the counters, the trace and the recorder see it as any other.

A sink that raises :class:`~visionedge.errors.SinkError` is marked failed: the error leaves
``step`` (the run stops with exit 6); the others still get every message, including the end
of the open event from :meth:`Pipeline.finish` (which therefore does not raise again).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from visionedge.config import Config
from visionedge.errors import SinkError, VisionEdgeError
from visionedge.events import EventTracker, StateWatcher
from visionedge.events.openstate import OpenEventStore
from visionedge.frame import Frame
from visionedge.objects.openstate import OpenObjectStore
from visionedge.pipeline.budget import classification_due, may_classify
from visionedge.pipeline.models import model_info
from visionedge.pipeline.sinks import SinkFanout
from visionedge.pipeline.stats import PipelineStats
from visionedge.pipeline.still import fast_path_enabled, object_stage_idle
from visionedge.protocols import (
    Classification,
    Classifier,
    EventSink,
    FrameSource,
    FrameTrace,
    GateResult,
    MotionGate,
    ObjectOutput,
    ObjectStage,
)

if TYPE_CHECKING:
    from visionedge.recording.hook import RecorderHook

__all__ = ["FrameHook", "Pipeline"]

FrameHook = Callable[[Frame, FrameTrace], None]


class _Reconfigurable(Protocol):
    def reconfigure(self, cfg: Any) -> None: ...


class Pipeline:
    """Moves frames through the stages (which frames are classified: pipeline/budget.py)."""

    def __init__(
        self,
        config: Config,
        *,
        gate: MotionGate,
        tracker: EventTracker,
        sinks: list[EventSink],
        source: FrameSource | None = None,
        classifier: Classifier | None = None,
        open_store: OpenEventStore | None = None,
        objects: ObjectStage | None = None,
    ) -> None:
        self.config = config
        self.open_store = open_store
        self.object_store: OpenObjectStore | None = None
        """Open object events kept on disk (visionedge.objects.openstate); None: not kept."""
        self.objects = objects
        self.gate = gate
        self.tracker = tracker
        self.sinks = sinks
        self.source = source
        self.classifier = classifier
        self.stats = PipelineStats()
        self._states = StateWatcher()
        self._lock = threading.Lock()
        self._last_classified: int | None = None
        self._finished = False
        self.recorder: RecorderHook | None = None
        """Recordings (docs/recordings.md): sees every payload, frame and finish; None: off."""
        self._out = SinkFanout(sinks)
        self._rate: float | None = None
        self._object_mode = config.objects.mode == "object"
        self.fast_still = fast_path_enabled()
        """Take the still-frame short path (module doc); ``VISIONEDGE_STILL_FAST_PATH=off``
        or False here runs every stage on every frame, with the same output."""

    # -- one frame ------------------------------------------------------------------------
    def step(self, frame: Frame) -> FrameTrace:
        """Run one frame through gate, classifier and tracker; publish what it causes."""
        with self._lock:
            return self._step(frame)

    def _sync_rate(self, rate: object) -> None:
        # The gate's settings in seconds become frame counts at the source's rate, which a
        # file source knows only once it is open (and a live one after a reopen).
        if isinstance(rate, float | int) and rate > 0 and rate != self._rate:
            self._rate = float(rate)
            set_fps: Callable[[float], None] | None = getattr(self.gate, "set_fps", None)
            if set_fps is not None:
                set_fps(self._rate)

    def _classifying(self) -> bool:
        return self.classifier is not None and self.config.classifier.enabled

    def _step(self, frame: Frame) -> FrameTrace:
        self._finished = False
        rate = getattr(self.source, "fps", None)
        if rate != self._rate:
            self._sync_rate(rate)
        gate: Any = self.gate
        index = frame.index
        tracker = self.tracker
        objects = self.objects
        if hasattr(gate, "regions_wanted"):
            # The object tracker matches regions on every frame; otherwise only a frame that
            # may be classified needs them.
            gate.regions_wanted = objects is not None or (
                self._classifying()
                and may_classify(
                    self.config.classifier, tracker, self._last_classified, index
                )
            )
        t0 = time.perf_counter()
        result = gate.process(frame)
        gate_us = result.gate_us or (time.perf_counter() - t0) * 1e6
        if (
            not result.motion
            and self.fast_still
            and not tracker.is_open
            and (objects is None or object_stage_idle(objects, frame))
        ):
            return self._still(frame, result, gate_us)
        before = tracker.event_id
        payloads = tracker.on_gate(frame, result)
        event_id = tracker.event_id or (before if payloads else "")
        if tracker.event_id and tracker.event_id != before:
            self._last_classified = None  # a new event has its own budget

        s = self.stats
        classification: Classification | None = None
        classify_us: float | None = None
        object_mode = self._object_mode
        if not object_mode and self._classifying():
            box = classification_due(
                self.config.classifier, tracker, self._last_classified, index, result
            )
            if box is not None:
                assert self.classifier is not None
                t1 = time.perf_counter()
                classification = self.classifier.classify(frame, box)
                classify_us = classification.classify_us or (time.perf_counter() - t1) * 1e6
                self._last_classified = index
                s.classifications += 1
                s.last_classify_us = classify_us
                payloads += tracker.on_classification(classification)

        if object_mode:
            payloads = []
        objs = self.objects.on_frame(frame, result) if self.objects is not None else None
        if objs is not None:
            payloads += objs.payloads
            s.classifications += len(objs.classifications)
        if payloads:
            self._publish(payloads)
        if objs is not None and objs.counts:
            self._counts(objs)
        for change in self._states.on_frame(result, tracker.is_open):
            self._state(change.name, change.value, change.detail)

        s.frames += 1
        s.gate_open_frames += int(result.motion)
        s.events = tracker.events_started
        s.last_gate_us = gate_us
        s.last_frame, s.last_ts_ms = index, frame.ts_ms
        shown = classification
        if shown is None and objs is not None and objs.classifications:
            # Object mode: the trace row shows the lowest-id object classified this frame.
            shown = objs.classifications[min(objs.classifications)]
            classify_us = shown.classify_us
        best = shown.best if shown is not None else None
        trace = FrameTrace(
            index,
            frame.ts_ms,
            result.changed_pct,
            result.motion,
            event_id,
            shown is not None,
            best.label if best is not None else "",
            best.score if best is not None else None,
            gate_us,
            classify_us,
            {"result": result, "classification": classification, "objects": objs},
        )
        if self.recorder is not None:
            self.recorder.on_frame(frame, trace, self)
        return trace

    def _still(self, frame: Frame, result: GateResult, gate_us: float) -> FrameTrace:
        """The rest of a step on a closed frame with nothing open (see the module doc).

        What the full step would do there: the event tracker returns no payload and stays
        closed, nothing is due for the classifier, the object stage would output nothing
        and keep its state (``still.object_stage_idle``); only the states, the counters,
        the trace and the recorder remain.
        """
        for change in self._states.on_frame(result, False):
            self._state(change.name, change.value, change.detail)
        s = self.stats
        s.frames += 1
        s.events = self.tracker.events_started
        s.last_gate_us = gate_us
        s.last_frame, s.last_ts_ms = index, ts_ms = frame.index, frame.ts_ms
        trace = FrameTrace(
            index, ts_ms, result.changed_pct, False, "", False, "", None, gate_us, None,
            {
                "result": result,
                "classification": None,
                # What the stage would have output: nothing.
                "objects": None if self.objects is None else ObjectOutput([], [], {}),
            },
        )
        if self.recorder is not None:
            self.recorder.on_frame(frame, trace, self)
        return trace

    # -- the whole source -----------------------------------------------------------------
    def run(
        self, stop_event: threading.Event | None = None, on_frame: FrameHook | None = None
    ) -> PipelineStats:
        """Drain the source (until it ends or ``stop_event`` is set), then end the open event.

        ``on_frame`` is called after every frame with the frame and its trace (replay uses
        it for ``--trace`` and ``--export-frames``).
        """
        if self.source is None:
            raise ValueError("Pipeline.run needs a source; pass one to build_pipeline")
        stopped = False
        with self.source as src:
            frames = src.frames()
            try:
                for frame in frames:
                    if stop_event is not None and stop_event.is_set():
                        stopped = True
                        break
                    trace = self.step(frame)
                    if on_frame is not None:
                        on_frame(frame, trace)
                    if stop_event is not None and stop_event.is_set():
                        stopped = True
                        break
            except VisionEdgeError:
                # A clip that turns out corrupt half-way still ends the event it opened, so
                # subscribers never keep a dangling start; a failed sink gets no more, and
                # the error that stopped the run is the one reported.
                with contextlib.suppress(SinkError):
                    self.finish("stopped")
                raise
            finally:
                # Closing the generator runs the source's own clean-up before __exit__.
                close: Callable[[], None] | None = getattr(frames, "close", None)
                if close is not None:
                    close()
        self.finish("stopped" if stopped else "end_of_clip")
        return self.stats

    def finish(self, reason: str = "stopped") -> None:
        """End the event in progress (``end_reason`` = reason) and report motion OFF."""
        with self._lock:
            if self._finished:
                return
            self._finished = True
            s = self.stats
            try:
                ended = self.tracker.finish(s.last_ts_ms, max(s.last_frame, 0), reason)
                if self._object_mode:
                    ended = []
                objs = (
                    self.objects.finish(max(s.last_frame, 0), s.last_ts_ms, reason)
                    if self.objects is not None
                    else None
                )
                self._publish(ended + (objs.payloads if objs is not None else []))
                if objs is not None:
                    self._counts(objs)
                for change in self._states.finish(max(s.last_frame, 0)):
                    self._state(change.name, change.value, change.detail)
            finally:
                # a failed sink must not leave the recording's window open
                if self.recorder is not None:
                    self.recorder.on_finish(reason, self)

    def close(self, timeout: float = 5.0) -> None:
        """Close every sink (each within ``timeout``)."""
        from visionedge.sinks import close_sinks

        close_sinks(self.sinks, timeout)

    def set_classifier(self, classifier: Classifier | None) -> None:
        """Use ``classifier`` from the next frame on (a runtime ``classifier.enabled`` switch).

        The tracker learns the model too, so events classified from now on name it.
        """
        with self._lock:
            self.classifier = classifier
            self.tracker.set_model(model_info(classifier))

    def reconfigure(self, config: Config) -> None:
        """Apply a new config at runtime: gate thresholds keep their history, events continue."""
        with self._lock:
            gate_reconf: Callable[[Any], None] | None = getattr(self.gate, "reconfigure", None)
            if gate_reconf is not None:
                gate_reconf(config.gate)
            clf_reconf: Callable[[Any], None] | None = getattr(self.classifier, "reconfigure", None)
            if clf_reconf is not None:
                clf_reconf(config.classifier)
            self.tracker.reconfigure(config.events, config.classifier)
            obj_reconf: Callable[[Any], None] | None = getattr(self.objects, "reconfigure", None)
            if obj_reconf is not None:
                obj_reconf(config)
            self.config = config
            self._object_mode = config.objects.mode == "object"
            if self.recorder is not None:
                self.recorder.on_reconfigure(config, self)

    def end_crashed_event(self) -> dict[str, Any] | None:
        """Publish the ``end`` (``restarted``) of an event a crashed run left open, if any."""
        if self.open_store is None:
            return None
        with self._lock:
            end = self.open_store.recover()
            if end is not None:
                self._publish([end])
            return end

    def end_crashed_objects(self) -> list[dict[str, Any]]:
        """Publish the ``end`` (``restarted``) of every object event a crashed run left open,
        then a count of 0 for each label a previous run may have left counted."""
        if self.object_store is None:
            return []
        with self._lock:
            found = self.object_store.recover()
            try:
                self._publish(found.ends)
            finally:
                for label in found.labels:
                    self._state("count", "0", {"label": label})
            return found.ends

    # -- output ---------------------------------------------------------------------------
    def _publish(self, payloads: list[dict[str, Any]]) -> None:
        first: SinkError | None = None
        for payload in payloads:
            if self.recorder is not None:
                payload = self.recorder.annotate(payload)
            self.stats.messages += 1
            # Motion events (schema 1) and object events (schema 2) are kept apart.
            store: OpenEventStore | OpenObjectStore | None = (
                self.object_store if "object_id" in payload else self.open_store
            )
            if store is not None:
                store.record(payload)
            failed = self._out.publish(payload)
            if store is not None and failed is None:
                store.published(payload)
            first = first or failed
        if first is not None:
            raise first

    def _counts(self, objs: ObjectOutput) -> None:
        for label, count in objs.counts:
            self._state("count", str(count), {"label": label})

    def _state(self, name: str, value: str, detail: Mapping[str, Any]) -> None:
        self._out.state(name, value, detail)
