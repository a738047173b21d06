"""``visionedge calibrate`` on generated quiet clips."""

from __future__ import annotations

import tomllib
from pathlib import Path

import numpy as np
import pytest
from models_helpers import run_cli

from visionedge.calibrate import measure, propose
from visionedge.config import load_config, parse_config
from visionedge.synth import SceneSpec, write_clip


@pytest.fixture(scope="module")
def quiet_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clip = tmp_path_factory.mktemp("calib") / "quiet.avi"
    write_clip(SceneSpec(width=320, height=180, seed=5, duration_s=8.0, events=[],
                         noise_sigma=4.0), clip)
    return clip


@pytest.fixture(scope="module")
def sensitive_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # A low pixel threshold so sensor noise shows up in changed_pct.
    cfg = tmp_path_factory.mktemp("cfg") / "gate.toml"
    cfg.write_text("[gate]\npixel_threshold = 5\n")
    return cfg


def test_proposes_thresholds_above_the_noise(quiet_clip: Path, sensitive_config: Path,
                                             tmp_path: Path) -> None:
    out, plot = tmp_path / "snippet.toml", tmp_path / "calib.png"
    assert run_cli("calibrate", str(quiet_clip), "--config", str(sensitive_config),
                   "--out", str(out), "--plot", str(plot)) == 0
    cfg = load_config(sensitive_config)
    pct, _rejected = measure(quiet_clip, cfg)
    assert pct.size == 80 and pct[1:].max() > 0  # the noise is really measured
    snippet = tomllib.loads(out.read_text())["gate"]
    assert snippet["start_pct"] >= 3 * np.percentile(pct[1:], 99.9) - 1e-9
    assert snippet["start_pct"] > pct.max()
    assert 0 < snippet["stop_pct"] <= snippet["start_pct"]
    assert snippet["global_pct"] > snippet["start_pct"]
    # The snippet is a valid config on its own and merged into the measured one.
    parse_config({"gate": snippet})
    parse_config({"gate": {**cfg.gate.model_dump(mode="json"), **snippet}})
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_never_proposes_below_the_floor(quiet_clip: Path) -> None:
    cfg = load_config(None)  # default pixel threshold: the noise never crosses it
    pct, rejected = measure(quiet_clip, cfg)
    cal = propose(pct, rejected, cfg.gate, floor=0.05)
    assert cal.start_pct == 0.05 and cal.above_current_start == 0


def test_a_missing_clip_is_a_source_error(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("calibrate", str(tmp_path / "nope.avi")) == 4
    assert "nope.avi" in capsys.readouterr().err


def test_reports_motion_in_footage_that_is_not_quiet(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    from visionedge.synth import small_scene

    clip = tmp_path / "busy.avi"
    write_clip(small_scene(seed=3), clip)
    assert run_cli("calibrate", str(clip)) == 0
    assert "may not be quiet" in capsys.readouterr().err
