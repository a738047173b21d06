"""Motion regions: boxes around the separate things that moved, for classifier crops.

Python-only (not in the firmware parity contract, docs/gate-algorithm.md §2 step 10).
Connected components on the full plane cost more than the whole gate, so the changed mask is
first reduced to a grid of 4x4-pixel cells (two exact 2x area downscales: a cell is non-zero
when any of its pixels changed), dilated by one cell so that the pieces of one object (legs,
a car's windows) merge, labelled, and each component's box is then tightened to the changed
pixels inside it.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ["CELL", "PixelBox", "RegionFinder"]

CELL = 4
"""Grid cell size in plane pixels."""

PixelBox = tuple[int, int, int, int]
"""``(x0, y0, x1, y1)`` in plane pixels, end-exclusive."""

_KERNEL = np.ones((3, 3), dtype=np.uint8)


class RegionFinder:
    """Finds motion regions on planes of one size, reusing its scratch buffers."""

    def __init__(self, height: int, width: int) -> None:
        self.height, self.width = height, width
        self._h2, self._w2 = height // 2, width // 2
        self._h4, self._w4 = self._h2 // 2, self._w2 // 2
        self._half = np.empty((self._h2, self._w2), dtype=np.uint8)
        self._grid = np.empty((self._h4, self._w4), dtype=np.uint8)
        self._dilated = np.empty((self._h4, self._w4), dtype=np.uint8)

    def find(self, changed: npt.NDArray[np.uint8], min_area: int) -> list[PixelBox]:
        """Boxes of the changed regions (non-zero pixels of ``changed``), largest first.

        Regions whose box covers fewer than ``min_area`` pixels are dropped. On planes too
        small for the grid the whole changed area is one region.
        """
        if self._h4 == 0 or self._w4 == 0:
            x, y, w, h = cv2.boundingRect(changed)
            whole = [(x, y, x + w, y + h)] if w and h else []
            return [b for b in whole if (b[2] - b[0]) * (b[3] - b[1]) >= min_area]
        cv2.resize(
            changed[: self._h2 * 2, : self._w2 * 2],
            (self._w2, self._h2),
            dst=self._half,
            interpolation=cv2.INTER_AREA,
        )
        cv2.resize(
            self._half[: self._h4 * 2, : self._w4 * 2],
            (self._w4, self._h4),
            dst=self._grid,
            interpolation=cv2.INTER_AREA,
        )
        cv2.dilate(self._grid, _KERNEL, dst=self._dilated)
        # 16-bit labels are faster; after a 3x3 dilation components are at least 3x3 cells
        # plus a gap, so even a 1920-wide plane's grid holds far fewer than 65535.
        count, _labels, stats, _centroids = cv2.connectedComponentsWithStats(
            self._dilated, connectivity=8, ltype=cv2.CV_16U
        )
        boxes: list[PixelBox] = []
        last_x, last_y = self._w4, self._h4
        for gx, gy, gw, gh, _area in stats[1:count].tolist():
            x0, y0 = gx * CELL, gy * CELL
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
