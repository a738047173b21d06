"""The motion plane (§1) is bit-exact with the integer formula of the spec."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from visionedge.errors import FrameError
from visionedge.gate import plane_factor, to_gray, to_motion_plane
from visionedge.gate.plane import AREA_EXACT_FACTORS
from visionedge.gate.reference import ref_gray, ref_motion_plane


def _blocks_with_every_sum(f: int, cols: int) -> np.ndarray:
    """An image of ``cols`` blocks per row whose f x f blocks take every sum 0 .. 255*f*f."""
    area = f * f
    sums = np.arange(255 * area + 1)
    blocks = np.zeros((len(sums), area), np.int64)
    rem = sums.copy()
    for i in range(area):
        v = np.minimum(rem, 255)
        blocks[:, i] = v
        rem -= v
    rows = -(-len(sums) // cols)
    padded = np.zeros((rows * cols, area), np.int64)
    padded[: len(sums)] = blocks
    img = padded.reshape(rows, cols, f, f).transpose(0, 2, 1, 3).reshape(rows * f, cols * f)
    return img.astype(np.uint8)


@pytest.mark.parametrize("f", sorted(AREA_EXACT_FACTORS))
@pytest.mark.parametrize("cols", [64, 61, 13, 1])
def test_area_resize_factors_are_exact_for_every_block_sum(f: int, cols: int) -> None:
    # Several row widths put every sum both in OpenCV's vector loop and in its scalar tail.
    img = _blocks_with_every_sum(f, cols)
    target = img.shape[1] // f
    assert plane_factor(img.shape[1], target) == f
    got = to_motion_plane(img, target)
    area = f * f
    h, w = img.shape[0] // f, img.shape[1] // f
    sums = img.reshape(h, f, w, f).sum(axis=(1, 3), dtype=np.int64)
    assert np.array_equal(got, ((sums + area // 2) // area).astype(np.uint8))


@pytest.mark.parametrize("f", [1, 2, 3, 4, 5, 7])
def test_plane_matches_the_literal_spec(f: int) -> None:
    rng = np.random.default_rng(f)
    img = rng.integers(0, 256, (9 * f + f - 1, 13 * f + 1), dtype=np.uint8)
    target = img.shape[1] // f
    assert np.array_equal(to_motion_plane(img, target), ref_motion_plane(img, target))


def test_factor_rounds_half_up() -> None:
    assert plane_factor(640, 320) == 2
    assert plane_factor(480, 320) == 2  # 1.5 rounds up
    assert plane_factor(479, 320) == 1
    assert plane_factor(100, 320) == 1
    assert plane_factor(1920, 320) == 6


def test_gray_is_the_15_bit_formula() -> None:
    # Every colour would be 16 M pixels; a seeded million plus the corners is enough to catch
    # a different rounding (the 14-bit form differs on ~0.3 % of colours).
    rng = np.random.default_rng(7)
    img = rng.integers(0, 256, (1000, 1000, 3), dtype=np.uint8)
    img[0, :8] = [[b, g, r] for b in (0, 255) for g in (0, 255) for r in (0, 255)]
    assert np.array_equal(to_gray(img), ref_gray(img))


def test_bgr_frame_becomes_the_plane_of_its_gray() -> None:
    rng = np.random.default_rng(3)
    img = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    plane = to_motion_plane(img, 320)
    assert plane.shape == (180, 320)
    assert np.array_equal(plane, ref_motion_plane(ref_gray(img), 320, full_range=True))


def test_full_range_levels_map_to_limited_range_luma() -> None:
    # Every level, straight (f = 1) and after a 2x and a 4x downscale.
    levels = np.arange(256, dtype=np.uint8).reshape(16, 16)
    got = to_motion_plane(levels, 16, full_range=True)
    assert [int(v) for v in got.reshape(-1)[[0, 1, 128, 254, 255]]] == [16, 17, 126, 234, 235]
    assert np.array_equal(got, ref_motion_plane(levels, 16, full_range=True))
    rng = np.random.default_rng(5)
    for f in (2, 4):
        img = rng.integers(0, 256, (12 * f, 20 * f), dtype=np.uint8)
        assert np.array_equal(
            to_motion_plane(img, 20, full_range=True), ref_motion_plane(img, 20, full_range=True)
        )
    # Limited-range luma (a decoder's Y plane) is taken as it is.
    assert np.array_equal(to_motion_plane(levels, 16), levels)


@pytest.mark.parametrize(
    ("image", "fragment"),
    [
        (np.zeros((4, 4), np.float32), "dtype"),
        (np.zeros((4, 4, 4), np.uint8), "shape"),
        (np.zeros((0, 4), np.uint8), "empty"),
        (np.zeros(5, np.uint8), "shape"),
        (np.zeros((1, 3), np.uint8), "smaller than one"),
    ],
)
def test_bad_images_raise_frame_error(image: np.ndarray, fragment: str) -> None:
    target = 1 if fragment == "smaller than one" else 4
    with pytest.raises(FrameError, match=fragment):
        to_motion_plane(image, target)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40))),
    st.integers(1, 20),
)
def test_any_gray_image_either_works_exactly_or_raises(img: np.ndarray, target: int) -> None:
    try:
        got = to_motion_plane(img, target)
    except FrameError:
        f = plane_factor(img.shape[1], target)
        assert img.shape[0] < f or img.shape[1] < f
        return
    assert np.array_equal(got, ref_motion_plane(img, target))
