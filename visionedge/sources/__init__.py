"""Frame sources: replay (video file, image folder, the generated demo clip) and live
cameras (OpenCV V4L2/RTSP/HTTP, picamera2), chosen by ``source.kind``.

``open_source(cfg.source, cfg.gate.width)`` returns a
:class:`~visionedge.protocols.FrameSource`; use it as a context manager so cameras are
released::

    with open_source(cfg.source, cfg.gate.width) as src:
        for frame in src.frames():
            ...

Replay sources also expose ``clip_id`` (the file or folder name) and ``fps``. Live
sources expose ``state`` (``ok``/``reconnecting``/``lost``), an ``on_state`` callback and
``stop()``, which ends ``frames()`` from another thread (e.g. a signal handler).
"""

from __future__ import annotations

import os

# FFmpeg prints its own decoder complaints ("[mjpeg @ 0x...] overread 8") on stderr; the
# sources turn every failure into one clear line instead. OPENCV_FFMPEG_LOGLEVEL=32 (or
# any value set before this import) brings FFmpeg's messages back for debugging.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

# Importing the modules registers their kinds.
from visionedge.sources import opencv_live, picamera2_source, replay
from visionedge.sources.opencv_live import OpenCVLiveSource
from visionedge.sources.picamera2_source import Picamera2Source
from visionedge.sources.registry import open_source, register_source, source_kinds
from visionedge.sources.replay import (
    ImageFolderSource,
    SynthSource,
    VideoFileSource,
    replay_ts_ms,
)

__all__ = [
    "ImageFolderSource",
    "OpenCVLiveSource",
    "Picamera2Source",
    "SynthSource",
    "VideoFileSource",
    "open_source",
    "opencv_live",
    "picamera2_source",
    "register_source",
    "replay",
    "replay_ts_ms",
    "source_kinds",
]
