"""Turning a camera image into the motion plane the gate reads (docs/gate-algorithm.md §1).

The plane is limited-range (16..235) luma, what video decoders and camera ISPs deliver as
their Y plane, so a source that has Y uses it as it is. Full-range luma (JPEG/MJPEG's
``yuvj``, gray images) and BGR images (whose gray is full range) are box-downscaled first and
then mapped to limited range through one 256-entry table: on the small plane that costs a
fraction of a pass over the frame.

The spec's downscale is a whole-factor box mean with round-half-up integer rounding.
``cv2.resize(..., INTER_AREA)`` computes exactly that for factors 2 and 3 (factor 2 has a
fixed-point ``(sum + 2) >> 2`` path; for 3 the float scaling cannot reach a tie because 9 is
odd), which tests/gate/test_plane.py checks over every possible block sum. Factors from 2 on
use the compiled core's one-pass downscale (``ve::downscale_gray``,
:mod:`visionedge.gate.native`) when it is built, else the integer numpy formula: at 1280 and
1920 wide that is one memory pass instead of five or six (the numpy path stays the fallback).
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.errors import FrameError
from visionedge.frame import Image, Plane
from visionedge.gate.native import load_native

__all__ = [
    "AREA_EXACT_FACTORS",
    "FULL_TO_LIMITED",
    "full_to_limited",
    "plane_factor",
    "to_gray",
    "to_motion_plane",
]

AREA_EXACT_FACTORS = frozenset({2, 3})
"""Downscale factors for which ``cv2.resize(INTER_AREA)`` equals the spec bit for bit."""


FULL_TO_LIMITED: Plane = (16 + (219 * np.arange(256, dtype=np.int64) + 127) // 255).astype(
    np.uint8
).reshape(1, 256)
"""§1 table: full-range level v -> limited-range ``16 + round_half_up(219 v / 255)``."""


_ALPHA = 219.0 / 255.0


def full_to_limited(plane: Plane) -> Plane:
    """Map a full-range gray plane to limited-range luma (§1's table), as a new array.

    ``convertScaleAbs`` rounds ``v * 219/255 + 16`` to nearest, which is the table: the exact
    value is never within 1/510 of a tie (255 is odd), far beyond the float error, and
    tests/gate/test_plane.py checks all 256 levels. It is several times faster than
    ``cv2.LUT`` on this OpenCV build.
    """
    return np.asarray(cv2.convertScaleAbs(plane, alpha=_ALPHA, beta=16.0), dtype=np.uint8)


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


_DEFAULT: list[ModuleType | None] = []  # the environment's choice, resolved on first use


def _native_for(native: bool | None) -> ModuleType | None:
    if native is not None:
        return load_native(native)
    if not _DEFAULT:
        _DEFAULT.append(load_native())
    return _DEFAULT[0]


def to_motion_plane(
    image: Image | Plane,
    target_width: int,
    *,
    full_range: bool = False,
    native: bool | None = None,
) -> Plane:
    """The §1 motion plane: box-downscaled luma in limited range (bit-exact with C++).

    A BGR image is converted to its (full-range) gray first. A 2-D image is taken as luma,
    limited range unless ``full_range`` (JPEG/``yuvj`` Y, gray pictures). ``native`` forces
    the compiled downscale on or off (default: ``VISIONEDGE_GATE_NATIVE``, auto).
    """
    if isinstance(image, np.ndarray) and image.ndim == 3:
        full_range = True
    gray = to_gray(image)
    nat = _native_for(native)
    h, w = gray.shape
    f = plane_factor(w, target_width)
    # Measured (bench/gate_compare.py): factor 1 needs no pass (a view, or one table pass);
    # from 2 on the compiled loop is about one memory pass and does the table in it (640x360
    # full range: 16 vs 25 µs for OpenCV's resize + table; factor 3: 37 vs 217 µs).
    if nat is not None and f >= 2:
        if h // f == 0 or w // f == 0:
            raise FrameError(
                f"image {w}x{h} is smaller than one {f}x{f} block of the motion plane"
            )
        if gray.strides[1] != 1:  # the loop reads whole rows (padded rows are fine)
            gray = np.ascontiguousarray(gray)
        out = np.empty((h // f, w // f), dtype=np.uint8)
        nat.downscale(gray, f, full_range, out)
        return out
    small = _downscale(gray, target_width)
    return full_to_limited(small) if full_range else small


def _downscale(gray: Plane, target_width: int) -> Plane:
    """Box-downscale by a whole factor with round-half-up integer means."""
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
