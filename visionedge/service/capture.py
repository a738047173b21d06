"""The daemon's capture thread: reads the source, keeps a live camera coming, hands frames over.

::

    capture thread: open source (live: retry with backoff) ─► frames() ─► FrameQueue ─► main thread
                    source state changes (ok/reconnecting/lost) ─────────┘ (in order with frames)

A live camera that is not up when the service starts (an IP camera booting slower than the
board: the source raises :class:`~visionedge.errors.SourceLostError`) is retried here for as
long as the daemon runs, with the source's own backoff
(``source.reconnect_initial_s`` doubling up to ``reconnect_max_s``), reporting
``reconnecting`` and then ``lost`` like a camera that dies later. A replay source that
cannot be opened (a missing clip) is an error at once: retrying cannot make a file appear
that the user mistyped.

State changes travel through the same queue as the frames, so the main thread sees them in
order: the frames read before a loss are analysed before the loss ends the open event.
"""

from __future__ import annotations

import collections
import threading
import time
from dataclasses import dataclass

from visionedge.errors import SourceLostError
from visionedge.frame import Frame
from visionedge.protocols import FrameSource
from visionedge.sources.link import LinkState

__all__ = ["Captured", "FrameQueue", "SourceState", "WatchdogGate", "capture"]


@dataclass(frozen=True, slots=True)
class Captured:
    """A frame and the monotonic time the capture thread received it."""

    frame: Frame
    t: float


@dataclass(frozen=True, slots=True)
class SourceState:
    """The source changed state: ``ok``, ``reconnecting`` or ``lost`` (with why)."""

    state: str
    reason: str = ""


Item = Captured | SourceState


class FrameQueue:
    """A bounded hand-off between capture and analysis.

    ``latest_wins=True``: a full queue drops its oldest frame (counted in :attr:`dropped`).
    ``latest_wins=False``: ``put`` waits for room (replays must not skip frames).
    State changes are never dropped and do not count toward the bound.
    :meth:`close` marks the end of the stream (optionally with the error that ended it).
    """

    def __init__(self, maxlen: int, *, latest_wins: bool) -> None:
        self._items: collections.deque[Item] = collections.deque()
        self._frames = 0
        self._maxlen = maxlen
        self._latest_wins = latest_wins
        self._cond = threading.Condition()
        self.dropped = 0
        self.arrived = 0
        self.closed = False
        self.error: BaseException | None = None

    def put(self, item: Captured, stop: threading.Event) -> None:
        """Queue a frame; see the class docstring for what happens when full."""
        with self._cond:
            self.arrived += 1
            if self._latest_wins:
                while self._frames >= self._maxlen:
                    self._drop_oldest_frame()
            else:
                while self._frames >= self._maxlen and not stop.is_set():
                    self._cond.wait(0.1)
            self._items.append(item)
            self._frames += 1
            self._cond.notify_all()

    def put_state(self, state: SourceState) -> None:
        """Queue a state change behind the frames already queued."""
        with self._cond:
            self._items.append(state)
            self._cond.notify_all()

    def _drop_oldest_frame(self) -> None:
        for i, item in enumerate(self._items):
            if isinstance(item, Captured):
                del self._items[i]
                self._frames -= 1
                self.dropped += 1
                return

    def get(self, timeout: float) -> Item | None:
        """The next frame or state change, or None after ``timeout`` or at the end."""
        with self._cond:
            if not self._items and not self.closed:
                self._cond.wait(timeout)
            if self._items:
                item = self._items.popleft()
                if isinstance(item, Captured):
                    self._frames -= 1
                self._cond.notify_all()
                return item
            return None

    def close(self, error: BaseException | None = None) -> None:
        """End of stream; ``error`` is re-raised by the consumer."""
        with self._cond:
            self.closed = True
            self.error = error
            self._cond.notify_all()

    @property
    def drained(self) -> bool:
        """Closed and empty."""
        with self._cond:
            return self.closed and not self._items


class WatchdogGate:
    """Decides when to send ``WATCHDOG=1``: once per interval, and only if the daemon made
    progress since the last ping: frames analysed, or a down camera being retried (a stuck
    analysis, or a capture thread that stopped trying, stops the pings)."""

    def __init__(self, interval: float | None, now: float) -> None:
        self.interval = interval
        self._last = now
        self._frames = 0

    def frame(self) -> None:
        """A frame was analysed (or the capture thread is alive and retrying the camera)."""
        self._frames += 1

    def due(self, now: float) -> bool:
        """True when a ping should go out now (the caller sends it)."""
        if not self.interval or not self._frames or now - self._last < self.interval:
            return False
        self._last, self._frames = now, 0
        return True


def _open(source: FrameSource, stop: threading.Event, retry: LinkState | None) -> bool:
    """Enter ``source``; with ``retry`` keep trying while it raises SourceLostError (the
    camera is not delivering yet); any other SourceError (a missing picamera2 module, a size
    the sensor refuses) cannot heal and is raised. False when stopped first."""
    while not stop.is_set():
        try:
            source.__enter__()
        except SourceLostError as exc:
            if retry is None:
                raise
            delay = retry.failed(str(exc))
            if stop.wait(delay):
                return False
            continue
        return True
    return False


def capture(
    source: FrameSource,
    queue: FrameQueue,
    stop: threading.Event,
    *,
    retry: LinkState | None = None,
) -> None:
    """The capture thread: open (retrying a live camera), read frames, report states.

    ``retry`` is the link state used while the first open fails (None: fail at once); its
    ``on_state`` must put the states into ``queue``. Ends by closing ``queue``, with the
    error that ended it, if any.
    """
    error: BaseException | None = None
    try:
        if _open(source, stop, retry):
            try:
                # The camera delivers now: say so (a retained "ok" for subscribers), and log
                # it when it took retries.
                if retry is not None and retry.state != "ok":
                    retry.ok()
                else:
                    queue.put_state(SourceState("ok"))
                frames = source.frames()
                try:
                    for frame in frames:
                        if stop.is_set():
                            break
                        queue.put(Captured(frame, time.monotonic()), stop)
                finally:
                    close = getattr(frames, "close", None)
                    if close is not None:
                        close()
            finally:
                source.__exit__(None, None, None)
    except BaseException as exc:  # handed to the main thread, which reports it
        error = exc
    queue.close(error)
