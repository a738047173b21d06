"""The pipeline with the real source and gate: zones and tamper/motion states reach the sinks."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from visionedge.config import Config
from visionedge.pipeline import build_pipeline
from visionedge.sinks.memory import MemorySink
from visionedge.sources import open_source


def replay(path: Path, **sections: object) -> MemorySink:
    # Motion events (the per-motion-period zones and states); object events: tests/objects.
    cfg = Config.model_validate(
        {"source": {"kind": "file", "path": str(path)}, "classifier": {"enabled": False},
         "objects": {"mode": "motion"}, **sections}
    )
    sink = MemorySink()
    p = build_pipeline(cfg, source=open_source(cfg.source, cfg.gate.width), sinks=[sink], deterministic_ids=True)
    p.run()
    return sink


def test_zones_that_moved_are_reported(clip: Callable[[str], Path]) -> None:
    zones = [
        {"name": "left", "polygon": [[0, 0], [0.5, 0], [0.5, 1], [0, 1]]},
        {"name": "right", "polygon": [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]},
        {"name": "sky", "polygon": [[0, 0], [1, 0], [1, 0.2], [0, 0.2]]},
    ]
    sink = replay(clip("small"), gate={"zones": zones})
    ends = [e for e in sink.events if e["type"] == "end"]
    # The small scene's object crosses the whole frame low down: both halves, never the sky.
    assert ends and ends[0]["zones"] == ["left", "right"]
    updates = [e["zones"] for e in sink.events if e["event_id"] == ends[0]["event_id"]]
    assert updates[0] in ([], ["left"], ["right"])  # zones grow as the object crosses


def test_motion_and_tamper_states_follow_the_demo_scene(clip: Callable[[str], Path]) -> None:
    from visionedge.synth import GroundTruth

    path = clip("default")
    truth = GroundTruth.load(path)
    sink = replay(path)
    motion = [(v, d["frame"]) for n, v, d in sink.states if n == "motion"]
    starts = [e["start_frame"] for e in sink.events if e["type"] == "start"]
    ends = [e["end_frame"] for e in sink.events if e["type"] == "end"]
    assert motion[0] == ("OFF", 0)
    assert [f for v, f in motion if v == "ON"] == starts
    assert [f for v, f in motion[1:] if v == "OFF"] == ends
    tamper = [(v, d["reason"], d["frame"]) for n, v, d in sink.states if n == "tamper"]
    assert tamper[0][0] == "ok"
    entered = [t for t in tamper if t[0] == "tamper"]
    assert entered, "covering the camera must be reported as tamper"
    first, last = truth.covered_frames[0], truth.covered_frames[-1]
    assert first <= entered[0][2] <= last
    assert tamper[-1][0] == "ok" and tamper[-1][2] > last
