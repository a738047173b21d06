"""The motion gate: frame differencing on a small gray plane, exactly as docs/gate-algorithm.md.

Public names: :class:`FrameDifferenceGate` (the pipeline's MotionGate), the plane conversion
(:func:`to_motion_plane`), :func:`rasterize_polygons` (also used by the firmware header
generator), and the pieces the gate is made of, for tests and tools.
"""

from __future__ import annotations

from visionedge.gate.exposure import ExposureTracker
from visionedge.gate.gate import FrameDifferenceGate, check_plane
from visionedge.gate.hysteresis import Hysteresis, Transition
from visionedge.gate.masks import MaskSet, build_mask_set, rasterize_polygons
from visionedge.gate.plane import plane_factor, to_gray, to_motion_plane
from visionedge.gate.regions import RegionFinder
from visionedge.gate.tamper import PlaneStats, TamperDetector, plane_stats, structure_agreement

__all__ = [
    "ExposureTracker",
    "FrameDifferenceGate",
    "Hysteresis",
    "MaskSet",
    "PlaneStats",
    "RegionFinder",
    "TamperDetector",
    "Transition",
    "build_mask_set",
    "check_plane",
    "plane_factor",
    "plane_stats",
    "rasterize_polygons",
    "structure_agreement",
    "to_gray",
    "to_motion_plane",
]
