"""Motion regions: boxes around the separate things that moved, for classifier crops.

Python-only (not in the firmware parity contract, docs/gate-algorithm.md §2 step 10).
Connected components on the full plane cost more than the whole gate, so the changed mask is
first reduced to a grid of 8x8-pixel cells by three exact 2x area downscales (a cell is
non-zero when any of its pixels changed: ``(s + 2) >> 2`` of a sum with one 255 in it is
at least 64, and of a 64 at least 16, and of a 16 at least 4). Cells that touch, also
diagonally, form one region, so the pieces of one object (legs, a car's windows) a few
pixels apart merge; each region's box is then tightened to the changed pixels inside it.

With the compiled gate (:mod:`visionedge.gate.native`) the search is the firmware's own
``ve::RegionFinder`` (firmware/core/src/regions.cpp, built into the extension), so the
boards' crop box and the daemon's regions are one implementation; this numpy/OpenCV path
stays as the fallback and the oracle both are tested against.
"""

from __future__ import annotations

from types import ModuleType

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["CELL", "PixelBox", "RegionFinder"]

_LEVELS = 3
CELL = 1 << _LEVELS
"""Grid cell size in plane pixels."""

PixelBox = tuple[int, int, int, int]
"""``(x0, y0, x1, y1)`` in plane pixels, end-exclusive."""


class RegionFinder:
    """Finds motion regions on planes of one size, reusing its scratch buffers."""

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        self._levels: list[npt.NDArray[np.uint8]] = []
        h, w = height, width
        for _ in range(_LEVELS):
            h, w = h // 2, w // 2
            self._levels.append(np.empty((h, w), dtype=np.uint8))
        self._gh, self._gw = h, w

    @property
    def grid(self) -> tuple[int, int]:
        """``(rows, columns)`` of the cell grid (0 on planes smaller than one cell)."""
        return self._gh, self._gw

    def find(
        self,
        changed: npt.NDArray[np.uint8],
        min_area: int,
        native: ModuleType | None = None,
    ) -> list[PixelBox]:
        """Boxes of the changed regions (non-zero pixels of ``changed``), largest first.

        Regions whose box covers fewer than ``min_area`` pixels are dropped. On planes too
        small for the grid the whole changed area is one region. With the compiled core
        (``native``) the search runs there (same boxes, same order), except on planes larger
        than it takes (``REGIONS_MAX_W`` x ``REGIONS_MAX_H``, 2048 x 2048).
        """
        if self._gh == 0 or self._gw == 0:
            x, y, w, h = cv2.boundingRect(changed)
            whole = [(x, y, x + w, y + h)] if w and h else []
            return [b for b in whole if (b[2] - b[0]) * (b[3] - b[1]) >= min_area]
        if (
            native is not None
            and self.width <= native.REGIONS_MAX_W
            and self.height <= native.REGIONS_MAX_H
        ):
            found: list[PixelBox] = native.regions(changed, self.width, self.height, min_area)
            return found
        src = changed
        for dst in self._levels:
            dh, dw = dst.shape
            # Cropping to an even size keeps OpenCV on its exact 2x path.
            cv2.resize(src[: dh * 2, : dw * 2], (dw, dh), dst=dst, interpolation=cv2.INTER_AREA)
            src = dst
        # 16-bit labels are faster; components of an 8-connected grid number at most a
        # quarter of its cells, far below 65535 for any plane width the config allows.
        count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(
            src, connectivity=8, ltype=cv2.CV_16U
        )
        boxes: list[PixelBox] = []
        last_x, last_y = self._gw, self._gh
        for gx, gy, gw, gh, _area in stats[1:count].tolist():
            x0, y0 = gx * CELL, gy * CELL
            # A region touching the grid's last row/column also owns the leftover pixels.
            x1 = self.width if gx + gw == last_x else (gx + gw) * CELL
            y1 = self.height if gy + gh == last_y else (gy + gh) * CELL
            # The tightened box lies inside this one: skip specks without looking closer.
            if (x1 - x0) * (y1 - y0) < min_area:
                continue
            bx, by, bw, bh = cv2.boundingRect(changed[y0:y1, x0:x1])
            if bw == 0 or bh == 0 or bw * bh < min_area:
                continue
            boxes.append((x0 + bx, y0 + by, x0 + bx + bw, y0 + by + bh))
        boxes.sort(key=lambda b: (-(b[2] - b[0]) * (b[3] - b[1]), b[1], b[0]))
        return boxes
