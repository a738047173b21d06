"""The shipped units (single camera and the ``visionedge@.service`` template) pass
``systemd-analyze verify``, score <= 2.0 on ``security``, and work with and without a
broker password file."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from daemonkit import daemon_config
from mqttkit import PASSWORD, USER, Broker, Subscriber, wait_until

from visionedge.config import load_config

ROOT = Path(__file__).parents[2]
UNIT = ROOT / "systemd" / "visionedge.service"
TEMPLATE = ROOT / "systemd" / "visionedge@.service"
# (shipped file, name installed as): a template is checked as one of its instances.
UNITS = [(UNIT, "visionedge.service"), (TEMPLATE, "visionedge@front.service")]
EXAMPLE = ROOT / "systemd" / "visionedge.toml"
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is not installed (scripts/setup.sh test installs it)"
)


def _installed_copy(tmp_path: Path, unit: Path = UNIT, name: str = "visionedge.service") -> Path:
    """The unit as installed, with ExecStart pointing at this environment's visionedge."""
    exe = Path(sys.executable).parent / "visionedge"
    assert exe.exists(), "visionedge is not installed in this environment"
    text = unit.read_text().replace("/opt/visionedge/venv/bin/visionedge", str(exe))
    copy = tmp_path / name
    copy.write_text(text)
    return copy


@needs_analyze
@pytest.mark.parametrize(("unit", "name"), UNITS)
def test_unit_verifies(tmp_path: Path, unit: Path, name: str) -> None:
    assert ANALYZE is not None
    r = subprocess.run([ANALYZE, "verify", str(_installed_copy(tmp_path, unit, name))],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert name not in r.stderr, r.stderr  # no warnings (e.g. "Invalid syntax, ignoring")


@needs_analyze
@pytest.mark.parametrize(("unit", "name"), UNITS)
def test_security_exposure_at_most_2(tmp_path: Path, unit: Path, name: str) -> None:
    assert ANALYZE is not None
    r = subprocess.run([ANALYZE, "security", "--offline=yes",
                        str(_installed_copy(tmp_path, unit, name))],
                       capture_output=True, text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout)
    assert m, r.stdout + r.stderr
    assert float(m.group(1)) <= 2.0, r.stdout


@pytest.mark.parametrize("unit", [UNIT, TEMPLATE])
def test_unit_has_the_service_contract(unit: Path) -> None:
    text = unit.read_text()
    for line in ("Type=notify", "Restart=on-failure", "RestartPreventExitStatus=3 5",
                 "DynamicUser=yes", "StateDirectory=visionedge", "DevicePolicy=closed",
                 "DeviceAllow=char-video4linux rw",
                 "LoadCredential=mqtt-password:/etc/visionedge/mqtt-password",
                 # The default when the password file is missing: the unit still starts.
                 "SetCredential=mqtt-password:\\n",
                 # Issue 11: fewer malloc arenas, less RSS and address space (docs/gate.md).
                 "Environment=MALLOC_ARENA_MAX=2"):
        assert line in text, line
    assert re.search(r"^WatchdogSec=\d+", text, re.M)
    assert re.search(r"^StartLimitBurst=\d+", text, re.M)


def test_the_template_gives_each_camera_its_own_config_state_and_cache() -> None:
    text = TEMPLATE.read_text()
    assert "--config /etc/visionedge/%i.toml" in text
    for line in ("StateDirectory=visionedge/%i", "CacheDirectory=visionedge/%i",
                 "WorkingDirectory=%S/visionedge/%i"):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line
    # Everything else is the single-camera unit's: the hardening cannot drift apart.
    def hardening(t: str) -> list[str]:
        return [ln for ln in t.splitlines() if ln and not ln.startswith("#") and "%" not in ln
                and not ln.startswith(("Description=", "ExecStart=", "StateDirectory=",
                                       "CacheDirectory=", "WorkingDirectory="))]
    assert hardening(text) == hardening(UNIT.read_text())


def test_example_config_is_valid_and_matches_the_unit() -> None:
    cfg = load_config(EXAMPLE)
    assert cfg.mqtt.enabled and cfg.mqtt.password_file == "mqtt-password"
    assert cfg.daemon.state_dir == ""  # $STATE_DIRECTORY from StateDirectory=
    assert cfg.output.stdout is False  # events go to MQTT, not the journal


def _unit_default_credential() -> bytes:
    """The bytes the unit's SetCredential=mqtt-password:... hands over (C escapes undone)."""
    m = re.search(r"^SetCredential=mqtt-password:(.*)$", UNIT.read_text(), re.M)
    assert m
    return m.group(1).encode().decode("unicode_escape").encode()


@pytest.mark.parametrize("with_password", [False, True])
def test_the_unit_credential_works_with_and_without_a_password_file(
    tmp_path: Path, clip: Path, request: pytest.FixtureRequest,
    subscriber_factory: Callable[..., Subscriber], run_daemon: Callable[..., Any],
    with_password: bool,
) -> None:
    """What systemd hands the service in $CREDENTIALS_DIRECTORY: the password file when it
    exists, else the unit's SetCredential= default; both must reach a real broker."""
    target: Broker = request.getfixturevalue("password_broker" if with_password else "broker")
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "mqtt-password").write_bytes(
        PASSWORD.encode() + b"\n" if with_password else _unit_default_credential())
    sub = subscriber_factory(target, ["visionedge/cam1/availability"],
                             **({"username": USER, "password": PASSWORD} if with_password else {}))
    cfg = daemon_config(tmp_path, clip, target.port,
                        mqtt={"username": USER, "password_file": "mqtt-password"})
    d = run_daemon(cfg, env={"CREDENTIALS_DIRECTORY": str(creds)})
    wait_until(lambda: any(m.payload == b"online" for m in sub.on("visionedge/cam1/availability")),
               20, "online")
    d.signal(signal.SIGTERM)
    assert d.wait(30) == 0, d.log
