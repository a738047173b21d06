"""Runtime control commands: validated like the config file; bad ones change nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from visionedge.config import Config
from visionedge.errors import ConfigError
from visionedge.service.control import Controller


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


@pytest.mark.parametrize(
    ("command", "payload", "fragment"),
    [
        # Issue 10 item 5: these raised past the controller (no reply, not counted).
        ("gate", b"[" * 100_000 + b"]" * 100_000, "nests more than"),
        ("gate", b'{"k": ' + b"[" * 50 + b"1" + b"]" * 50 + b"}", "nests more than"),
        ("gate/k", b"[" * 5000 + b"]" * 5000, "nests more than"),
        ("gate", b'{"k": ' + b"1" * 5000 + b"}", "cannot be read as JSON"),
        # Issue 10 item 4: lax types and non-finite numbers.
        ("gate/pixel_threshold", b"true", "valid integer"),
        ("gate", b'{"pixel_threshold": true}', "valid integer"),
        ("gate/exposure_jump", b"Infinity", "finite number"),
        ("gate", b'{"exposure_jump": NaN}', "finite number"),
        ("gate/k", b'"3"', "valid integer"),
    ],
)
def test_deep_huge_lax_and_non_finite_payloads_are_answered_and_counted(
    command: str, payload: bytes, fragment: str
) -> None:
    t = Target()
    before = t.config.model_dump()
    c = Controller(t, max_payload_bytes=1024 * 1024)
    r = c.handle(command, payload)
    assert not r.ok and fragment in r.error, r.error
    json.loads(r.to_json())  # the answer itself is valid JSON
    assert t.config.model_dump() == before and c.rejected == 1


def test_a_bool_gate_field_takes_on_off() -> None:
    t = Target()
    c = Controller(t)
    assert c.handle("gate/blur", b"OFF").ok and t.config.gate.blur is False
    assert c.handle("gate", b'{"blur": true}').ok and t.config.gate.blur is True
def test_classifier_thresholds_change_at_runtime() -> None:
    t = Target()
    c = Controller(t)
    r = c.handle("classifier/threshold", b"0.7")
    assert r.ok and t.config.classifier.threshold == 0.7
    r = c.handle("classifier/thresholds", b'{"person": 0.8}')
    assert r.ok and t.config.classifier.thresholds == {"person": 0.8}
    r = c.handle("classifier", b'{"max_per_event": 3, "every_n_frames": 2, "ignore": []}')
    assert r.ok, r.error
    clf = t.config.classifier
    assert (clf.max_per_event, clf.every_n_frames, clf.ignore) == (3, 2, [])
    assert json.loads(r.to_json())["applied"] == {
        "classifier.max_per_event": 3, "classifier.every_n_frames": 2, "classifier.ignore": []
    }
    # Earlier changes survive later ones.
    assert clf.threshold == 0.7 and clf.thresholds == {"person": 0.8}
    assert c.accepted == 3


class LabelledTarget(Target):
    def check_classifier(self, cfg: Any) -> None:
        for name in cfg.thresholds:
            if name not in ("person", "vehicle"):
                raise ConfigError(f"classifier.thresholds names '{name}', which is not a label")


@pytest.mark.parametrize(
    ("command", "payload", "fragment"),
    [
        ("classifier/threshold", b"1.5", "threshold"),
        ("classifier/threshold", b'"0.5"', "threshold"),  # strict: a string is no number
        ("classifier/top_k", b"true", "top_k"),  # strict: a bool is no int
        ("classifier/thresholds", b'{"person": 2}', "scores are 0..1"),
        ("classifier/thresholds", b'{"unicorn": 0.5}', "unicorn"),
        ("classifier/thresholds", b"{", "classifier/thresholds"),
        ("classifier/model", b'"other.tflite"', "cannot be changed at runtime"),
        ("classifier", b'{"backend": "tensorflow"}', "cannot be changed"),
        ("classifier", b"[]", "JSON object"),
    ],
)
def test_bad_classifier_commands_change_nothing(command: str, payload: bytes, fragment: str) -> None:
    t = LabelledTarget()
    before = t.config.model_dump()
    c = Controller(t)
    r = c.handle(command, payload)
    assert not r.ok and fragment in r.error, r.error
    assert t.config.model_dump() == before and not t.applied
    assert c.rejected == 1
