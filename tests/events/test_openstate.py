"""The open-event file that lets the next start end an event a crash left open."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eventkit import make_frame, script, validate

from visionedge.config import Config
from visionedge.events.openstate import OPEN_EVENT_FILE, OpenEventStore, state_dir
from visionedge.pipeline import build_pipeline
from visionedge.sinks.memory import MemorySink


class ScriptedGate:
    def __init__(self, total: int) -> None:
        self.results = {r.index: r for r in script(2, 40, total)}

    def process(self, frame: object) -> object:
        return self.results[frame.index]  # type: ignore[attr-defined]

    def reset(self) -> None:
        pass


def _pipeline(store: OpenEventStore, total: int = 50) -> tuple[object, MemorySink]:
    sink = MemorySink()
    cfg = Config.model_validate({"classifier": {"enabled": False}, "events": {"update_every": 5},
                                 "objects": {"mode": "motion"}})
    p = build_pipeline(cfg, source=object(), sinks=[sink], classifier=None,  # type: ignore[arg-type]
                       gate=ScriptedGate(total), deterministic_ids=True)
    p.open_store = store
    return p, sink


def test_written_per_message_not_per_frame_cleared_by_the_end(tmp_path: Path) -> None:
    store = OpenEventStore(tmp_path)
    p, sink = _pipeline(store)
    writes = 0
    for i in range(12):
        before = store.path.stat().st_mtime_ns if store.path.exists() else None
        p.step(make_frame(i))  # type: ignore[attr-defined]
        if store.path.exists() and store.path.stat().st_mtime_ns != before:
            writes += 1
        if i >= 2:
            kept = json.loads(store.path.read_text())
            assert kept == sink.events[-1]
    assert writes == len(sink.events) == 2  # start + 1 update over 10 open frames
    for i in range(12, 50):
        p.step(make_frame(i))  # type: ignore[attr-defined]
    assert sink.events[-1]["type"] == "end" and not store.path.exists()


def test_recover_builds_a_valid_restarted_end_once(tmp_path: Path) -> None:
    p, sink = _pipeline(OpenEventStore(tmp_path))
    for i in range(9):
        p.step(make_frame(i))  # type: ignore[attr-defined]
    last = sink.events[-1]
    # A new process: a new store and pipeline on the same directory.
    p2, sink2 = _pipeline(OpenEventStore(tmp_path, min_frames=100))
    end = p2.end_crashed_event()  # type: ignore[attr-defined]
    assert end is not None and sink2.events == [end]
    validate([end])
    assert end["event_id"] == last["event_id"] and end["seq"] == last["seq"] + 1
    assert end["end_reason"] == "restarted" and end["short"] is True
    assert not (tmp_path / OPEN_EVENT_FILE).exists()
    assert p2.end_crashed_event() is None  # type: ignore[attr-defined]


def test_a_damaged_file_is_removed_and_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / OPEN_EVENT_FILE).write_text('{"type": "start", "trunc')
    assert OpenEventStore(tmp_path).recover() is None
    assert "damaged" in caplog.text and not (tmp_path / OPEN_EVENT_FILE).exists()


def test_state_dir_follows_the_spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    assert state_dir(Config()) is None  # MQTT off, no state dir: nothing written anywhere
    on = {"mqtt": {"enabled": True}}
    assert state_dir(Config.model_validate(on)) == Path("state")
    monkeypatch.setenv("STATE_DIRECTORY", str(tmp_path / "sd"))
    assert state_dir(Config.model_validate(on)) == tmp_path / "sd"
    cfg = Config.model_validate({"mqtt": {"enabled": True}, "daemon": {"state_dir": "/x"},
                                 "spool": {"path": str(tmp_path / "s" / "spool.db")}})
    assert state_dir(cfg) == tmp_path / "s"
