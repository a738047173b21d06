"""The fast gate equals the literal spec (visionedge.gate.reference) bit for bit.

The reference is the firmware port's oracle too, so this is the Python half of the parity
contract of docs/gate-algorithm.md.
"""

from __future__ import annotations

from collections.abc import Mapping

import cv2
import numpy as np
import pytest
from gatehelp import textured, with_box
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from visionedge.config import GateConfig, TamperConfig, ZoneConfig
from visionedge.gate import FrameDifferenceGate
from visionedge.gate.reference import ReferenceGate, RefResult, ref_blur
from visionedge.protocols import GateResult


@settings(max_examples=60, deadline=None, derandomize=True)
@given(arrays(np.uint8, st.tuples(st.integers(1, 24), st.integers(1, 24))))
def test_blur_is_the_spec_formula(plane: np.ndarray) -> None:
    assert np.array_equal(cv2.GaussianBlur(plane, (3, 3), 0), ref_blur(plane))


def test_blur_on_a_full_size_plane() -> None:
    plane = np.random.default_rng(5).integers(0, 256, (180, 320), dtype=np.uint8)
    assert np.array_equal(cv2.GaussianBlur(plane, (3, 3), 0), ref_blur(plane))


def _as_ref(r: GateResult) -> RefResult:
    box = None if r.box is None else (r.box.x0, r.box.y0, r.box.x1, r.box.y1)
    return RefResult(
        r.changed_pct,
        r.motion,
        r.frame_motion,
        r.opened,
        r.closed,
        r.reason,
        box,
        r.zones,
        r.tamper.value,
        r.tamper_reason,
    )


def _compare(
    cfg: GateConfig,
    planes: list[np.ndarray],
    metas: list[Mapping[str, float] | None] | None = None,
) -> list[RefResult]:
    fast, ref = FrameDifferenceGate(cfg), ReferenceGate(cfg)
    out = []
    for i, p in enumerate(planes):
        m = metas[i] if metas else None
        a, b = _as_ref(fast.process_plane(p, i, m)), ref.step(p, m)
        assert a == b, f"frame {i}: fast {a} != spec {b}"
        out.append(b)
    return out


def _story(h: int = 60, w: int = 96, seed: int = 0) -> list[np.ndarray]:
    """Still, a box crossing, still, a light switch, a cover, a new view, back."""
    rng = np.random.default_rng(seed)
    scene = textured(h, w, seed)
    other = textured(h, w, seed + 100)
    frames: list[np.ndarray] = []

    def noisy(p: np.ndarray) -> np.ndarray:
        return np.clip(p.astype(np.int16) + rng.integers(-3, 4, p.shape), 0, 255).astype(np.uint8)

    frames += [noisy(scene) for _ in range(6)]
    frames += [noisy(with_box(scene, 4 * i, 20, 14, 22)) for i in range(20)]
    frames += [noisy(scene) for _ in range(25)]
    dim = (scene.astype(np.float64) * 0.6).astype(np.uint8)
    frames += [noisy(dim) for _ in range(12)]
    frames += [np.full((h, w), 8, np.uint8) for _ in range(25)]
    frames += [noisy(scene) for _ in range(12)]
    frames += [noisy(other) for _ in range(40)]
    frames += [noisy(scene) for _ in range(20)]
    return frames


@pytest.mark.parametrize("reference", ["previous", "background", "both"])
@pytest.mark.parametrize("blur", [True, False])
def test_gate_equals_spec_on_a_story(reference: str, blur: bool) -> None:
    cfg = GateConfig(
        reference=reference,  # type: ignore[arg-type]
        blur=blur,
        background_step=3,
        close_after_s=0.5,
        tamper=TamperConfig(check_every_s=0.3, persist_s=0.6, focus_min=4.0),
        masks=[[(0.0, 0.0), (0.2, 0.0), (0.2, 0.3)]],
        zones=[
            ZoneConfig(name="left", polygon=[(0, 0), (0.5, 0), (0.5, 1), (0, 1)]),
            ZoneConfig(name="right", polygon=[(0.5, 0), (1, 0), (1, 1), (0.5, 1)]),
        ],
    )
    results = _compare(cfg, _story())
    # The story exercises every branch the parity covers.
    assert any(r.opened for r in results) and any(r.closed for r in results)
    assert {r.reason for r in results} >= {"motion", "global_change"}
    assert {r.tamper_reason for r in results} >= {"dark", "scene_changed"}
    assert any(r.zones for r in results)


def test_gate_equals_spec_with_exposure_metadata() -> None:
    planes = _story()[:40]
    metas: list[Mapping[str, float] | None] = []
    for i in range(len(planes)):
        if i % 7 == 3:
            metas.append(None)
        else:
            metas.append(
                {"ExposureTime": 10000.0 * (2.0 if 15 <= i < 22 else 1.0), "AnalogueGain": 1.5}
            )
    results = _compare(GateConfig(), planes, metas)
    assert [r.reason for r in results].count("exposure_change") == 2


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    st.integers(0, 2**32 - 1),
    st.sampled_from(["previous", "background", "both"]),
    st.integers(1, 60),
    st.integers(1, 5),
)
def test_gate_equals_spec_on_random_sequences(
    seed: int, reference: str, threshold: int, step: int
) -> None:
    rng = np.random.default_rng(seed)
    h, w = int(rng.integers(1, 30)), int(rng.integers(1, 30))
    base = rng.integers(0, 256, (h, w), dtype=np.uint8)
    planes = []
    for _ in range(25):
        p = base.copy()
        k = int(rng.integers(0, 4))
        if k == 1:
            p = rng.integers(0, 256, (h, w), dtype=np.uint8)
        elif k == 2:
            y, x = int(rng.integers(0, h)), int(rng.integers(0, w))
            p[y : y + 5, x : x + 5] = rng.integers(0, 256)
        planes.append(p)
    cfg = GateConfig(
        reference=reference,  # type: ignore[arg-type]
        pixel_threshold=threshold,
        background_step=step,
        start_pct=1.0,
        stop_pct=0.5,
        close_after_s=0.3,
        tamper=TamperConfig(check_every_s=0.2, persist_s=0.3),
    )
    _compare(cfg, planes)
