"""Running a producer (decoding a file) one step ahead of its consumer, on another thread.

FFmpeg decodes with the GIL released and OpenCV's calls release it too, so while the main
thread runs the gate, the classifier and the sinks on frame ``i``, this thread decodes frame
``i + 1`` and makes its motion plane: on a multi-core board a replay then takes about the
time of the slower of the two instead of their sum. Items arrive in order, none is dropped
(the queue is bounded, so the producer waits), and an exception of the producer is raised
in the consumer at the position where it happened. Every wait has a timeout.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import Generic, TypeVar

__all__ = ["Prefetcher"]

T = TypeVar("T")

_POLL_S = 0.5


class _End:
    """The producer is exhausted (``error`` is None) or failed."""

    __slots__ = ("error",)

    def __init__(self, error: BaseException | None) -> None:
        self.error = error


class Prefetcher(Generic[T]):
    """Iterate ``items`` on a worker thread, at most ``depth`` items ahead of the consumer."""

    def __init__(self, items: Iterator[T], depth: int = 4, name: str = "visionedge-prefetch") -> None:
        self._items = items
        self._queue: queue.Queue[T | _End] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    def _put(self, item: T | _End) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
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
        while True:
            try:
                item = self._queue.get(timeout=_POLL_S)
            except queue.Empty:
                if not self._thread.is_alive() and self._queue.empty():
                    raise RuntimeError("the prefetch thread ended without a result") from None
                continue
            if isinstance(item, _End):
                if item.error is not None:
                    raise item.error
                return
            yield item

    def stop(self, timeout: float = 5.0) -> bool:
        """Stop the worker and wait for it; False if it is still running after ``timeout``."""
        self._stop.set()
        self._thread.join(timeout)
        return not self._thread.is_alive()
