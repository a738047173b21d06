"""A fake ``picamera2`` package: the one place camera hardware is faked.

It honours the parts of picamera2's API visionedge uses, with picamera2's own semantics:

- ``Picamera2(camera_num=0)`` raises ``IndexError`` when there is no such camera;
- ``create_video_configuration(main=..., lores=..., controls=..., buffer_count=6)`` returns
  a config dict; ``configure`` checks it the way libcamera would (lores must be YUV420 and
  no larger than main, sizes even) and raises ``RuntimeError`` otherwise;
- ``start``/``stop``/``close`` (and the context manager);
- ``capture_request(wait=None, signal_function=None, flush=None)`` returns a request with
  ``make_array(name)``, ``get_metadata()`` and ``release()``; a numeric ``wait`` is a
  timeout after which ``TimeoutError`` is raised (``True``/``None`` would wait for ever: the
  fake refuses that on a stalled camera instead of hanging the test);
- ``make_array("lores")`` of a YUV420 stream is a (height * 3/2) x stride array whose rows
  are padded beyond the width (with 0xEE bytes, so code that forgets the stride shows);
  ``make_array("main")`` of RGB888 is height x width x 3 in B, G, R byte order;
- ``capture_metadata(wait=None)``.

Tests drive it through :data:`control`: the number of cameras, a script of capture
outcomes (``"ok"``, ``"timeout"``, ``"error"``), a metadata function, and the record of
every camera and request made (to check everything was released and closed).
Install it with ``monkeypatch.syspath_prepend(<tests/fakes>)`` or by putting the module
in ``sys.modules["picamera2"]``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

__all__ = ["FakeRequest", "Picamera2", "control"]

STRIDE_ALIGN = 64
PAD_BYTE = 0xEE


def _default_metadata(n: int) -> dict[str, Any]:
    return {
        "ExposureTime": 10000 + 10 * n,
        "AnalogueGain": 2.0,
        "DigitalGain": 1.0,
        "Lux": 400.5,
        "ColourTemperature": 5000,
        "FrameDuration": 33333,
        "SensorTimestamp": 1_000_000_000 + n * 33_333_000,
        "ColourGains": (1.6, 1.3),
    }


@dataclass
class _Control:
    cameras: int = 1
    script: list[str] = field(default_factory=list)
    metadata: Callable[[int], dict[str, Any]] = _default_metadata
    instances: list[Picamera2] = field(default_factory=list)
    requests: list[FakeRequest] = field(default_factory=list)
    waits: list[Any] = field(default_factory=list)
    frame_no: int = 0

    def reset(self) -> None:
        self.cameras = 1
        self.script = []
        self.metadata = _default_metadata
        self.instances = []
        self.requests = []
        self.waits = []
        self.frame_no = 0

    def unreleased(self) -> list[FakeRequest]:
        return [r for r in self.requests if not r.released]


control = _Control()


def scene_bgr(n: int, width: int, height: int) -> np.ndarray:
    """The fake sensor's image for frame ``n``: a blue field with a white square moving."""
    img = np.zeros((height, width, 3), np.uint8)
    img[:, :, 0] = 200  # blue channel first: RGB888 is BGR in memory
    img[:, :, 1] = np.linspace(0, 120, width, dtype=np.uint8)[None, :]
    s = max(2, height // 6)
    x = (n * 3) % max(1, width - s)
    img[height // 3: height // 3 + s, x: x + s] = 255
    return img


def _align(n: int) -> int:
    return (n + STRIDE_ALIGN - 1) // STRIDE_ALIGN * STRIDE_ALIGN


class FakeRequest:
    """A completed request: both streams of one frame plus its metadata."""

    def __init__(self, cam: Picamera2, n: int) -> None:
        self.cam = cam
        self.n = n
        self.released = False
        cfg = cam.camera_config or {}
        self._streams = {k: v for k, v in cfg.items() if k in ("main", "lores") and v}

    def _check(self) -> None:
        if self.released:
            raise RuntimeError("request used after release()")

    def make_array(self, name: str) -> np.ndarray:
        self._check()
        stream = self._streams.get(name)
        if stream is None:
            raise KeyError(f"Stream {name!r} is not configured")
        w, h = stream["size"]
        main_w, main_h = self._streams["main"]["size"]
        bgr = scene_bgr(self.n, main_w, main_h)
        fmt = stream["format"]
        if fmt == "RGB888":
            return cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA)
        if fmt == "YUV420":
            small = cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA)
            y = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
            stride = _align(w)
            arr = np.full((h * 3 // 2, stride), PAD_BYTE, np.uint8)
            arr[:h, :w] = y
            arr[h:, : w // 2] = 128
            return arr
        raise RuntimeError("Format " + fmt + " not supported")

    def get_metadata(self) -> dict[str, Any]:
        self._check()
        return dict(control.metadata(self.n))

    def release(self) -> None:
        self.released = True


class Picamera2:
    """The fake camera."""

    def __init__(self, camera_num: int = 0, tuning: Any = None) -> None:
        if camera_num >= control.cameras:
            raise IndexError("list index out of range")
        self.camera_num = camera_num
        self.camera_config: dict[str, Any] | None = None
        self.started = False
        self.closed = False
        self.stopped = 0
        control.instances.append(self)

    def __enter__(self) -> Picamera2:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _alive(self) -> None:
        if self.closed:
            raise RuntimeError("Camera is closed")

    def create_video_configuration(
        self,
        main: dict[str, Any] | None = None,
        lores: dict[str, Any] | None = None,
        raw: dict[str, Any] | None = None,
        transform: Any = None,
        colour_space: Any = None,
        buffer_count: int = 6,
        controls: dict[str, Any] | None = None,
        display: str | None = "main",
        encode: str | None = "main",
        queue: bool = True,
        sensor: dict[str, Any] | None = None,
        use_case: str = "video",
    ) -> dict[str, Any]:
        self._alive()
        main_cfg = {"format": "XBGR8888", "size": (1280, 720), **(main or {})}
        lores_cfg = None if lores is None else {"format": "YUV420", "size": (320, 240), **lores}
        return {
            "use_case": use_case,
            "main": main_cfg,
            "lores": lores_cfg,
            "raw": raw,
            "buffer_count": buffer_count,
            "controls": dict(controls or {}),
            "queue": queue,
        }

    def configure(self, config: dict[str, Any]) -> None:
        self._alive()
        if self.started:
            raise RuntimeError("Camera must be stopped before configuring")
        main = config["main"]
        if main["format"] not in ("RGB888", "BGR888", "XRGB8888", "XBGR8888", "YUV420"):
            raise RuntimeError(f"Unrecognised format {main['format']}")
        lores = config.get("lores")
        if lores is not None:
            if lores["format"] != "YUV420":
                raise RuntimeError("lores stream must be YUV")
            lw, lh = lores["size"]
            mw, mh = main["size"]
            if lw > mw or lh > mh:
                raise RuntimeError("lores stream dimensions may not exceed main stream")
            if lw % 2 or lh % 2:
                raise RuntimeError("lores stream dimensions must be even")
        self.camera_config = config

    def start(self) -> None:
        self._alive()
        if self.camera_config is None:
            raise RuntimeError("Camera has not been configured")
        self.started = True

    def stop(self) -> None:
        self.started = False
        self.stopped += 1

    def close(self) -> None:
        self.started = False
        self.closed = True

    def capture_request(
        self, wait: Any = None, signal_function: Any = None, flush: Any = None
    ) -> FakeRequest:
        self._alive()
        if not self.started:
            raise RuntimeError("Camera is not running")
        control.waits.append(wait)
        step = control.script.pop(0) if control.script else "ok"
        if step == "timeout":
            if wait is None or wait is True:
                raise RuntimeError("fake picamera2: this capture would block for ever; pass wait=<s>")
            time.sleep(min(float(wait), 0.01))
            raise TimeoutError()
        if step == "error":
            raise RuntimeError("Camera frontend has timed out!")
        request = FakeRequest(self, control.frame_no)
        control.frame_no += 1
        control.requests.append(request)
        return request

    def capture_metadata(self, wait: Any = None, signal_function: Any = None) -> dict[str, Any]:
        request = self.capture_request(wait=wait)
        try:
            return request.get_metadata()
        finally:
            request.release()
