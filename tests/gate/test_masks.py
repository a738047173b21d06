"""Masks (ignored areas) and named zones, rasterised once per plane size."""

from __future__ import annotations

import numpy as np
import pytest
from gatehelp import run, textured, with_box

from visionedge.config import GateConfig, ZoneConfig
from visionedge.errors import ConfigError, FrameError
from visionedge.gate import FrameDifferenceGate, build_mask_set, rasterize_polygons


def test_rectangle_rasterises_to_its_pixels_edges_included() -> None:
    bm = rasterize_polygons([[(0.25, 0.5), (0.5, 0.5), (0.5, 1.0), (0.25, 1.0)]], 8, 4)
    assert bm.dtype == np.uint8 and bm.shape == (4, 8)
    expected = np.zeros((4, 8), np.uint8)
    expected[2:4, 2:5] = 1  # x 2..4 (round(0.5*8)=4 included), y 2..3 (4 is off the plane)
    assert np.array_equal(bm, expected)


def test_no_polygons_is_all_zero_and_several_polygons_union() -> None:
    assert not rasterize_polygons([], 5, 5).any()
    a = [(0.0, 0.0), (0.4, 0.0), (0.4, 0.4), (0.0, 0.4)]
    b = [(0.6, 0.6), (1.0, 0.6), (1.0, 1.0), (0.6, 1.0)]
    both = rasterize_polygons([a, b], 20, 20)
    assert np.array_equal(both, rasterize_polygons([a], 20, 20) | rasterize_polygons([b], 20, 20))


@pytest.mark.parametrize(
    "poly",
    [
        [(0.0, 0.0), (1.0, 0.0)],
        [(0.0, 0.0), (1.5, 0.0), (1.0, 1.0)],
        [(0.0, 0.0), (float("nan"), 0.0), (1.0, 1.0)],
        [(0.0, 0.0, 0.0), (1.0, 0.0, 0.0), (1.0, 1.0, 0.0)],
    ],
)
def test_malformed_polygons_raise_config_error(poly: list[tuple[float, ...]]) -> None:
    with pytest.raises(ConfigError, match="polygon"):
        rasterize_polygons([poly], 10, 10)


def test_empty_plane_size_raises() -> None:
    with pytest.raises(FrameError):
        rasterize_polygons([], 0, 10)


def test_motion_inside_a_mask_is_ignored_and_outside_counts() -> None:
    scene = textured()
    left_half = [(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]
    cfg = GateConfig(masks=[left_half], reference="previous")
    inside = [scene] + [with_box(scene, 5 + 6 * i, 30, 20, 20) for i in range(6)]
    assert not any(r.motion or r.changed_pct for r in run(cfg, inside))
    outside = [scene] + [with_box(scene, 90 + 6 * i, 30, 20, 20) for i in range(6)]
    res = run(cfg, outside)
    assert any(r.motion for r in res)
    # The percentage is of the unmasked pixels: ~2x what the same box gives unmasked.
    unmasked = run(GateConfig(reference="previous"), outside)
    assert res[2].changed_pct == pytest.approx(2 * unmasked[2].changed_pct, rel=0.05)


def test_fully_masked_plane_reports_zero_and_never_opens() -> None:
    everything = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]
    rng = np.random.default_rng(0)
    planes = [rng.integers(0, 256, (30, 40), dtype=np.uint8) for _ in range(10)]
    res = run(GateConfig(masks=[everything]), planes)
    assert all(r.changed_pct == 0.0 and not r.motion and r.box is None for r in res)


def test_zones_name_where_it_moved_in_config_order() -> None:
    scene = textured()
    zones = [
        ZoneConfig(name="right", polygon=[(0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)]),
        ZoneConfig(name="left", polygon=[(0.0, 0.0), (0.5, 0.0), (0.5, 1.0), (0.0, 1.0)]),
        ZoneConfig(name="top", polygon=[(0.0, 0.0), (1.0, 0.0), (1.0, 0.1), (0.0, 0.1)]),
    ]
    cfg = GateConfig(zones=zones, reference="previous")
    res = run(cfg, [scene, with_box(scene, 10, 40, 15, 15), with_box(scene, 70, 40, 30, 15)])
    assert res[1].zones == ("left",)
    assert res[2].zones == ("right", "left")  # box left, then the old spot (left) clears


def test_masks_are_built_once_per_size_not_per_frame() -> None:
    cfg = GateConfig(masks=[[(0.0, 0.0), (0.5, 0.0), (0.5, 0.5)]])
    gate = FrameDifferenceGate(cfg)
    scene = textured()
    gate.process_plane(scene)
    first = gate._masks
    for _ in range(5):
        gate.process_plane(scene)
    assert gate._masks is first
    gate.process_plane(textured(40, 60))
    assert gate._masks is not first and gate._masks is not None
    assert gate._masks.active255 is not None and gate._masks.active255.shape == (40, 60)


def test_mask_set_counts() -> None:
    ms = build_mask_set(
        [[(0.0, 0.0), (1.0, 0.0), (1.0, 0.5), (0.0, 0.5)]],
        [("all", [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)])],
        10,
        10,
    )
    assert ms.total == 10 * 4  # rows 0..5 masked (row 5 is the edge at y=0.5*10)
    assert ms.zone_totals == (40,)
