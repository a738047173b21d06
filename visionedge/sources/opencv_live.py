"""Live OpenCV capture: a V4L2 device (index or path) or an RTSP/HTTP stream.

OpenCV's ``read()`` cannot be trusted to return: on a dead RTSP stream it can block for
ever, and on a V4L2 timeout it reports success with an empty or stale buffer. So a reader
thread owns the capture and hands fresh frames over a small latest-wins queue, and the
iterating thread is the watchdog:

- a frame that is empty or byte-identical to the previous one is not fresh (real sensors
  always have noise); it is dropped and does not count as progress;
- no fresh frame for ``source.read_timeout_s`` is a stall: that reader is abandoned (a
  thread stuck in ``read()`` cannot be interrupted safely; it releases its capture and
  exits if the call ever returns) and a new one reopens the camera;
- a failed open or read reopens it too, after a capped exponential backoff with jitter
  (``reconnect_initial_s`` doubling up to ``reconnect_max_s``).

The state goes ``ok`` → ``reconnecting`` → ``lost`` (after three failed reopens) → ``ok``
and ``frames()`` keeps iterating across reconnects. A first open that fails raises
:class:`~visionedge.errors.SourceLostError` (the camera may just not be up yet: the daemon
keeps retrying it, reporting its state); a device or URL that cannot be right (no
``/dev/videoN``, an unsupported scheme) is a plain SourceError when the source is built.
Timestamps come from a monotonic clock, relative to the source's start. Telling a device
from a stream and opening it is :mod:`visionedge.sources.opencv_capture` (its names are
re-exported here).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import queue
import random
import threading
import time
import weakref
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from visionedge.config import SourceConfig
from visionedge.errors import SourceLostError
from visionedge.frame import Frame, Image
from visionedge.gate.plane import to_motion_plane
from visionedge.sources.link import LinkState, LiveSourceState, StateCallback, redact
from visionedge.sources.opencv_capture import (
    Capture,
    CaptureFactory,
    default_capture_factory,
    parse_target,
)
from visionedge.sources.registry import register_source

__all__ = [
    "Capture",
    "CaptureFactory",
    "OpenCVLiveSource",
    "default_capture_factory",
    "parse_target",
]

log = logging.getLogger("visionedge.sources")

_POLL_S = 0.1
"""The iterating thread wakes at least this often to honour stop() and its deadline."""

_EXIT_GRACE_S = 10.0
"""At interpreter exit, how long in total to wait for abandoned readers to leave OpenCV."""

_abandoned: list[tuple[threading.Thread, float]] = []
_abandoned_lock = threading.Lock()
_open_sources: weakref.WeakSet[OpenCVLiveSource] = weakref.WeakSet()


def _at_exit() -> None:
    # A daemon thread still inside OpenCV's C++ code when the interpreter finalises is
    # killed by a forced unwind, which aborts the process ("terminate called without an
    # active exception") and would turn a clean exit status into SIGABRT. So stop every
    # source still open (its reader is then abandoned too) and give the readers OpenCV's
    # own open/read timeouts to return (bounded in total).
    for src in list(_open_sources):
        src.stop()
    end = time.monotonic() + _EXIT_GRACE_S
    with _abandoned_lock:
        pending = list(_abandoned)
    for thread, limit in pending:
        thread.join(max(0.0, min(limit, end - time.monotonic())))


atexit.register(_at_exit)


@dataclass(slots=True)
class _Msg:
    gen: int
    kind: str  # "frame" or "fail"
    image: Any = None
    t: float = 0.0
    reason: str = ""


class _Reader(threading.Thread):
    """Opens the capture after ``delay`` and posts fresh frames until it fails or is abandoned."""

    def __init__(self, src: OpenCVLiveSource, gen: int, delay: float) -> None:
        super().__init__(name=f"visionedge-capture-{gen}", daemon=True)
        self.src = src
        self.gen = gen
        self.delay = delay
        self.abandoned = threading.Event()

    def _alive(self) -> bool:
        return not (self.abandoned.is_set() or self.src._stop.is_set())

    def _post(self, msg: _Msg) -> None:
        if self._alive():
            self.src._post(msg)

    def run(self) -> None:
        src = self.src
        if self.delay > 0 and (self.abandoned.wait(self.delay) or src._stop.is_set()):
            return
        try:
            cap = src._factory(src.target, src.cfg)
        except Exception as exc:  # an opener may raise anything; report it as a failure
            self._post(_Msg(self.gen, "fail", reason=f"cannot open: {exc}"))
            return
        try:
            if not cap.isOpened():
                self._post(_Msg(self.gen, "fail", reason="cannot open the camera/stream"))
                return
            prev: Image | None = None
            idle = min(0.05, 0.5 / max(src.cfg.fps, 1.0))
            while self._alive():
                try:
                    ok, img = cap.read()
                except Exception as exc:  # cv2.error and friends: treat as a dead read
                    self._post(_Msg(self.gen, "fail", reason=f"read failed: {exc}"))
                    return
                t = time.monotonic()
                if not ok:
                    self._post(_Msg(self.gen, "fail", reason="read failed (camera unplugged or stream ended)"))
                    return
                if not _fresh(img, prev):
                    src.stale_frames += 1
                    # A timed-out V4L2 read returns at once: do not spin on it.
                    time.sleep(idle)
                    continue
                prev = img
                self._post(_Msg(self.gen, "frame", image=img, t=t))
        finally:
            with contextlib.suppress(Exception):
                cap.release()


def _fresh(img: Any, prev: Image | None) -> bool:
    """False for an empty frame or an exact repeat of the previous one (a stale buffer)."""
    if not isinstance(img, np.ndarray) or img.size == 0 or img.dtype != np.uint8:
        return False
    if prev is None or prev.shape != img.shape:
        return True
    if img is prev:
        return False
    # A sparse sample settles almost every fresh frame before the full comparison.
    step = 97
    if not np.array_equal(img.reshape(-1)[::step], prev.reshape(-1)[::step]):
        return True
    return not np.array_equal(img, prev)


class OpenCVLiveSource(LiveSourceState):
    """A camera or stream read through OpenCV, reconnecting on stalls and losses.

    ``capture_factory`` is the seam tests use to inject a fake capture; ``on_state`` gets
    (state, reason) on every state change, called from the thread iterating ``frames()``.
    ``stop()`` (from any thread) ends ``frames()`` within ~0.1 s.
    """

    def __init__(
        self,
        cfg: SourceConfig,
        gate_width: int,
        *,
        capture_factory: CaptureFactory = default_capture_factory,
        on_state: StateCallback | None = None,
        queue_size: int = 2,
        rng: random.Random | None = None,
    ) -> None:
        self.cfg = cfg
        self._gate_width = gate_width
        self.target = parse_target(
            cfg.path, check_device=capture_factory is default_capture_factory
        )
        self.name = redact(str(self.target)) if isinstance(self.target, str) else f"video{self.target}"
        self._factory = capture_factory
        self._link = LinkState(
            self.name, cfg.reconnect_initial_s, cfg.reconnect_max_s, rng=rng, on_state=on_state
        )
        self._queue: queue.Queue[_Msg] = queue.Queue(maxsize=max(1, queue_size))
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._gen = 0
        self._reader: _Reader | None = None
        self._deadline = 0.0
        self._t0 = 0.0
        self._last_ts = 0
        self._index = 0
        self._pending: _Msg | None = None
        self._started = False
        self.dropped_frames = 0
        self.stale_frames = 0
        self.abandoned_readers = 0

    # -- public surface ---------------------------------------------------------------

    @property
    def reconnects(self) -> int:
        """How many times frames resumed after a loss."""
        return self._link.reconnects

    def start(self) -> None:
        """Open the camera and wait for its first frame; SourceError if none comes in time."""
        if self._started:
            return
        self._stop.clear()
        self._t0 = time.monotonic()
        _open_sources.add(self)
        self._spawn(0.0)
        deadline = time.monotonic() + self.cfg.read_timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._abandon()
                raise SourceLostError(
                    f"{self.name}: no frame within {self.cfg.read_timeout_s:g} s of opening; "
                    f"{self._fix()}"
                )
            try:
                msg = self._queue.get(timeout=remaining)
            except queue.Empty:
                continue
            if msg.gen != self._gen:
                continue
            if msg.kind == "fail":
                raise SourceLostError(f"{self.name}: {msg.reason}; {self._fix()}")
            self._pending = msg
            self._started = True
            self._deadline = msg.t + self.cfg.read_timeout_s
            return

    def stop(self) -> None:
        """Stop reading and release the camera (the reader thread exits on its own)."""
        self._stop.set()
        _open_sources.discard(self)
        self._abandon()
        with contextlib.suppress(queue.Full):
            self._queue.put_nowait(_Msg(-1, "wake"))
        self._started = False

    def frames(self) -> Iterator[Frame]:
        """Yield fresh frames for ever, reconnecting as needed, until :meth:`stop`."""
        self.start()
        while not self._stop.is_set():
            msg = self._pending
            self._pending = None
            if msg is None:
                now = time.monotonic()
                if now >= self._deadline:
                    self._failed(
                        f"no fresh frame for {self.cfg.read_timeout_s:g} s (stalled read)",
                        abandon=True,
                    )
                    continue
                try:
                    msg = self._queue.get(timeout=min(_POLL_S, self._deadline - now))
                except queue.Empty:
                    continue
            if msg.gen != self._gen or msg.kind == "wake":
                continue
            if msg.kind == "fail":
                self._failed(msg.reason, abandon=False)
                continue
            self._link.ok()
            self._deadline = time.monotonic() + self.cfg.read_timeout_s
            yield self._frame(msg)

    # -- internals --------------------------------------------------------------------

    def _fix(self) -> str:
        if isinstance(self.target, str) and "://" in self.target:
            return "check the URL, its credentials and that the camera is reachable from here"
        return (
            "check the camera is connected and not used by another program "
            "(v4l2-ctl --list-devices)"
        )

    def _spawn(self, delay: float) -> None:
        with self._lock:
            self._gen += 1
            self._reader = _Reader(self, self._gen, delay)
            self._reader.start()

    def _abandon(self) -> None:
        with self._lock:
            reader = self._reader
            self._reader = None
            self._gen += 1
        if reader is not None:
            reader.abandoned.set()
            if reader.is_alive():
                self.abandoned_readers += 1
                with _abandoned_lock:
                    _abandoned[:] = [(t, lim) for t, lim in _abandoned if t.is_alive()]
                    _abandoned.append((reader, self.cfg.read_timeout_s + 1.0))

    def _failed(self, reason: str, *, abandon: bool) -> None:
        if abandon:
            self._abandon()
        delay = self._link.failed(reason)
        self._spawn(delay)
        # The new reader gets its backoff delay plus one read timeout to deliver.
        self._deadline = time.monotonic() + delay + self.cfg.read_timeout_s

    def _post(self, msg: _Msg) -> None:
        while True:
            try:
                self._queue.put_nowait(msg)
                return
            except queue.Full:
                try:
                    old = self._queue.get_nowait()
                except queue.Empty:
                    continue
                if old.kind == "frame":
                    self.dropped_frames += 1

    def _frame(self, msg: _Msg) -> Frame:
        img: Image = np.asarray(msg.image, np.uint8)
        if img.ndim == 3 and img.shape[2] == 4:
            img = np.asarray(cv2.cvtColor(img, cv2.COLOR_BGRA2BGR), np.uint8)
        ts = max(self._last_ts, round((msg.t - self._t0) * 1000))
        self._last_ts = ts
        plane = to_motion_plane(img, self._gate_width)
        if img.ndim == 2:
            gray = img

            def getter() -> Image:
                out: Image = np.asarray(cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR), np.uint8)
                return out
        else:
            bgr: Image = img

            def getter() -> Image:
                return bgr

        frame = Frame(
            index=self._index, ts_ms=ts, plane=plane, _image=getter, metadata={}, source=self.name
        )
        self._index += 1
        return frame


@register_source("opencv")
def _opencv_source(cfg: SourceConfig, gate_width: int) -> OpenCVLiveSource:
    return OpenCVLiveSource(cfg, gate_width)
