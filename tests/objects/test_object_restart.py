"""Object events survive ``kill -9``: the real daemon, a real Mosquitto broker, generated clips.

``visionedge run`` (object mode, the shipped demo model) is killed with SIGKILL while two
objects are in view; the next start (the camera now sees an empty scene) publishes an
``end`` (``end_reason: "restarted"``) for each open object through the MQTT spool and resets
the retained per-label counts to 0; a third start publishes nothing more.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from daemonkit import DaemonProcess, daemon_config, read_jsonl
from mqttkit import Broker, Subscriber, wait_until
from objkit import validate

from visionedge.sinks.discovery import count_key
from visionedge.synth import ObjectPass, SceneSpec, write_clip

SubFactory = Callable[..., Subscriber]
EVENTS = "visionedge/cam1/events"


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two objects crossing at once (rows apart, never merged), and the same scene empty."""
    d = tmp_path_factory.mktemp("objrestart")
    busy = SceneSpec(
        width=320, height=180, fps=10.0, seed=5, duration_s=8.0,
        events=[
            ObjectPass("person", 0.3, 6.0, direction=1, height_frac=0.35, ground_frac=0.55),
            ObjectPass("vehicle", 0.5, 6.0, direction=-1, height_frac=0.3, ground_frac=0.97),
        ],
    )
    empty = SceneSpec(width=320, height=180, fps=10.0, seed=5, duration_s=1.5, events=[])
    write_clip(busy, d / "busy.avi")
    write_clip(empty, d / "empty.avi")
    return d / "busy.avi", d / "empty.avi"


def _events(sub: Subscriber) -> list[dict[str, Any]]:
    return [m.json() for m in sub.on(EVENTS)]


def _label(e: dict[str, Any]) -> str:
    return count_key(e["label"] or "object")


def _latest_counts(sub: Subscriber) -> dict[str, int]:
    """The last count received per label of the events seen so far."""
    out: dict[str, int] = {}
    for label in {_label(e) for e in _events(sub)}:
        got = sub.on(f"visionedge/cam1/{label}")
        if got:
            out[label] = int(got[-1].payload)
    return out


def _retained_counts(broker: Broker, subscriber_factory: SubFactory, labels: set[str],
                     name: str) -> dict[str, bytes]:
    late = subscriber_factory(broker, [f"visionedge/cam1/{x}" for x in labels], client_id=name)
    got: dict[str, bytes] = {}
    for x in labels:
        got[x] = late.wait_for(f"visionedge/cam1/{x}", 1, 10)[-1].payload
    late.close()
    return got


def test_kill_9_with_two_objects_in_view_ends_both_once_and_resets_the_counts(
    broker: Broker, tmp_path: Path, clips: tuple[Path, Path], subscriber_factory: SubFactory,
) -> None:
    busy, empty = clips
    sub = subscriber_factory(broker, ["visionedge/cam1/+"])  # events and the counts
    common: dict[str, Any] = {"objects": {"mode": "object"},
                              "classifier": {"enabled": True, "model": "demo"}}
    cfg = daemon_config(tmp_path, busy, broker.port, **common)
    state = tmp_path / "state"
    d1 = DaemonProcess(cfg)
    try:
        wait_until(lambda: len({e["event_id"] for e in _events(sub) if e["type"] == "start"}) == 2,
                   30, "two object starts")
        # The counts the subscriber relies on say 2 in view before the kill.
        wait_until(lambda: sum(_latest_counts(sub).values()) == 2, 10, "counts of 2 in view")
        d1.signal(signal.SIGKILL)
        d1.wait(10)
    finally:
        d1.kill()
    sent = _events(sub)
    starts = {e["event_id"] for e in sent if e["type"] == "start"}
    assert len(starts) == 2 and not [e for e in sent if e["type"] == "end"]
    assert (state / "open-objects.json").exists()
    labels = {_label(e) for e in sent}
    stale = _retained_counts(broker, subscriber_factory, labels, "late2")
    assert sum(int(v) for v in stale.values()) == 2, stale  # what a crash leaves behind

    # Restart: the camera now sees an empty scene.
    cfg = daemon_config(tmp_path, empty, broker.port, **common)
    d2 = DaemonProcess(cfg)
    try:
        assert d2.wait(60) == 0, d2.log
    finally:
        d2.kill()
    assert d2.log.count("left open by the previous run") == 1, d2.log
    wait_until(lambda: {e["event_id"] for e in _events(sub) if e["type"] == "end"} == starts,
               20, "an end for each open object start")
    ends = [e for e in _events(sub) if e["type"] == "end"]
    validate(ends)
    last = {e["event_id"]: e for e in sent}
    for end in ends:
        assert end["end_reason"] == "restarted"
        assert end["seq"] == last[end["event_id"]]["seq"] + 1
    assert _retained_counts(broker, subscriber_factory, labels, "late3") == dict.fromkeys(
        labels, b"0")

    # A second restart: nothing left open, no duplicate end (the file sink counts exactly;
    # MQTT QoS 1 may redeliver, so there distinct (event_id, seq) pairs are counted).
    d3 = DaemonProcess(cfg)
    try:
        assert d3.wait(60) == 0, d3.log
    finally:
        d3.kill()
    assert "left open" not in d3.log
    written = read_jsonl(tmp_path / "events.jsonl")
    restarted = [e["event_id"] for e in written if e["end_reason"] == "restarted"]
    assert sorted(restarted) == sorted(starts)
    assert len({(e["event_id"], e["seq"]) for e in _events(sub) if e["type"] == "end"}) == 2
