"""The shipped unit passes ``systemd-analyze verify`` and scores <= 2.0 on ``security``."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from visionedge.config import load_config

ROOT = Path(__file__).parents[2]
UNIT = ROOT / "systemd" / "visionedge.service"
EXAMPLE = ROOT / "systemd" / "visionedge.toml"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (scripts/setup.sh test installs it)"
)


def _installed_copy(tmp_path: Path) -> Path:
    """The unit as installed, with ExecStart pointing at this environment's visionedge."""
    exe = Path(sys.executable).parent / "visionedge"
    assert exe.exists(), "visionedge is not installed in this environment"
    text = UNIT.read_text().replace("/opt/visionedge/venv/bin/visionedge", str(exe))
    copy = tmp_path / "visionedge.service"
    copy.write_text(text)
    return copy


@needs_analyze
def test_unit_verifies(tmp_path: Path) -> None:
    assert ANALYZE is not None
    r = subprocess.run([ANALYZE, "verify", str(_installed_copy(tmp_path))],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "visionedge.service" not in r.stderr, r.stderr  # no warnings about our unit


@needs_analyze
def test_security_exposure_at_most_2(tmp_path: Path) -> None:
    assert ANALYZE is not None
    r = subprocess.run([ANALYZE, "security", "--offline=yes", str(_installed_copy(tmp_path))],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 2.0, r.stdout


def test_unit_has_the_service_contract() -> None:
    text = UNIT.read_text()
    for line in ("Type=notify", "Restart=on-failure", "RestartPreventExitStatus=3 5",
                 "DynamicUser=yes", "StateDirectory=visionedge", "DevicePolicy=closed",
                 "DeviceAllow=char-video4linux rw",
                 "LoadCredential=mqtt-password:/etc/visionedge/mqtt-password"):
        assert line in text, line
    assert re.search(r"^WatchdogSec=\d+", text, re.M)
    assert re.search(r"^StartLimitBurst=\d+", text, re.M)


def test_example_config_is_valid_and_matches_the_unit() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.mqtt.enabled and cfg.mqtt.password_file == "mqtt-password"
    assert cfg.daemon.state_dir == ""  # $STATE_DIRECTORY from StateDirectory=
    assert cfg.output.stdout is False  # events go to MQTT, not the journal
