"""The live OpenCV source against a fake capture that stalls, dies and comes back."""

from __future__ import annotations

import random
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest

from visionedge.config import SourceConfig
from visionedge.errors import SourceError
from visionedge.frame import Frame
from visionedge.sources.link import LOST_AFTER_ATTEMPTS, LinkState, redact
from visionedge.sources.opencv_live import OpenCVLiveSource, parse_target
from visionedge.sources.pacing import Backoff

FAST = {"read_timeout_s": 0.25, "reconnect_initial_s": 0.01, "reconnect_max_s": 0.04}


def _source(camera: Any, states: list[tuple[str, str]] | None = None, **cfg: Any) -> OpenCVLiveSource:
    config = SourceConfig(kind="opencv", path="0", **{**FAST, **cfg})
    return OpenCVLiveSource(
        config,
        32,
        capture_factory=camera.factory,
        on_state=(lambda s, r: states.append((s, r))) if states is not None else None,
        rng=random.Random(1),
    )


def _take(src: OpenCVLiveSource, n: int) -> list[Frame]:
    out: list[Frame] = []
    for frame in src.frames():
        out.append(frame)
        if len(out) == n:
            break
    return out


def test_stall_death_and_return_reconnect_with_backoff_and_frames_continue(
    fake_capture: ModuleType,
) -> None:
    camera = fake_capture.FakeCamera(
        [
            ("frames", 4),
            ("stale", 10_000),  # V4L2 timeout: "success" with the old buffer, for ever
        ]
    )
    states: list[tuple[str, str]] = []
    src = _source(camera, states)
    try:
        with src:
            first = _take(src, 4)
            assert src.state == "ok"
            # The stale stretch is a stall: the reader is abandoned and the camera reopened.
            # Make the reopened camera hang in read() (dead RTSP), then die, then refuse
            # to open a few times (unplugged), then deliver again.
            with camera.lock:
                camera.script = [
                    ["hang", 5.0],
                    ["die"],
                    ["refuse", LOST_AFTER_ATTEMPTS + 1],
                    ["frames", 10_000],
                ]
            rest = _take(src, 6)
    finally:
        camera.shutdown()
    frames = first + rest
    assert [f.index for f in frames] == list(range(10))
    ts = [f.ts_ms for f in frames]
    assert ts == sorted(ts)
    kinds = [s for s, _ in states]
    # reconnecting (stale stall) → lost (after the refusals) → ok; every loss reported.
    assert kinds[0] == "reconnecting"
    assert "lost" in kinds and kinds[-1] == "ok"
    reasons = " | ".join(r for _, r in states)
    assert "no fresh frame" in reasons  # the stale buffer and the hanging read
    assert "cannot open" in reasons  # the refusals
    assert camera.opens >= 1 + 1 + 1 + LOST_AFTER_ATTEMPTS + 1
    assert src.reconnects >= 1
    assert src.stale_frames > 0
    # The hanging reader was abandoned, not waited for.
    assert src.abandoned_readers >= 1
    assert src.state == "ok"


def test_a_read_that_fails_reconnects_and_the_state_says_why(fake_capture: ModuleType) -> None:
    camera = fake_capture.FakeCamera([("frames", 2), ("die",), ("frames", 100)])
    states: list[tuple[str, str]] = []
    with _source(camera, states) as src:
        frames = _take(src, 5)
    assert [f.index for f in frames] == [0, 1, 2, 3, 4]
    assert states[0][0] == "reconnecting" and "read failed" in states[0][1]
    assert states[-1] == ("ok", "")
    assert camera.opens == 2


def test_empty_and_repeated_frames_are_dropped_not_yielded(fake_capture: ModuleType) -> None:
    camera = fake_capture.FakeCamera([("frames", 1), ("empty", 3), ("stale", 3), ("frames", 100)])
    with _source(camera, read_timeout_s=5.0) as src:
        frames = _take(src, 2)
    # Six reads reported success without a new image; none became a frame.
    assert src.stale_frames == 6
    assert [f.index for f in frames] == [0, 1]
    assert not np.array_equal(frames[0].plane, frames[1].plane)


def test_a_capture_that_raises_is_a_failed_read(fake_capture: ModuleType) -> None:
    camera = fake_capture.FakeCamera([("frames", 1), ("raise",), ("frames", 100)])
    states: list[tuple[str, str]] = []
    with _source(camera, states) as src:
        frames = _take(src, 3)
    assert len(frames) == 3
    assert "read failed" in states[0][1] and "Assertion failed" in states[0][1]


def test_frames_carry_plane_image_and_monotonic_ts(fake_capture: ModuleType) -> None:
    camera = fake_capture.FakeCamera([("frames", 100)], width=64, height=48)
    with _source(camera) as src:
        frames = _take(src, 3)
    f = frames[1]
    assert f.plane.shape == (24, 32) and f.plane.dtype == np.uint8
    assert f.image().shape == (48, 64, 3)
    assert f.source == "video0"
    assert f.metadata == {}
    assert camera.targets[0] == 0  # "0" is a device index


def test_first_open_failure_is_a_clear_error(fake_capture: ModuleType) -> None:
    camera = fake_capture.FakeCamera([("refuse", 1)])
    with pytest.raises(SourceError, match=r"video0: cannot open.*v4l2-ctl --list-devices"):
        _source(camera).start()


def test_no_first_frame_in_time_is_a_clear_error(fake_capture: ModuleType) -> None:
    camera = fake_capture.FakeCamera([("hang", 5.0)])
    try:
        with pytest.raises(SourceError, match=r"no frame within 0.25 s of opening"):
            _source(camera).start()
    finally:
        camera.shutdown()


def test_stop_from_another_thread_ends_frames_while_the_camera_is_lost(
    fake_capture: ModuleType,
) -> None:
    camera = fake_capture.FakeCamera([("frames", 1), ("die",), ("refuse", 10_000)])
    src = _source(camera, reconnect_max_s=0.05)
    got: list[int] = []

    def consume() -> None:
        for frame in src.frames():
            got.append(frame.index)

    with src:
        t = threading.Thread(target=consume)
        t.start()
        while src.state == "ok":
            t.join(0.01)
        src.stop()
        t.join(5.0)
        assert not t.is_alive()
    assert got == [0]
    # Every capture opened was released.
    assert all(c.released for c in camera.captures)


def test_parse_target() -> None:
    assert parse_target("2", check_device=False) == 2
    assert parse_target("/dev/video5", check_device=False) == "/dev/video5"
    if sys.platform.startswith("linux") and not Path("/dev/video97").exists():
        with pytest.raises(SourceError, match=r"no camera at index 97 \(/dev/video97 does not exist\)"):
            parse_target("97")
    assert parse_target("rtsp://user:pw@cam.local/stream1") == "rtsp://user:pw@cam.local/stream1"
    with pytest.raises(SourceError, match="unsupported stream scheme 'ftp'"):
        parse_target("ftp://host/x")
    with pytest.raises(SourceError, match="no such camera device"):
        parse_target("/dev/video-that-does-not-exist")


def test_a_video_file_is_redirected_to_the_file_kind(tmp_path: Path) -> None:
    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"RIFF....")
    with pytest.raises(SourceError, match=r'set source\.kind = "file"'):
        parse_target(str(clip))


def test_credentials_never_appear_in_names() -> None:
    assert redact("rtsp://admin:secret@10.0.0.5:554/h264") == "rtsp://***@10.0.0.5:554/h264"
    assert redact("http://cam/x@y") == "http://cam/x@y"
    cfg = SourceConfig(kind="opencv", path="rtsp://admin:secret@10.0.0.5/s")
    src = OpenCVLiveSource(cfg, 32, capture_factory=lambda t, c: None)  # type: ignore[arg-type,return-value]
    assert "secret" not in src.name


def test_backoff_doubles_is_capped_and_jittered() -> None:
    b = Backoff(0.5, 4.0, random.Random(3))
    nominal = []
    delays = []
    for _ in range(7):
        nominal.append(b.nominal())
        delays.append(b.next())
    assert nominal == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0, 4.0]
    assert all(n / 2 <= d <= n for n, d in zip(nominal, delays, strict=True))
    assert len(set(delays)) == len(delays)  # jittered, not a fixed ladder
    b.reset()
    assert b.nominal() == 0.5


def test_link_state_goes_reconnecting_then_lost_then_ok() -> None:
    seen: list[str] = []
    link = LinkState("cam", 0.1, 1.0, rng=random.Random(0), on_state=lambda s, r: seen.append(s))
    for _ in range(LOST_AFTER_ATTEMPTS):
        link.failed("gone")
    assert link.state == "reconnecting"
    link.failed("still gone")
    assert link.state == "lost" and link.reason == "still gone"
    link.ok()
    assert seen == ["reconnecting", "lost", "ok"]
    assert link.reconnects == 1 and link.backoff.attempts == 0
