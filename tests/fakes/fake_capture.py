"""A scripted fake of ``cv2.VideoCapture`` for a live camera that stalls, dies and comes back.

It reproduces OpenCV's awkward live behaviours rather than an idealised camera:

- ``("frames", n)``: n fresh frames (each differs from the last, like a real sensor);
- ``("stale", n)``: ``read()`` reports success with the previous buffer again (what V4L2
  does on a select timeout);
- ``("empty", n)``: ``read()`` reports success with an empty image;
- ``("hang", s)``: ``read()`` blocks for s seconds (a dead RTSP stream blocks for ever; the
  fake lets go after s, or at :meth:`FakeCamera.shutdown`, so no test leaks a thread);
- ``("die",)``: ``read()`` fails and keeps failing: the camera is gone;
- ``("refuse", n)``: the next n opens fail (``isOpened()`` is False);
- ``("raise",)``: ``read()`` raises, as ``cv2.error`` does on some backends.

Steps are consumed in order by opens and reads; after the script the camera delivers
fresh frames for ever. Hand ``camera.factory`` to the source as its capture factory.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = ["FakeCamera", "FakeCapture"]

Step = tuple[Any, ...]


class FakeCamera:
    """The device behind the captures; holds the script and counts what happened."""

    def __init__(self, script: list[Step], width: int = 64, height: int = 48) -> None:
        self.script: list[list[Any]] = [list(s) for s in script]
        self.width = width
        self.height = height
        self.lock = threading.Lock()
        self.opens = 0
        self.refused = 0
        self.releases = 0
        self.fresh = 0
        self.captures: list[FakeCapture] = []
        self.targets: list[Any] = []
        self._released = threading.Event()
        self.last: np.ndarray | None = None

    def shutdown(self) -> None:
        """Let every hanging read return (test teardown)."""
        self._released.set()

    def factory(self, target: Any, cfg: Any) -> FakeCapture:
        with self.lock:
            self.opens += 1
            self.targets.append(target)
            refuse = bool(self.script) and self.script[0][0] == "refuse"
            if refuse:
                self.script[0][1] -= 1
                if self.script[0][1] <= 0:
                    self.script.pop(0)
                self.refused += 1
        cap = FakeCapture(self, opened=not refuse)
        self.captures.append(cap)
        return cap

    def next_frame(self) -> np.ndarray:
        with self.lock:
            n = self.fresh
            self.fresh += 1
        img = np.full((self.height, self.width, 3), 60, np.uint8)
        img[:, :, 1] = (n * 7) % 256
        x = (n * 2) % max(1, self.width - 8)
        img[8:16, x:x + 8] = 250
        self.last = img
        return img

    def step(self) -> Step:
        """Consume one read's worth of the script."""
        with self.lock:
            if not self.script:
                return ("frames",)
            head = self.script[0]
            kind = head[0]
            if kind in ("die",):
                return ("die",)
            if kind in ("frames", "stale", "empty"):
                head[1] -= 1
                if head[1] <= 0:
                    self.script.pop(0)
                return (kind,)
            if kind in ("hang", "raise"):
                self.script.pop(0)
                return tuple(head)
            if kind == "refuse":
                # A read on an open capture is not affected by refusals of later opens.
                return ("frames",)
            raise ValueError(f"unknown fake camera step {head!r}")

    def revive(self) -> None:
        """Drop a leading ``die`` so the next open works (the camera was plugged back in)."""
        with self.lock:
            if self.script and self.script[0][0] == "die":
                self.script.pop(0)


class FakeCapture:
    """One opened capture (what ``cv2.VideoCapture(...)`` returns)."""

    def __init__(self, camera: FakeCamera, opened: bool) -> None:
        self.camera = camera
        self.opened = opened
        self.dead = False
        self.released = False
        self.reads = 0

    def isOpened(self) -> bool:
        return self.opened and not self.released

    def read(self) -> tuple[bool, Any]:
        self.reads += 1
        if not self.isOpened() or self.dead:
            return False, None
        kind, *args = self.camera.step()
        if kind == "frames":
            return True, self.camera.next_frame()
        if kind == "stale":
            last = self.camera.last
            return (True, last) if last is not None else (True, self.camera.next_frame())
        if kind == "empty":
            return True, np.empty((0, 0, 3), np.uint8)
        if kind == "hang":
            self.camera._released.wait(float(args[0]))
            return False, None
        if kind == "raise":
            raise RuntimeError("OpenCV(4.x) error: (-215:Assertion failed) !_src.empty()")
        # "die": this capture is dead; the camera stays gone until the step is revived.
        self.dead = True
        self.camera.revive()
        return False, None

    def release(self) -> None:
        if not self.released:
            self.released = True
            with self.camera.lock:
                self.camera.releases += 1
