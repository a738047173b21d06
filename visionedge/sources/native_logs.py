"""Keeping OpenCV's and FFmpeg's own stderr chatter out of the user's terminal and journal.

Both libraries print their complaints ("[mjpeg @ 0x...] overread 8", "[ WARN:0@0.04] ...
can't open camera by index") straight to stderr. The sources turn every failure into one
clear line of their own, so those lines are noise, and they break the promise of one line
per error. Setting ``OPENCV_FFMPEG_LOGLEVEL`` (e.g. 32) or ``OPENCV_LOG_LEVEL`` (e.g.
``WARNING``) in the environment keeps the libraries' messages for debugging.
"""

from __future__ import annotations

import os

import cv2

__all__ = ["quiet_native_logs"]

_AV_LOG_QUIET = "-8"
_OPENCV_LOG_ERROR = 2


def quiet_native_logs() -> None:
    """Silence FFmpeg and lower OpenCV to errors, unless the user set either level."""
    # OpenCV reads the FFmpeg level when it first opens a file or stream, not on import.
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", _AV_LOG_QUIET)
    if "OPENCV_LOG_LEVEL" not in os.environ and hasattr(cv2, "setLogLevel"):
        cv2.setLogLevel(_OPENCV_LOG_ERROR)
