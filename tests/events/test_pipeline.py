"""The pipeline's own logic: classifier budget and crop choice, states, stats, finish, reconfigure.

The gate here replays a scripted list of results and the classifier records what it was
asked, because what is under test is the wiring between stages; the real gate, sources and
TFLite classifier run in tests/replay.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

from eventkit import gate, make_frame, script, validate

from visionedge.config import Config
from visionedge.frame import Frame
from visionedge.pipeline import build_pipeline
from visionedge.protocols import Box, Classification, GateResult, Prediction
from visionedge.sinks.memory import MemorySink


class ScriptedGate:
    def __init__(self, results: list[GateResult]) -> None:
        self.results = {r.index: r for r in results}
        self.reconfigured: list[Any] = []

    def process(self, frame: Frame) -> GateResult:
        return self.results[frame.index]

    def reset(self) -> None:
        pass

    def reconfigure(self, cfg: Any) -> None:
        self.reconfigured.append(cfg)


class RecordingClassifier:
    name = "recorder.tflite"
    sha256 = "0" * 64

    def __init__(self) -> None:
        self.calls: list[tuple[int, Box | None]] = []

    def classify(self, frame: Frame, box: Box | None) -> Classification:
        self.calls.append((frame.index, box))
        return Classification(frame.index, (Prediction("person", 0, 0.75),), box, 50.0)


class ListSource:
    name = "list"

    def __init__(self, n: int) -> None:
        self.n = n
        self.entered = self.exited = False

    def __enter__(self) -> ListSource:
        self.entered = True
        return self

    def __exit__(self, *exc: object) -> None:
        self.exited = True

    def frames(self) -> Iterator[Frame]:
        for i in range(self.n):
            yield make_frame(i)

    @property
    def state(self) -> str:
        return "ok"


def config(**classifier: Any) -> Config:
    # These tests are about the per-motion-period events: the mode says so (object is the default).
    return Config.model_validate(
        {"classifier": classifier, "events": {"update_every": 1000}, "objects": {"mode": "motion"}}
    )


def build(results: list[GateResult], cfg: Config, clf: Any = None, n: int | None = None) -> Any:
    sink = MemorySink()
    p = build_pipeline(
        cfg,
        source=ListSource(n if n is not None else len(results)),
        sinks=[sink],
        classifier=clf,
        gate=ScriptedGate(results),
        deterministic_ids=True,
    )
    return p, sink


def test_classifier_runs_every_n_frames_within_the_per_event_budget() -> None:
    clf = RecordingClassifier()
    p, sink = build(script(2, 40, 45), config(every_n_frames=5, max_per_event=4), clf)
    traces = [p.step(make_frame(i)) for i in range(45)]
    p.finish()
    assert [i for i, _ in clf.calls] == [2, 7, 12, 17]
    assert [t.frame for t in traces if t.classified] == [2, 7, 12, 17]
    assert all(t.label == "person" and t.score == 0.75 for t in traces if t.classified)
    assert sink.events[-1]["classified_frames"] == 4
    assert sink.events[-1]["label"] == "person" and sink.events[-1]["model"]["name"] == clf.name
    assert p.stats.classifications == 4
    validate(sink.events)


def test_each_event_gets_its_own_budget_and_closed_frames_are_never_classified() -> None:
    clf = RecordingClassifier()
    results = script(1, 6, 8) + [r for r in script(10, 14, 16) if r.index >= 8]
    p, _ = build(results, config(every_n_frames=3, max_per_event=2), clf)
    for i in range(16):
        p.step(make_frame(i))
    assert [i for i, _ in clf.calls] == [1, 4, 10, 13]


def test_crop_is_the_largest_region_else_the_union_box() -> None:
    clf = RecordingClassifier()
    big, small = Box(0.1, 0.1, 0.6, 0.6), Box(0.7, 0.7, 0.8, 0.8)
    results = [
        gate(0, True, 3.0, opened=True, box=big.union(small), regions=(big, small)),
        gate(1, True, 0.1),  # a quiet frame inside the event: no region of its own
        gate(2, False, 0.0, closed=True),
    ]
    p, _ = build(results, config(every_n_frames=1), clf)
    for i in range(3):
        p.step(make_frame(i))
    assert clf.calls == [(0, big), (1, big.union(small))]


def test_disabled_classifier_is_never_called() -> None:
    clf = RecordingClassifier()
    p, sink = build(script(0, 5, 6), config(enabled=False), clf)
    p.run()
    assert clf.calls == [] and sink.events[-1]["label"] is None


def test_run_drains_the_source_then_ends_the_open_event_and_motion() -> None:
    src_results = script(3, 100, 10)
    p, sink = build(src_results, config(enabled=False))
    stats = p.run()
    assert stats.frames == 10 and stats.gate_open_frames == 7 and stats.events == 1
    assert p.source.entered and p.source.exited
    assert [(e["type"], e["end_reason"]) for e in sink.events] == [("start", None), ("end", "end_of_clip")]
    assert sink.events[-1]["end_frame"] == 9
    assert [s[:2] for s in sink.states if s[0] == "motion"] == [("motion", "OFF"), ("motion", "ON"), ("motion", "OFF")]
    validate(sink.events)


def test_stop_event_stops_after_the_frame_in_hand() -> None:
    stop = threading.Event()
    p, sink = build(script(1, 100, 50), config(enabled=False))
    seen: list[int] = []

    def hook(frame: Frame, trace: Any) -> None:
        seen.append(frame.index)
        if frame.index == 5:
            stop.set()

    p.run(stop, on_frame=hook)
    assert seen == list(range(6))
    assert sink.events[-1]["end_reason"] == "stopped" and sink.events[-1]["end_frame"] == 5
    p.finish()  # idempotent
    assert sum(e["type"] == "end" for e in sink.events) == 1


def test_reconfigure_reaches_gate_and_tracker() -> None:
    p, _ = build(script(0, 3, 4), config(enabled=False))
    new = Config.model_validate({"gate": {"start_pct": 2.0, "stop_pct": 1.0}, "events": {"update_every": 2}})
    p.reconfigure(new)
    assert p.gate.reconfigured == [new.gate]
    assert p.config is new


def test_trace_carries_event_id_also_on_the_closing_frame() -> None:
    p, sink = build(script(1, 3, 5), config(enabled=False))
    traces = [p.step(make_frame(i)) for i in range(5)]
    eid = sink.events[0]["event_id"]
    assert [t.event_id for t in traces] == ["", eid, eid, eid, ""]
    assert [t.motion for t in traces] == [False, True, True, False, False]


def test_a_source_failing_mid_clip_still_ends_the_open_event() -> None:
    import pytest

    from visionedge.errors import SourceError

    class BreakingSource(ListSource):
        def frames(self) -> Iterator[Frame]:
            yield from super().frames()
            raise SourceError("clip.avi: frame 6 cannot be decoded")

    p, sink = build(script(2, 100, 6), config(enabled=False))
    p.source = BreakingSource(6)
    with pytest.raises(SourceError):
        p.run()
    assert [(e["type"], e["end_reason"]) for e in sink.events] == [("start", None), ("end", "stopped")]
    assert p.source.exited



def test_frames_the_gate_rejected_are_not_classified() -> None:
    clf = RecordingClassifier()
    whole = Box(0.0, 0.0, 1.0, 1.0)
    results = [
        gate(0, True, 3.0, opened=True, box=Box(0.1, 0.1, 0.3, 0.3)),
        GateResult(1, 97.0, True, False, False, False, reason="global_change", box=whole, regions=(whole,)),
        gate(2, True, 3.0, box=Box(0.2, 0.1, 0.4, 0.3)),
        gate(3, False, 0.0, closed=True),
    ]
    p, _ = build(results, config(every_n_frames=1), clf)
    for i in range(4):
        p.step(make_frame(i))
    assert [i for i, _ in clf.calls] == [0, 2]


def test_turning_the_classifier_off_mid_event_keeps_the_label_already_voted() -> None:
    clf = RecordingClassifier()
    p, sink = build(script(0, 30, 32), config(every_n_frames=2), clf)
    for i in range(6):
        p.step(make_frame(i))
    assert p.tracker.classified_frames == 3
    p.reconfigure(config(enabled=False, every_n_frames=2))
    for i in range(6, 32):
        p.step(make_frame(i))
    validate(sink.events)
    after = [e for e in sink.events if e["frame"] >= 6]
    assert after and after[-1]["type"] == "end"
    for e in after:
        assert (e["label"], e["score"], e["classified_frames"]) == ("person", 0.75, 3), e
        assert e["model"] == {"name": clf.name, "sha256": clf.sha256}
    assert len(clf.calls) == 3


def test_a_classifier_switched_on_at_runtime_names_its_model() -> None:
    p, sink = build(script(0, 20, 22), config(enabled=False))
    p.step(make_frame(0))
    clf = RecordingClassifier()
    p.set_classifier(clf)
    p.reconfigure(config(every_n_frames=1))
    for i in range(1, 22):
        p.step(make_frame(i))
    end = sink.events[-1]
    assert end["type"] == "end" and end["label"] == "person"
    assert end["model"] == {"name": clf.name, "sha256": clf.sha256}
    validate(sink.events)
def test_the_gate_computes_regions_only_on_frames_that_may_be_classified() -> None:
    # A real gate and a recording classifier: regions are asked for while a classification
    # can still be due, and never with the classifier off.
    import numpy as np

    from visionedge.gate import FrameDifferenceGate

    def planes() -> list[np.ndarray]:
        out = []
        for i in range(30):
            p = np.full((60, 80), 100, np.uint8)
            if 3 <= i < 25:
                p[10:30, 2 * i : 2 * i + 12] = 220
            out.append(p)
        return out

    for enabled in (True, False):
        cfg = Config.model_validate({"objects": {"mode": "motion"}})
        cfg.classifier.enabled = enabled
        cfg.classifier.every_n_frames = 4
        gate = FrameDifferenceGate(cfg.gate)
        clf = RecordingClassifier()
        p = build_pipeline(cfg, gate=gate, classifier=clf, sinks=[], deterministic_ids=True)
        wanted, with_regions = [], []
        for i, plane in enumerate(planes()):
            frame = Frame(index=i, ts_ms=100 * i, plane=plane, _image=lambda: np.zeros((60, 80, 3), np.uint8))
            trace = p.step(frame)
            wanted.append(gate.regions_wanted)
            with_regions.append(bool(trace.extra["result"].regions))
        if enabled:
            classified = [i for i, _ in clf.calls]
            assert classified and all(wanted[i] and with_regions[i] for i in classified)
            assert not all(wanted)  # frames between classifications skip the regions
        else:
            assert not any(wanted) and not any(with_regions) and not clf.calls
