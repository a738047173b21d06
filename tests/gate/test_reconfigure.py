"""Runtime reconfiguration keeps history; a new plane size re-baselines; reset forgets."""

from __future__ import annotations

import numpy as np
from gatehelp import textured, with_box

from visionedge.config import GateConfig, TamperConfig, ZoneConfig
from visionedge.frame import Frame
from visionedge.gate import FrameDifferenceGate
from visionedge.protocols import TamperState


def test_reconfigure_keeps_the_open_state_and_background() -> None:
    scene = textured()
    gate = FrameDifferenceGate(GateConfig())
    for i in range(3):
        gate.process_plane(scene, i)
    for i in range(3, 6):
        r = gate.process_plane(with_box(scene, 10 * i, 20, 20, 20), i)
    assert r.motion
    bg = gate.background
    gate.reconfigure(GateConfig(pixel_threshold=40, start_pct=2.0, stop_pct=1.0))
    assert gate.is_open and gate.frames_seen == 6
    assert np.array_equal(gate.background, bg)
    # The new threshold applies at once: the same box change is now too small to count.
    r = gate.process_plane(with_box(scene, 60, 20, 5, 5), 6)
    assert r.motion and not r.frame_motion


def test_reconfigure_with_new_zones_rasterises_them() -> None:
    scene = textured()
    gate = FrameDifferenceGate(GateConfig(reference="previous"))
    gate.process_plane(scene, 0)
    zone = ZoneConfig(name="all", polygon=[(0, 0), (1, 0), (1, 1), (0, 1)])
    gate.reconfigure(GateConfig(reference="previous", zones=[zone]))
    assert gate.process_plane(with_box(scene, 10, 10, 30, 30), 1).zones == ("all",)


def test_reconfigure_blur_resets_because_planes_are_not_comparable() -> None:
    gate = FrameDifferenceGate(GateConfig())
    gate.process_plane(textured(), 0)
    gate.reconfigure(GateConfig(blur=False))
    assert gate.frames_seen == 0


def test_a_new_plane_size_rebaselines_instead_of_failing() -> None:
    gate = FrameDifferenceGate(GateConfig())
    for i in range(3):
        gate.process_plane(textured(), i)
    r = gate.process_plane(textured(60, 100, seed=5), 3)
    assert r.changed_pct == 0.0 and not r.frame_motion and gate.frames_seen == 1
    assert gate.process_plane(textured(60, 100, seed=5), 4).changed_pct == 0.0


def test_reset_makes_the_next_frame_the_baseline() -> None:
    scene = textured()
    gate = FrameDifferenceGate(GateConfig())
    gate.process_plane(scene, 0)
    gate.reset()
    assert gate.process_plane(with_box(scene, 0, 0, 80, 40), 1).changed_pct == 0.0


def test_process_reads_the_frame_plane_index_and_metadata() -> None:
    scene = textured()
    gate = FrameDifferenceGate(GateConfig())

    def image() -> np.ndarray:
        raise AssertionError("the gate must not fetch the full image")

    meta = {"ExposureTime": 1000.0, "AnalogueGain": 1.0}
    gate.process(Frame(index=7, ts_ms=700, plane=scene, _image=image, metadata=meta))
    jump = {"ExposureTime": 4000.0, "AnalogueGain": 1.0}
    r = gate.process(Frame(index=8, ts_ms=800, plane=scene, _image=image, metadata=jump))
    assert r.index == 8 and r.reason == "exposure_change"


def test_disabling_tamper_at_run_time_clears_a_tamper_state() -> None:
    cfg = GateConfig(tamper=TamperConfig(check_every_s=0.1, persist_s=0.2))
    gate = FrameDifferenceGate(cfg)
    dark = np.full((30, 40), 5, np.uint8)
    for i in range(4):
        r = gate.process_plane(dark, i)
    assert r.tamper is TamperState.TAMPER
    gate.reconfigure(GateConfig(tamper=TamperConfig(enabled=False)))
    assert gate.process_plane(dark, 4).tamper is TamperState.OK
