"""Object events (docs/gate-algorithm.md §7): the C++ tracker and object events against
`visionedge replay`, byte for byte, on generated scenes (host under ASan/UBSan, and QEMU).

The scenes cover crossing objects, a stop long enough to be stationary, a parked car the
gate's background learns (held stationary while unseen, T7), several objects at
once, objects leaving at the frame edges, zones with required zones and label rules, area
filters, path thinning, and blind frames (a light switch); the label-vote checks feed both
ports the same classifications of the objects the stage picks.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fwkit import (
    QuietClassifier,
    Runner,
    SeededClassifier,
    SteadyClassifier,
    load_export,
    python_pipeline,
    runner_events,
)

ZONES = """
[[gate.zones]]
name = "right"
polygon = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]
[[gate.zones]]
name = "door"
polygon = [[0.05, 0.4], [0.3, 0.4], [0.3, 1.0], [0.05, 1.0]]
"""

CROSS_STOP = """
[classifier]
enabled = false
[objects]
mode = "object"
stationary_after_s = 1.5
[gate]
width = 160
""" + ZONES

PARKED = """
[classifier]
enabled = false
[objects]
mode = "object"
[gate]
width = 160
"""

SEVERAL = """
[classifier]
enabled = false
[events]
update_every = 4
[objects]
mode = "object"
min_hits = 2
path_points = 5
required_zones = ["right"]
[objects.filters."*"]
min_area_pct = 0.3
[gate]
width = 160
""" + ZONES


def _export(tmp: Path, spec: object, config: str) -> tuple[Path, list[str]]:
    from visionedge.synth import write_clip

    clip = tmp / "scene.avi"
    write_clip(spec, clip)  # type: ignore[arg-type]
    cfg = tmp / "config.toml"
    cfg.write_text(config, encoding="utf-8")
    frames = tmp / "frames"
    proc = subprocess.run(
        [sys.executable, "-m", "visionedge", "replay", str(clip), "--config", str(cfg), "--export-frames", str(frames)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return frames, [line for line in proc.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def cross_stop(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A person walks in, stops 3 s (stationary), walks out; a vehicle crosses it."""
    from visionedge.synth import ObjectPass, SceneSpec

    spec = SceneSpec(width=320, height=180, fps=10.0, seed=5, duration_s=12.0, events=[
        ObjectPass("person", 0.5, 5.0, direction=1, height_frac=0.45, ground_frac=0.95, stop_frac=0.4, stop_s=3.0),
        ObjectPass("vehicle", 4.0, 5.0, direction=-1, height_frac=0.3, ground_frac=0.7),
    ])
    return _export(tmp_path_factory.mktemp("cross_stop"), spec, CROSS_STOP)


@pytest.fixture(scope="module")
def parked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A car drives in, parks until the background has learnt it (held stationary), drives off."""
    from visionedge.synth import ObjectPass, SceneSpec

    spec = SceneSpec(width=320, height=180, fps=10.0, seed=21, duration_s=32.0, events=[
        ObjectPass("vehicle", 1.0, 4.0, direction=1, height_frac=0.3, ground_frac=0.8, stop_frac=0.4, stop_s=22.0),
    ])
    return _export(tmp_path_factory.mktemp("parked"), spec, PARKED)


@pytest.fixture(scope="module")
def several(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """Four objects overlapping in time, both directions, leaving at both edges, a light switch."""
    from visionedge.synth import LightSwitch, ObjectPass, SceneSpec

    spec = SceneSpec(width=320, height=180, fps=10.0, seed=8, duration_s=10.0, events=[
        ObjectPass("person", 0.3, 4.0, direction=1, height_frac=0.4, ground_frac=0.95),
        ObjectPass("vehicle", 1.0, 3.0, direction=-1, height_frac=0.25, ground_frac=0.6),
        ObjectPass("animal", 2.0, 3.5, direction=1, height_frac=0.2, ground_frac=0.75),
        ObjectPass("person", 3.5, 4.0, direction=-1, height_frac=0.35, ground_frac=0.9),
        LightSwitch(6.0, gain=0.7, offset=-4.0),
    ])
    return _export(tmp_path_factory.mktemp("several"), spec, SEVERAL)


PIECE = """
[classifier]
enabled = false
[events]
update_every = 1
[objects]
mode = "object"
min_hits = 2
[gate]
width = 160
"""


@pytest.fixture(scope="module")
def piece(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A big vehicle creeps right; a small animal runs left into it and through it: the
    tracker's piece rule (T4) hides the animal while the vehicle stays measured."""
    from visionedge.synth import ObjectPass, SceneSpec

    spec = SceneSpec(width=320, height=180, fps=10.0, seed=5, duration_s=12.0, events=[
        ObjectPass("vehicle", 0.5, 10.0, direction=1, height_frac=0.5, ground_frac=0.9),
        ObjectPass("animal", 1.5, 4.0, direction=-1, height_frac=0.12, ground_frac=0.85),
    ])
    return _export(tmp_path_factory.mktemp("piece"), spec, PIECE)


def test_piece_scene_hides_the_small_object_in_the_big_ones_measured_region(
    piece: tuple[Path, list[str]]
) -> None:
    """One object merged while the other is seen on the same frame: with two objects that
    happens only by the piece rule (merged into a shared region, both would be merged)."""
    states: dict[int, dict[int, str]] = {}
    for line in piece[1]:
        e = json.loads(line)
        if e["type"] == "update":
            states.setdefault(e["frame"], {})[e["object_id"]] = e["state"]
    assert {oid for s in states.values() for oid in s} == {1, 2}
    both = [f for f, s in states.items() if sorted(s.values()) == ["merged", "seen"]]
    assert len(both) >= 10, states


def _kinds(events: list[str]) -> set[str]:
    out: set[str] = set()
    for line in events:
        e = json.loads(line)
        out.add(f"{e['schema']}:{e['type']}")
        if e["schema"] == 2:
            out.update(f"state:{e['state']}" for _ in [0])
            if e["stationary"]:
                out.add("stationary")
            if e["end_reason"]:
                out.add("end:" + e["end_reason"])
            out.update("zone:" + z for z in e["entered_zones"])
    return out


def test_scenes_exercise_what_parity_claims(
    cross_stop: tuple[Path, list[str]], several: tuple[Path, list[str]]
) -> None:
    a = _kinds(cross_stop[1])
    assert {"2:start", "2:update", "2:end", "stationary", "state:merged", "zone:right", "zone:door"} <= a, a
    assert not any(k.startswith("1:") for k in a), "object mode must not publish motion events"
    b = _kinds(several[1])
    assert {"2:start", "2:end", "end:left", "zone:right"} <= b, b
    ids = {json.loads(e)["object_id"] for e in several[1]}
    assert len(ids) >= 3, f"several objects expected, got ids {ids}"


def test_parked_scene_holds_the_car_while_it_is_missing(parked: tuple[Path, list[str]]) -> None:
    """The parked car must go unseen (learnt by the background) and stay, stationary: the
    hold rule of T7 is what the parity below checks."""
    events = [json.loads(e) for e in parked[1]]
    held = [e for e in events if e["stationary"] and e["state"] == "missing"]
    assert held, "the car was never held stationary while unseen"
    assert {e["object_id"] for e in events} == {held[0]["object_id"]}


@pytest.mark.parametrize("scene", ["cross_stop", "several", "parked", "piece"])
def test_host_object_events_equal_replay(scene: str, host_runner: Runner, tmp_path: Path,
                                         request: pytest.FixtureRequest) -> None:
    frames, py_events = request.getfixturevalue(scene)
    config = {"cross_stop": CROSS_STOP, "several": SEVERAL, "parked": PARKED, "piece": PIECE}[scene]
    assert runner_events(host_runner, config, frames, tmp_path) == py_events


@pytest.mark.parametrize("mode", ["both", "motion"])
def test_host_other_modes_equal_python(mode: str, cross_stop: tuple[Path, list[str]], host_runner: Runner,
                                       tmp_path: Path) -> None:
    """"both": the motion event lines, then the object lines of each frame; "motion": schema 1 only."""
    frames, _ = cross_stop
    config = CROSS_STOP.replace('mode = "object"', f'mode = "{mode}"')
    expected, _ = python_pipeline(config, frames)
    schemas = {json.loads(e)["schema"] for e in expected}
    assert schemas == ({1, 2} if mode == "both" else {1})
    assert runner_events(host_runner, config, frames, tmp_path) == expected


def test_blind_frames_default_scene_both_modes(scene_export: tuple[str, Path, list[str]], host_runner: Runner,
                                               tmp_path: Path) -> None:
    """The demo scene: a light switch (blind frames) and a covered lens, both streams."""
    config, frames, _ = scene_export
    config = config.replace('mode = "motion"', 'mode = "both"')
    assert 'mode = "both"' in config
    expected, _ = python_pipeline(config, frames)
    assert any(json.loads(e)["schema"] == 2 for e in expected)
    assert runner_events(host_runner, config, frames, tmp_path) == expected


LABELLED = SEVERAL.replace("enabled = false", "enabled = true").replace(
    'required_zones = ["right"]',
    'labels = ["person", "vehicle", "animal"]\nclassify_per_frame = 2',
) + """
[objects.filters.person]
min_score = 0.35
[[objects.zones]]
name = "door"
labels = ["person"]
"""


@pytest.mark.parametrize("mode", ["object", "both"])
def test_host_label_vote_filters_and_zone_rules_equal_python(
    mode: str, several: tuple[Path, list[str]], host_runner: Runner, tmp_path: Path
) -> None:
    frames, _ = several
    config = LABELLED.replace('mode = "object"', f'mode = "{mode}"')
    expected, cls = python_pipeline(config, frames, SeededClassifier(seed=2))
    labelled = [json.loads(e) for e in expected if json.loads(e)["schema"] == 2]
    assert labelled and all(e["model"] for e in labelled)
    assert any(e["label"] for e in labelled) and any(e["best"]["label"] for e in labelled if e["best"])
    assert any(" #" in line for line in cls), "no object was classified: the check would be empty"
    assert runner_events(host_runner, config, frames, tmp_path, cls) == expected


SETTLING = LABELLED.replace("classify_per_frame = 2", "classify_per_frame = 2\nsettle_after = 2\nrecheck_s = 1.2")


def test_host_settle_rule_equals_python(several: tuple[Path, list[str]], host_runner: Runner, tmp_path: Path) -> None:
    """Objects whose votes settle are classified only at their re-checks, and a re-check that
    disagrees (a new label block) unsettles them: the same picks and bytes in both ports."""
    frames, _ = several
    expected, cls = python_pipeline(SETTLING, frames, SteadyClassifier(seed=3))
    _, unsettled = python_pipeline(SETTLING.replace("settle_after = 2", "settle_after = 0"), frames,
                                   SteadyClassifier(seed=3))
    picks = [line for line in cls if " #" in line]
    assert 0 < len(picks) < len([line for line in unsettled if " #" in line]), "nothing settled"
    assert runner_events(host_runner, SETTLING, frames, tmp_path, cls) == expected


BACKING = SETTLING.replace("settle_after = 2", "settle_after = 2\nbackoff_after = 2")  # the default, spelled out


def test_host_backoff_equals_python(several: tuple[Path, list[str]], host_runner: Runner, tmp_path: Path) -> None:
    """Objects in a run of no-label answers are classified at doubling gaps (up to the
    re-check time), and a labelled block resets them: the same picks and bytes in both ports."""
    frames, _ = several
    expected, cls = python_pipeline(BACKING, frames, QuietClassifier(seed=3))
    _, plain = python_pipeline(BACKING.replace("backoff_after = 2", "backoff_after = 0"), frames,
                               QuietClassifier(seed=3))
    picks = [line for line in cls if " #" in line]
    assert 0 < len(picks) < len([line for line in plain if " #" in line]), "nothing backed off"
    assert any(" #" in line and ":" in line for line in cls), "no labelled answer: no reset to check"
    assert runner_events(host_runner, BACKING, frames, tmp_path, cls) == expected


def test_runner_refuses_a_classification_the_stage_did_not_pick(
    several: tuple[Path, list[str]], host_runner: Runner, tmp_path: Path
) -> None:
    frames, _ = several
    _, cls = python_pipeline(LABELLED, frames, SeededClassifier(seed=2))
    first = next(line for line in cls if " #" in line)
    frame, oid = first.split(" ")[:2]
    bad = [*cls, f"{frame} #{int(oid[1:]) + 40} 2:0.9"]
    manifest, _ = load_export(frames)
    with pytest.raises(AssertionError, match="never picked"):
        runner_events(host_runner, LABELLED, frames, tmp_path, bad)
    assert manifest["frames"]


def test_qemu_object_events_equal_replay(qemu_runner: Runner, cross_stop: tuple[Path, list[str]],
                                         tmp_path: Path) -> None:
    frames, py_events = cross_stop
    assert runner_events(qemu_runner, CROSS_STOP, frames, tmp_path) == py_events


def test_qemu_parked_car_equals_replay(qemu_runner: Runner, parked: tuple[Path, list[str]], tmp_path: Path) -> None:
    frames, py_events = parked
    assert runner_events(qemu_runner, PARKED, frames, tmp_path) == py_events


def test_qemu_label_vote_equals_python(qemu_runner: Runner, several: tuple[Path, list[str]], tmp_path: Path) -> None:
    frames, _ = several
    expected, cls = python_pipeline(LABELLED, frames, SeededClassifier(seed=2))
    assert runner_events(qemu_runner, LABELLED, frames, tmp_path, cls) == expected


def test_qemu_settle_rule_equals_python(qemu_runner: Runner, several: tuple[Path, list[str]], tmp_path: Path) -> None:
    frames, _ = several
    expected, cls = python_pipeline(SETTLING, frames, SteadyClassifier(seed=3))
    assert runner_events(qemu_runner, SETTLING, frames, tmp_path, cls) == expected


def test_qemu_backoff_equals_python(qemu_runner: Runner, several: tuple[Path, list[str]], tmp_path: Path) -> None:
    frames, _ = several
    expected, cls = python_pipeline(BACKING, frames, QuietClassifier(seed=3))
    assert runner_events(qemu_runner, BACKING, frames, tmp_path, cls) == expected
