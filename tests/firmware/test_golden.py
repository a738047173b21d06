"""The committed golden replays (tests/golden/, cases without the classifier: motion events and
the default object events) reproduced by the firmware.

The clips are regenerated exactly as scripts/record_golden.sh makes them, replayed once by
Python to export the motion planes, and run through the C++ runner: its event lines must be
the golden file byte for byte, and every frame's gate decision must equal the Python gate's.
(The labelled golden needs the classifier on identical crops: see test_tflm.py.)
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fwkit import (
    ROOT,
    Runner,
    assert_same_frames,
    load_export,
    parse_output,
    python_gate_lines,
    write_params,
)

GOLDEN = ROOT / "tests" / "golden"
CASES = [c for c in json.loads((GOLDEN / "cases.json").read_text())
         if c["config"] in ("gate_only.toml", "objects.toml")]


@pytest.fixture(scope="module")
def golden_exports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    from visionedge.synth import default_scene, small_scene, write_clip

    scenes = {"small": small_scene, "default": default_scene}
    out: dict[str, Path] = {}
    for case in CASES:
        work = tmp_path_factory.mktemp(case["scene"])
        clip = work / f"{case['scene']}.avi"
        write_clip(scenes[case["scene"]](), clip)
        frames = work / "frames"
        proc = subprocess.run(
            [sys.executable, "-m", "visionedge", "replay", str(clip), "--config", str(GOLDEN / case["config"]),
             "--export-frames", str(frames), "--expect", str(GOLDEN / case["golden"]), "--quiet"],
            capture_output=True, text=True, timeout=600,
        )
        assert proc.returncode == 0, f"Python no longer reproduces {case['golden']}: {proc.stderr[-2000:]}"
        out[case["golden"]] = frames
    return out


def _run(runner: Runner, frames: Path, config: str, tmp_path: Path) -> tuple[list, list[str]]:
    manifest, _ = load_export(frames)
    params = write_params(config, (manifest["width"], manifest["height"]), tmp_path / "p.txt")
    proc = runner.run("--params", str(params), "--frames", str(frames))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    return parse_output(proc.stdout)


@pytest.mark.parametrize("case", CASES, ids=[c["golden"] for c in CASES])
def test_host_reproduces_golden(
    case: dict[str, str], golden_exports: dict[str, Path], host_runner: Runner, tmp_path: Path
) -> None:
    config = (GOLDEN / case["config"]).read_text(encoding="utf-8")
    frames = golden_exports[case["golden"]]
    cpp_frames, cpp_events = _run(host_runner, frames, config, tmp_path)
    golden = (GOLDEN / case["golden"]).read_text(encoding="utf-8").splitlines()
    assert golden, "empty golden file"
    assert cpp_events == golden
    assert_same_frames(cpp_frames, python_gate_lines(config, frames))


def test_the_cases_cover_both_modes() -> None:
    assert {c["config"] for c in CASES} == {"gate_only.toml", "objects.toml"}


@pytest.mark.parametrize("config", ["gate_only.toml", "objects.toml"])
def test_qemu_reproduces_small_golden(
    config: str, golden_exports: dict[str, Path], qemu_runner: Runner, tmp_path: Path
) -> None:
    case = next(c for c in CASES if c["scene"] == "small" and c["config"] == config)
    config = (GOLDEN / case["config"]).read_text(encoding="utf-8")
    _, cpp_events = _run(qemu_runner, golden_exports[case["golden"]], config, tmp_path)
    assert cpp_events == (GOLDEN / case["golden"]).read_text(encoding="utf-8").splitlines()
