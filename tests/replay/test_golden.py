"""Replay golden tests: each committed golden file is what replaying its clip prints, byte for byte."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest
from replaykit import GOLDEN, run_inproc, run_script

from visionedge.events import load_schema
from visionedge.objects import load_object_schema

CASES = json.loads((GOLDEN / "cases.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["golden"] for c in CASES])
def test_replay_equals_the_golden_file_twice_in_a_row(
    case: dict[str, str], clip: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    path = clip(case["scene"])
    golden = GOLDEN / case["golden"]
    args = [str(path), "--config", str(GOLDEN / case["config"]), "--expect", str(golden)]
    first = run_inproc(capsys, "replay", *args)
    second = run_inproc(capsys, "replay", *args)
    assert first.code == 0, first.err
    assert second.code == 0, second.err
    assert first.out == second.out == golden.read_text(encoding="utf-8")
    validators = {1: jsonschema.Draft202012Validator(load_schema()),
                  2: jsonschema.Draft202012Validator(load_object_schema())}
    events = [json.loads(line) for line in first.out.splitlines()]
    assert events, "a golden replay without events tests nothing"
    for e in events:
        validators[e["schema"]].validate(e)


def test_golden_events_match_the_ground_truth_of_the_small_scene(clip: Callable[[str], Path]) -> None:
    from visionedge.synth import GroundTruth, truth_path

    path = clip("small")
    truth = GroundTruth.load(truth_path(path))
    ends = [json.loads(line) for line in (GOLDEN / "small_gate.jsonl").read_text().splitlines()]
    ends = [e for e in ends if e["type"] == "end"]
    for p in truth.passages:
        covering = [e for e in ends if e["start_frame"] <= p.first_frame + 3 and e["end_frame"] >= p.last_frame]
        assert covering, f"passage {p} has no event that starts within 3 frames and covers it"
    for frame in truth.lighting_frames:
        assert not any(e["start_frame"] == frame for e in ends), f"lighting change at {frame} opened an event"


def test_console_script_replays_identically(clip: Callable[[str], Path]) -> None:
    case = CASES[0]
    result = run_script(
        "replay", str(clip(case["scene"])), "--config", str(GOLDEN / case["config"]),
        "--expect", str(GOLDEN / case["golden"]),
    )
    assert result.code == 0, result.err
    assert result.out == (GOLDEN / case["golden"]).read_text(encoding="utf-8")
