"""A dead or late camera is visible over MQTT and sd_notify, and never kills the service.

Issue 10 items 9 and 14: the real ``visionedge run`` reads a real HTTP MJPEG camera
(tests/sources/camkit.py) through OpenCV/FFmpeg and publishes to a real Mosquitto broker.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from camkit import MjpegCamera
from daemonkit import daemon_config
from mqttkit import Broker, Subscriber, wait_until

from visionedge.events import load_schema

BASE = "visionedge/cam1"
CAMERA_SOURCE = {"kind": "opencv", "read_timeout_s": 1.0, "reconnect_initial_s": 0.2,
                 "reconnect_max_s": 0.5, "width": 160, "height": 120, "fps": 20.0}


@pytest.fixture
def camera() -> Iterator[MjpegCamera]:
    cam = MjpegCamera()
    yield cam
    cam.die()


def _events(sub: Subscriber) -> list[dict[str, Any]]:
    return [m.json() for m in sub.on(f"{BASE}/events")]


def _camera_states(sub: Subscriber) -> list[str]:
    return [m.json()["state"] for m in sub.on(f"{BASE}/camera")]


def _config(tmp: Path, camera: MjpegCamera, port: int) -> Path:
    source = dict(CAMERA_SOURCE, path=camera.url)
    # The motion event (ended when the camera dies) and the motion state: mode = "motion".
    return daemon_config(tmp, Path("unused"), port, source=source,
                         gate={"close_after_s": 2.0, "width": 160}, objects={"mode": "motion"})


def test_a_camera_that_dies_ends_the_event_resets_motion_and_reports_its_state(
    broker: Broker, tmp_path: Path, camera: MjpegCamera,
    subscriber_factory: Callable[..., Subscriber], run_daemon: Callable[..., Any],
) -> None:
    camera.start()
    sub = subscriber_factory(broker, [f"{BASE}/#"])
    d = run_daemon(_config(tmp_path, camera, broker.port))
    wait_until(lambda: any(e["type"] == "start" for e in _events(sub)), 30, "an event start")
    wait_until(lambda: _camera_states(sub)[-1:] == ["ok"], 10, "camera ok")
    assert sub.on(f"{BASE}/motion")[-1].payload == b"ON"
    opened = _events(sub)[0]

    camera.die()
    wait_until(lambda: any(e["type"] == "end" for e in _events(sub)), 15, "the event's end")
    end = next(e for e in _events(sub) if e["type"] == "end")
    assert end["event_id"] == opened["event_id"] and end["end_reason"] == "source_lost", end
    wait_until(lambda: sub.on(f"{BASE}/motion")[-1].payload == b"OFF", 5, "motion OFF")
    wait_until(lambda: "lost" in _camera_states(sub), 15, "camera lost")
    states = _camera_states(sub)
    assert states[states.index("ok") + 1] == "reconnecting", states
    assert sub.on(f"{BASE}/camera")[-1].json()["reason"], "the state says why"
    # The daemon itself is fine: availability stays online, the process keeps running.
    assert sub.on(f"{BASE}/availability")[-1].payload == b"online"
    assert d.proc.poll() is None

    camera.start()
    wait_until(lambda: _camera_states(sub)[-1] == "ok", 20, "camera ok again")
    wait_until(lambda: sum(e["type"] == "start" for e in _events(sub)) >= 2, 20, "a new event")
    second = [e for e in _events(sub) if e["type"] == "start"][1]
    assert second["event_id"] != opened["event_id"]
    # Retained: a Home Assistant that connects now sees the camera state at once.
    late = subscriber_factory(broker, [f"{BASE}/camera"], client_id="late")
    assert late.wait_for(f"{BASE}/camera")[0].json()["state"] == "ok"
    d.signal(signal.SIGTERM)
    assert d.wait(30) == 0, d.log
    ends = [e for e in _events(sub) if e["type"] == "end"]
    assert [e["end_reason"] for e in ends] == ["source_lost", "stopped"]
    validator = jsonschema.Draft202012Validator(load_schema())
    for e in _events(sub):
        validator.validate(e)
    assert "reconnecting" in d.log


def test_a_camera_not_up_at_start_is_retried_not_fatal(
    broker: Broker, tmp_path: Path, camera: MjpegCamera,
    subscriber_factory: Callable[..., Subscriber], run_daemon: Callable[..., Any],
) -> None:
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(0.2)
    lines: list[str] = []

    def drain(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            with contextlib.suppress(TimeoutError):
                lines.extend(sock.recv(4096).decode().splitlines())

    sub = subscriber_factory(broker, [f"{BASE}/#"])
    d = run_daemon(_config(tmp_path, camera, broker.port),
                   env={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "1000000"})
    try:
        wait_until(lambda: "lost" in _camera_states(sub), 20, "camera lost at start")
        drain(3.0)
        assert d.proc.poll() is None, d.log  # not exit 4
        assert "READY=1" in lines  # started: waiting for the camera is the service's job
        assert any(x.startswith("STATUS=camera ") for x in lines), lines
        # Still retrying, so systemd's watchdog is fed and does not restart us.
        assert lines.count("WATCHDOG=1") >= 2, lines
        assert _camera_states(sub)[0] == "reconnecting"

        camera.start()
        wait_until(lambda: _camera_states(sub)[-1] == "ok", 20, "camera ok once it is up")
        wait_until(lambda: any(e["type"] == "start" for e in _events(sub)), 20, "events flow")
        d.signal(signal.SIGTERM)
        assert d.wait(30) == 0, d.log
        drain(0.5)
        assert lines.count("READY=1") == 1
    finally:
        sock.close()


def test_a_missing_clip_still_exits_4_at_once(
    tmp_path: Path, run_daemon: Callable[..., Any],
) -> None:
    cfg = daemon_config(tmp_path, tmp_path / "no-such-clip.avi", 1, mqtt={"enabled": False})
    d = run_daemon(cfg)
    t0 = time.monotonic()
    assert d.wait(30) == 4, d.log
    assert time.monotonic() - t0 < 15
    assert "visionedge: error:" in d.log and "no-such-clip.avi" in d.log
