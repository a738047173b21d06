"""Turning a camera image into the motion plane the gate reads (docs/gate-algorithm.md §1).

The spec's downscale is a whole-factor box mean with round-half-up integer rounding.
``cv2.resize(..., INTER_AREA)`` computes exactly that for factors 2 and 3 (factor 2 has a
fixed-point ``(sum + 2) >> 2`` path; for 3 the float scaling cannot reach a tie because 9 is
odd), which tests/gate/test_plane.py checks over every possible block sum; other factors use
the integer numpy formula.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.errors import FrameError
from visionedge.frame import Image, Plane

__all__ = ["AREA_EXACT_FACTORS", "plane_factor", "to_gray", "to_motion_plane"]

AREA_EXACT_FACTORS = frozenset({2, 3})
"""Downscale factors for which ``cv2.resize(INTER_AREA)`` equals the spec bit for bit."""


def plane_factor(src_width: int, target_width: int) -> int:
    """The whole downscale factor nearest to ``src_width / target_width`` (at least 1)."""
    return max(1, int(src_width / target_width + 0.5))


def to_gray(image: Image | Plane) -> Plane:
    """Gray/Y of a BGR (H x W x 3) or gray (H x W) uint8 image; BT.601 fixed point."""
    if not isinstance(image, np.ndarray):
        raise FrameError(f"image is a {type(image).__name__}, not a numpy array; pass uint8 pixels")
    if image.dtype != np.uint8:
        raise FrameError(f"image dtype is {image.dtype}; frames must be uint8")
    if image.size == 0:
        raise FrameError(f"image shape {image.shape} is empty; frames need at least one pixel")
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 3:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    raise FrameError(f"image shape {image.shape} is neither H x W nor H x W x 3")


def to_motion_plane(image: Image | Plane, target_width: int) -> Plane:
    """Box-downscale by a whole factor with round-half-up integer means (bit-exact with C++)."""
    gray = to_gray(image)
    h, w = gray.shape
    f = plane_factor(w, target_width)
    if f == 1:
        return np.ascontiguousarray(gray)
    oh, ow = h // f, w // f
    if oh == 0 or ow == 0:
        raise FrameError(f"image {w}x{h} is smaller than one {f}x{f} block of the motion plane")
    if f in AREA_EXACT_FACTORS:
        small = cv2.resize(gray[: oh * f, : ow * f], (ow, oh), interpolation=cv2.INTER_AREA)
        return np.asarray(small, dtype=np.uint8)
    return _box_means(gray[: oh * f, : ow * f], f)


def _box_means(gray: Plane, f: int) -> Plane:
    """Round-half-up means of the f x f blocks of ``gray`` (its sides are multiples of f).

    Sums by adding strided column slices, then row slices, in place: a handful of passes
    over the image, where ``reshape(...).sum(axis=(1, 3))`` is about ten times slower.
    """
    area = f * f
    wide = np.uint16 if 255 * area + area // 2 <= np.iinfo(np.uint16).max else np.uint32
    rows: npt.NDArray[np.unsignedinteger[Any]] = gray[:, 0::f].astype(wide)
    for k in range(1, f):
        np.add(rows, gray[:, k::f], out=rows)
    sums: npt.NDArray[np.unsignedinteger[Any]] = rows[0::f].copy()
    for k in range(1, f):
        np.add(sums, rows[k::f], out=sums)
    np.add(sums, area // 2, out=sums)
    np.floor_divide(sums, area, out=sums)
    means: Plane = sums.astype(np.uint8)
    return means
