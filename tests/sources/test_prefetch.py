"""The prefetch thread keeps order, hands over the producer's error, and stops on request."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from visionedge.errors import SourceError
from visionedge.sources.prefetch import BUDGET_ENV, Prefetcher, depth_for


def test_items_arrive_in_order_and_none_is_dropped() -> None:
    def slow_consumer_items() -> Iterator[int]:
        yield from range(200)

    got = []
    for i in Prefetcher(slow_consumer_items(), depth=2):
        if i % 50 == 0:
            time.sleep(0.01)  # the producer has to wait on the bounded queue
        got.append(i)
    assert got == list(range(200))


def test_the_producers_error_comes_after_the_items_before_it() -> None:
    def failing() -> Iterator[int]:
        yield 1
        yield 2
        raise SourceError("clip.avi: damaged; re-copy it")

    got = []
    with pytest.raises(SourceError, match="damaged"):
        for i in Prefetcher(failing()):
            got.append(i)
    assert got == [1, 2]


def test_stop_ends_the_worker_of_a_consumer_that_leaves_early() -> None:
    produced = []

    def endless() -> Iterator[int]:
        i = 0
        while True:
            produced.append(i)
            yield i
            i += 1

    ahead = Prefetcher(endless(), depth=3, name="test-prefetch")
    it = iter(ahead)
    assert [next(it) for _ in range(5)] == [0, 1, 2, 3, 4]
    assert ahead.stop(timeout=5.0)
    assert not any(t.name == "test-prefetch" for t in threading.enumerate())
    assert len(produced) <= 5 + 3 + 2  # never more than the queue's depth ahead


def test_the_depth_follows_the_frame_size_within_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(BUDGET_ENV, raising=False)
    # 16 MiB of YUV 4:2:0: 48 frames of 640x360, 5 of 1080p; never under 4 or over 64.
    assert depth_for(640, 360) == 48
    assert depth_for(1920, 1080) == 5
    assert depth_for(3840, 2160) == 4
    assert depth_for(160, 120) == 64
    monkeypatch.setenv(BUDGET_ENV, "0")
    assert depth_for(640, 360) == 4
    monkeypatch.setenv(BUDGET_ENV, "not a number")
    assert depth_for(640, 360) == 48


def test_the_producer_runs_as_far_ahead_as_its_depth() -> None:
    made: list[int] = []

    def counted() -> Iterator[int]:
        for i in range(100):
            made.append(i)
            yield i

    it = iter(Prefetcher(counted(), depth=16))
    assert next(it) == 0
    deadline = time.monotonic() + 5.0
    while len(made) < 17 and time.monotonic() < deadline:
        time.sleep(0.005)
    time.sleep(0.05)
    # One taken, 16 waiting (and one made that waits for room): never the whole clip.
    assert 17 <= len(made) <= 18
    assert list(it) == list(range(1, 100))
