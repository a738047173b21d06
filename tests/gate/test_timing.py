"""Gate settings in seconds become frame counts at the source's rate (issue 10 item 23)."""

from __future__ import annotations

import numpy as np
import pytest

from visionedge.config import GateConfig, TamperConfig, parse_config
from visionedge.errors import ConfigError
from visionedge.gate import FrameDifferenceGate
from visionedge.gate.timing import frame_counts, seconds_to_frames


def test_seconds_round_half_up_to_at_least_one_frame() -> None:
    assert seconds_to_frames(0.3, 30.0) == 9
    assert seconds_to_frames(0.3, 10.0) == 3  # 3.0000000000000004 frames
    assert seconds_to_frames(0.25, 10.0) == 3  # 2.5 rounds up
    assert seconds_to_frames(0.01, 5.0) == 1
    with pytest.raises(ValueError, match="frame rate"):
        seconds_to_frames(1.0, 0.0)


def test_the_same_seconds_close_after_the_same_time_at_any_rate() -> None:
    cfg = GateConfig(close_after_s=0.5, k=1, n=1, reference="previous", blur=False,
                     tamper=TamperConfig(enabled=False))
    still = np.full((40, 40), 100, np.uint8)
    moved = still.copy()
    moved[:20, :20] = 200
    for fps in (5.0, 10.0, 30.0):
        gate = FrameDifferenceGate(cfg, fps=fps)
        gate.process_plane(still)
        assert gate.process_plane(moved).opened
        quiet = 0
        while True:
            quiet += 1
            if gate.process_plane(moved).closed:
                break
        assert quiet == int(0.5 * fps + 0.5)  # 2.5 frames at 5 fps round up to 3
        assert gate.counts.close_after == quiet


def test_set_fps_converts_again_and_keeps_the_history() -> None:
    gate = FrameDifferenceGate(GateConfig(close_after_s=1.0, tamper=TamperConfig(check_every_s=1.0,
                                                                                persist_s=3.0)))
    assert (gate.counts.close_after, gate.counts.check_every, gate.counts.persist_frames) == (10, 10, 30)
    plane = np.full((30, 30), 90, np.uint8)
    gate.process_plane(plane)
    gate.set_fps(25.0)
    assert gate.frames_seen == 1
    assert (gate.counts.close_after, gate.counts.check_every, gate.counts.persist_frames) == (25, 25, 75)
    assert gate.hysteresis.close_after == 25 and gate.tamper.need == 3
    c = frame_counts(gate.cfg, 25.0)
    assert c == gate.counts


@pytest.mark.parametrize(
    ("section", "old", "new"),
    [
        ("gate", "close_after", "gate.close_after_s"),
        ("gate.tamper", "check_every", "gate.tamper.check_every_s"),
        ("gate.tamper", "persist_frames", "gate.tamper.persist_s"),
    ],
)
def test_the_old_frame_keys_name_their_replacement(section: str, old: str, new: str) -> None:
    data: dict[str, object] = {old: 5}
    for part in reversed(section.split(".")):
        data = {part: data}
    with pytest.raises(ConfigError) as err:
        parse_config(data, "cam.toml")
    msg = str(err.value)
    assert f"{section}.{old} (frames) was replaced by {new} (seconds" in msg
    assert msg.startswith("cam.toml: ") and "\n" not in msg and err.value.exit_code == 3


def test_the_firmware_gets_frames_at_the_board_rate() -> None:
    from visionedge.config import Config
    from visionedge.firmware_config import build_spec, render_header, render_params

    cfg = Config(gate=GateConfig(close_after_s=0.5, tamper=TamperConfig(check_every_s=1.0,
                                                                        persist_s=2.0)))
    params = render_params(build_spec(cfg, 32, 24, fps=30.0)).splitlines()
    assert "close_after 15" in params
    assert "tamper_check_every 30" in params and "tamper_persist_frames 60" in params
    # Without --fps: source.fps (10 by default).
    assert "close_after 5" in render_params(build_spec(cfg, 32, 24)).splitlines()
    assert "p.close_after = 15;" in render_header(build_spec(cfg, 32, 24, fps=30.0))
