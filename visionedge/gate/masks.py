"""Rasterising normalised polygons (masks, zones) onto the motion plane (docs/gate-algorithm.md §4).

The bitmaps are built once per plane size and configuration, never per frame. The firmware
header generator embeds the output of :func:`rasterize_polygons`, so this function is the one
definition of "inside a polygon" for both targets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.errors import ConfigError, FrameError

__all__ = ["MaskSet", "build_mask_set", "rasterize_polygons"]

Bitmap = npt.NDArray[np.uint8]
Polygon = Sequence[Sequence[float]]


def _vertices(poly: Polygon, width: int, height: int) -> npt.NDArray[np.int32]:
    pts: list[tuple[int, int]] = []
    for point in poly:
        if len(point) != 2:
            raise ConfigError(
                f"polygon point {list(point)!r} is not [x, y]; write points as [x, y] pairs"
            )
        x, y = float(point[0]), float(point[1])
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0) or math.isnan(x) or math.isnan(y):
            raise ConfigError(
                f"polygon point [{x}, {y}] is outside the frame; use normalised coordinates 0..1"
            )
        pts.append((round(x * width), round(y * height)))
    if len(pts) < 3:
        raise ConfigError(f"polygon needs at least 3 [x, y] points, got {len(pts)}")
    return np.asarray(pts, dtype=np.int32).reshape(-1, 1, 2)


def rasterize_polygons(polygons: Sequence[Polygon], width: int, height: int) -> Bitmap:
    """Return a ``height x width`` uint8 bitmap: 1 inside any of ``polygons``, else 0.

    Vertices are normalised ``[x, y]`` points mapped to ``(round(x * width), round(y * height))``
    and filled with ``cv2.fillPoly`` (8-connected edges, edges included), as §4 specifies.
    """
    if width < 1 or height < 1:
        raise FrameError(f"cannot rasterise polygons onto a {width}x{height} plane")
    out = np.zeros((height, width), dtype=np.uint8)
    if polygons:
        cv2.fillPoly(
            out, [_vertices(p, width, height) for p in polygons], (1,), lineType=cv2.LINE_8
        )
    return out


@dataclass(frozen=True, slots=True)
class MaskSet:
    """The bitmaps the gate needs for one plane size.

    ``active255`` is 255 where pixels count (outside every mask) or None when nothing is
    masked (the hot path then skips the AND). ``zones255`` hold 255 inside each zone AND
    active; ``zone_totals`` their pixel counts.
    """

    active255: Bitmap | None
    total: int
    zone_names: tuple[str, ...]
    zones255: tuple[Bitmap, ...]
    zone_totals: tuple[int, ...]


def build_mask_set(
    masks: Sequence[Polygon],
    zones: Sequence[tuple[str, Polygon]],
    width: int,
    height: int,
) -> MaskSet:
    """Rasterise the masks and zones of a gate config for a ``width x height`` plane."""
    active = 1 - rasterize_polygons(masks, width, height)
    total = int(np.count_nonzero(active))
    active255 = None if total == width * height else (active * 255).astype(np.uint8)
    names: list[str] = []
    bitmaps: list[Bitmap] = []
    totals: list[int] = []
    for name, poly in zones:
        zone = rasterize_polygons([poly], width, height) & active
        names.append(name)
        bitmaps.append((zone * 255).astype(np.uint8))
        totals.append(int(np.count_nonzero(zone)))
    return MaskSet(active255, total, tuple(names), tuple(bitmaps), tuple(totals))
