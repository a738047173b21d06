"""Motion and tamper states for sinks: reported on change only, like a retained MQTT topic."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from visionedge.protocols import GateResult, TamperState

__all__ = ["StateChange", "StateWatcher"]


@dataclass(frozen=True, slots=True)
class StateChange:
    """One ``EventSink.state(name, value, detail)`` call to make."""

    name: str
    value: str
    detail: dict[str, Any] = field(default_factory=dict)


class StateWatcher:
    """Turns per-frame gate results into ``motion`` ON/OFF and ``tamper`` changes.

    ``motion`` follows the open event (ON from the frame an event starts to the frame it
    ends), so a subscriber's binary sensor and the event stream never disagree. The first
    frame reports both states, so a sink that starts with us learns where things stand.
    """

    def __init__(self) -> None:
        self._motion: bool | None = None
        self._tamper: TamperState | None = None
        self._tamper_reason = ""

    def on_frame(self, result: GateResult, event_open: bool) -> list[StateChange]:
        """The state changes this frame causes (usually none)."""
        changes: list[StateChange] = []
        if event_open != self._motion:
            self._motion = event_open
            changes.append(
                StateChange("motion", "ON" if event_open else "OFF", {"frame": result.index})
            )
        tamper = TamperState(result.tamper)
        if tamper != self._tamper or (
            tamper == TamperState.TAMPER and result.tamper_reason != self._tamper_reason
        ):
            self._tamper = tamper
            self._tamper_reason = result.tamper_reason
            changes.append(
                StateChange(
                    "tamper",
                    tamper.value,
                    {"reason": result.tamper_reason, "frame": result.index},
                )
            )
        return changes

    def finish(self, frame_index: int) -> list[StateChange]:
        """Motion goes OFF when the pipeline stops with an event open."""
        if self._motion:
            self._motion = False
            return [StateChange("motion", "OFF", {"frame": frame_index})]
        return []
