"""The C++ gate and event tracker against the Python ones, frame by frame, on the same planes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fwkit import (
    Runner,
    assert_same_frames,
    load_export,
    parse_output,
    python_gate_lines,
    write_params,
)


def _run(runner: Runner, config: str, frames: Path, tmp_path: Path) -> tuple[list, list[str]]:
    manifest, _ = load_export(frames)
    params = write_params(config, (manifest["width"], manifest["height"]), tmp_path / "p.txt")
    proc = runner.run("--params", str(params), "--frames", str(frames))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return parse_output(proc.stdout)


@pytest.mark.parametrize("export", ["scene_export", "small_export"])
def test_host_gate_and_events_equal_python(
    export: str, host_runner: Runner, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    config, frames, py_events = request.getfixturevalue(export)
    cpp_frames, cpp_events = _run(host_runner, config, frames, tmp_path)
    py_frames = python_gate_lines(config, frames)
    assert_same_frames(cpp_frames, py_frames)
    # The clips must exercise what they are meant to: motion that opens and closes the gate.
    assert any(f.opened for f in py_frames) and any(f.closed for f in py_frames)
    assert py_events, "the clip produced no events; the parity check would be empty"
    # Byte-identical JSON lines: field order, rounding, UUIDv5 ids, zones sorted.
    assert cpp_events == py_events


def test_scene_exercises_rejection_tamper_and_zones(scene_export: tuple[str, Path, list[str]]) -> None:
    """The default scene covers the branches the parity test claims to compare."""
    config, frames, _ = scene_export
    py = python_gate_lines(config, frames)
    assert any(f.reason == "global_change" for f in py), "no lighting rejection in the scene"
    assert any(f.tamper != "ok" for f in py), "no tamper state in the scene"
    assert {z for f in py for z in f.zones} >= {"right"}


def test_qemu_cortex_m4_equals_python(
    qemu_runner: Runner, small_export: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    config, frames, py_events = small_export
    cpp_frames, cpp_events = _run(qemu_runner, config, frames, tmp_path)
    assert_same_frames(cpp_frames, python_gate_lines(config, frames))
    assert cpp_events == py_events


def test_qemu_scene_equals_host(
    qemu_runner: Runner, host_runner: Runner, scene_export: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    """Soft-float doubles and newlib's printf on the M4 give the same text as glibc on x86."""
    config, frames, _ = scene_export
    m4 = _run(qemu_runner, config, frames, tmp_path)
    host = _run(host_runner, config, frames, tmp_path)
    assert m4 == host


def test_label_vote_in_events_equals_python(
    host_runner: Runner, scene_export: tuple[str, Path, list[str]], tmp_path: Path
) -> None:
    """The same classifications on the same frames give the same labelled payloads."""
    import tomllib

    import numpy as np

    from visionedge.config import parse_config
    from visionedge.events import EventTracker, ModelInfo, deterministic_ids, encode_event
    from visionedge.frame import Frame
    from visionedge.gate import FrameDifferenceGate
    from visionedge.protocols import Classification, Prediction

    config, frames, _ = scene_export
    cfg = parse_config(tomllib.loads(config.replace("enabled = false", "enabled = true")))
    labels = ["animal", "background", "person", "vehicle"]
    model = ModelInfo("demo_int8", "ab" * 32)
    manifest, planes = load_export(frames)
    gate = FrameDifferenceGate(cfg.gate)
    tracker = EventTracker(cfg.events, cfg.device, cfg.classifier, id_factory=deterministic_ids(), model=model)
    rng = np.random.default_rng(4)
    lines: list[str] = []
    payloads: list[dict] = []
    for f, plane in zip(manifest["frames"], planes, strict=True):
        frame = Frame(index=f["index"], ts_ms=f["ts_ms"], plane=plane, _image=lambda p=plane: p,
                      source=manifest["clip_id"])
        result = gate.process_plane(plane, f["index"], f["metadata"] or None)
        payloads += tracker.on_gate(frame, result)
        if tracker.is_open and result.motion and f["index"] % 3 == 0:
            k = int(rng.integers(0, 4))
            picks = rng.choice(len(labels), size=k, replace=False)
            scores = sorted((round(float(rng.uniform(0.3, 1.0)), 6) for _ in range(k)), reverse=True)
            top = tuple(Prediction(labels[i], int(i), s) for i, s in zip(picks, scores, strict=True))
            payloads += tracker.on_classification(Classification(f["index"], top, None))
            lines.append(f"{f['index']} " + " ".join(f"{p.index}:{p.score!r}" for p in top))
    last = manifest["frames"][-1]
    payloads += tracker.finish(last["ts_ms"], last["index"], "end_of_clip")
    expected = [encode_event(p) for p in payloads]
    assert any(json.loads(e)["label"] for e in expected), "no labelled payload: the check would be empty"
    cls = tmp_path / "cls.txt"
    cls.write_text("\n".join(lines) + "\n", encoding="utf-8")
    params = write_params(config, (manifest["width"], manifest["height"]), tmp_path / "p.txt")
    proc = host_runner.run("--params", str(params), "--frames", str(frames), "--classifications", str(cls),
                           "--labels", ",".join(labels), "--model-name", model.name, "--model-sha256", model.sha256)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    _, cpp_events = parse_output(proc.stdout)
    assert cpp_events == expected
