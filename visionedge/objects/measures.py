"""Per-sighting measures of an object's event: travel, best-view key, clipped boxes (spec §7 E2, E5).

Integer functions of plane-pixel boxes, split from :mod:`visionedge.objects.events` so each
rule reads on its own and ports one to one.
"""

from __future__ import annotations

from visionedge.objects.geometry import PxBox, area, milli, px_to_box

__all__ = ["best_key", "clamp", "clip_box", "clipped_area", "travel_step", "travelled"]


def _shared(d0: int, d1: int) -> int:
    """The shift both edges share, with its sign (0 when they moved apart or one stayed)."""
    if d0 > 0 and d1 > 0:
        return min(d0, d1)
    if d0 < 0 and d1 < 0:
        return max(d0, d1)
    return 0


def _axis(a0: int, a1: int, b0: int, b1: int, size: int) -> int:
    """One axis of :func:`travel_step`: an edge on the frame border in both sightings says
    nothing (the object is cut there), so the other edge's shift counts alone."""
    if a0 <= 0 and b0 <= 0:
        return b1 - a1 if a1 < size or b1 < size else 0
    if a1 >= size and b1 >= size:
        return b0 - a0
    return _shared(b0 - a0, b1 - a1)


def travel_step(a: PxBox, b: PxBox, width: int, height: int) -> tuple[int, int] | None:
    """The steady move from sighting ``a`` to sighting ``b`` (None for a jump).

    Per axis only the shift both edges share counts (an edge cut by the frame border does
    not count: the other one alone does), and a jump over half the box's longer side counts
    nothing: a ghost the background model is re-learning shrinks from one side or hops
    between its pieces, swaying foliage moves back and forth (the signed sum cancels), and
    none of them adds up to a journey.
    """
    tx = _axis(a[0], a[2], b[0], b[2], width)
    ty = _axis(a[1], a[3], b[1], b[3], height)
    if 2 * max(abs(tx), abs(ty)) > max(b[2] - b[0], b[3] - b[1]):
        return None
    return tx, ty


def travelled(
    tx: int, ty: int, b: PxBox, width: int, height: int, min_travel: float, min_travel_pct: float
) -> bool:
    """Whether the summed travel ``(tx, ty)`` is far enough for an object of box ``b``.

    ``|tx| + |ty| >= min_travel * (w + h) / 2`` and ``|tx|/W + |ty|/H >= pct / 100``,
    multiplied out to integers.
    """
    ax, ay = abs(tx), abs(ty)
    size = (b[2] - b[0]) + (b[3] - b[1])
    own = (ax + ay) * 2000 >= size * milli(min_travel)
    frame = (ax * height + ay * width) * 100_000 >= milli(min_travel_pct) * width * height
    return own and frame


def best_key(b: PxBox, width: int, height: int, conf_pm: int) -> tuple[int, int]:
    """Best-view key: (fully in view, area x (1000 + centrality) x (1000 + confidence)).

    Centrality is per mille, 1000 at the centre and 0 at an edge (the larger axis offset);
    ``conf_pm`` is the frame's top score in per mille (0 when it was not classified).
    """
    m = max(1, width // 100)
    whole = int(b[0] > m and b[1] > m and b[2] < width - m and b[3] < height - m)
    offx = 1000 * abs(b[0] + b[2] - width) // width
    offy = 1000 * abs(b[1] + b[3] - height) // height
    central = 1000 - max(offx, offy)
    return whole, area(b) * (1000 + central) * (1000 + conf_pm)


def clamp(b: PxBox, w: int, h: int) -> PxBox:
    """``b`` cut to the frame."""
    return (min(max(b[0], 0), w), min(max(b[1], 0), h), min(max(b[2], 0), w), min(max(b[3], 0), h))


def clipped_area(b: PxBox, w: int, h: int) -> int:
    """Pixels of ``b`` inside the frame."""
    return area(clamp(b, w, h))


def clip_box(b: PxBox, w: int, h: int) -> list[float]:
    """A predicted box may stick out of the frame: the normalised part inside it."""
    c = px_to_box(clamp(b, w, h), w, h)
    return [c.x0, c.y0, c.x1, c.y1]
