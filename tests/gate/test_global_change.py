"""Whole-frame changes (light switch, exposure jump) re-baseline instead of opening."""

from __future__ import annotations

import numpy as np
from gatehelp import run, textured, with_box

from visionedge.config import GateConfig
from visionedge.gate import ExposureTracker, FrameDifferenceGate


def test_light_switch_is_rejected_with_reason_and_rebaselines() -> None:
    scene = textured()
    dim = (scene.astype(np.float64) * 0.5).astype(np.uint8)
    res = run(GateConfig(), [scene] * 5 + [dim] * 10)
    switch = res[5]
    assert switch.reason == "global_change" and switch.changed_pct > 50
    assert not switch.frame_motion and switch.box is None and switch.regions == ()
    # Re-baselined: the dim frames after it are still, nothing ever opened.
    assert all(r.changed_pct == 0.0 for r in res[6:])
    assert not any(r.motion for r in res)


def test_motion_right_after_a_light_switch_is_seen_against_the_new_baseline() -> None:
    scene = textured()
    dim = (scene.astype(np.float64) * 0.5).astype(np.uint8)
    frames = [scene] * 3 + [dim] * 2 + [with_box(dim, 10 + 8 * i, 30, 20, 20) for i in range(5)]
    res = run(GateConfig(), frames)
    assert res[3].reason == "global_change"
    assert any(r.opened for r in res[5:])


def test_change_just_above_global_pct_is_rejected_and_just_below_is_motion() -> None:
    scene = np.full((20, 20), 100, np.uint8)
    half = scene.copy()
    half[:, :11] = 200  # 55 % changes (blur spreads it a little more)
    res = run(GateConfig(global_pct=50.0, blur=False), [scene, half])
    assert res[1].reason == "global_change"
    res = run(GateConfig(global_pct=60.0, blur=False), [scene, half])
    assert res[1].reason == "" and res[1].frame_motion and res[1].changed_pct == 55.0


def _meta(exposure: float, gain: float = 2.0) -> dict[str, float]:
    return {"ExposureTime": exposure, "AnalogueGain": gain}


def test_exposure_jump_in_metadata_rejects_a_frame_that_looks_like_motion() -> None:
    scene = textured()
    brighter = np.clip(scene.astype(np.int16) + 40, 0, 255).astype(np.uint8)
    # Only the lower third brightens (under global_pct), as a gain step on a dark area might.
    partial = scene.copy()
    partial[60:] = brighter[60:]
    planes = [scene] * 4 + [partial] * 6
    metas = [_meta(10000)] * 4 + [_meta(20000)] + [_meta(20000)] * 5
    res = run(GateConfig(), planes, metas)
    assert res[4].reason == "exposure_change" and not res[4].frame_motion
    assert not any(r.motion for r in res)
    # Without the metadata the same frames open the gate.
    assert any(r.motion for r in run(GateConfig(), planes))


def test_small_exposure_drift_is_not_a_jump() -> None:
    tracker = ExposureTracker(jump=0.4)
    assert not tracker.update(_meta(10000))
    assert not tracker.update(_meta(12000))  # log2(1.2) = 0.26
    assert tracker.update(_meta(20000))  # log2(1.67) = 0.74
    assert not tracker.update(_meta(20000, 2.2))


def test_missing_or_invalid_metadata_is_ignored_and_keeps_the_last_product() -> None:
    tracker = ExposureTracker(jump=0.4)
    assert not tracker.update(_meta(10000))
    for bad in (None, {}, {"ExposureTime": 5.0}, _meta(0.0), _meta(float("nan")), _meta(-1)):
        assert not tracker.update(bad)
    assert tracker.last == 20000.0
    assert tracker.update(_meta(40000))


def test_reset_forgets_the_exposure() -> None:
    gate = FrameDifferenceGate(GateConfig())
    scene = textured()
    gate.process_plane(scene, 0, _meta(1000))
    gate.reset()
    assert gate.process_plane(scene, 1, _meta(8000)).reason == ""
