"""A sink that keeps events and states in memory (replay comparisons, plots, tests)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["MemorySink"]


class MemorySink:
    """Keeps every published event (as a plain dict) and every state change, in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.states: list[tuple[str, str, dict[str, Any]]] = []
        self.closed = False

    def publish(self, event: Mapping[str, Any]) -> None:
        """Keep a copy of the event."""
        self.events.append(dict(event))

    def state(self, name: str, value: str, detail: Mapping[str, Any] | None = None) -> None:
        """Keep the state change."""
        self.states.append((name, value, dict(detail or {})))

    def close(self, timeout: float = 5.0) -> None:
        """Mark closed; nothing to flush."""
        self.closed = True
