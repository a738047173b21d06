"""Decoding video files with PyAV (FFmpeg): the luma plane as the decoder made it, BGR on demand.

The gate reads only luma (docs/gate-algorithm.md §1), and a YUV decoder already has it as its
first plane, so a frame costs the decode alone: no conversion to BGR and back to gray (OpenCV's
``VideoCapture`` can return the Y plane alone, ``CAP_PROP_CONVERT_RGB = 0``, but then cannot
give the colours of that same frame). :class:`DecodedFrame` keeps the decoded frame, and the
BGR image is converted only when someone asks for it (a classifier crop, a snapshot), which is
a small share of the frames. Decoding runs on the calling thread only: FFmpeg's frame threads
would spend more CPU in total for the same pictures.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from visionedge.errors import SourceError
from visionedge.frame import Image, Plane

__all__ = ["DecodedFrame", "VideoDecoder"]

_LIMITED_YUV = frozenset(
    {"yuv420p", "yuv422p", "yuv444p", "yuv440p", "yuv411p", "yuv410p", "nv12", "nv21"}
)
"""8-bit formats whose first plane is limited-range luma, unless the frame says full range."""
_FULL_YUV = frozenset({"yuvj420p", "yuvj422p", "yuvj444p", "yuvj440p", "yuvj411p", "gray"})
"""8-bit formats whose first plane is full-range luma (JPEG, gray)."""
_RANGE_JPEG = 2
"""``AVCOL_RANGE_JPEG``: the frame's samples use the full 0..255 range."""


class DecodedFrame:
    """One decoded frame: its luma plane now, its BGR image when asked (then cached)."""

    __slots__ = ("_bgr", "_frame", "_lock", "full_range", "luma")

    def __init__(self, frame: Any) -> None:
        self._frame = frame
        self._bgr: Image | None = None
        # The pipeline (classifier crop) and the web page's encoder may ask at once; PyAV's
        # per-frame swscale context is not thread-safe: two conversions at once deadlocked.
        self._lock = threading.Lock()
        fmt = frame.format.name
        if fmt in _LIMITED_YUV or fmt in _FULL_YUV:
            plane = frame.planes[0]
            h, w, stride = frame.height, frame.width, plane.line_size
            rows = np.frombuffer(plane, np.uint8, count=h * stride).reshape(h, stride)
            self.luma: Plane | Image = rows[:, :w]
            self.full_range = fmt in _FULL_YUV or getattr(frame, "color_range", 0) == _RANGE_JPEG
        else:
            # RGB, palette, 10-bit...: no 8-bit Y plane to borrow; the gate converts the BGR.
            self.luma = self.image()
            self.full_range = True

    def image(self) -> Image:
        """The full-resolution BGR image (H x W x 3 uint8), converted on the first call."""
        with self._lock:
            if self._bgr is None:
                # Nearest-neighbour chroma upsampling: a third of swscale's default (bilinear)
                # cost, and a classifier crop is shrunk well below the chroma resolution.
                bgr = self._frame.reformat(format="bgr24", interpolation="POINT").to_ndarray()
                self._bgr = np.ascontiguousarray(bgr, np.uint8)
            return self._bgr


class VideoDecoder:
    """An open video file: its rate and announced frame count, and its frames in order."""

    def __init__(self, path: Path, hint: str) -> None:
        import av

        self.path = path
        self._hint = hint
        try:
            self._container = av.open(str(path), mode="r")
        except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
            raise SourceError(
                f"{path}: FFmpeg cannot open this file (container or codec not supported: "
                f"{_reason(exc)}); {hint}"
            ) from exc
        videos = self._container.streams.video
        if not videos:
            self._container.close()
            raise SourceError(f"{path}: the file has no video stream; {hint}")
        self._stream = videos[0]
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if isinstance(rate, Fraction) and rate > 0 else 0.0
        self.frame_count = max(0, int(self._stream.frames or 0))

    def frames(self) -> Iterator[DecodedFrame]:
        """Decoded frames in order; a decoding error ends the iteration (the caller checks)."""
        import av

        decoding = self._container.decode(self._stream)
        while True:
            try:
                frame = next(decoding)
            except StopIteration:
                return
            except (av.FFmpegError, ValueError):
                # A damaged packet ends the clip here: the frames before it were yielded and
                # the caller compares the count with the header's to report the loss.
                return
            yield DecodedFrame(frame)

    def close(self) -> None:
        """Release the file."""
        self._container.close()


def _reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())
