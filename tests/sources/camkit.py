"""An IP camera on loopback: a real HTTP MJPEG server that can be late, stall or die.

The picture is a fixed textured scene with a block sliding across it, so the real gate sees
motion the whole time a stream is up (an event stays open). ``mode = "stall"`` keeps the
connection open and sends nothing; ``die()`` drops every connection and stops listening;
``start()`` brings it back on the same port, as a camera that reboots does. Only the camera
is played here: the source tests and the daemon read it through the real OpenCV/FFmpeg
source. Used by tests/sources and tests/daemon.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np


def _scene(width: int, height: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    ramp = np.linspace(40, 160, width)[None, :, None]
    return np.clip(ramp + rng.integers(0, 40, (height, width, 3)), 0, 255).astype(np.uint8)


class MjpegCamera:
    """An MJPEG-over-HTTP camera on a fixed loopback port; not started until asked."""

    def __init__(self, width: int = 160, height: int = 120, fps: float = 20.0) -> None:
        self.mode = "stream"  # or "stall": connection open, nothing sent
        self.sent = 0
        self._scene = _scene(width, height)
        self._period = 1.0 / fps
        self.server: ThreadingHTTPServer | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    def jpeg(self, n: int) -> bytes:
        """Frame ``n``: the scene with a bright block a step further along."""
        img = self._scene.copy()
        h, w = img.shape[:2]
        bw = max(4, w * 3 // 16)
        x = (n * max(1, w // 26)) % (w - bw)
        img[h // 3 : h * 2 // 3, x : x + bw] = 250
        ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        return buf.tobytes()

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
                    data = cam.jpeg(cam.sent)
                    cam.sent += 1
                    head = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                    try:
                        self.wfile.write(head + data + b"\r\n")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(cam._period)

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
