"""Motion and tamper states go to sinks on change only."""

from __future__ import annotations

from eventkit import gate

from visionedge.events import StateWatcher
from visionedge.protocols import GateResult, TamperState


def test_motion_follows_the_event_and_tamper_reports_changes() -> None:
    w = StateWatcher()
    first = w.on_frame(gate(0, False), event_open=False)
    assert [(c.name, c.value) for c in first] == [("motion", "OFF"), ("tamper", "ok")]
    assert w.on_frame(gate(1, False), event_open=False) == []
    assert [(c.name, c.value) for c in w.on_frame(gate(2, True), event_open=True)] == [("motion", "ON")]
    covered = GateResult(3, 0.0, False, False, False, True, tamper=TamperState.TAMPER, tamper_reason="dark")
    changes = w.on_frame(covered, event_open=False)
    assert [(c.name, c.value, c.detail.get("reason")) for c in changes] == [
        ("motion", "OFF", None),
        ("tamper", "tamper", "dark"),
    ]
    flat = GateResult(4, 0.0, False, False, False, False, tamper=TamperState.TAMPER, tamper_reason="flat")
    assert [c.detail["reason"] for c in w.on_frame(flat, event_open=False)] == ["flat"]
    assert [c.value for c in w.on_frame(gate(5, False), event_open=False)] == ["ok"]


def test_finish_turns_motion_off_only_when_on() -> None:
    w = StateWatcher()
    w.on_frame(gate(0, True), event_open=True)
    assert [(c.name, c.value) for c in w.finish(9)] == [("motion", "OFF")]
    assert w.finish(10) == []
