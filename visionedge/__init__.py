"""visionedge: an edge-vision daemon that spends almost nothing while the scene is still.

Frames come from a source, a motion gate measures the percentage of changed pixels, and only
when it opens does an int8 TFLite classifier look at what moved; events leave through sinks
(JSON lines, MQTT). The stages meet at the protocols in :mod:`visionedge.protocols` and are
wired in :mod:`visionedge.pipeline`.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
