"""The idle sample (``objects.idle_sample_s``) on a generated scene, the real gate and the shipped
demo model: a car drives in and parks; with the classifier kept off moving objects
(``classify_per_frame = 0``) only the idle sample can label it, and ``objects.labels``
makes the label the condition for the car to be reported at all."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from objkit import validate

from visionedge.config import Config
from visionedge.frame import Frame
from visionedge.pipeline import build_pipeline
from visionedge.protocols import FrameTrace
from visionedge.sinks.memory import MemorySink
from visionedge.synth import ObjectPass, SceneSpec, write_clip


@pytest.fixture(scope="module")
def parked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = SceneSpec(
        width=320, height=240, fps=10.0, seed=21, duration_s=20.0,
        events=[ObjectPass("vehicle", 1.0, 4.0, direction=1, height_frac=0.3, ground_frac=0.8,
                           stop_frac=0.35, stop_s=100.0)],
    )
    path = tmp_path_factory.mktemp("idle") / "parked.avi"
    write_clip(spec, path)
    return path


def run(clip: Path, idle_s: float) -> tuple[list[dict[str, Any]], list[FrameTrace]]:
    cfg = Config.model_validate({
        "source": {"kind": "file", "path": str(clip)},
        "classifier": {"model": "demo"},
        "objects": {"mode": "object", "idle_sample_s": idle_s, "classify_per_frame": 0,
                    "labels": ["vehicle"]},
    })
    sink = MemorySink()
    traces: list[FrameTrace] = []

    def keep(frame: Frame, trace: FrameTrace) -> None:
        traces.append(trace)

    build_pipeline(cfg, sinks=[sink], deterministic_ids=True).run(on_frame=keep)
    validate(sink.events)
    return sink.events, traces


def test_without_the_idle_sample_the_unlabelled_parked_car_is_never_reported(parked: Path) -> None:
    events, traces = run(parked, 0.0)
    assert events == []
    assert not any(t.classified for t in traces)


def test_the_idle_sample_labels_the_parked_car_once_the_gate_closes(parked: Path) -> None:
    events, traces = run(parked, 5.0)
    sampled = [t for t in traces if t.classified]
    # Only while the gate is closed, and at most once per idle_sample_s.
    assert sampled and all(not t.motion for t in sampled)
    assert all(b.ts_ms - a.ts_ms >= 5000 for a, b in itertools.pairwise(sampled))
    # The first closed frame after the car stopped is sampled at once, while it is tracked.
    first_closed = next(t for t in traces if t.frame > 20 and not t.motion
                        and any(x.motion for x in traces[: t.frame]))
    assert sampled[0].frame == first_closed.frame and sampled[0].label == "vehicle"
    starts = [e for e in events if e["type"] == "start"]
    assert len(starts) == 1
    start = starts[0]
    assert start["label"] == "vehicle" and start["classified_frames"] == 1
    assert start["frame"] == sampled[0].frame
    assert [e["type"] for e in events][-1] == "end"
    # Replays are deterministic with the idle sample too.
    assert run(parked, 5.0)[0] == events
