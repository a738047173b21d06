"""Running a producer (decoding a file) ahead of its consumer, on another thread.

FFmpeg decodes with the GIL released and OpenCV's calls release it too, so while the main
thread runs the gate, the classifier and the sinks on frame ``i``, this thread decodes frame
``i + 1`` and makes its motion plane: on a multi-core board a replay then takes about the
time of the slower of the two instead of their sum. Items arrive in order, none is dropped
(at most ``depth`` wait, so the producer waits), and an exception of the producer is raised
in the consumer at the position where it happened. Every wait has a timeout.

The hand-over is two C-level ``queue.SimpleQueue`` s: the items, and ``depth`` tokens of room
that the consumer gives back as it takes items. A ``queue.Queue`` (a lock and two Python
conditions) cost 2-3 µs of CPU per item on each side, about as much as a still frame's
pipeline work left above the gate.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

__all__ = ["BUDGET_ENV", "MIN_DEPTH", "Prefetcher", "depth_for"]

BUDGET_ENV = "VISIONEDGE_PREFETCH_MIB"
"""Environment override of :data:`BUDGET_MIB` (benchmarks compare depths with it)."""
BUDGET_MIB = 16
"""Decoded frames a replay may hold ahead of the pipeline, in MiB of YUV 4:2:0."""
MIN_DEPTH, MAX_DEPTH = 4, 64

T = TypeVar("T")

_POLL_S = 0.5


class _End:
    """The producer is exhausted (``error`` is None) or failed."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


def depth_for(width: int, height: int) -> int:
    """Items to decode ahead for frames of ``width`` x ``height``: :data:`BUDGET_MIB` of
    YUV 4:2:0, at least :data:`MIN_DEPTH` and at most :data:`MAX_DEPTH` frames.

    A classified frame holds the main thread for a crop's ~11 ms, 50 decodes of a 640x360
    frame; 4 frames ahead, the decoder waited through each crop and the replay paid for
    decoding and crops one after the other. 48 frames of 640x360 (5 of 1080p) let the
    decoder run through a crop on the other core. ``VISIONEDGE_PREFETCH_MIB`` overrides the
    budget (0: always the minimum).
    """
    try:
        budget = float(os.environ.get(BUDGET_ENV, BUDGET_MIB))
    except ValueError:
        budget = BUDGET_MIB
    frame = max(1.0, width * height * 1.5)
    return int(min(MAX_DEPTH, max(MIN_DEPTH, budget * 1024 * 1024 // frame)))


class Prefetcher(Generic[T]):
    """Iterate ``items`` on a worker thread, at most ``depth`` items ahead of the consumer."""

    def __init__(self, items: Iterator[T], depth: int = 4, name: str = "visionedge-prefetch") -> None:
        self._items = items
        self._queue: queue.SimpleQueue[T | _End] = queue.SimpleQueue()
        self._room: queue.SimpleQueue[None] = queue.SimpleQueue()
        for _ in range(max(1, depth)):
            self._room.put(None)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def _put(self, item: T | _End) -> bool:
        while not self._stop.is_set():
            try:
                self._room.get(timeout=_POLL_S)
            except queue.Empty:
                continue
            if self._stop.is_set():
                break
            self._queue.put(item)
            return True
        return False

    def _work(self) -> None:
        try:
            for item in self._items:
                if not self._put(item):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put(_End(exc))
            return
        self._put(_End(None))

    def __iter__(self) -> Iterator[T]:
        get, give_room = self._queue.get, self._room.put
        while True:
            try:
                item = get(timeout=_POLL_S)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    raise RuntimeError("the prefetch thread ended without a result") from None
                continue
            if type(item) is _End:
                if item.error is not None:
                    raise item.error
                return
            give_room(None)
            yield item  # type: ignore[misc]

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the worker and wait for it; False if it is still running after ``timeout``."""
        self._stop.set()
        self._room.put(None)  # wakes a producer waiting for room at once
        self._thread.join(timeout)
        return not self._thread.is_alive()
