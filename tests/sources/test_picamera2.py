"""The picamera2 source against the fake picamera2 package in tests/fakes."""

from __future__ import annotations

import random
import sys
from types import ModuleType

import cv2
import numpy as np
import pytest

from visionedge.config import SourceConfig
from visionedge.errors import SourceError
from visionedge.frame import Frame
from visionedge.sources import open_source
from visionedge.sources.picamera2_source import MISSING_PICAMERA2, Picamera2Source, lores_size

CFG = SourceConfig(
    kind="picamera2",
    width=640,
    height=480,
    lores_width=200,  # 200 px is not a multiple of the 64-byte stride: rows are padded
    fps=15.0,
    read_timeout_s=0.5,
    reconnect_initial_s=0.01,
    reconnect_max_s=0.02,
)


def _take(src: Picamera2Source, n: int) -> list[Frame]:
    out: list[Frame] = []
    for frame in src.frames():
        out.append(frame)
        if len(out) == n:
            break
    return out


def test_without_picamera2_the_error_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "picamera2", None)  # makes `import picamera2` fail
    src = open_source(CFG, 100)
    with pytest.raises(SourceError) as err, src:
        pass
    assert str(err.value) == MISSING_PICAMERA2
    assert "sudo apt install python3-picamera2" in str(err.value)
    assert "--system-site-packages" in str(err.value)


def test_two_streams_metadata_and_release(fake_picamera2: ModuleType) -> None:
    ctl = fake_picamera2.control
    src = open_source(CFG, 100)
    with src:
        frames = _take(src, 3)  # type: ignore[arg-type]
    cam = ctl.instances[0]
    config = cam.camera_config
    assert config["main"] == {"format": "RGB888", "size": (640, 480)}
    assert config["lores"] == {"format": "YUV420", "size": lores_size(CFG)} == {
        "format": "YUV420",
        "size": (200, 150),
    }
    assert config["controls"]["FrameRate"] == 15.0
    # Every capture had a timeout; every request was released; the camera was closed.
    assert ctl.waits and all(w == 0.5 for w in ctl.waits)
    assert ctl.unreleased() == []
    assert cam.closed and not cam.started

    f = frames[2]
    # The plane is the lores Y plane (no stride padding: 0xEE never shows), downscaled 2x.
    lores_bgr = cv2.resize(fake_picamera2.scene_bgr(2, 640, 480), (200, 150), interpolation=cv2.INTER_AREA)
    y = cv2.cvtColor(lores_bgr, cv2.COLOR_BGR2GRAY)
    from visionedge.gate.plane import to_motion_plane

    assert f.plane.shape == (75, 100)
    assert np.array_equal(f.plane, to_motion_plane(y, 100))
    assert not np.any(f.plane == fake_picamera2.PAD_BYTE)
    # The full image is main: BGR byte order as OpenCV expects (blue field = channel 0).
    img = f.image()
    assert img.shape == (480, 640, 3)
    assert int(img[0, 0, 0]) == 200 and int(img[0, 0, 2]) == 0
    # Scalar metadata rides along; tuples (ColourGains) and timestamps do not.
    assert f.metadata["ExposureTime"] == 10020.0
    assert f.metadata["AnalogueGain"] == 2.0
    assert "ColourGains" not in f.metadata and "SensorTimestamp" not in f.metadata
    assert [fr.index for fr in frames] == [0, 1, 2]
    assert frames[0].ts_ms <= frames[1].ts_ms <= frames[2].ts_ms
    assert f.source == "picamera2:0"


def test_the_camera_is_released_when_the_consumer_fails(fake_picamera2: ModuleType) -> None:
    ctl = fake_picamera2.control
    with pytest.raises(KeyError), Picamera2Source(CFG, 100) as src:
        for _frame in src.frames():
            raise KeyError("consumer bug")
    assert ctl.instances[0].closed
    assert ctl.unreleased() == []


def test_timeouts_and_errors_reopen_the_camera_with_backoff(fake_picamera2: ModuleType) -> None:
    ctl = fake_picamera2.control
    ctl.script = ["ok", "timeout", "error", "ok", "ok"]
    states: list[tuple[str, str]] = []
    src = Picamera2Source(CFG, 100, on_state=lambda s, r: states.append((s, r)), rng=random.Random(0))
    with src:
        frames = _take(src, 3)
    assert [f.index for f in frames] == [0, 1, 2]
    assert [s for s, _ in states] == ["reconnecting", "ok"]
    assert "no frame within 0.5 s" in states[0][1]
    # Opened three times (start, after the timeout, after the error); all closed.
    assert len(ctl.instances) == 3
    assert all(c.closed for c in ctl.instances)
    assert ctl.unreleased() == []


def test_a_camera_that_stays_away_becomes_lost_then_recovers(fake_picamera2: ModuleType) -> None:
    ctl = fake_picamera2.control
    states: list[str] = []
    src = Picamera2Source(CFG, 100, on_state=lambda s, r: states.append(s), rng=random.Random(0))
    with src:
        it = src.frames()
        next(it)
        ctl.cameras = 0  # unplugged: Picamera2() now raises IndexError
        ctl.script = ["error"]
        opened = len(ctl.instances)

        def replug(n: int) -> dict[str, float]:
            return {"ExposureTime": 1.0}

        # Come back after a few failed reopen attempts.
        orig_failed = src._link.failed

        def failed(reason: str) -> float:
            delay = orig_failed(reason)
            if src._link.state == "lost":
                ctl.cameras = 1
            return delay

        src._link.failed = failed  # type: ignore[method-assign]
        ctl.metadata = replug
        frame = next(it)
    assert states == ["reconnecting", "lost", "ok"]
    assert frame.metadata == {"ExposureTime": 1.0}
    assert len(ctl.instances) == opened + 1
    assert all(c.closed for c in ctl.instances)


def test_no_camera_is_a_clear_error(fake_picamera2: ModuleType) -> None:
    fake_picamera2.control.cameras = 0
    with pytest.raises(SourceError, match=r"no camera found by libcamera.*rpicam-hello --list-cameras"):
        Picamera2Source(CFG, 100).start()


def test_an_impossible_configuration_names_the_keys(fake_picamera2: ModuleType) -> None:
    # Odd lores height: 200 x 3/1000 would be odd; lores_size keeps sizes even, so force it.
    src = Picamera2Source(CFG, 100)
    src.lores = (201, 151)
    with pytest.raises(SourceError, match=r"source.lores_width") as err:
        src.start()
    assert "lores 201x151 YUV420" in str(err.value)
    assert fake_picamera2.control.instances[0].closed


def test_lores_size_keeps_aspect_and_even_sizes() -> None:
    assert lores_size(SourceConfig(kind="picamera2", width=1920, height=1080, lores_width=320)) == (320, 180)
    assert lores_size(SourceConfig(kind="picamera2", width=640, height=480, lores_width=333)) == (332, 250)
    # Never wider than main.
    assert lores_size(SourceConfig(kind="picamera2", width=320, height=240, lores_width=640)) == (320, 240)
