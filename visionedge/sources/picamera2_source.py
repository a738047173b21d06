"""A Raspberry Pi camera through picamera2: lores Y plane for the gate, main BGR for crops.

Two streams are configured: ``lores`` in YUV420 at ``source.lores_width`` (the gate reads
its Y plane, so no colour conversion happens per frame) and ``main`` in ``RGB888`` at
``source.width`` x ``source.height``, which libcamera lays out as B, G, R bytes: exactly
OpenCV's BGR, so classifier crops need no conversion either. picamera2's ``make_array``
returns YUV420 as a (height * 3/2) x stride array whose rows may be padded beyond the
width; the Y plane is the top ``height`` rows, first ``width`` columns.

Each request's metadata (``ExposureTime``, ``AnalogueGain``, ...) rides along in
``Frame.metadata`` so the gate can tell an exposure jump from motion. Both arrays are
copied out and the request released at once (holding requests starves the camera), so
the full image costs one copy per frame. ``capture_request`` is called with a numeric
``wait``, which makes picamera2 raise ``TimeoutError`` instead of blocking for ever; a
timeout or camera error closes the camera and reopens it with backoff, as the OpenCV
source does. Timestamps come from a monotonic clock, relative to the source's start.

picamera2 is imported only when this source opens; it is not on PyPI for every platform
(Raspberry Pi OS ships it as python3-picamera2).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import random
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from visionedge.config import SourceConfig
from visionedge.errors import SourceError, SourceLostError
from visionedge.frame import Frame, Image
from visionedge.gate.plane import to_motion_plane
from visionedge.sources.link import LinkState, LiveSourceState, StateCallback
from visionedge.sources.registry import register_source

log = logging.getLogger("visionedge.sources")

__all__ = ["METADATA_KEYS", "MISSING_PICAMERA2", "Picamera2Source", "lores_size"]

MISSING_PICAMERA2 = (
    "source.kind = picamera2 needs the picamera2 package (Raspberry Pi OS: sudo apt install "
    "python3-picamera2; then create the venv with --system-site-packages)"
)

METADATA_KEYS: tuple[str, ...] = (
    "ExposureTime",
    "AnalogueGain",
    "DigitalGain",
    "Lux",
    "ColourTemperature",
    "FrameDuration",
)
"""Scalar request metadata passed on in ``Frame.metadata`` (when the camera reports it)."""


def lores_size(cfg: SourceConfig) -> tuple[int, int]:
    """The lores stream size: ``lores_width`` wide, the main aspect ratio, both even."""
    w = min(cfg.lores_width, cfg.width)
    h = round(w * cfg.height / cfg.width)
    return max(2, w - w % 2), max(2, h - h % 2)


def _metadata(md: Mapping[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for key in METADATA_KEYS:
        v = md.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[key] = float(v)
    return out


class Picamera2Source(LiveSourceState):
    """Frames from a Raspberry Pi camera; a context manager that always releases it."""

    def __init__(
        self,
        cfg: SourceConfig,
        gate_width: int,
        *,
        camera_num: int = 0,
        on_state: StateCallback | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.cfg = cfg
        self._gate_width = gate_width
        self.camera_num = camera_num
        self.name = f"picamera2:{camera_num}"
        self._link = LinkState(
            self.name, cfg.reconnect_initial_s, cfg.reconnect_max_s, rng=rng, on_state=on_state
        )
        self._module: Any = None
        self._cam: Any = None
        self._stop = threading.Event()
        self._t0 = 0.0
        self._last_ts = 0
        self._index = 0
        self._lock = threading.Lock()
        self.lores = lores_size(cfg)
        self.main = (cfg.width, cfg.height)

    def start(self) -> None:
        """Import picamera2 and open the camera; SourceError when either is impossible."""
        if self._cam is not None:
            return
        self._stop.clear()
        self._t0 = time.monotonic()
        self._cam = self._open()

    def stop(self) -> None:
        """Stop and close the camera (safe to call twice, from any thread).

        The camera is only touched under a lock, so when another thread is inside a
        capture this waits for it (at most one capture timeout) before closing: picamera2
        is never used from two threads at once.
        """
        self._stop.set()
        got = self._lock.acquire(timeout=self.cfg.read_timeout_s + 2.0)
        try:
            if not got:
                log.warning("%s: a capture is still blocked; closing the camera anyway", self.name)
            self._close()
        finally:
            if got:
                self._lock.release()

    def _import(self) -> Any:
        if self._module is None:
            try:
                self._module = importlib.import_module("picamera2")
            except ImportError:
                raise SourceError(MISSING_PICAMERA2) from None
        return self._module

    def _open(self) -> Any:
        module = self._import()
        try:
            cam = module.Picamera2(self.camera_num)
        except Exception as exc:  # picamera2 raises IndexError/RuntimeError for "no camera"
            # Possibly not probed yet: the daemon retries (a missing module or a size the
            # sensor refuses stay plain SourceErrors: retrying cannot fix those).
            raise SourceLostError(
                f"{self.name}: no camera found by libcamera ({exc}); check the ribbon cable "
                "and `rpicam-hello --list-cameras`"
            ) from exc
        try:
            config = cam.create_video_configuration(
                main={"size": self.main, "format": "RGB888"},
                lores={"size": self.lores, "format": "YUV420"},
                controls={"FrameRate": float(self.cfg.fps)},
            )
            cam.configure(config)
            cam.start()
        except Exception as exc:
            with contextlib.suppress(Exception):
                cam.close()
            raise SourceError(
                f"{self.name}: the camera refused main {self.main[0]}x{self.main[1]} RGB888 + "
                f"lores {self.lores[0]}x{self.lores[1]} YUV420 at {self.cfg.fps:g} fps ({exc}); "
                "choose a size/rate the sensor supports (source.width, source.height, "
                "source.lores_width, source.fps)"
            ) from exc
        return cam

    def _close(self) -> None:
        cam, self._cam = self._cam, None
        if cam is None:
            return
        try:
            with contextlib.suppress(Exception):
                cam.stop()
        finally:
            with contextlib.suppress(Exception):
                cam.close()

    def _capture(self, cam: Any) -> tuple[Image, Image, dict[str, float]]:
        request = cam.capture_request(wait=self.cfg.read_timeout_s)
        try:
            yuv = np.asarray(request.make_array("lores"))
            main = np.asarray(request.make_array("main"))
            md = _metadata(request.get_metadata() or {})
        finally:
            request.release()
        lw, lh = self.lores
        if yuv.ndim != 2 or yuv.shape[0] < lh or yuv.shape[1] < lw:
            raise SourceError(
                f"{self.name}: lores array {yuv.shape} is not a {lw}x{lh} YUV420 plane; "
                "check the camera configuration"
            )
        # Rows are padded to the stride: keep only the visible width of the Y plane.
        y = np.ascontiguousarray(yuv[:lh, :lw])
        if main.ndim != 3 or main.shape[2] < 3:
            raise SourceError(f"{self.name}: main array {main.shape} is not RGB888; check the camera")
        bgr = np.ascontiguousarray(main[:, :, :3])
        return y, bgr, md

    def frames(self) -> Iterator[Frame]:
        """Yield frames until :meth:`stop`; stalls and errors reopen the camera with backoff."""
        self.start()
        while not self._stop.is_set():
            # The camera is used only under the lock and never across a yield, so stop()
            # from the consumer (or a signal handler's thread) can always close it.
            with self._lock:
                if self._stop.is_set():
                    break
                result = self._step()
            if isinstance(result, float):
                self._wait(result)
                continue
            self._link.ok()
            yield self._frame(*result)

    def _step(self) -> tuple[Image, Image, dict[str, float]] | float:
        """One capture (opening the camera first if needed), or the backoff delay on failure."""
        cam = self._cam
        if cam is None:
            try:
                self._cam = cam = self._open()
            except SourceError as exc:
                return self._link.failed(str(exc))
        try:
            return self._capture(cam)
        except TimeoutError:
            reason = f"no frame within {self.cfg.read_timeout_s:g} s (stalled camera)"
        except SourceError:
            raise
        except Exception as exc:  # libcamera/picamera2 errors surface as RuntimeError etc.
            reason = f"capture failed: {exc}"
        self._close()
        return self._link.failed(reason)

    def _wait(self, delay: float) -> None:
        self._stop.wait(delay)

    def _frame(self, y: Image, bgr: Image, md: dict[str, float]) -> Frame:
        ts = max(self._last_ts, round((time.monotonic() - self._t0) * 1000))
        self._last_ts = ts

        def getter() -> Image:
            return bgr

        frame = Frame(
            index=self._index,
            ts_ms=ts,
            # A video configuration's colour space (SMPTE170M/Rec709) is limited range: the
            # lores Y plane already is the spec's luma (§1).
            plane=to_motion_plane(y, self._gate_width, full_range=False),
            _image=getter,
            metadata=md,
            source=self.name,
        )
        self._index += 1
        return frame


@register_source("picamera2")
def _picamera2_source(cfg: SourceConfig, gate_width: int) -> Picamera2Source:
    return Picamera2Source(cfg, gate_width)
