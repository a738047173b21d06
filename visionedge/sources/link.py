"""The connection state of a live source: ok → reconnecting → lost → ok, with backoff."""

from __future__ import annotations

import logging
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Self

from visionedge.redact import redact_urls
from visionedge.sources.pacing import Backoff

__all__ = ["LOST_AFTER_ATTEMPTS", "LinkState", "LiveSourceState", "StateCallback", "redact"]

LOST_AFTER_ATTEMPTS = 3
"""After this many failed reopen attempts in a row, ``reconnecting`` becomes ``lost``."""

StateCallback = Callable[[str, str], None]
"""Called with (state, reason) on every state change, from the thread iterating frames."""

log = logging.getLogger("visionedge.sources")


def redact(target: str) -> str:
    """``target`` without the user:password part of a URL (for names, logs, errors)."""
    scheme, sep, rest = target.partition("://")
    authority = rest.split("/", 1)[0]
    if not sep or "@" not in authority:
        return redact_urls(target)
    host = rest[authority.rindex("@") + 1 :]
    return f"{scheme}://***@{host}"


class LinkState:
    """Tracks whether a live source delivers, and how long to wait before reopening it.

    ``failed`` moves to ``reconnecting`` (``lost`` once :data:`LOST_AFTER_ATTEMPTS` reopen
    attempts in a row have failed) and returns the backoff delay; ``ok`` marks a good
    frame and resets the backoff. Every change is logged and passed to ``on_state``.
    """

    def __init__(
        self,
        name: str,
        initial_s: float,
        max_s: float,
        *,
        rng: random.Random | None = None,
        on_state: StateCallback | None = None,
    ) -> None:
        self.name = name
        self.backoff = Backoff(initial_s, max_s, rng)
        self.on_state = on_state
        self.state = "ok"
        self.reason = ""
        self.failures = 0
        self.reconnects = 0

    def _set(self, state: str, reason: str) -> None:
        if state == self.state:
            return
        self.state, self.reason = state, reason
        if state == "ok":
            log.info("%s: frames flowing again", self.name)
        else:
            log.warning("%s: %s (%s)", self.name, state, reason)
        if self.on_state is not None:
            self.on_state(state, reason)

    def ok(self) -> None:
        """A fresh frame arrived."""
        if self.state != "ok":
            self.reconnects += 1
        self.backoff.reset()
        self._set("ok", "")

    def failed(self, reason: str) -> float:
        """The source stalled or died; returns how long to wait before reopening it."""
        self.failures += 1
        delay = self.backoff.next()
        lost = self.backoff.attempts > LOST_AFTER_ATTEMPTS
        self._set("lost" if lost else "reconnecting", reason)
        if self.state != "ok":
            self.reason = reason
        return delay


class LiveSourceState(ABC):
    """The state surface every live source shares, read from its ``_link``.

    Subclasses set ``self._link`` and define ``start``/``stop``; the context manager
    starts the camera on entry and always releases it on exit.
    """

    _link: LinkState

    @property
    def state(self) -> str:
        """``"ok"``, ``"reconnecting"`` or ``"lost"``."""
        return self._link.state

    @property
    def state_reason(self) -> str:
        """Why the source is not ``ok`` (empty when it is)."""
        return self._link.reason

    @property
    def on_state(self) -> StateCallback | None:
        """The state-change callback (settable)."""
        return self._link.on_state

    @on_state.setter
    def on_state(self, cb: StateCallback | None) -> None:
        self._link.on_state = cb

    @abstractmethod
    def start(self) -> None:
        """Open the source."""

    @abstractmethod
    def stop(self) -> None:
        """Release the source."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
