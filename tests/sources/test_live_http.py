"""The live OpenCV source on a real HTTP MJPEG stream (real cv2.VideoCapture, real FFmpeg).

A local server plays an IP camera (tests/sources/camkit.py): it streams multipart JPEG frames,
can stall (keep the connection open but send nothing), die (drop connections and stop
listening) and come back on the same port. Nothing is faked: the source uses its default
capture factory.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from visionedge.config import SourceConfig
from visionedge.errors import SourceError
from visionedge.frame import Frame
from visionedge.sources import open_source
from visionedge.sources.opencv_live import OpenCVLiveSource

sys.path.insert(0, str(Path(__file__).parent))
from camkit import MjpegCamera


@pytest.fixture
def camera() -> Iterator[MjpegCamera]:
    cam = MjpegCamera(width=64, height=48, fps=25.0)
    cam.start()
    yield cam
    cam.die()


CFG = {"read_timeout_s": 0.6, "reconnect_initial_s": 0.05, "reconnect_max_s": 0.2}


def _take(it: Iterator[Frame], n: int) -> list[Frame]:
    return [next(it) for _ in range(n)]


def test_a_real_stream_that_stalls_dies_and_returns_keeps_delivering(camera: MjpegCamera) -> None:
    states: list[tuple[str, str]] = []
    src = open_source(SourceConfig(kind="opencv", path=camera.url, **CFG), 32)
    assert isinstance(src, OpenCVLiveSource)
    src.on_state = lambda s, r: states.append((s, r))
    with src:
        it = src.frames()
        frames = _take(it, 3)
        assert src.state == "ok"

        camera.mode = "stall"  # connection open, nothing sent
        deadline = time.monotonic() + 10
        stalled: list[Frame] = []

        def unstall_when_reconnecting() -> None:
            while src.state == "ok" and time.monotonic() < deadline:
                time.sleep(0.01)
            camera.mode = "stream"

        helper = threading.Thread(target=unstall_when_reconnecting)
        helper.start()
        stalled += _take(it, 2)
        helper.join()
        assert [s for s, _ in states][:1] == ["reconnecting"]

        camera.die()  # unplugged: connections dropped, port closed
        revive = threading.Thread(target=_revive_when_lost, args=(src, camera, deadline))
        revive.start()
        after = _take(it, 3)
        revive.join()
    frames += stalled + after
    assert [f.index for f in frames] == list(range(8))
    assert [f.ts_ms for f in frames] == sorted(f.ts_ms for f in frames)
    kinds = [s for s, _ in states]
    assert "lost" in kinds and kinds[-1] == "ok"
    assert src.reconnects >= 2
    assert frames[-1].image().shape == (48, 64, 3)
    assert frames[-1].source == camera.url


def _revive_when_lost(src: OpenCVLiveSource, camera: MjpegCamera, deadline: float) -> None:
    while src.state != "lost" and time.monotonic() < deadline:
        time.sleep(0.01)
    camera.start()


def test_a_stream_that_is_not_there_fails_at_start(camera: MjpegCamera) -> None:
    camera.die()
    src = open_source(SourceConfig(kind="opencv", path=camera.url, **CFG), 32)
    with pytest.raises(SourceError, match=r"127\.0\.0\.1:\d+/video\.mjpg: cannot open") as err, src:
        pass
    assert "check the URL" in str(err.value)
