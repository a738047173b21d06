"""Daemon test kit: the real ``visionedge run`` process against a real mosquitto broker.

Reuses the broker kit of tests/mqtt (mqttkit.py). ``clip`` is a generated 10 s scene with
three passages, so a realtime replay behaves like a camera producing events for ~10 s.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "mqtt"))

from mqttkit import wait_until

from visionedge.synth import ObjectPass, SceneSpec, write_clip

VISIONEDGE = Path(sys.executable).parent / "visionedge"


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 10 s, 10 fps, 320x180 clip: person, vehicle and animal passages."""
    spec = SceneSpec(
        width=320, height=180, fps=10.0, seed=7, duration_s=10.0,
        events=[
            ObjectPass("person", 0.5, 2.5, direction=1, height_frac=0.45, ground_frac=0.92),
            ObjectPass("vehicle", 3.8, 2.2, direction=-1, height_frac=0.35, ground_frac=0.88),
            ObjectPass("animal", 7.0, 2.5, direction=1, height_frac=0.3, ground_frac=0.95),
        ],
    )
    path = tmp_path_factory.mktemp("clip") / "three_passages.avi"
    write_clip(spec, path)
    return path


def toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    return repr(v)


def write_config(path: Path, sections: dict[str, dict[str, Any]]) -> Path:
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {toml_value(v)}" for k, v in values.items()]
        lines.append("")
    path.write_text("\n".join(lines))
    return path


def daemon_config(tmp: Path, clip: Path, port: int, **overrides: dict[str, Any]) -> Path:
    """A config replaying ``clip`` in real time into MQTT on ``port``, events also to a file."""
    sections: dict[str, dict[str, Any]] = {
        "device": {"name": "cam1"},
        "source": {"kind": "file", "path": str(clip), "realtime": True},
        "classifier": {"enabled": False},
        "events": {"update_every": 3},
        "output": {"stdout": False, "file": str(tmp / "events.jsonl")},
        "mqtt": {"enabled": True, "host": "127.0.0.1", "port": port, "reconnect_min_s": 0.1,
                 "reconnect_max_s": 1.0, "keepalive_s": 5, "stats_interval_s": 0.5},
        "daemon": {"state_dir": str(tmp / "state"), "stop_timeout_s": 5.0},
    }
    for name, values in overrides.items():
        sections.setdefault(name, {}).update(values)
    return write_config(tmp / "visionedge.toml", sections)


class DaemonProcess:
    """``visionedge run --config FILE`` as a child process with captured stderr."""

    def __init__(self, config: Path, env: dict[str, str] | None = None) -> None:
        self.log_path = config.with_suffix(f".{time.monotonic_ns()}.log")
        self._log = self.log_path.open("wb")
        full_env = dict(os.environ)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [str(VISIONEDGE), "run", "--config", str(config)],
            stdout=subprocess.DEVNULL, stderr=self._log, env=full_env,
        )

    @property
    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30.0) -> int:
        rc = self.proc.wait(timeout)
        self._log.close()
        return rc

    def wait_for_log(self, text: str, timeout: float = 20.0) -> None:
        wait_until(lambda: text in self.log, timeout, f"{text!r} in the daemon log")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._log.close()


@pytest.fixture
def run_daemon() -> Iterator[Any]:
    started: list[DaemonProcess] = []

    def start(config: Path, env: dict[str, str] | None = None) -> DaemonProcess:
        d = DaemonProcess(config, env)
        started.append(d)
        return d

    yield start
    for d in started:
        d.kill()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
