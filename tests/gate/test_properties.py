"""Properties of the gate on arbitrary input (hypothesis)."""

from __future__ import annotations

import sys
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest
from gatehelp import textured, with_box
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays, scalar_dtypes

from visionedge.config import GateConfig
from visionedge.errors import FrameError
from visionedge.gate import FrameDifferenceGate
from visionedge.protocols import MotionGate

planes = arrays(np.uint8, st.tuples(st.integers(1, 40), st.integers(1, 40)))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    planes,
    st.integers(2, 30),
    st.integers(1, 254),
    st.sampled_from(["previous", "background", "both"]),
)
def test_identical_frames_never_open_the_gate(
    plane: np.ndarray, frames: int, threshold: int, reference: str
) -> None:
    gate = FrameDifferenceGate(
        GateConfig(pixel_threshold=threshold, reference=reference, k=1, n=1)  # type: ignore[arg-type]
    )
    for i in range(frames):
        r = gate.process_plane(plane, i)
        assert not r.motion and not r.frame_motion and not r.opened
        assert r.changed_pct == 0.0 and r.box is None and r.reason == ""


@settings(
    max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(arrays(scalar_dtypes(), array_shapes(min_dims=0, max_dims=4, min_side=0, max_side=12)))
def test_any_shape_and_dtype_either_works_or_raises_frame_error(a: np.ndarray) -> None:
    gate = FrameDifferenceGate(GateConfig())
    try:
        r = gate.process_plane(a)
    except FrameError as exc:
        msg = str(exc)
        assert "motion plane" in msg and "\n" not in msg
        assert not (a.dtype == np.uint8 and a.ndim == 2 and a.size > 0)
        return
    assert a.dtype == np.uint8 and a.ndim == 2 and a.size > 0
    assert r.changed_pct == 0.0


@pytest.mark.parametrize("bad", [None, [[1, 2], [3, 4]], "plane", 3])
def test_non_arrays_raise_frame_error(bad: object) -> None:
    with pytest.raises(FrameError, match="numpy array"):
        FrameDifferenceGate(GateConfig()).process_plane(bad)  # type: ignore[arg-type]


def test_non_contiguous_planes_work_like_their_copies() -> None:
    rng = np.random.default_rng(0)
    big = rng.integers(0, 256, (60, 80), dtype=np.uint8)
    a, b = FrameDifferenceGate(GateConfig()), FrameDifferenceGate(GateConfig())
    for i in range(5):
        view = np.roll(big, i * 3, axis=1)[::2, ::-1]
        ra = replace(a.process_plane(view, i), gate_us=0.0)
        rb = replace(b.process_plane(np.ascontiguousarray(view), i), gate_us=0.0)
        assert ra == rb


def test_state_stays_bounded_over_many_frames() -> None:
    rng = np.random.default_rng(1)
    gate = FrameDifferenceGate(GateConfig(n=5, k=2))
    base = rng.integers(0, 256, (45, 80), dtype=np.uint8)
    sizes = []
    for i in range(3000):
        p = base if i % 50 < 25 else rng.integers(0, 256, (45, 80), dtype=np.uint8)
        gate.process_plane(p, i)
        if i % 500 == 499:
            sizes.append(
                (
                    len(gate.hysteresis.window),
                    sys.getsizeof(gate.hysteresis._window),
                    gate.tamper.snapshot is not None and gate.tamper.snapshot.nbytes,
                )
            )
    assert len(set(sizes)) <= 2  # the snapshot comes and goes; nothing grows
    assert all(s[0] == 5 for s in sizes)


def test_gate_implements_the_protocol() -> None:
    assert isinstance(FrameDifferenceGate(GateConfig()), MotionGate)


def test_hot_path_allocates_no_plane_sized_arrays() -> None:
    scene = textured(180, 320)
    moving = [with_box(scene, 10 + 8 * i, 40, 30, 30) for i in range(20)]
    gate = FrameDifferenceGate(GateConfig(tamper={"check_every_s": 100.0}))  # type: ignore[arg-type]
    for i in range(3):
        gate.process_plane(scene, i)
    peaks = []
    tracemalloc.start()
    try:
        for i, plane in enumerate([scene] * 20 + moving):
            base = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
            r = gate.process_plane(plane, i)
            peaks.append((tracemalloc.get_traced_memory()[1] - base, r.motion))
    finally:
        tracemalloc.stop()
    # One 320x180 plane is 57 600 bytes; a GateResult and its boxes are a few hundred.
    assert max(p for p, _ in peaks[:20]) < 8 * 1024, peaks[:20]
    assert any(m for _, m in peaks)  # the moving part did open the gate (regions computed)
