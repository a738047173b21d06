"""Telling an exposure/gain jump from motion, using the camera's per-frame metadata (§2 step 6).

picamera2 reports ``ExposureTime`` (µs) and ``AnalogueGain`` per frame; their product is the
sensor's light sensitivity. When it jumps (auto-exposure step, IR-cut switch) the whole image
brightens or darkens without anything moving.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["ExposureTracker"]


class ExposureTracker:
    """Remembers the last exposure product and says whether a frame's product jumped."""

    __slots__ = ("jump", "last")

    def __init__(self, jump: float) -> None:
        self.jump = jump
        self.last: float | None = None

    def reset(self) -> None:
        """Forget the stored product."""
        self.last = None

    def update(self, metadata: Mapping[str, float] | None) -> bool:
        """Store this frame's product (if valid) and return whether it jumped by > ``jump`` log2."""
        if not metadata:
            return False
        exposure = metadata.get("ExposureTime")
        gain = metadata.get("AnalogueGain")
        if exposure is None or gain is None:
            return False
        try:
            e_time, a_gain = float(exposure), float(gain)
        except (TypeError, ValueError):
            return False
        if not (math.isfinite(e_time) and math.isfinite(a_gain) and e_time > 0 and a_gain > 0):
            return False
        product = e_time * a_gain
        previous, self.last = self.last, product
        if previous is None:
            return False
        return abs(math.log2(product / previous)) > self.jump
