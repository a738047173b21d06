"""The compiled gate core (visionedge.gate._native) gives the same bytes as the numpy path and
the spec's literal reference, and the package ships it built.

Both paths run side by side on the same planes; every reported field, the motion regions and
the background plane must be equal, and both must equal :class:`ReferenceGate`.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
from gatehelp import textured, with_box
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from visionedge.config import GateConfig, TamperConfig, ZoneConfig
from visionedge.errors import ConfigError, FrameError
from visionedge.gate import FrameDifferenceGate, RegionFinder, native
from visionedge.gate.plane import _box_means, to_motion_plane
from visionedge.gate.reference import ReferenceGate, ref_motion_plane
from visionedge.protocols import GateResult


def test_the_package_has_the_compiled_gate() -> None:
    # CI builds the package with g++ and the Python headers (scripts/setup.sh): the extension
    # must be there, and a gate built with the default environment must use it.
    assert native.native_module() is not None, (
        "visionedge.gate._native is not built: pip install -e . needs g++ and python3-dev"
    )
    assert FrameDifferenceGate(GateConfig(), native=None).native or native.want_native() is False
    assert FrameDifferenceGate(GateConfig(), native=True).native
    assert not FrameDifferenceGate(GateConfig(), native=False).native


def test_the_environment_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(native.ENV, "off")
    assert not FrameDifferenceGate(GateConfig()).native
    monkeypatch.setenv(native.ENV, "on")
    assert FrameDifferenceGate(GateConfig()).native
    monkeypatch.setenv(native.ENV, "fast")
    with pytest.raises(ConfigError, match="auto, on or off"):
        FrameDifferenceGate(GateConfig())
    # Asking for the extension where it is missing is an error, not a silent fallback.
    monkeypatch.setenv(native.ENV, "on")
    monkeypatch.setattr(native, "native_module", lambda: None)
    with pytest.raises(ConfigError, match="not built"):
        FrameDifferenceGate(GateConfig())
    monkeypatch.setenv(native.ENV, "auto")
    assert not FrameDifferenceGate(GateConfig()).native  # the fallback


def _fields(r: GateResult) -> tuple[object, ...]:
    return (
        r.changed_pct, r.motion, r.frame_motion, r.opened, r.closed, r.reason, r.box,
        r.regions, r.zones, r.tamper, r.tamper_reason,
    )


def _both(
    cfg: GateConfig,
    planes: list[np.ndarray],
    metas: list[Mapping[str, float] | None] | None = None,
) -> list[GateResult]:
    fast = FrameDifferenceGate(cfg, native=True)
    slow = FrameDifferenceGate(cfg, native=False)
    ref = ReferenceGate(cfg)
    out = []
    for i, p in enumerate(planes):
        m = metas[i] if metas else None
        a, b, r = fast.process_plane(p, i, m), slow.process_plane(p, i, m), ref.step(p, m)
        assert _fields(a) == _fields(b), f"frame {i}: native {a} != numpy {b}"
        got = (a.changed_pct, a.motion, a.frame_motion, a.opened, a.closed, a.reason)
        assert got == (r.changed_pct, r.motion, r.frame_motion, r.opened, r.closed, r.reason)
        assert (a.zones, a.tamper.value, a.tamper_reason) == (r.zones, r.tamper, r.tamper_reason)
        fb, sb = fast.background, slow.background
        assert fb is not None and sb is not None and np.array_equal(fb, sb), f"frame {i}: bg"
        out.append(a)
    return out


def _story(h: int, w: int, seed: int) -> tuple[list[np.ndarray], list[Mapping[str, float] | None]]:
    """Still, a box crossing, a light switch, an exposure jump, a cover, a flat and a blurred
    picture, a new view, back; with camera metadata on most frames."""
    rng = np.random.default_rng(seed)
    scene, other = textured(h, w, seed), textured(h, w, seed + 100)

    def noisy(p: np.ndarray) -> np.ndarray:
        return np.clip(p.astype(np.int16) + rng.integers(-3, 4, p.shape), 0, 255).astype(np.uint8)

    frames = [noisy(scene) for _ in range(5)]
    frames += [noisy(with_box(scene, (3 * i) % w, h // 4, w // 6, h // 3)) for i in range(18)]
    frames += [noisy(scene) for _ in range(12)]
    frames += [noisy((scene * 0.6).astype(np.uint8)) for _ in range(8)]
    frames += [noisy(scene) for _ in range(8)]
    frames += [np.full((h, w), 8, np.uint8) for _ in range(12)]
    frames += [np.full((h, w), 128, np.uint8) for _ in range(12)]
    smooth = np.clip(scene.astype(np.int16) // 16 + 100, 0, 255).astype(np.uint8)
    frames += [smooth for _ in range(12)]
    frames += [noisy(other) for _ in range(25)]
    frames += [noisy(scene) for _ in range(12)]
    metas: list[Mapping[str, float] | None] = [
        None if i % 9 == 4 else
        {"ExposureTime": 8000.0 * (2.5 if 40 <= i < 44 else 1.0), "AnalogueGain": 2.0}
        for i in range(len(frames))
    ]
    return frames, metas


ZONES = [
    ZoneConfig(name="left", polygon=[(0, 0), (0.5, 0), (0.5, 1), (0, 1)]),
    ZoneConfig(name="box", polygon=[(0.2, 0.2), (0.8, 0.2), (0.8, 0.7), (0.2, 0.7)]),
]


@pytest.mark.parametrize("reference", ["previous", "background", "both"])
@pytest.mark.parametrize("blur", [True, False])
@pytest.mark.parametrize("masked", [True, False])
def test_native_equals_numpy_and_spec_on_a_story(reference: str, blur: bool, masked: bool) -> None:
    cfg = GateConfig(
        reference=reference,  # type: ignore[arg-type]
        blur=blur,
        background_step=2,
        close_after_s=0.4,
        min_region_pct=0.2,
        tamper=TamperConfig(check_every_s=0.2, persist_s=0.4, focus_min=6.0),
        masks=[[(0.0, 0.0), (0.3, 0.0), (0.3, 0.2)]] if masked else [],
        zones=ZONES,
    )
    planes, metas = _story(72, 128, 3)
    results = _both(cfg, planes, metas)
    assert any(r.opened for r in results) and any(r.closed for r in results)
    assert {r.reason for r in results} >= {"motion", "global_change", "exposure_change"}
    assert {r.tamper_reason for r in results} >= {"dark", "flat", "scene_changed"}
    assert any(r.regions for r in results) and any(r.zones for r in results)


def test_native_equals_numpy_with_odd_sizes_and_every_frame_checked() -> None:
    cfg = GateConfig(
        pixel_threshold=9, start_pct=0.5, global_pct=40.0, background_step=5,
        tamper=TamperConfig(check_every_s=0.01, persist_s=0.01, focus_min=30.0),
        zones=ZONES,
    )
    for h, w in ((1, 1), (1, 7), (7, 1), (2, 2), (3, 5), (17, 33), (181, 321)):
        planes, metas = _story(h, w, h * w)
        _both(cfg, planes[:60], metas[:60])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    st.integers(1, 20),
    st.integers(1, 20),
    st.integers(0, 2**32 - 1),
    st.sampled_from(["previous", "background", "both"]),
    st.integers(1, 254),
    st.integers(1, 64),
)
def test_native_equals_numpy_on_random_planes(
    h: int, w: int, seed: int, reference: str, threshold: int, step: int
) -> None:
    rng = np.random.default_rng(seed)
    cfg = GateConfig(
        reference=reference,  # type: ignore[arg-type]
        pixel_threshold=threshold,
        background_step=step,
        global_pct=90.0,
        tamper=TamperConfig(check_every_s=0.05, persist_s=0.1),
        masks=[[(0.0, 0.0), (0.6, 0.0), (0.0, 0.6)]],
        zones=ZONES,
    )
    planes = [rng.integers(0, 256, (h, w), dtype=np.uint8) for _ in range(8)]
    _both(cfg, planes)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 60))), st.integers(1, 12),
       st.booleans())
def test_native_downscale_is_the_spec(gray: np.ndarray, target: int, full: bool) -> None:
    f = max(1, int(gray.shape[1] / target + 0.5))
    if gray.shape[0] // f == 0:  # smaller than one block: both paths refuse it alike
        for nat in (True, False):
            with pytest.raises(FrameError, match="smaller than one"):
                to_motion_plane(gray, target, full_range=full, native=nat)
        return
    a = to_motion_plane(gray, target, full_range=full, native=True)
    assert np.array_equal(a, ref_motion_plane(gray, target, full))
    assert np.array_equal(a, to_motion_plane(gray, target, full_range=full, native=False))


@pytest.mark.parametrize("f", [2, 3, 4, 5, 6, 7, 8, 11, 12, 16])
def test_native_downscale_rounds_every_block_sum(f: int) -> None:
    # One f x f block per possible sum 0..255*f*f: the exact multiply-shift must round each
    # (s + f*f/2) // (f*f) like the integer division.
    area = f * f
    sums = np.arange(255 * area + 1)
    cols = 64
    rows = -(-len(sums) // cols)
    sums = np.concatenate([sums, np.zeros(rows * cols - len(sums), dtype=sums.dtype)])
    base, extra = sums // area, sums % area
    blocks = np.repeat(base[:, None], area, axis=1)
    blocks = blocks + (np.arange(area)[None, :] < extra[:, None])
    img = blocks.reshape(rows, cols, f, f).transpose(0, 2, 1, 3).reshape(rows * f, cols * f)
    img = img.astype(np.uint8)
    a = to_motion_plane(img, cols, native=True)
    assert np.array_equal(a, _box_means(img, f))
    assert np.array_equal(a.ravel()[: 255 * area + 1], (np.arange(255 * area + 1) + area // 2) // area)


def test_native_downscale_reads_padded_decoder_rows() -> None:
    # A decoder's Y plane is a view with padded rows (line size > width).
    rng = np.random.default_rng(7)
    padded = rng.integers(0, 256, (360, 1280 + 64), dtype=np.uint8)
    y = padded[:, :1280]
    for full in (False, True):
        a = to_motion_plane(y, 320, full_range=full, native=True)
        assert np.array_equal(a, to_motion_plane(y, 320, full_range=full, native=False))
    cols = rng.integers(0, 256, (90, 200), dtype=np.uint8)[:, ::2]  # not even rows contiguous
    assert np.array_equal(
        to_motion_plane(cols, 25, native=True), to_motion_plane(cols, 25, native=False)
    )


def test_bad_buffers_raise_instead_of_reading_past_them() -> None:
    mod = native.native_module()
    assert mod is not None
    small, plane = np.zeros(10, np.uint8), np.zeros((4, 4), np.uint8)
    with pytest.raises(ValueError, match="bytes"):
        mod.gate_pass(plane, small, plane, plane, plane, None, None, 4, 4, 0, 10, 1, 1, True,
                      False, False)
    with pytest.raises(ValueError, match="bytes"):
        mod.downscale(np.zeros((8, 8), np.uint8), 2, False, small[:3])


@settings(max_examples=80, deadline=None, derandomize=True)
@given(
    st.integers(8, 70),
    st.integers(8, 90),
    st.integers(0, 2**32 - 1),
    st.integers(1, 6),
    st.integers(0, 40),
)
def test_native_regions_equal_the_numpy_finder(
    h: int, w: int, seed: int, blobs: int, min_area: int
) -> None:
    # Random blobs and specks: components, leftovers of the last cell row/column, the
    # min_area filter and the sort order must all come out the same.
    rng = np.random.default_rng(seed)
    changed = np.zeros((h, w), np.uint8)
    for _ in range(blobs):
        x, y = int(rng.integers(0, w)), int(rng.integers(0, h))
        changed[y : y + int(rng.integers(1, 14)), x : x + int(rng.integers(1, 14))] = 255
    changed[rng.random((h, w)) < 0.01] = 255
    finder = RegionFinder(h, w)
    mod = native.native_module()
    assert mod is not None
    expected = finder.find(changed, min_area)
    assert finder.find(changed, min_area, mod) == expected
    assert mod.regions(changed, w, h, min_area) == expected  # the firmware's finder itself


@pytest.mark.parametrize(("h", "w"), [(1, 1), (5, 7), (7, 300), (300, 7), (9, 9)])
def test_native_regions_on_planes_of_at_most_one_cell_row(h: int, w: int) -> None:
    # Below one 8x8 cell the firmware's finder takes the whole changed area as one region, as
    # the numpy path does; one cell row or column owns every leftover pixel.
    mod = native.native_module()
    assert mod is not None
    rng = np.random.default_rng(h * w)
    for min_area in (0, 1, 4):
        changed = np.where(rng.random((h, w)) < 0.05, 255, 0).astype(np.uint8)
        assert mod.regions(changed, w, h, min_area) == RegionFinder(h, w).find(changed, min_area)
    assert mod.regions(np.zeros((h, w), np.uint8), w, h, 0) == []


def test_planes_beyond_the_compiled_limit_take_the_numpy_regions() -> None:
    mod = native.native_module()
    assert mod is not None
    h, w = 16, mod.REGIONS_MAX_W + 8
    changed = np.zeros((h, w), np.uint8)
    changed[2:6, w - 5 : w - 1] = 255
    changed[9:15, 3:20] = 255
    finder = RegionFinder(h, w)
    assert finder.find(changed, 1, mod) == finder.find(changed, 1) == [(3, 9, 20, 15), (w - 5, 2, w - 1, 6)]
    with pytest.raises(ValueError, match="outside"):
        mod.regions(changed, w, h, 1)
