"""The viewing copy of a recording: H.264 in MP4 where OpenCV can write it, MJPEG AVI otherwise.

pip's opencv-python has no H.264 encoder (its FFmpeg build leaves out libx264/openh264);
distribution builds often have one. :func:`h264_available` tries once per process with a
tiny file. Replay never reads the video: the exact planes and images are stored beside it.
"""

from __future__ import annotations

import functools
import tempfile
from pathlib import Path

import cv2
import numpy as np

from visionedge.frame import Image
from visionedge.sources.native_logs import quiet_native_logs

__all__ = ["VideoOut", "h264_available", "video_kind"]


@functools.lru_cache(maxsize=1)
def h264_available() -> bool:
    """Whether this OpenCV writes H.264 (``avc1``) into MP4."""
    quiet_native_logs()
    # The failed probe would log two ERROR lines; this is a question, not an error.
    level = cv2.getLogLevel() if hasattr(cv2, "getLogLevel") else None
    if level is not None:
        cv2.setLogLevel(0)
    try:
        return _probe()
    finally:
        if level is not None:
            cv2.setLogLevel(level)


def _probe() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        path = str(Path(tmp) / "probe.mp4")
        writer = cv2.VideoWriter(path, cv2.VideoWriter.fourcc(*"avc1"), 10.0, (64, 64))
        try:
            if not writer.isOpened():
                return False
            writer.write(np.zeros((64, 64, 3), np.uint8))
        finally:
            writer.release()
        return Path(path).is_file() and Path(path).stat().st_size > 0


def video_kind(setting: str) -> str:
    """``mp4`` or ``avi`` for the ``recording.video`` setting (auto: mp4 only with H.264)."""
    if setting == "auto":
        return "mp4" if h264_available() else "avi"
    return setting


class VideoOut:
    """One video file in a recording folder (``video.mp4`` or ``video.avi``)."""

    def __init__(self, folder: Path, kind: str, fps: float, width: int, height: int) -> None:
        fourcc = ("avc1" if h264_available() else "mp4v") if kind == "mp4" else "MJPG"
        self.name = f"video.{kind}"
        self._writer = cv2.VideoWriter(
            str(folder / self.name), cv2.VideoWriter.fourcc(*fourcc), fps, (width, height)
        )
        if not self._writer.isOpened():
            raise OSError(f"OpenCV cannot write {self.name} with codec {fourcc}")
        self._size = (width, height)

    def write(self, image: Image) -> None:
        """Append one BGR frame (resized if the stream changed size)."""
        if (image.shape[1], image.shape[0]) != self._size:
            image = np.asarray(cv2.resize(image, self._size), np.uint8)
        self._writer.write(image)

    def release(self) -> None:
        """Finish the file."""
        self._writer.release()
