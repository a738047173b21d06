"""Bad input to replay and run: one line naming the thing and the fix, a distinct exit status."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from replaykit import GOLDEN, run_inproc, run_script

GATE_ONLY = str(GOLDEN / "gate_only.toml")


def one_line_error(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("visionedge: error: ")
    assert "Traceback" not in err
    return lines[0]


def test_missing_clip_exits_4(tmp_path: Path) -> None:
    r = run_script("replay", str(tmp_path / "nope.avi"), "--config", GATE_ONLY)
    assert r.code == 4 and r.out == ""
    line = one_line_error(r.err)
    assert "nope.avi" in line and "video file or a folder of images" in line


def test_corrupt_clip_exits_4(tmp_path: Path) -> None:
    bad = tmp_path / "garbage.avi"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage" * 100)
    r = run_script("replay", str(bad), "--config", GATE_ONLY)
    assert r.code == 4 and r.out == ""
    # OpenCV's own AVI parser may print a diagnostic of its own before ours; ours is one
    # line, last, with no traceback.
    ours = [line for line in r.err.splitlines() if line.startswith("visionedge:")]
    assert len(ours) == 1 and r.err.rstrip().endswith(ours[0].rstrip())
    assert "garbage.avi" in ours[0] and "Traceback" not in r.err


def test_bad_config_exits_3_naming_file_and_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[gate]\nstart_pct = -2\n")
    r = run_script("replay", "--config", str(cfg))
    assert r.code == 3
    line = one_line_error(r.err)
    assert "bad.toml" in line and "gate.start_pct" in line


def test_run_with_a_missing_config_exits_3(tmp_path: Path) -> None:
    r = run_script("run", "--config", str(tmp_path / "absent.toml"))
    assert r.code == 3 and "config defaults" in one_line_error(r.err)


@pytest.mark.parametrize("value", ["1", "a,b", "1,0", "0,inf", "0,1,2"])
def test_bad_input_range_exits_3(
    value: str, clip: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_inproc(capsys, "replay", str(clip("small")), "--config", GATE_ONLY, f"--input-range={value}")
    assert r.code == 3
    assert "--input-range" in one_line_error(r.err)


def test_missing_model_exits_5(tmp_path: Path, clip: Callable[[str], Path], capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "m.toml"
    cfg.write_text(f'[classifier]\nmodel = "{tmp_path / "no_model.tflite"}"\n')
    r = run_inproc(capsys, "replay", str(clip("small")), "--config", str(cfg))
    assert r.code == 5 and "no_model.tflite" in one_line_error(r.err)


def test_unwritable_outputs_exit_6(
    tmp_path: Path, clip: Callable[[str], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    r = run_inproc(
        capsys, "replay", str(clip("small")), "--config", GATE_ONLY, "-q",
        "--trace", str(tmp_path / "no" / "dir" / "t.csv"),
    )
    assert r.code == 6 and "--trace" in one_line_error(r.err)


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    r = run_script("--debug", "replay", str(tmp_path / "nope.avi"), "--config", GATE_ONLY)
    assert r.code == 4 and "Traceback" in r.err
