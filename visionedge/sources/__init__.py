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

# Importing the modules registers their kinds.
from visionedge.sources import opencv_live, picamera2_source, replay
from visionedge.sources.native_logs import quiet_native_logs
from visionedge.sources.opencv_live import OpenCVLiveSource
from visionedge.sources.picamera2_source import Picamera2Source
from visionedge.sources.registry import open_source, register_source, source_kinds
from visionedge.sources.replay import (
    ImageFolderSource,
    SynthSource,
    VideoFileSource,
    replay_ts_ms,
)

quiet_native_logs()

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
