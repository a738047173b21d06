"""The capture thread's hand-off: state changes keep their place among frames and are never
dropped; a live camera that refuses to open at start is retried, not fatal (issue 10 item 14).

The camera is the scripted fake of tests/fakes (a camera that refuses its first opens),
read through the real OpenCV live source.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from visionedge.config import SourceConfig
from visionedge.frame import Frame
from visionedge.service.capture import Captured, FrameQueue, SourceState, capture
from visionedge.sources.link import LinkState
from visionedge.sources.opencv_live import OpenCVLiveSource

sys.path.insert(0, str(Path(__file__).parents[1] / "fakes"))
from fake_capture import FakeCamera


def _frame(i: int) -> Captured:
    plane = np.zeros((4, 4), np.uint8)
    return Captured(Frame(i, i * 100, plane, lambda: np.zeros((4, 4, 3), np.uint8)), float(i))


def test_states_keep_their_place_and_are_never_dropped() -> None:
    q = FrameQueue(2, latest_wins=True)
    stop = threading.Event()
    q.put(_frame(0), stop)
    q.put_state(SourceState("reconnecting", "stalled"))
    for i in range(1, 4):
        q.put(_frame(i), stop)
    q.put_state(SourceState("ok"))
    items = []
    while (item := q.get(0.01)) is not None:
        items.append(item.state if isinstance(item, SourceState) else item.frame.index)
    # Two frames fit: 0 and 1 were dropped (oldest first), the states stay in order.
    assert items == ["reconnecting", 2, 3, "ok"]
    assert q.dropped == 2 and q.arrived == 4


def test_a_camera_refusing_its_first_opens_is_retried_with_states() -> None:
    camera = FakeCamera([("refuse", 5), ("frames", 1000)])
    cfg = SourceConfig(kind="opencv", path="rtsp://cam.invalid/stream", read_timeout_s=1.0,
                       reconnect_initial_s=0.01, reconnect_max_s=0.02)
    src = OpenCVLiveSource(cfg, 32, capture_factory=camera.factory)
    q = FrameQueue(4, latest_wins=True)
    stop = threading.Event()
    link = LinkState(src.name, 0.01, 0.02, on_state=lambda s, r: q.put_state(SourceState(s, r)))
    t = threading.Thread(target=capture, args=(src, q, stop), kwargs={"retry": link})
    t.start()
    seen: list[str] = []
    frames = 0
    try:
        while frames < 3:
            item = q.get(5.0)
            assert item is not None, seen
            if isinstance(item, SourceState):
                seen.append(item.state)
                assert item.state == "ok" or "cannot open" in item.reason
            else:
                frames += 1
    finally:
        stop.set()
        src.stop()
        camera.shutdown()
        t.join(5.0)
    assert seen == ["reconnecting", "lost", "ok"]
    assert camera.opens == 6 and q.error is None


def test_without_retry_the_first_failure_ends_the_stream_with_its_error() -> None:
    camera = FakeCamera([("refuse", 1)])
    cfg = SourceConfig(kind="opencv", path="rtsp://cam.invalid/stream", read_timeout_s=1.0)
    src = OpenCVLiveSource(cfg, 32, capture_factory=camera.factory)
    q = FrameQueue(4, latest_wins=True)
    capture(src, q, threading.Event())
    assert q.drained and "cannot open" in str(q.error)


def test_an_error_retrying_cannot_fix_is_not_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    # No picamera2 package (not even the fake next to fake_capture): an installation
    # problem, not a camera that is late.
    monkeypatch.setitem(sys.modules, "picamera2", None)
    from visionedge.sources.picamera2_source import MISSING_PICAMERA2, Picamera2Source

    src = Picamera2Source(SourceConfig(kind="picamera2"), 32)
    q = FrameQueue(4, latest_wins=True)
    link = LinkState(src.name, 0.01, 0.02, on_state=lambda s, r: q.put_state(SourceState(s, r)))
    capture(src, q, threading.Event(), retry=link)
    assert q.get(0.01) is None and q.drained
    assert str(q.error) == MISSING_PICAMERA2.replace("\n", " ")
