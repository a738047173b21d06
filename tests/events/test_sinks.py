"""JSON-lines sinks and the sink registry."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from eventkit import make_frame, script

from visionedge import sinks as sinks_mod
from visionedge.config import ClassifierConfig, Config, DeviceConfig, EventsConfig
from visionedge.errors import SinkError
from visionedge.events import EventTracker, deterministic_ids, encode_event
from visionedge.sinks import build_sinks, register_sink
from visionedge.sinks.jsonl import JsonLinesSink


def some_events() -> list[dict[str, Any]]:
    t = EventTracker(EventsConfig(), DeviceConfig(), ClassifierConfig(enabled=False), id_factory=deterministic_ids())
    out: list[dict[str, Any]] = []
    for r in script(1, 4, 6):
        out += t.on_gate(make_frame(r.index), r)
    return out


def test_file_sink_appends_one_line_per_event(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    for _ in range(2):
        sink = JsonLinesSink(path)
        for e in some_events():
            sink.publish(e)
        sink.state("motion", "ON")
        sink.close()
    lines = path.read_text().splitlines()
    assert lines == [encode_event(e) for e in some_events()] * 2
    assert all(json.loads(line)["schema"] == 1 for line in lines)


def test_stream_sink_flushes_and_leaves_the_stream_open() -> None:
    stream = io.StringIO()
    sink = JsonLinesSink(stream)
    sink.publish(some_events()[0])
    sink.close()
    assert not stream.closed and stream.getvalue().count("\n") == 1


def test_unwritable_file_is_a_one_line_sink_error(tmp_path: Path) -> None:
    with pytest.raises(SinkError, match=r"missing/x\.jsonl.*output\.file"):
        JsonLinesSink(tmp_path / "missing" / "x.jsonl")


def test_build_sinks_follows_the_output_section(tmp_path: Path) -> None:
    cfg = Config.model_validate({"output": {"stdout": False, "file": str(tmp_path / "e.jsonl")}})
    built = build_sinks(cfg)
    assert [type(s).__name__ for s in built] == ["JsonLinesSink"]
    sinks_mod.close_sinks(built)
    assert build_sinks(Config.model_validate({"output": {"stdout": False}})) == []


def test_mqtt_enabled_without_the_plugin_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sinks_mod, "PLUGINS", {"mqtt": "visionedge.sinks.no_such_module"})
    monkeypatch.setattr(sinks_mod, "_REGISTRY", {k: v for k, v in sinks_mod._REGISTRY.items() if k != "mqtt"})
    with pytest.raises(SinkError, match=r"mqtt\.enabled"):
        build_sinks(Config.model_validate({"mqtt": {"enabled": True}}))


def test_registered_factories_are_built_in_order(monkeypatch: pytest.MonkeyPatch) -> None:
    from visionedge.sinks.memory import MemorySink

    monkeypatch.setattr(sinks_mod, "_REGISTRY", dict(sinks_mod._REGISTRY))
    monkeypatch.setattr(sinks_mod, "PLUGINS", {})
    mem = MemorySink()
    register_sink("memory", lambda cfg: mem)
    built = build_sinks(Config.model_validate({"output": {"stdout": True}}))
    assert [type(s).__name__ for s in built] == ["JsonLinesSink", "MemorySink"]
