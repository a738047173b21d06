"""Opening needs k of the last n moving frames; closing needs close_after quiet frames."""

from __future__ import annotations

import pytest
from gatehelp import run, textured, with_box

from visionedge.config import GateConfig
from visionedge.gate import Hysteresis


def _open_states(h: Hysteresis, motion: list[bool], quiet: list[bool] | None = None) -> list[bool]:
    quiet = quiet if quiet is not None else [not m for m in motion]
    return [h.step(m, q).open for m, q in zip(motion, quiet, strict=True)]


def test_k_of_n_opens_only_with_enough_moving_frames_in_the_window() -> None:
    h = Hysteresis(k=2, n=3, close_after=2)
    # T F F T: the two trues are 3 apart, never 2 within 3 frames.
    assert _open_states(h, [True, False, False, True]) == [False] * 4
    # ...then T F T: two in the last three.
    assert _open_states(h, [False, True]) == [False, True]


def test_single_frame_spikes_do_not_open_with_k2() -> None:
    h = Hysteresis(k=2, n=3, close_after=3)
    assert not any(_open_states(h, [True, False, False] * 10))


def test_closes_after_close_after_consecutive_quiet_frames_and_a_busy_frame_restarts_the_count() -> (
    None
):
    h = Hysteresis(k=1, n=1, close_after=3)
    assert h.step(True, False).opened
    assert _open_states(h, [False, False], [True, True]) == [True, True]
    assert h.quiet == 2
    assert h.step(False, False).open  # not quiet (above stop_pct) resets the count
    assert h.quiet == 0
    out = [h.step(False, True) for _ in range(3)]
    assert [t.open for t in out] == [True, True, False]
    assert out[-1].closed and not out[0].closed
    assert h.window == (False,)


def test_window_is_cleared_on_close_so_stale_motion_does_not_reopen() -> None:
    h = Hysteresis(k=2, n=4, close_after=1)
    assert _open_states(h, [True, True]) == [False, True]
    assert h.step(False, True).closed
    assert h.window == (False, False, False, False)
    assert not h.step(True, False).open


@pytest.mark.parametrize(("k", "n"), [(0, 3), (4, 3)])
def test_invalid_parameters_are_rejected(k: int, n: int) -> None:
    with pytest.raises(ValueError):
        Hysteresis(k=k, n=n, close_after=1)


def test_gate_stays_open_while_motion_is_above_stop_pct_but_below_start_pct() -> None:
    scene = textured()
    total = scene.size
    # A moving 10x10 box changes well over 0.5 % of 160x90; a moving 4x4 one (old and new
    # spot, blurred edges) between 0.15 % and 0.5 %.
    big = [with_box(scene, 10 + 12 * i, 20, 10, 10) for i in range(4)]
    small = [with_box(scene, 10 + 7 * (i % 12), 60, 4, 4) for i in range(30)]
    cfg = GateConfig(start_pct=0.5, stop_pct=0.15, close_after_s=0.3, reference="previous")
    assert 100 * 2 * 16 / total > cfg.stop_pct
    results = run(cfg, [scene, scene, *big, *small, *[scene] * 5])
    after = results[2 + len(big) : 2 + len(big) + len(small)]
    assert results[3].opened
    assert all(r.motion for r in after)  # small motion keeps it open
    # ...though no frame alone counts as moving (the first still sees the big box leave).
    assert not any(r.frame_motion for r in after[1:])
    assert all(cfg.stop_pct <= r.changed_pct < cfg.start_pct for r in after[1:])
    assert results[-1].motion is False and any(r.closed for r in results[-5:])


def test_a_still_scene_never_opens_and_reports_zero() -> None:
    scene = textured()
    results = run(GateConfig(), [scene] * 40)
    assert not any(r.motion or r.frame_motion for r in results)
    assert {r.changed_pct for r in results} == {0.0}
