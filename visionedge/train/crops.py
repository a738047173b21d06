"""The one place an image becomes model input, and the daemon's square crop around a box.

:func:`preprocess` matches what the daemon's classifier feeds the model (the exact integer
area resize of docs/gate-algorithm.md §6 that the firmware also computes, BGR -> gray by
OpenCV's BT.601); models are trained on pixel / 255. :func:`crop_rect` mirrors
``visionedge.classify.preprocess.crop_rect`` for a square model. Both are re-exported by
:mod:`visionedge.train.dataset`.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.classify.preprocess import area_resize

__all__ = ["U8", "Colour", "crop_rect", "crop_square", "preprocess"]

Colour = Literal["gray", "rgb"]
U8 = npt.NDArray[np.uint8]


def preprocess(bgr: U8, size: int, colour: Colour) -> U8:
    """Resize a BGR (or gray) crop to ``size`` x ``size`` and convert to the model's colour.

    Returns H x W x C uint8 (C = 1 for gray, 3 for RGB). Real model input is this / 255.
    """
    img: Any = bgr
    if img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    if img.shape[0] != size or img.shape[1] != size:
        img = area_resize(img, size, size)  # as the daemon and the firmware
    if colour == "gray":
        if img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        gray: U8 = np.ascontiguousarray(img[:, :, None], dtype=np.uint8)
        return gray
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    rgb: U8 = np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    return rgb


def crop_rect(
    box: tuple[float, float, float, float], frame_w: int, frame_h: int, margin: float
) -> tuple[int, int, int, int]:
    """The square pixel rectangle the daemon's classifier cuts around a pixel ``box``.

    Mirrors ``visionedge.classify.preprocess.crop_rect`` for a square model: grow the box to
    a square, then by ``margin``; shift it inside the frame; if it is still larger than the
    frame, clamp it (the resize then stretches, as the daemon's does).
    """
    x0, y0, x1, y1 = box
    bw, bh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = max(bw, bh) * (1 + margin)
    side = max(side, 16.0)
    w, h = min(side, float(frame_w)), min(side, float(frame_h))
    if w > h:
        w = max(h, min(bw, float(frame_w)))
    elif h > w:
        h = max(w, min(bh, float(frame_h)))
    iw, ih = min(max(1, round(w)), frame_w), min(max(1, round(h)), frame_h)
    left = min(max(math.floor(cx - iw / 2 + 0.5), 0), frame_w - iw)
    top = min(max(math.floor(cy - ih / 2 + 0.5), 0), frame_h - ih)
    return left, top, left + iw, top + ih


def crop_square(image: U8, box: tuple[float, float, float, float], margin: float = 0.0) -> U8:
    """Cut the daemon-style crop (:func:`crop_rect`) around a pixel box out of ``image``."""
    x0, y0, x1, y1 = crop_rect(box, image.shape[1], image.shape[0], margin)
    return np.ascontiguousarray(image[y0:y1, x0:x1])
