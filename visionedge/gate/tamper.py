"""Camera tamper: covered (dark), blinded or blank (flat), defocused, or the view changed.

docs/gate-algorithm.md §3. The statistics are integer sums (exact in a double, since every
partial sum stays far below 2^53), so Python and the firmware agree on every check. The
checks run every ``check_every`` frames; a condition must persist for ``persist_frames``
before the state changes, in either direction (both frame counts come from the config's
seconds, :mod:`visionedge.gate.timing`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.config import TamperConfig
from visionedge.frame import Plane
from visionedge.protocols import TamperState

__all__ = [
    "PlaneStats",
    "TamperDetector",
    "plane_stats",
    "stats_from_sums",
    "structure_agreement",
]


@dataclass(frozen=True, slots=True)
class PlaneStats:
    """Brightness mean, standard deviation and Laplacian variance of one plane."""

    mean: float
    std: float
    lap_var: float


def _variance(n: int, s: int, ss: int) -> float:
    if n == 0:
        return 0.0
    return float(n * ss - s * s) / float(n * n)


_SQUARES = (np.arange(256, dtype=np.int64) ** 2).astype(np.uint16).reshape(1, 256)


def _sum(a: npt.NDArray[Any]) -> int:
    # cv2.sumElems accumulates integers exactly (every partial sum is far below 2^53);
    # cv2.norm(NORM_L2SQR) does not (it is off by a few units on 8-bit planes).
    return int(cv2.sumElems(a)[0])


def plane_stats(plane: Plane) -> PlaneStats:
    """The §3 statistics of ``plane``: exact integer sums, then doubles as the spec says."""
    h, w = plane.shape
    n = h * w
    s = _sum(plane)
    ss = _sum(cv2.LUT(plane, _SQUARES))
    mean = s / n
    std = math.sqrt(_variance(n, s, ss))
    lap_var = 0.0
    if h >= 3 and w >= 3:
        # ksize=1 is the 4-neighbour kernel; interior values do not depend on the border
        # rule, and |L| <= 1020 fits int16; L*L fits int32.
        inner = cv2.Laplacian(plane, cv2.CV_16S, ksize=1)[1:-1, 1:-1]
        m = (h - 2) * (w - 2)
        lap_var = _variance(m, _sum(inner), _sum(cv2.multiply(inner, inner, dtype=cv2.CV_32S)))
    return PlaneStats(mean, std, lap_var)


def stats_from_sums(sums: tuple[int, ...]) -> PlaneStats:
    """The §3 statistics from the exact sums ``(n, Σp, Σp², m, ΣL, ΣL²)`` of the compiled pass."""
    n, s, ss, m, sl, sll = sums
    return PlaneStats(s / n, math.sqrt(_variance(n, s, ss)), _variance(m, sl, sll))


def structure_agreement(snapshot: Plane, current: Plane, threshold: int) -> tuple[int, int]:
    """Count (strong, agreeing) neighbour pairs between a snapshot and the current plane (§3.4)."""
    strong = 0
    agree = 0
    s = snapshot.astype(np.int16)
    b = current.astype(np.int16)
    for ds, db in (
        (s[:, 1:] - s[:, :-1], b[:, 1:] - b[:, :-1]),
        (s[1:, :] - s[:-1, :], b[1:, :] - b[:-1, :]),
    ):
        is_strong = np.abs(ds) > threshold
        same_sign = (ds > 0) == (db > 0)
        nonzero = 4 * np.abs(db) > threshold
        strong += int(np.count_nonzero(is_strong))
        agree += int(np.count_nonzero(is_strong & same_sign & nonzero))
    return strong, agree


class TamperDetector:
    """The tamper state machine of §3: conditions, scene snapshot and persistence."""

    def __init__(
        self, cfg: TamperConfig, pixel_threshold: int, check_every: int, persist_frames: int
    ) -> None:
        self.cfg = cfg
        self.pixel_threshold = pixel_threshold
        self.check_every, self.persist_frames = check_every, persist_frames
        self.reset()

    def reset(self) -> None:
        """OK, no snapshot, both persistence counters at 0."""
        self.state = TamperState.OK
        self.reason = ""
        self.snapshot: Plane | None = None
        self.snapshot_age = 0
        self._streak = 0
        self.last_stats: PlaneStats | None = None

    def reconfigure(
        self, cfg: TamperConfig, pixel_threshold: int, check_every: int, persist_frames: int
    ) -> None:
        """Take new thresholds; the state, snapshot and counters are kept (§5)."""
        self.cfg = cfg
        self.pixel_threshold = pixel_threshold
        self.check_every, self.persist_frames = check_every, persist_frames

    @property
    def need(self) -> int:
        """Consecutive checks a change of state needs."""
        return -(-self.persist_frames // self.check_every)

    @property
    def tampered(self) -> bool:
        """Whether the state is ``tamper``."""
        return self.state is TamperState.TAMPER

    def take_snapshot(self, previous: Plane) -> None:
        """Remember the scene before a global change, unless one is already held."""
        if self.cfg.enabled and self.snapshot is None:
            self.snapshot = previous.copy()
            self.snapshot_age = 0

    def age(self) -> None:
        """Count one processed frame for the snapshot."""
        if self.snapshot is not None:
            self.snapshot_age += 1

    def condition(
        self,
        plane: Plane,
        blurred: Plane,
        sums: tuple[int, ...] | None = None,
        native: ModuleType | None = None,
    ) -> str:
        """Evaluate one check (first match wins); may drop the snapshot. Empty: no condition.

        ``sums`` are the plane's sums when the compiled pass already made them; ``native``
        is the compiled core for the structure counts (passed, not stored: the detector's
        attributes are its state, which recordings copy and pickle).
        """
        cfg = self.cfg
        if self.snapshot is not None and self.snapshot_age > 10 * self.persist_frames:
            self.snapshot = None
        stats = plane_stats(plane) if sums is None else stats_from_sums(sums)
        self.last_stats = stats
        if stats.mean <= cfg.dark_level:
            return "dark"
        if stats.std < cfg.flat_std:
            return "flat"
        if cfg.focus_min > 0 and stats.lap_var < cfg.focus_min and (
            cfg.focus_ratio <= 0 or stats.lap_var < cfg.focus_ratio * (stats.std * stats.std)
        ):
            return "defocused"
        if self.snapshot is not None:
            if native is not None:
                h, w = blurred.shape
                strong, agree = native.structure_counts(
                    self.snapshot, blurred, w, h, self.pixel_threshold
                )
            else:
                strong, agree = structure_agreement(
                    self.snapshot, blurred, self.pixel_threshold
                )
            if strong == 0 or 2 * agree >= strong:
                self.snapshot = None
                return ""
            return "scene_changed"
        return ""

    def check(
        self,
        plane: Plane,
        blurred: Plane,
        sums: tuple[int, ...] | None = None,
        native: ModuleType | None = None,
    ) -> None:
        """Run one check and apply the persistence rule (arguments: see :meth:`condition`)."""
        found = self.condition(plane, blurred, sums, native)
        if self.state is TamperState.OK:
            self._streak = self._streak + 1 if found else 0
            if self._streak >= self.need:
                self.state, self.reason, self._streak = TamperState.TAMPER, found, 0
        else:
            if found:
                self.reason = found
                self._streak = 0
            else:
                self._streak += 1
                if self._streak >= self.need:
                    self.state, self.reason, self._streak = TamperState.OK, "", 0
