"""An IP camera on loopback for daemon tests: a real HTTP MJPEG server that can be late or die.

The picture is a fixed textured scene with a block sliding across it, so the real gate sees
motion the whole time a stream is up (an event stays open). ``die()`` drops every
connection and stops listening; ``start()`` brings it back on the same port, as a camera
that reboots does. Only the camera is played here: the daemon reads it through its real
OpenCV/FFmpeg source.
"""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np

_rng = np.random.default_rng(3)
_SCENE = np.clip(
    np.linspace(40, 160, 160)[None, :, None] + _rng.integers(0, 40, (120, 160, 3)), 0, 255
).astype(np.uint8)


def _jpeg(n: int) -> bytes:
    img = _SCENE.copy()
    x = (n * 6) % 130
    img[40:80, x:x + 30] = 250
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return buf.tobytes()


class MjpegCamera:
    """An MJPEG-over-HTTP camera on a fixed loopback port, ~20 fps; not started until asked."""

    def __init__(self) -> None:
        self.sent = 0
        self.server: ThreadingHTTPServer | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

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
                    data = _jpeg(cam.sent)
                    cam.sent += 1
                    head = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
                    try:
                        self.wfile.write(head + data + b"\r\n")
                        self.wfile.flush()
                    except OSError:
                        return
                    time.sleep(0.05)

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
