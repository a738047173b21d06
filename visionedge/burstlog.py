"""Rate-limited warnings for things that happen in bursts (dropped events): one line, a count.

The first occurrence of a burst is logged at once; later ones are summed into the next
line, written when the interval has passed and another occurrence or :meth:`tick` comes,
or at :meth:`flush` (shutdown). So 588 drops in 30 s are one or two lines, not 588.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["BurstLog"]


class BurstLog:
    """Logs ``template % (count, why)`` at WARNING at most once per ``interval_s``."""

    def __init__(
        self,
        logger: logging.Logger,
        template: str,
        interval_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = logger
        self._template = template
        self._interval = interval_s
        self._clock = clock
        self._unreported = 0
        self._why = ""
        self._last = -1e18
        self.lines = 0
        """Log lines written."""

    def dropped(self, n: int, why: str) -> None:
        """Count ``n`` occurrences for ``why``; log if the interval since the last line passed."""
        self._unreported += n
        self._why = why
        self.tick()

    def tick(self) -> None:
        """Log the occurrences not reported yet if the interval passed."""
        if self._unreported and self._clock() - self._last >= self._interval:
            self.flush()

    def flush(self) -> None:
        """Log the occurrences not reported yet, now (at shutdown)."""
        if self._unreported:
            self._log.warning(self._template, self._unreported, self._why)
            self._unreported = 0
            self._last = self._clock()
            self.lines += 1
