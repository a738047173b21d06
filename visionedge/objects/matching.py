"""Step 3 of the tracker (docs/gate-algorithm.md §7): the candidate (object, region) pairs in
matching order, and the integer box helpers the tracker's steps share."""

from __future__ import annotations

import numpy as np

from visionedge.objects.geometry import PxBox

__all__ = ["candidates", "centre2", "clamp_into", "inside", "shift"]


def centre2(b: PxBox) -> tuple[int, int]:
    """Twice the centre, so it stays integer."""
    return b[0] + b[2], b[1] + b[3]


def distance(p: PxBox, r: PxBox) -> int:
    """Step 3's second sort key: the doubled centres' L1 distance plus twice the sizes' L1
    difference, so of two regions equally far the one the size of the object comes first
    (a person's legs, not its head, when it leaves a merged region)."""
    pcx, pcy = centre2(p)
    rcx, rcy = centre2(r)
    ds = abs(p[2] - p[0] - r[2] + r[0]) + abs(p[3] - p[1] - r[3] + r[1])
    return abs(pcx - rcx) + abs(pcy - rcy) + 2 * ds


_SMALL = 100
"""Up to this many track x region pairs the plain loop is faster than numpy."""


def candidates(
    preds: list[PxBox], regions: list[PxBox], reach: list[int], serials: list[int],
    floor4: list[int] | None = None,
) -> list[tuple[int, int]]:
    """Step 3's pairs ``(track index, region index)`` in matching order.

    A pair qualifies when the boxes overlap (IoU > 0) or their doubled centres are within
    the track's reach (L1), and four times the region's area is at least the track's
    ``floor4`` (0: any; a stationary object's own area); the order is IoU per mille descending, then the distance (the
    centres' plus twice the sizes' difference, all L1), then the track's serial, then the
    region's index. Vectorised with int64 numpy, which is exact for these magnitudes, so it
    equals the per-pair loop the spec describes.
    """
    if not preds or not regions:
        return []
    f4 = floor4 if floor4 is not None else [0] * len(preds)
    if len(preds) * len(regions) <= _SMALL:
        # The per-pair loop with the box helpers inlined (area, intersection, iou_pm,
        # centre2, distance: the same integer expressions), each region's terms computed once.
        pairs: list[tuple[int, int, int, int, int]] = []
        # Per region: index, corners, doubled centre, size, area, and whether it is non-empty
        # (two boxes overlap iff both are non-empty and each starts before the other ends).
        rs = [
            (ri, rb[0], rb[1], rb[2], rb[3], rb[0] + rb[2], rb[1] + rb[3], rb[2] - rb[0], rb[3] - rb[1],
             max(0, rb[2] - rb[0]) * max(0, rb[3] - rb[1]), rb[0] < rb[2] and rb[1] < rb[3])
            for ri, rb in enumerate(regions)
        ]
        for ti, (px0, py0, px1, py1) in enumerate(preds):
            pcx, pcy, pw, ph = px0 + px1, py0 + py1, px1 - px0, py1 - py0
            p_area = max(0, pw) * max(0, ph)
            p_ok = px0 < px1 and py0 < py1
            reach_t, floor_t, serial = reach[ti], f4[ti], serials[ti]
            for ri, rx0, ry0, rx1, ry1, rcx, rcy, rw, rh, r_area, r_ok in rs:
                if 4 * r_area < floor_t:
                    continue
                d0 = abs(pcx - rcx) + abs(pcy - rcy)
                if p_ok and r_ok and rx0 < px1 and px0 < rx1 and ry0 < py1 and py0 < ry1:
                    ov = ((px1 if px1 < rx1 else rx1) - (px0 if px0 > rx0 else rx0)) * (
                        (py1 if py1 < ry1 else ry1) - (py0 if py0 > ry0 else ry0)
                    )
                    i0 = 1000 * ov // (p_area + r_area - ov)
                    if i0 == 0 and d0 > reach_t:
                        continue
                elif d0 > reach_t:
                    continue
                else:
                    i0 = 0
                pairs.append((-i0, d0 + 2 * (abs(pw - rw) + abs(ph - rh)), serial, ri, ti))
        pairs.sort()
        return [(t, r0) for _, _, _, r0, t in pairs]
    p = np.asarray(preds, dtype=np.int64)[:, None, :]
    r = np.asarray(regions, dtype=np.int64)[None, :, :]
    iw = np.minimum(p[..., 2], r[..., 2]) - np.maximum(p[..., 0], r[..., 0])
    ih = np.minimum(p[..., 3], r[..., 3]) - np.maximum(p[..., 1], r[..., 1])
    inter = np.where((iw > 0) & (ih > 0), iw * ih, 0)
    pa = np.maximum(p[..., 2] - p[..., 0], 0) * np.maximum(p[..., 3] - p[..., 1], 0)
    ra = (r[..., 2] - r[..., 0]) * (r[..., 3] - r[..., 1])
    union = np.maximum(pa + ra - inter, 1)
    iou = np.where(inter > 0, 1000 * inter // union, 0)
    d = np.abs(p[..., 0] + p[..., 2] - r[..., 0] - r[..., 2]) + np.abs(
        p[..., 1] + p[..., 3] - r[..., 1] - r[..., 3]
    )
    ok = ((iou > 0) | (d <= np.asarray(reach, dtype=np.int64)[:, None])) & (
        4 * ra >= np.asarray(f4, dtype=np.int64)[:, None]
    )
    tis, ris = np.nonzero(ok)
    if tis.size == 0:
        return []
    ds = np.abs(p[..., 2] - p[..., 0] - r[..., 2] + r[..., 0]) + np.abs(
        p[..., 3] - p[..., 1] - r[..., 3] + r[..., 1]
    )
    key = d + 2 * ds
    ser = np.asarray(serials, dtype=np.int64)[tis]
    order = np.lexsort((ris, ser, key[tis, ris], -iou[tis, ris]))
    return list(zip(tis[order].tolist(), ris[order].tolist(), strict=True))


def clamp_into(p: PxBox, r: PxBox) -> PxBox:
    """Shift ``p`` the least so it lies inside ``r`` along each axis where it fits."""
    dx = dy = 0
    if p[2] - p[0] <= r[2] - r[0]:
        dx = max(r[0] - p[0], 0) + min(r[2] - p[2], 0)
    if p[3] - p[1] <= r[3] - r[1]:
        dy = max(r[1] - p[1], 0) + min(r[3] - p[3], 0)
    return shift(p, dx, dy)


def inside(b: PxBox, a: PxBox) -> bool:
    """Whether ``b`` lies inside ``a`` grown by a sixteenth of its perimeter half (w + h)."""
    g = ((a[2] - a[0]) + (a[3] - a[1])) // 16
    return b[0] >= a[0] - g and b[1] >= a[1] - g and b[2] <= a[2] + g and b[3] <= a[3] + g


def shift(b: PxBox, dx: int, dy: int) -> PxBox:
    return (b[0] + dx, b[1] + dy, b[2] + dx, b[3] + dy)
