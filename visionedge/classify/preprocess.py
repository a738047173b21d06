"""From a BGR frame and a motion box to the model's input tensor.

Four steps, each a function: :func:`crop_rect` (which pixels to look at),
:func:`crop_resize` (cut and scale them to the model's size with the integer area resize
:func:`area_resize` of docs/gate-algorithm.md §6, bit for bit what the firmware computes),
:func:`to_model_colour`
(BGR → RGB or gray) and :class:`InputQuantizer` (pixels → the input tensor's dtype, through
the real-value range the model was trained on and the input's own scale and zero point).
"""

from __future__ import annotations

import math
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.classify.normalization import Normalization
from visionedge.errors import FrameError
from visionedge.frame import Image
from visionedge.protocols import Box

__all__ = [
    "MIN_CROP_PX",
    "InputQuantizer",
    "area_resize",
    "crop_rect",
    "crop_resize",
    "dequantize",
    "model_pixels",
    "to_model_colour",
]

MIN_CROP_PX = 16
"""A crop is at least this many pixels on its short side (a 2-pixel box says nothing)."""


def crop_rect(
    box: Box | None, frame_w: int, frame_h: int, aspect: float, margin: float
) -> tuple[int, int, int, int]:
    """The pixel rectangle ``(x0, y0, x1, y1)`` (exclusive ends) to classify.

    ``aspect`` is the model's width / height. With a box: grow it to that aspect, then by
    ``margin`` (0.15 = 15 % wider and taller), at least :data:`MIN_CROP_PX` on the short
    side; shift it inside the frame; if it is still bigger than the frame, clamp it to the
    frame and restore the aspect as far as possible without cutting the box itself (the
    resize then stretches slightly rather than losing part of the object). Without a box:
    the largest centred rectangle of that aspect.
    """
    if frame_w < 1 or frame_h < 1:
        raise FrameError(f"frame {frame_w}x{frame_h} is empty")
    if box is None:
        w = min(float(frame_w), frame_h * aspect)
        h = w / aspect
        return _place(frame_w / 2, frame_h / 2, w, h, frame_w, frame_h)
    bx0 = min(max(box.x0, 0.0), 1.0) * frame_w
    bx1 = min(max(box.x1, 0.0), 1.0) * frame_w
    by0 = min(max(box.y0, 0.0), 1.0) * frame_h
    by1 = min(max(box.y1, 0.0), 1.0) * frame_h
    bw, bh = max(bx1 - bx0, 1.0), max(by1 - by0, 1.0)
    cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
    w, h = (bw, bw / aspect) if bw / bh >= aspect else (bh * aspect, bh)
    w, h = w * (1 + margin), h * (1 + margin)
    if min(w, h) < MIN_CROP_PX:
        grow = MIN_CROP_PX / min(w, h)
        w, h = w * grow, h * grow
    w, h = min(w, float(frame_w)), min(h, float(frame_h))
    # Clamped in one direction: shrink the other back towards the aspect, but never below
    # the box, so the object stays whole.
    if w / h > aspect:
        w = max(h * aspect, min(bw, float(frame_w)))
    elif w / h < aspect:
        h = max(w / aspect, min(bh, float(frame_h)))
    return _place(cx, cy, w, h, frame_w, frame_h)


def _place(cx: float, cy: float, w: float, h: float, fw: int, fh: int) -> tuple[int, int, int, int]:
    iw = min(max(1, round(w)), fw)
    ih = min(max(1, round(h)), fh)
    x0 = min(max(math.floor(cx - iw / 2 + 0.5), 0), fw - iw)
    y0 = min(max(math.floor(cy - ih / 2 + 0.5), 0), fh - ih)
    return x0, y0, x0 + iw, y0 + ih


def crop_resize(
    image: Image, rect: tuple[int, int, int, int], width: int, height: int, *, exact: bool = True
) -> Image:
    """Cut ``rect`` out of ``image`` and scale it to ``width`` x ``height``.

    ``exact``: :func:`area_resize`, the bytes a board computes (models a board runs).
    Otherwise OpenCV's ``INTER_AREA`` when shrinking and ``INTER_LINEAR`` when enlarging:
    for models no board runs, whose input (192, 513 pixels) is often larger than the crop,
    where the area resize's blocks cost accuracy (DeepLab on real crops: 10 of 59 right
    against 38 of 59).
    """
    x0, y0, x1, y1 = rect
    crop = image[y0:y1, x0:x1]
    if crop.shape[1] == width and crop.shape[0] == height:
        return np.ascontiguousarray(crop)
    if exact:
        return area_resize(crop, width, height)
    shrink = crop.shape[1] >= width and crop.shape[0] >= height
    out = cv2.resize(
        crop, (width, height), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR
    )
    return np.asarray(out, np.uint8)


def area_resize(image: Image, width: int, height: int) -> Image:
    """The exact integer area resize of docs/gate-algorithm.md §6 (each channel on its own).

    Output pixel ``(ox, oy)`` of a ``W x H`` source resized to ``w x h`` is the mean of the
    source over its footprint ``[ox*W/w, (ox+1)*W/w) x [oy*H/h, (oy+1)*H/h)``, each source
    pixel weighted by the area it shares with it, rounded half up. Measured in units of
    ``1/w`` (x) and ``1/h`` (y) of a source pixel every weight is an integer, so
    ``out = (S + D // 2) // D`` with integer ``S`` and ``D = W * H``: no floating point,
    the same bytes on a Cortex-M4 as here. It is OpenCV's INTER_AREA without its float
    rounding, for shrinking and enlarging alike. ``S`` comes from OpenCV's exact int32
    integral image (:func:`_area_integral`), so a 720x720 crop costs about a millisecond.
    """
    if image.ndim not in (2, 3) or image.shape[0] < 1 or image.shape[1] < 1:
        raise FrameError(f"cannot resize an image of shape {image.shape}")
    if width < 1 or height < 1:
        raise FrameError(f"cannot resize to {width}x{height}")
    src_h, src_w = image.shape[:2]
    if src_h * src_w > 2**31 // 255:
        raise FrameError(f"a {src_w}x{src_h} crop is too large to resize exactly")
    pixels = np.ascontiguousarray(image, dtype=np.uint8)
    # int32 sums are exact up to 255 * 8.4 M pixels (checked above).
    integral = np.asarray(cv2.integral(pixels, sdepth=cv2.CV_32S), np.int32).reshape(
        src_h + 1, src_w + 1, -1
    )
    f = _area_integral(integral, pixels.reshape(src_h, src_w, -1), width, height)
    sums = f[1:, 1:] - f[:-1, 1:] - f[1:, :-1] + f[:-1, :-1]
    d = src_w * src_h
    out = np.asarray((sums + d // 2) // d, np.uint8)
    return out if image.ndim == 3 else out[:, :, 0]


def _area_integral(
    integral: npt.NDArray[np.int32], pixels: npt.NDArray[np.uint8], w: int, h: int
) -> npt.NDArray[np.int64]:
    """``F[j, i]``: the source integrated up to output edge ``(i, j)``, in the scaled units.

    The edge ``U = i * W`` (units of 1/w) falls in source column ``kx = U // w`` at offset
    ``rx = U % w`` (likewise ``V``, ``ky``, ``ry``); whole pixels before it count ``w * h``
    each, the partial column/row ``rx * h`` / ``ry * w`` and the corner pixel ``rx * ry``.
    """
    src_h, src_w = pixels.shape[:2]
    u = np.arange(w + 1, dtype=np.int64) * src_w
    v = np.arange(h + 1, dtype=np.int64) * src_h
    kx, rx = u // w, (u % w)[None, :, None]
    ky, ry = v // h, (v % h)[:, None, None]
    cx, cy = np.minimum(kx, src_w - 1), np.minimum(ky, src_h - 1)  # r == 0 past the end
    def at(rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64], a: npt.NDArray[Any]) -> Any:
        return a[np.ix_(rows, cols)].astype(np.int64)  # only the (h+1) x (w+1) edge points

    whole = at(ky, kx, integral)
    col = at(ky, cx + 1, integral) - at(ky, cx, integral)  # column kx above row ky
    row = at(cy + 1, kx, integral) - at(cy, kx, integral)  # row ky left of column kx
    corner = at(cy, cx, pixels)
    out: npt.NDArray[np.int64] = w * h * whole + rx * h * col + ry * w * row + rx * ry * corner
    return out


def model_pixels(
    image: Image,
    rect: tuple[int, int, int, int],
    width: int,
    height: int,
    channels: int,
    *,
    exact: bool = True,
) -> Image:
    """``rect`` of a BGR (or gray) image as the model's H x W x C uint8 pixels.

    Resize first, then convert the colour (docs/gate-algorithm.md §6): the order the model
    pipeline trains with (``visionedge.train.dataset.preprocess``), and the firmware's.
    Converting a gray model's crop before resizing would halve the cost but shifts pixels
    by a rounding step, which moved the shipped model's scores by up to 0.05.
    """
    return to_model_colour(crop_resize(image, rect, width, height, exact=exact), channels)


def to_model_colour(bgr: Image, channels: int) -> Image:
    """BGR (OpenCV's order) to what the model reads: RGB for 3 channels, gray H x W x 1 for 1."""
    if bgr.ndim == 2:
        if channels == 1:
            return bgr[:, :, None]
        return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_GRAY2RGB), np.uint8)
    if channels == 1:
        return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), np.uint8)[:, :, None]
    return np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.uint8)


class InputQuantizer:
    """Pixels (uint8, H x W x C) → the input tensor, via a per-channel 256-entry table.

    ``real = (pixel - mean) / std`` is the value the model was trained on; a quantized input
    then stores ``q = clip(round(real / scale) + zero_point)`` in its own dtype (never the raw
    pixel: an int8 input with zero point -128 needs pixel 0 → -128). A float32 input takes
    ``real`` as is. The table makes this exact and as cheap as one indexing pass.
    """

    def __init__(
        self,
        norm: Normalization,
        channels: int,
        dtype: str,
        scale: float = 0.0,
        zero_point: int = 0,
    ) -> None:
        mean, std = norm.for_channels(channels)
        pixels = np.arange(256, dtype=np.float64)
        real = np.stack([(pixels - m) / s for m, s in zip(mean, std, strict=True)])
        self.real = real.astype(np.float32)  # channels x 256, for checks and the model card
        self.dtype = np.dtype(dtype)
        if dtype == "float32":
            self.table = self.real
        else:
            info = np.iinfo(self.dtype)
            q = np.rint(real / scale) + zero_point
            self.table = np.clip(q, info.min, info.max).astype(self.dtype)
        self.channels = channels

    def __call__(self, pixels: Image) -> npt.NDArray[np.generic]:
        """Return the 1 x H x W x C input tensor for ``pixels`` (H x W x C uint8)."""
        if pixels.dtype != np.uint8:
            raise FrameError(f"pixels are {pixels.dtype}; the classifier reads uint8 images")
        out: npt.NDArray[np.generic]
        if self.channels == 1:
            out = np.asarray(self.table[0][pixels])
        else:
            out = np.empty(pixels.shape, self.dtype)
            for c in range(self.channels):
                out[..., c] = self.table[c][pixels[..., c]]
        return out[None, ...]


def dequantize(
    raw: npt.NDArray[np.generic], scale: float, zero_point: int, quantized: bool
) -> npt.NDArray[np.float32]:
    """Output tensor → real scores: ``(q - zero_point) * scale`` for int8/uint8, as is for float."""
    flat = np.asarray(raw).reshape(-1)
    if not quantized:
        return flat.astype(np.float32)
    return ((flat.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)).astype(
        np.float32
    )
