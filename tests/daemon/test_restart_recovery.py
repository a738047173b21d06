"""An event left open by ``kill -9`` gets its ``end`` on the next start (issue 10 item 10).

A real ``visionedge run`` is killed with SIGKILL mid-event; the next start, with the broker
down, puts the missing ``end`` (``end_reason: "restarted"``) into the MQTT spool, and it
reaches the subscriber once the broker is back.
"""

from __future__ import annotations

import json
import signal
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
from daemonkit import daemon_config
from mqttkit import Broker, Subscriber, wait_until

from visionedge.events import load_schema

EVENTS = "visionedge/cam1/events"


def _received(sub: Subscriber) -> list[dict[str, Any]]:
    return [m.json() for m in sub.on(EVENTS)]


def test_kill_9_mid_event_then_restart_ends_the_event_through_the_spool(
    broker: Broker, tmp_path: Path, clip: Path, subscriber_factory: Callable[..., Subscriber],
    run_daemon: Callable[..., Any],
) -> None:
    sub = subscriber_factory(broker, [EVENTS])
    # The open motion event is what the spool keeps across a crash (visionedge/events/openstate.py).
    cfg = daemon_config(tmp_path, clip, broker.port, gate={"close_after_s": 0.5}, objects={"mode": "motion"})
    state = tmp_path / "state"
    d1 = run_daemon(cfg)
    # An update after the start: the kept message moves on with the event.
    wait_until(lambda: any(e["type"] == "update" for e in _received(sub)), 20, "an update")
    d1.signal(signal.SIGKILL)
    d1.wait(10)
    sent = _received(sub)
    last = sent[-1]
    assert last["type"] != "end"
    kept = json.loads((state / "open-event.json").read_text())
    assert kept["event_id"] == last["event_id"] and kept["seq"] >= last["seq"]

    broker.stop()
    d2 = run_daemon(cfg)
    d2.wait_for_log("left open by the previous run", 20)
    con = sqlite3.connect(state / "spool.sqlite3")
    spooled = [json.loads(r[0]) for r in con.execute("SELECT payload FROM spool ORDER BY id")]
    con.close()
    restarted = [e for e in spooled if e["end_reason"] == "restarted"]
    assert len(restarted) == 1 and restarted[0]["event_id"] == kept["event_id"]
    broker.start()
    wait_until(lambda: any(e["end_reason"] == "restarted" for e in _received(sub)), 20,
               "the restarted end at the subscriber")
    end = next(e for e in _received(sub) if e["end_reason"] == "restarted")
    assert end["type"] == "end" and end["seq"] == kept["seq"] + 1
    assert (end["end_frame"], end["end_ts_ms"]) == (kept["frame"], kept["ts_ms"])
    assert {k: v for k, v in end.items() if k not in ("type", "seq", "end_frame", "end_ts_ms",
                                                        "end_reason", "short")} == {
        k: v for k, v in kept.items() if k not in ("type", "seq", "end_frame", "end_ts_ms",
                                                   "end_reason", "short")}
    jsonschema.Draft202012Validator(load_schema()).validate(end)

    d2.signal(signal.SIGTERM)
    assert d2.wait(30) == 0, d2.log
    # A clean stop ends its own event and leaves nothing to recover: exactly one end each.
    assert not (state / "open-event.json").exists()
    # (QoS 1 may deliver a message twice: count distinct messages.)
    ends = {(e["event_id"], e["seq"]) for e in _received(sub) if e["type"] == "end"}
    starts = {e["event_id"] for e in _received(sub) if e["type"] == "start"}
    assert sorted(eid for eid, _ in ends) == sorted(starts)
