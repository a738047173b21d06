"""Runtime control commands: validated like the config file; bad ones change nothing."""

from __future__ import annotations

import json

import pytest

from visionedge.config import Config
from visionedge.control import Controller


class Target:
    def __init__(self) -> None:
        self.config = Config()
        self.enabled = True
        self.applied: list[Config] = []

    def current_config(self) -> Config:
        return self.config

    def apply_config(self, config: Config) -> None:
        self.config = config
        self.applied.append(config)

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled


def test_good_gate_command_is_applied() -> None:
    t = Target()
    c = Controller(t)
    r = c.handle("gate/start_pct", b"1.5")
    assert r.ok and t.config.gate.start_pct == 1.5
    assert json.loads(r.to_json()) == {
        "command": "set/gate/start_pct", "ok": True, "applied": {"gate.start_pct": 1.5}
    }
    r = c.handle("gate", b'{"pixel_threshold": 30, "close_after_s": 0.5}')
    assert r.ok and t.config.gate.pixel_threshold == 30 and t.config.gate.close_after_s == 0.5
    assert c.accepted == 2 and c.rejected == 0


def test_the_old_frame_count_key_is_refused_naming_its_replacement() -> None:
    t = Target()
    c = Controller(t)
    for topic, payload in (("gate/close_after", b"5"), ("gate", b'{"close_after": 5}')):
        r = c.handle(topic, payload)
        assert not r.ok and "close_after_s" in json.loads(r.to_json())["error"]
    assert t.applied == [] and c.rejected == 2


def test_switches() -> None:
    t = Target()
    c = Controller(t)
    assert c.handle("enabled", b"OFF").ok and t.enabled is False
    assert c.handle("enabled", b"on").ok and t.enabled is True
    assert c.handle("classifier/enabled", b"false").ok and not t.config.classifier.enabled


@pytest.mark.parametrize(
    ("command", "payload", "fragment"),
    [
        ("gate/start_pct", b"abc", "start_pct"),
        ("gate/start_pct", b"-1", "start_pct"),
        ("gate/stop_pct", b"5", "stop_pct"),  # above start_pct: the cross-field rule
        ("gate/width", b"100", "cannot be changed at runtime"),
        ("gate", b"not json", "not JSON"),
        ("gate", b'{"masks": []}', "cannot be changed"),
        ("gate", b"[1, 2]", "JSON object"),
        ("gate/k", b"{\"a\": 1}", "single value"),
        ("enabled", b"maybe", "ON or OFF"),
        ("reboot", b"now", "unknown command"),
        ("gate/start_pct", b"\xff\xfe", "UTF-8"),
        ("gate/start_pct", b"1" * 70000, "exceeds"),
    ],
)
def test_bad_commands_change_nothing_and_are_counted(
    command: str, payload: bytes, fragment: str
) -> None:
    t = Target()
    before = t.config.model_dump()
    c = Controller(t, max_payload_bytes=65536)
    r = c.handle(command, payload)
    assert not r.ok
    assert fragment in r.error
    body = json.loads(r.to_json())
    assert body["ok"] is False and body["command"] == f"set/{command}"
    assert t.config.model_dump() == before and not t.applied and t.enabled
    assert c.rejected == 1 and c.accepted == 0
