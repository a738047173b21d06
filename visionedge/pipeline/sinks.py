"""The pipeline's sink fan-out: every message to every sink that has not failed.

A sink that raises :class:`~visionedge.errors.SinkError` (a full disk under the event file)
is marked failed: the first such error of a message is returned (or, for states, raised) so
the run stops with exit 6, and from then on that sink gets nothing while the others still
get every message, including the end of the open event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from visionedge.errors import SinkError
from visionedge.protocols import EventSink

__all__ = ["SinkFanout"]


class SinkFanout:
    """Sends payloads and state changes to the live sinks of a (shared) sink list."""

    __slots__ = ("_failed", "sinks")

    def __init__(self, sinks: list[EventSink]) -> None:
        self.sinks = sinks
        self._failed: set[int] = set()  # id() of sinks that raised SinkError

    def live(self) -> list[EventSink]:
        """The sinks that have not failed, in order."""
        if not self._failed:
            return self.sinks
        return [s for s in self.sinks if id(s) not in self._failed]

    def publish(self, payload: Mapping[str, Any]) -> SinkError | None:
        """Give ``payload`` to every live sink; the first SinkError raised, if any."""
        first: SinkError | None = None
        for sink in self.live():
            try:
                sink.publish(payload)
            except SinkError as exc:
                self._failed.add(id(sink))
                first = first or exc
        return first

    def state(self, name: str, value: str, detail: Mapping[str, Any]) -> None:
        """Give a state change to every live sink; raise the first SinkError after all."""
        first: SinkError | None = None
        for sink in self.live():
            try:
                sink.state(name, value, detail)
            except SinkError as exc:
                self._failed.add(id(sink))
                first = first or exc
        if first is not None:
            raise first
