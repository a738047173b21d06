"""The box an object is classified on: its own box, grown to the model's smallest crop.

A far car or a person seen from high up is a few dozen pixels; cut tight and enlarged to a
192x192 ImageNet input it is a blur the model calls "wolf" or "penguin". Grown about its
centre to ``min_px`` full-frame pixels (kept inside the frame, never shrunk), the model sees
it at close to its own input resolution with the road or floor around it. The size comes
from the model's card (``objects.min_crop_px``); 0 keeps the object's box, which is what the
firmware does.

A box much smaller than its grown crop (a speck of dust beside a fly, a patch of foliage
above a road) leaves the crop to its surroundings, and the model names those: the card's
``objects.min_fill_pct`` (:func:`fill_pct`) keeps such objects from being classified.
A box that passes can still be named after what is around it; the card's
``objects.confirm_px`` has the classifier look again at the object's *tight* crop
(:func:`tight_to`) before a label it asks to confirm stands
(:meth:`visionedge.classify.cascade.CascadeClassifier.classify_object`).
"""

from __future__ import annotations

from visionedge.protocols import Box

__all__ = ["TIGHT_SCALE", "fill_pct", "grow_to", "tight_to"]

TIGHT_SCALE = 1.0
"""A tight crop is the box grown to this many times its longer side (:func:`tight_to`): 1, the
object's own box made square. Measured on the real clips against 1.25, 1.5 and 2 (the first
choice): the wider crops still show the cat beside a patch of sofa, the cars beside the leaves
(docs/classify.md, "A second look at the object's own box")."""


def grow_to(box: Box, width: int, height: int, min_px: int) -> Box:
    """``box`` (normalised) grown about its centre to at least ``min_px`` x ``min_px`` pixels
    of a ``width`` x ``height`` frame, shifted inside the frame; at most the whole frame."""
    if min_px <= 0:
        return box
    x0, y0, x1, y1 = box.x0 * width, box.y0 * height, box.x1 * width, box.y1 * height
    w = min(max(x1 - x0, float(min_px)), float(width))
    h = min(max(y1 - y0, float(min_px)), float(height))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    nx = min(max(cx - w / 2, 0.0), width - w)
    ny = min(max(cy - h / 2, 0.0), height - h)
    return Box(nx / width, ny / height, (nx + w) / width, (ny + h) / height)


def fill_pct(box: Box, width: int, height: int, min_px: int) -> float:
    """The share of ``box``'s crop grown to ``min_px`` (:func:`grow_to`) that the box itself
    covers, in percent of the crop's area (100 when it needs no growing)."""
    crop = grow_to(box, width, height, min_px)
    area = (crop.x1 - crop.x0) * (crop.y1 - crop.y0)
    if area <= 0:
        return 100.0
    return 100.0 * (box.x1 - box.x0) * (box.y1 - box.y0) / area


def tight_to(box: Box, width: int, height: int, min_px: int) -> Box:
    """``box`` grown to :data:`TIGHT_SCALE` times its longer side in pixels (a square about
    its centre), and to at least ``min_px`` (:func:`grow_to`): the object, not its
    surroundings."""
    side = max(float(min_px), TIGHT_SCALE * max((box.x1 - box.x0) * width, (box.y1 - box.y0) * height))
    return grow_to(box, width, height, int(side))
