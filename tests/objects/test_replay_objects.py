"""Object mode end to end: a generated MJPG clip decoded by OpenCV, the real gate, the shipped
demo model (TFLite) classifying each object's box, the JSONL sink and ``visionedge replay``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from objkit import validate

from visionedge.cli import main
from visionedge.config import Config
from visionedge.pipeline import build_pipeline
from visionedge.sinks.memory import MemorySink
from visionedge.sources import open_source
from visionedge.synth import GroundTruth, ObjectPass, SceneSpec, default_scene, write_clip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("objclips") / "demo.avi"
    write_clip(default_scene(), path)
    return path


def replay(path: Path, **sections: object) -> MemorySink:
    # The demo model by name: a file's default classifier is the real-footage cascade, which
    # has no reason to know the generated shapes.
    sections = {"classifier": {"model": "demo"}, **sections}
    cfg = Config.model_validate(
        {"source": {"kind": "file", "path": str(path)}, "objects": {"mode": "object"}, **sections}
    )
    sink = MemorySink()
    p = build_pipeline(cfg, source=open_source(cfg.source, cfg.gate.width), sinks=[sink],
                       deterministic_ids=True)
    p.run()
    validate(sink.events)
    return sink


def test_one_event_per_passage_with_its_label_despite_light_switch_and_cover(demo: Path) -> None:
    truth = GroundTruth.load(demo)
    sink = replay(demo)
    ends = [e for e in sink.events if e["type"] == "end"]
    assert [e["label"] for e in ends] == [p.cls for p in truth.passages]
    for e, p in zip(ends, truth.passages, strict=True):
        # The event spans the passage (give or take the frames an object needs to show).
        assert abs(e["start_frame"] - p.first_frame) <= 5 and abs(e["end_frame"] - p.last_frame) <= 5
        assert e["end_reason"] == "left"
        # Best view: fully in frame, not the first half-visible frame.
        best = e["best"]
        assert best["frame"] > e["start_frame"] + 2 and best["box"][0] > 0 and best["box"][2] < 1
        assert best["label"] == p.cls


def test_replay_command_prints_byte_identical_object_events(
    demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "obj.toml"
    cfg.write_text('[objects]\nmode = "object"\n', encoding="utf-8")
    runs = []
    for _ in range(2):
        capsys.readouterr()
        assert main(["replay", "--config", str(cfg), str(demo)]) == 0
        runs.append(capsys.readouterr().out)
    assert runs[0] == runs[1]
    lines = [json.loads(x) for x in runs[0].splitlines()]
    assert lines and all(e["schema"] == 2 for e in lines)
    validate(lines)


def test_a_stop_and_a_crossing_stay_one_event_each(tmp_path: Path) -> None:
    spec = SceneSpec(
        width=320, height=180, fps=10.0, seed=5, duration_s=12.0,
        events=[
            ObjectPass("person", 0.5, 5.0, direction=1, height_frac=0.45, ground_frac=0.95,
                       stop_frac=0.4, stop_s=3.0),
            ObjectPass("vehicle", 4.0, 5.0, direction=-1, height_frac=0.3, ground_frac=0.7),
        ],
    )
    path = tmp_path / "cross_stop.avi"
    write_clip(spec, path)
    sink = replay(path, classifier={"enabled": False})
    starts = [e for e in sink.events if e["type"] == "start"]
    assert len(starts) == 2, [(e["object_id"], e["start_frame"]) for e in starts]
