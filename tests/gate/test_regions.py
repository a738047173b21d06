"""Motion regions: separate things get separate boxes, pieces of one thing merge, specks drop."""

from __future__ import annotations

import numpy as np
import pytest
from gatehelp import run, textured, with_box

from visionedge.config import GateConfig
from visionedge.gate import RegionFinder


def _mask(h: int, w: int, *boxes: tuple[int, int, int, int]) -> np.ndarray:
    m = np.zeros((h, w), np.uint8)
    for x0, y0, x1, y1 in boxes:
        m[y0:y1, x0:x1] = 255
    return m


def test_two_separate_blobs_are_two_regions_largest_first_with_tight_boxes() -> None:
    m = _mask(180, 320, (10, 10, 30, 40), (200, 100, 260, 170))
    assert RegionFinder(180, 320).find(m, 1) == [(200, 100, 260, 170), (10, 10, 30, 40)]


def test_pieces_a_few_pixels_apart_merge_into_one_region() -> None:
    # Legs of one object: 3 px gaps.
    m = _mask(180, 320, (100, 50, 104, 90), (107, 50, 111, 90), (114, 50, 118, 90))
    assert RegionFinder(180, 320).find(m, 1) == [(100, 50, 118, 90)]


def test_regions_below_min_area_are_dropped() -> None:
    m = _mask(180, 320, (10, 10, 12, 12), (200, 100, 240, 140))
    assert RegionFinder(180, 320).find(m, 50) == [(200, 100, 240, 140)]


def test_change_in_the_rows_the_grid_does_not_cover_is_still_found() -> None:
    m = _mask(181, 322, (300, 170, 322, 181))
    assert RegionFinder(181, 322).find(m, 1) == [(300, 170, 322, 181)]


@pytest.mark.parametrize(("h", "w"), [(1, 1), (3, 5), (7, 2)])
def test_planes_smaller_than_the_grid_give_one_region(h: int, w: int) -> None:
    m = np.zeros((h, w), np.uint8)
    m[0, 0] = 255
    assert RegionFinder(h, w).find(m, 1) == [(0, 0, 1, 1)]
    assert RegionFinder(h, w).find(np.zeros((h, w), np.uint8), 1) == []


def test_gate_reports_regions_while_open_normalised_and_box_covers_them() -> None:
    scene = textured(180, 320)
    frames = [scene] * 2 + [
        with_box(with_box(scene, 20 + 6 * i, 20, 30, 60), 250 - 6 * i, 100, 40, 40, value=10)
        for i in range(6)
    ]
    res = run(GateConfig(), frames)
    open_res = [r for r in res if r.motion]
    assert open_res
    for r in open_res:
        assert len(r.regions) == 2
        a, b = r.regions
        assert a.area >= b.area
        assert r.box is not None
        for reg in r.regions:
            assert r.box.x0 <= reg.x0 < reg.x1 <= r.box.x1
            assert r.box.y0 <= reg.y0 < reg.y1 <= r.box.y1
    assert all(r.regions == () for r in res if not r.motion)
