"""The live OpenCV source on a real HTTP MJPEG stream (real cv2.VideoCapture, real FFmpeg).

A local server plays an IP camera: it streams multipart JPEG frames, can stall (keep the
connection open but send nothing), die (drop connections and stop listening) and come back
on the same port. Nothing is faked: the source uses its default capture factory.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np
import pytest

from visionedge.config import SourceConfig
from visionedge.errors import SourceError
from visionedge.frame import Frame
from visionedge.sources import open_source
from visionedge.sources.opencv_live import OpenCVLiveSource


class _Camera:
    """An MJPEG-over-HTTP camera on a fixed loopback port."""

    def __init__(self) -> None:
        self.mode = "stream"  # or "stall"
        self.sent = 0
        self.server: ThreadingHTTPServer | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def start(self) -> None:
        cam = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
                self.end_headers()
                server = self.server
                while not getattr(server, "dead", False):
                    if cam.mode == "stall":
                        time.sleep(0.02)
                        continue
                    n = cam.sent
                    cam.sent += 1
                    img = np.full((48, 64, 3), 90, np.uint8)
                    img[10:22, (n * 3) % 50:(n * 3) % 50 + 12] = 250
                    _, jpg = cv2.imencode(".jpg", img)
                    data = jpg.tobytes()
                    head = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                    try:
                        self.wfile.write(head + data + b"\r\n")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.04)

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.server = server
        threading.Thread(target=server.serve_forever, daemon=True).start()

    def die(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.dead = True  # type: ignore[attr-defined]
            server.shutdown()
            server.server_close()


@pytest.fixture
def camera() -> Iterator[_Camera]:
    cam = _Camera()
    yield cam
    cam.die()


CFG = {"read_timeout_s": 0.6, "reconnect_initial_s": 0.05, "reconnect_max_s": 0.2}


def _take(it: Iterator[Frame], n: int) -> list[Frame]:
    return [next(it) for _ in range(n)]


def test_a_real_stream_that_stalls_dies_and_returns_keeps_delivering(camera: _Camera) -> None:
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


def _revive_when_lost(src: OpenCVLiveSource, camera: _Camera, deadline: float) -> None:
    while src.state != "lost" and time.monotonic() < deadline:
        time.sleep(0.01)
    camera.start()


def test_a_stream_that_is_not_there_fails_at_start(camera: _Camera) -> None:
    camera.die()
    src = open_source(SourceConfig(kind="opencv", path=camera.url, **CFG), 32)
    with pytest.raises(SourceError, match=r"127\.0\.0\.1:\d+/video\.mjpg: cannot open") as err, src:
        pass
    assert "check the URL" in str(err.value)
