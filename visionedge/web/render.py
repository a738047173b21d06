"""Draw the live view: the camera frame with the overlays the page asked for.

Runs in the web thread, never on the frame path. "Changed pixels" are recomputed from the
planes the tap kept (blur, difference against the gate's reference, threshold, masks), the
same steps as :class:`visionedge.gate.gate.FrameDifferenceGate`; with ``reference =
"background"`` the background is the one just after the frame, so a pixel on the threshold
may differ by one background step.
"""

from __future__ import annotations

from collections.abc import Collection

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.config import GateConfig
from visionedge.frame import Image
from visionedge.gate.masks import rasterize_polygons
from visionedge.web.tap import LiveFrame

__all__ = ["OVERLAYS", "changed_pixels", "render_live"]

OVERLAYS = ("changed", "masks", "zones", "regions", "labels")
"""Overlay names the page may request (``?overlays=changed,masks``)."""

CHANGED_BGR = (0, 0, 255)
MASK_BGR = (40, 40, 40)
ZONE_BGR = (255, 200, 0)
REGION_BGR = (0, 255, 0)


def changed_pixels(live: LiveFrame, gate: GateConfig) -> npt.NDArray[np.uint8] | None:
    """The gate's changed-pixel bitmap (255 = changed) on the motion plane, or None."""
    plane = live.frame.plane
    ref = {"previous": live.previous, "background": live.background}
    refs = [ref[gate.reference]] if gate.reference in ref else [live.previous, live.background]
    if any(r is None or r.shape != plane.shape for r in refs):
        return None

    def smooth(p: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
        return np.asarray(cv2.GaussianBlur(p, (3, 3), 0), np.uint8) if gate.blur else p

    cur = smooth(plane)
    # The previous plane is raw; the background is already smoothed by the gate.
    diffs = [
        cv2.absdiff(cur, smooth(r) if r is live.previous else r) for r in refs if r is not None
    ]
    diff = diffs[0] if len(diffs) == 1 else cv2.min(diffs[0], diffs[1])
    _, changed = cv2.threshold(diff, gate.pixel_threshold, 255, cv2.THRESH_BINARY)
    if gate.masks:
        h, w = plane.shape
        masked = rasterize_polygons(gate.masks, w, h)
        changed[masked > 0] = 0
    return np.asarray(changed, np.uint8)


_TINTS: dict[tuple[int, ...], Image] = {}


def _tint(shape: tuple[int, ...]) -> Image:
    """A frame-sized plane of the changed-pixels colour, made once per size."""
    tint = _TINTS.get(shape)
    if tint is None:
        tint = np.empty(shape, np.uint8)
        tint[:] = CHANGED_BGR
        _TINTS.clear()  # one camera, one size: keep only the current one
        _TINTS[shape] = tint
    return tint


def _poly_px(poly: list[tuple[float, float]], w: int, h: int) -> npt.NDArray[np.int32]:
    return np.asarray([(round(x * w), round(y * h)) for x, y in poly], np.int32).reshape(-1, 1, 2)


def render_live(live: LiveFrame, gate: GateConfig, overlays: Collection[str]) -> Image:
    """The frame (BGR) with ``overlays`` drawn; a new array, the frame is not touched."""
    image = live.frame.image().copy()
    h, w = image.shape[:2]
    # cv2 calls release the GIL (numpy fancy indexing would not): the frame path keeps
    # running while a picture is drawn.
    if "changed" in overlays:
        changed = changed_pixels(live, gate)
        if changed is not None:
            big = cv2.resize(changed, (w, h), interpolation=cv2.INTER_NEAREST)
            blend = cv2.addWeighted(image, 0.45, _tint(image.shape), 0.55, 0)
            cv2.copyTo(blend, big, image)
    if "masks" in overlays and gate.masks:
        shade = image.copy()
        cv2.fillPoly(shade, [_poly_px(p, w, h) for p in gate.masks], MASK_BGR)
        image = np.asarray(cv2.addWeighted(shade, 0.6, image, 0.4, 0), np.uint8)
    if "zones" in overlays:
        for zone in gate.zones:
            pts = _poly_px(zone.polygon, w, h)
            cv2.polylines(image, [pts], True, ZONE_BGR, max(1, w // 320))
            x, y = pts[0][0]
            cv2.putText(image, zone.name, (int(x) + 3, int(y) + 14), cv2.FONT_HERSHEY_SIMPLEX,
                        0.45, ZONE_BGR, 1, cv2.LINE_AA)
    result = live.result
    if "regions" in overlays and result is not None:
        for box in result.regions or ((result.box,) if result.box else ()):
            p0 = (int(box.x0 * w), int(box.y0 * h))
            p1 = (int(box.x1 * w) - 1, int(box.y1 * h) - 1)
            cv2.rectangle(image, p0, p1, REGION_BGR, max(1, w // 320))
    if "labels" in overlays and live.label and result is not None and result.box is not None:
        text = f"{live.label} {live.score:.2f}" if live.score is not None else live.label
        x, y = int(result.box.x0 * w), max(12, int(result.box.y0 * h) - 4)
        cv2.putText(image, text, (x, y), cv2.FONT_HERSHEY_SIMPLEX, 0.5, REGION_BGR, 1,
                    cv2.LINE_AA)
    return image
