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

from typing import TYPE_CHECKING, Any

# The file, folder and demo kinds register on import; the live kinds (OpenCV, picamera2)
# register when a config names them (registry.py), so a replay never imports them.
from visionedge.sources import replay
from visionedge.sources.native_logs import quiet_native_logs
from visionedge.sources.registry import open_source, register_source, source_kinds
from visionedge.sources.replay import (
    ImageFolderSource,
    SynthSource,
    VideoFileSource,
    replay_ts_ms,
)

if TYPE_CHECKING:
    from visionedge.sources import opencv_live, picamera2_source
    from visionedge.sources.opencv_live import OpenCVLiveSource
    from visionedge.sources.picamera2_source import Picamera2Source

quiet_native_logs()

_LAZY = {
    "opencv_live": ("opencv_live", None),
    "picamera2_source": ("picamera2_source", None),
    "OpenCVLiveSource": ("opencv_live", "OpenCVLiveSource"),
    "Picamera2Source": ("picamera2_source", "Picamera2Source"),
}
"""Public names whose modules are imported on first use (the live sources)."""


def __getattr__(name: str) -> Any:
    import importlib

    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _LAZY[name]
    mod = importlib.import_module(f"{__name__}.{module}")
    return mod if attr is None else getattr(mod, attr)


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
