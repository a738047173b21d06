"""Open object events kept on disk (``open-objects.json``) and ended at the next start.

The real pipeline (real gate, tracker and object events) runs a generated clip with two
objects in view at once; a "crash" is a pipeline dropped mid-clip without ``finish``. The
daemon-level ``kill -9`` test with a real broker is tests/mqtt/test_object_restart.py.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from objkit import validate

from visionedge.config import Config
from visionedge.objects.openstate import OPEN_OBJECTS_FILE, OpenObjectStore
from visionedge.pipeline import Pipeline, build_pipeline
from visionedge.sinks.memory import MemorySink
from visionedge.sources import open_source
from visionedge.synth import ObjectPass, SceneSpec, write_clip


class CountingStore(OpenObjectStore):
    """The real store, counting its file writes."""

    writes = 0

    def _write(self) -> None:
        self.writes += 1
        super()._write()


@pytest.fixture(scope="module")
def two_at_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two objects crossing at once (different rows, so they never merge), 8 s at 10 fps."""
    spec = SceneSpec(
        width=320, height=180, fps=10.0, seed=5, duration_s=8.0,
        events=[
            ObjectPass("person", 0.3, 6.0, direction=1, height_frac=0.35, ground_frac=0.55),
            ObjectPass("vehicle", 0.5, 6.0, direction=-1, height_frac=0.3, ground_frac=0.97),
        ],
    )
    path = tmp_path_factory.mktemp("objopen") / "two_at_once.avi"
    write_clip(spec, path)
    return path


def _config(clip: Path, mode: str = "object") -> Config:
    return Config.model_validate({
        "source": {"kind": "file", "path": str(clip)},
        "classifier": {"enabled": False},
        "events": {"update_every": 5},
        "objects": {"mode": mode},
    })


def _pipeline(cfg: Config, store: OpenObjectStore | None) -> tuple[Pipeline, MemorySink]:
    sink = MemorySink()
    p = build_pipeline(cfg, sinks=[sink], classifier=None, deterministic_ids=True)
    p.object_store = store
    return p, sink


def _run_until_two_open(p: Pipeline, cfg: Config, extra_frames: int = 6) -> int:
    """Step frames until two objects are open, then a few more; return the frames stepped."""
    stepped, since = 0, -1
    with open_source(cfg.source, cfg.gate.width) as src:
        for frame in src.frames():
            p.step(frame)
            stepped += 1
            assert p.objects is not None
            if since < 0 and p.objects.open_events == 2:  # type: ignore[attr-defined]
                since = stepped
            if since >= 0 and stepped - since >= extra_frames:
                return stepped
    raise AssertionError("the clip never had two object events open at once")


def _objects(sink: MemorySink) -> list[dict[str, Any]]:
    return [e for e in sink.events if e.get("schema") == 2]


def test_kept_per_message_not_per_frame_and_emptied_by_the_ends(
    two_at_once: Path, tmp_path: Path
) -> None:
    cfg = _config(two_at_once)
    store = CountingStore(tmp_path)
    p, sink = _pipeline(cfg, store)
    frames = _run_until_two_open(p, cfg)
    sent = _objects(sink)
    assert store.writes == len(sent) < frames  # starts/updates so far, no end yet
    kept = json.loads((tmp_path / OPEN_OBJECTS_FILE).read_text())
    last = {e["event_id"]: e for e in sent}
    assert {o["event_id"]: o for o in kept["objects"]} == last  # the last message of each
    assert kept["labels"] == ["object"]
    p.finish("stopped")
    ends = [e for e in _objects(sink) if e["type"] == "end"]
    assert len(ends) == 2
    assert store.writes == len(_objects(sink))  # one write per object message, ends included
    assert json.loads((tmp_path / OPEN_OBJECTS_FILE).read_text())["objects"] == []
    # Nothing left to recover after a clean stop, and the motion file was never written.
    again, sink2 = _pipeline(cfg, OpenObjectStore(tmp_path))
    assert again.end_crashed_objects() == []
    assert sink2.states == [("count", "0", {"label": "object"})]
    assert not (tmp_path / "open-event.json").exists()


def test_a_crash_leaves_starts_that_the_next_start_ends_once_with_counts_reset(
    two_at_once: Path, tmp_path: Path
) -> None:
    cfg = _config(two_at_once)
    p, sink = _pipeline(cfg, OpenObjectStore(tmp_path))
    _run_until_two_open(p, cfg)
    assert ("count", "2", {"label": "object"}) in sink.states
    last = {e["event_id"]: e for e in _objects(sink)}
    del p  # the process died: no finish, no ends

    p2, sink2 = _pipeline(cfg, OpenObjectStore(tmp_path))
    ends = p2.end_crashed_objects()
    assert sink2.events == ends and len(ends) == 2
    validate(ends)
    for end in ends:
        kept = last[end["event_id"]]
        assert end["type"] == "end" and end["end_reason"] == "restarted"
        assert end["seq"] == kept["seq"] + 1
        assert (end["end_frame"], end["end_ts_ms"]) == (kept["frame"], kept["ts_ms"])
        same = ("type", "seq", "end_frame", "end_ts_ms", "end_reason")
        assert {k: v for k, v in end.items() if k not in same} == {
            k: v for k, v in kept.items() if k not in same}
    assert [e["start_ts_ms"] for e in ends] == sorted(e["start_ts_ms"] for e in ends)
    assert sink2.states == [("count", "0", {"label": "object"})]
    # A second restart finds no open object: exactly one end each.
    p3, sink3 = _pipeline(cfg, OpenObjectStore(tmp_path))
    assert p3.end_crashed_objects() == [] and sink3.events == []


def test_mode_both_keeps_motion_and_objects_apart(two_at_once: Path, tmp_path: Path) -> None:
    from visionedge.events.openstate import OpenEventStore

    cfg = _config(two_at_once, mode="both")
    p, _ = _pipeline(cfg, OpenObjectStore(tmp_path))
    p.open_store = OpenEventStore(tmp_path)
    _run_until_two_open(p, cfg)
    motion = json.loads((tmp_path / "open-event.json").read_text())
    assert motion["schema"] == 1
    del p
    p2, sink2 = _pipeline(cfg, OpenObjectStore(tmp_path))
    p2.open_store = OpenEventStore(tmp_path)
    end = p2.end_crashed_event()
    ends = p2.end_crashed_objects()
    assert end is not None and end["event_id"] == motion["event_id"]
    assert len(ends) == 2 and all(e["end_reason"] == "restarted" for e in ends)
    validate([end, *ends])
    assert sink2.events == [end, *ends]


@pytest.mark.parametrize("text", ['{"version":1,"objects":[{"schema":2', "[]", '{"version":9}',
                                  '{"version":1,"objects":[{"type":"start"}],"labels":[]}'])
def test_a_damaged_file_is_set_aside_with_one_warning(
    two_at_once: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    path = tmp_path / OPEN_OBJECTS_FILE
    path.write_text(text)
    cfg = _config(two_at_once)
    p, sink = _pipeline(cfg, OpenObjectStore(tmp_path))
    with caplog.at_level(logging.WARNING):
        assert p.end_crashed_objects() == []
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(lines) == 1 and "damaged" in lines[0].getMessage()
    assert not path.exists()
    assert (tmp_path / (OPEN_OBJECTS_FILE + ".damaged")).read_text() == text
    assert sink.events == [] and sink.states == []
    # The run goes on and keeps its own objects again.
    _run_until_two_open(p, cfg, extra_frames=0)
    assert len(json.loads(path.read_text())["objects"]) == 2


def test_the_file_is_bounded_by_max_objects(tmp_path: Path) -> None:
    store = OpenObjectStore(tmp_path, max_objects=3)
    from visionedge.objects.payload import OBJECT_EVENT_FIELDS

    for i in range(10):
        payload = dict.fromkeys(OBJECT_EVENT_FIELDS)
        payload.update(type="start", event_id=f"e{i}", object_id=i, seq=0, start_ts_ms=i,
                       label=f"l{i % 2}")
        store.record(payload)
    kept = json.loads((tmp_path / OPEN_OBJECTS_FILE).read_text())
    assert [o["event_id"] for o in kept["objects"]] == ["e7", "e8", "e9"]
    assert kept["labels"] == ["l0", "l1"]


def test_replay_keeps_no_state(two_at_once: Path, tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    from visionedge.cli import main

    state = tmp_path / "state"
    conf = tmp_path / "replay.toml"
    conf.write_text(f'[classifier]\nenabled = false\n[daemon]\nstate_dir = "{state}"\n')
    monkeypatch.chdir(tmp_path)
    assert main(["replay", "-q", "--config", str(conf), str(two_at_once)]) == 0
    assert not list(tmp_path.rglob("open-*.json"))
