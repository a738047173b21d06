"""Opening and closing the gate: k of the last n frames moving, close after M quiet frames.

docs/gate-algorithm.md §2 steps 7-8. State is a fixed ring of ``n`` booleans, a running count
of trues and a quiet counter, so it stays the same size however long the stream runs.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Hysteresis", "Transition"]


@dataclass(frozen=True, slots=True)
class Transition:
    """The gate after one frame: open now, and whether it just opened or just closed."""

    open: bool
    opened: bool
    closed: bool


class Hysteresis:
    """The k-of-n opening rule and the close-after-quiet rule."""

    __slots__ = ("_count", "_pos", "_quiet", "_window", "close_after", "is_open", "k", "n")

    def __init__(self, k: int, n: int, close_after: int) -> None:
        if not 1 <= k <= n or close_after < 1:
            raise ValueError(
                f"hysteresis needs 1 <= k <= n and close_after >= 1, got {k}, {n}, {close_after}"
            )
        self.k, self.n, self.close_after = k, n, close_after
        self._window = [False] * n
        self._pos = 0
        self._count = 0
        self._quiet = 0
        self.is_open = False

    @property
    def window(self) -> tuple[bool, ...]:
        """The last ``n`` frame-motion flags, oldest first."""
        return tuple(self._window[self._pos :] + self._window[: self._pos])

    @property
    def quiet(self) -> int:
        """Consecutive quiet frames while open."""
        return self._quiet

    def reset(self) -> None:
        """Closed, empty window, no quiet frames."""
        self._window = [False] * self.n
        self._pos = 0
        self._count = 0
        self._quiet = 0
        self.is_open = False

    def reconfigure(self, k: int, n: int, close_after: int) -> None:
        """Take new parameters; a new ``n`` clears the window (§5), the rest is kept."""
        if n != self.n:
            self._window = [False] * n
            self._pos = 0
            self._count = 0
        self.k, self.n, self.close_after = k, n, close_after

    def step(self, frame_motion: bool, quiet: bool) -> Transition:
        """Push one frame; ``quiet`` matters only while open."""
        old = self._window[self._pos]
        self._window[self._pos] = frame_motion
        self._count += int(frame_motion) - int(old)
        self._pos += 1
        if self._pos == self.n:
            self._pos = 0
        if not self.is_open:
            if self._count >= self.k:
                self.is_open = True
                self._quiet = 0
                return Transition(True, True, False)
            return _CLOSED
        if not quiet:
            self._quiet = 0
            return _OPEN
        self._quiet += 1
        if self._quiet < self.close_after:
            return _OPEN
        self.is_open = False
        self._quiet = 0
        self._window = [False] * self.n
        self._count = 0
        return Transition(False, False, True)


_OPEN = Transition(True, False, False)
_CLOSED = Transition(False, False, False)
