"""Opening an OpenCV capture: what ``source.path`` names (a device or a stream) and how to open it.

A device index or path must exist on this machine (checked when the source is built, so a
typo fails at start with the fix); a stream URL must use a scheme FFmpeg reads; a video file
belongs to ``source.kind = "file"``. Devices open through V4L2 with a one-frame buffer,
streams through FFmpeg with open and read timeouts (``source.read_timeout_s``), so no open or
read blocks for ever. Used by :mod:`visionedge.sources.opencv_live`, which re-exports these
names.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import cv2

from visionedge.config import SourceConfig
from visionedge.errors import SourceError
from visionedge.sources.link import redact

__all__ = ["Capture", "CaptureFactory", "default_capture_factory", "parse_target"]

_URL_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")


class Capture(Protocol):
    """The part of ``cv2.VideoCapture`` the live source uses (the fake in tests/fakes too)."""

    def isOpened(self) -> bool: ...

    def read(self) -> tuple[bool, Any]: ...

    def release(self) -> None: ...


CaptureFactory = Callable[[str | int, SourceConfig], Capture]
"""Opens a capture for a target (device index, device path or URL); may block."""


def parse_target(path: str, *, check_device: bool = True) -> str | int:
    """A device index (``"0"`` → 0), a device path, or a stream URL; else SourceError.

    With ``check_device`` (the default; off when a test injects a fake capture), a device
    index or path must exist on this machine.
    """
    p = path.strip()
    if p.isdigit():
        index = int(p)
        linux = sys.platform.startswith("linux")
        if check_device and linux and not Path(f"/dev/video{index}").exists():
            raise SourceError(
                f"source.path = {p!r}: no camera at index {index} (/dev/video{index} does not "
                "exist); list the cameras with `v4l2-ctl --list-devices` (or ls /dev/video*)"
            )
        return index
    scheme, sep, _ = p.partition("://")
    if sep:
        if scheme.lower() not in _URL_SCHEMES:
            raise SourceError(
                f"source.path = {redact(p)!r}: unsupported stream scheme '{scheme}'; use "
                f"one of {', '.join(_URL_SCHEMES)}"
            )
        return p
    if Path(p).is_file():
        raise SourceError(
            f"{p}: is a video file; to replay it set source.kind = \"file\" (the opencv "
            "kind is for cameras and streams)"
        )
    if check_device and not Path(p).exists():
        raise SourceError(
            f"{p}: no such camera device; list the cameras with `v4l2-ctl --list-devices` "
            "(or ls /dev/video*) and set source.path"
        )
    return p


def default_capture_factory(target: str | int, cfg: SourceConfig) -> Capture:
    """Open a real ``cv2.VideoCapture``: V4L2 for devices, FFmpeg with timeouts for URLs."""
    timeout_ms = int(cfg.read_timeout_s * 1000)
    if isinstance(target, int) or not any(
        target.lower().startswith(s + "://") for s in _URL_SCHEMES
    ):
        api = getattr(cv2, "CAP_V4L2", cv2.CAP_ANY)
        cap = cv2.VideoCapture(target, api)
        if cap.isOpened():
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, cfg.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, cfg.height)
            cap.set(cv2.CAP_PROP_FPS, cfg.fps)
            # One buffered frame: we want the newest image, not a backlog.
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        return cap
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
    return cv2.VideoCapture(target, cv2.CAP_FFMPEG, params)
