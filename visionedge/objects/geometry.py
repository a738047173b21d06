"""Integer geometry of the object tracker: pixel boxes, overlap, polygons (docs/gate-algorithm.md §7).

Everything is integer (int64 in the C++ port) so host and firmware agree bit for bit:
boxes are end-exclusive plane-pixel boxes ``(x0, y0, x1, y1)``, overlaps are per-mille
ratios rounded down, and divisions that can see a negative numerator use :func:`floor_div`
(C++ ``/`` truncates toward zero, so the port needs the same helper).
"""

from __future__ import annotations

from collections.abc import Sequence

from visionedge.protocols import Box

__all__ = [
    "SUB",
    "PxBox",
    "area",
    "box_to_px",
    "floor_div",
    "inside_polygon",
    "intersection",
    "iou_pm",
    "milli",
    "polygon_to_sub",
    "px_to_box",
]

PxBox = tuple[int, int, int, int]
"""``(x0, y0, x1, y1)`` in motion-plane pixels, end-exclusive."""

SUB = 16
"""Sub-pixel steps per pixel for velocities and polygon vertices (4 fractional bits)."""


def floor_div(a: int, b: int) -> int:
    """``floor(a / b)`` for ``b > 0`` (Python's ``//``; C++ needs an explicit helper)."""
    return a // b


def milli(value: float) -> int:
    """``floor(value * 1000 + 0.5)`` for a non-negative config value (seconds → ms, % → m%).

    Written out instead of ``round`` (half to even) so C++ computes the same integer.
    """
    return int(value * 1000.0 + 0.5)


def box_to_px(box: Box, width: int, height: int) -> PxBox:
    """The plane-pixel box a gate region came from.

    The gate rounds ``pixel / size`` to 4 decimals, an error below 0.5 px for planes under
    10000 px, so rounding back recovers the exact pixel (the C++ gate hands over pixels).
    """
    return (
        round(box.x0 * width),
        round(box.y0 * height),
        round(box.x1 * width),
        round(box.y1 * height),
    )


def px_to_box(b: PxBox, width: int, height: int) -> Box:
    """Normalised box, rounded to 4 decimals like the gate's regions."""
    return Box(
        round(b[0] / width, 4), round(b[1] / height, 4), round(b[2] / width, 4), round(b[3] / height, 4)
    )


def area(b: PxBox) -> int:
    """Pixels covered by ``b`` (0 for an empty box)."""
    # Conditional expressions instead of max(): the same integers, a third of the time
    # (these helpers run many times per tracked object and frame).
    w, h = b[2] - b[0], b[3] - b[1]
    return w * h if w > 0 and h > 0 else 0


def intersection(a: PxBox, b: PxBox) -> int:
    """Pixels covered by both boxes."""
    w = (a[2] if a[2] < b[2] else b[2]) - (a[0] if a[0] > b[0] else b[0])
    if w <= 0:
        return 0
    h = (a[3] if a[3] < b[3] else b[3]) - (a[1] if a[1] > b[1] else b[1])
    return w * h if h > 0 else 0


def iou_pm(a: PxBox, b: PxBox) -> int:
    """Intersection over union in per mille, rounded down (0 when either box is empty)."""
    inter = intersection(a, b)
    if inter == 0:
        return 0
    union = area(a) + area(b) - inter
    return 1000 * inter // union


def polygon_to_sub(poly: Sequence[tuple[float, float]], width: int, height: int) -> list[tuple[int, int]]:
    """Normalised polygon points to plane sub-pixels: ``floor(v * size * 16 + 0.5)``.

    One IEEE double multiply and an add, so C++ gets the same integers.
    """
    return [
        (int((x * (width * SUB)) + 0.5), int((y * (height * SUB)) + 0.5)) for x, y in poly
    ]


def inside_polygon(px: int, py: int, poly: Sequence[tuple[int, int]]) -> bool:
    """Crossing-number test of the sub-pixel point ``(px, py)``, integer only.

    An edge counts when it straddles the point's row (one end ``<= py``, the other ``> py``)
    and the point lies strictly left of it: the sign of a cross product, so no division.
    """
    inside = False
    n = len(poly)
    for i in range(n):
        xa, ya = poly[i]
        xb, yb = poly[(i + 1) % n]
        if (ya <= py) != (yb <= py):
            # x of the edge at row py compared with px, multiplied out by (yb - ya).
            cross = (xb - xa) * (py - ya) - (px - xa) * (yb - ya)
            if (cross > 0) == (yb > ya):
                inside = not inside
    return inside
