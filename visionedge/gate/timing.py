"""The gate's time-based settings in frames, for the rate frames actually arrive at.

``gate.close_after_s``, ``gate.tamper.check_every_s`` and ``gate.tamper.persist_s`` are
seconds, so that their meaning does not change with the camera's frame rate; the gate and the
firmware count frames (docs/gate-algorithm.md uses frame counts), converted here once per
rate as ``max(1, round_half_up(seconds * fps))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from visionedge.config import GateConfig

__all__ = ["DEFAULT_FPS", "FrameCounts", "frame_counts", "seconds_to_frames"]

DEFAULT_FPS = 10.0
"""Rate assumed until a source says its own (``source.fps``'s default)."""


def seconds_to_frames(seconds: float, fps: float) -> int:
    """Whole frames in ``seconds`` at ``fps``, rounded half up, at least 1."""
    if not (math.isfinite(fps) and fps > 0):
        raise ValueError(f"frame rate {fps!r} is not a positive number")
    return max(1, math.floor(seconds * fps + 0.5))


@dataclass(frozen=True, slots=True)
class FrameCounts:
    """The §2/§3 frame-count parameters for one frame rate."""

    fps: float
    close_after: int
    check_every: int
    persist_frames: int


def frame_counts(cfg: GateConfig, fps: float) -> FrameCounts:
    """Convert the config's seconds to frames at ``fps``."""
    return FrameCounts(
        fps=fps,
        close_after=seconds_to_frames(cfg.close_after_s, fps),
        check_every=seconds_to_frames(cfg.tamper.check_every_s, fps),
        persist_frames=seconds_to_frames(cfg.tamper.persist_s, fps),
    )
