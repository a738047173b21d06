"""Pacing a replay at its clip's rate, and the capped exponential backoff of live sources."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

__all__ = ["Backoff", "Pacer"]


class Pacer:
    """Sleeps until each frame's timestamp has passed on a monotonic clock.

    The clock starts at the first frame; a consumer slower than the clip simply never
    sleeps (frames are not skipped: replay stays deterministic).
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._start: float | None = None

    def wait(self, ts_ms: int) -> None:
        """Block until ``ts_ms`` after the first call (at most that long)."""
        now = self._clock()
        if self._start is None:
            self._start = now - ts_ms / 1000.0
            return
        delay = self._start + ts_ms / 1000.0 - now
        if delay > 0:
            self._sleep(delay)


class Backoff:
    """Capped exponential backoff with jitter: initial, 2x, 4x, ... up to ``maximum``.

    Each delay is drawn from [d/2, d] for the nominal delay d ("equal jitter"), so cameras
    that dropped together do not all reconnect in the same instant, and a delay never
    falls below half the nominal one.
    """

    def __init__(
        self, initial: float, maximum: float, rng: random.Random | None = None
    ) -> None:
        if initial <= 0 or maximum <= 0:
            raise ValueError("backoff delays must be > 0")
        self.initial = initial
        self.maximum = max(initial, maximum)
        self._rng = rng or random.Random()
        self.attempts = 0

    def nominal(self) -> float:
        """The un-jittered delay of the next attempt."""
        return float(min(self.maximum, self.initial * (2.0 ** min(self.attempts, 62))))

    def next(self) -> float:
        """The delay before the next attempt (and count the attempt)."""
        d = self.nominal()
        self.attempts += 1
        return d / 2.0 + self._rng.random() * d / 2.0

    def reset(self) -> None:
        """Start again from ``initial`` (after a success)."""
        self.attempts = 0
