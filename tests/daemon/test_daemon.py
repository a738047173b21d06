"""``visionedge run`` as a service, end to end: a real broker, a real clip, real signals."""

from __future__ import annotations

import json
import re
import signal
import socket
import sqlite3
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
from daemonkit import daemon_config, read_jsonl
from mqttkit import PASSWORD, USER, Broker, Subscriber, free_port, wait_until

from visionedge.events import load_schema
from visionedge.objects import load_object_schema

EVENTS = "visionedge/cam1/events"
AVAIL = "visionedge/cam1/availability"
REPLY = "visionedge/cam1/reply"
STATS = "visionedge/cam1/stats"
GATE = {"close_after_s": 0.5}


def _key(e: dict[str, Any]) -> tuple[str, int]:
    return (e["event_id"], e["seq"])


def _received(sub: Subscriber) -> list[dict[str, Any]]:
    return [m.json() for m in sub.on(EVENTS)]


def _check_no_loss_in_order(sub: Subscriber, expected: list[dict[str, Any]]) -> None:
    got = _received(sub)
    first: dict[tuple[str, int], dict[str, Any]] = {}
    order: list[tuple[str, int]] = []
    for e in got:
        k = _key(e)
        if k in first:
            assert first[k] == e, "a duplicate differs from the original"
            continue
        first[k] = e
        order.append(k)
    assert order == [_key(e) for e in expected]
    assert [first[k] for k in order] == expected


def test_replay_events_arrive_validate_and_match_the_local_log(
    broker: Broker, tmp_path: Path, clip: Path, subscriber_factory: Callable[..., Subscriber],
    run_daemon: Callable[..., Any],
) -> None:
    sub = subscriber_factory(broker, ["visionedge/cam1/#"])
    # The shipped int8 model runs here (real TFLite interpreter): labels reach the payloads.
    cfg = daemon_config(tmp_path, clip, broker.port, gate=GATE,
                        source={"realtime": False}, classifier={"enabled": True})
    d = run_daemon(cfg)
    assert d.wait(60) == 0, d.log
    expected = read_jsonl(tmp_path / "events.jsonl")
    assert len(expected) >= 6 and {e["type"] for e in expected} == {"start", "update", "end"}
    wait_until(lambda: len(sub.on(EVENTS)) >= len(expected), 15, "all events at the subscriber")
    # The default object events (schema 2); motion events (schema 1) in the tests that set the mode.
    validators = {1: jsonschema.Draft202012Validator(load_schema()),
                  2: jsonschema.Draft202012Validator(load_object_schema())}
    for e in _received(sub):
        validators[e["schema"]].validate(e)
    _check_no_loss_in_order(sub, expected)
    assert any(e["label"] for e in expected if e["type"] == "end")
    # States and a snapshot went out; a clean stop leaves availability offline and motion OFF.
    assert sub.on("visionedge/cam1/motion")[-1].payload == b"OFF"
    assert sub.on("visionedge/cam1/snapshot")[-1].payload[:2] == b"\xff\xd8"
    assert sub.on(AVAIL)[-1].payload == b"offline"
    assert "ready" in d.log


def test_broker_outage_mid_replay_loses_nothing(
    broker: Broker, tmp_path: Path, clip: Path, subscriber_factory: Callable[..., Subscriber],
    run_daemon: Callable[..., Any],
) -> None:
    sub = subscriber_factory(broker, [EVENTS])
    d = run_daemon(daemon_config(tmp_path, clip, broker.port, gate=GATE))
    sub.wait_for(EVENTS, 3, timeout=20)
    broker.stop()
    time.sleep(3.0)  # the replay goes on: events pile up in the spool
    during = len(read_jsonl(tmp_path / "events.jsonl"))
    broker.start()
    assert d.wait(60) == 0, d.log
    expected = read_jsonl(tmp_path / "events.jsonl")
    assert during > 3 and len(expected) > during
    wait_until(lambda: len({_key(e) for e in _received(sub)}) >= len(expected), 20,
               "every event after the outage")
    _check_no_loss_in_order(sub, expected)
    assert "connection lost" in d.log


def test_sigkill_while_the_broker_is_down_then_restart_delivers_the_spool(
    broker: Broker, tmp_path: Path, clip: Path, subscriber_factory: Callable[..., Subscriber],
    run_daemon: Callable[..., Any],
) -> None:
    broker.stop()
    cfg = daemon_config(tmp_path, clip, broker.port, gate=GATE)
    d = run_daemon(cfg)
    wait_until(lambda: len(read_jsonl(tmp_path / "events.jsonl")) >= 5, 20, "events while down")
    d.signal(signal.SIGKILL)
    d.wait(10)
    con = sqlite3.connect(tmp_path / "state" / "spool.sqlite3")
    spooled = [json.loads(r[0]) for r in con.execute("SELECT payload FROM spool ORDER BY id")]
    con.close()
    logged = read_jsonl(tmp_path / "events.jsonl")
    assert len(spooled) >= 5
    # Everything the file sink saw before the kill is in the spool (the file sink runs first,
    # so the very last line may not have reached the spool yet).
    assert [_key(e) for e in spooled] == [_key(e) for e in logged][: len(spooled)]
    assert len(logged) - len(spooled) <= 1
    broker.start()
    sub = subscriber_factory(broker, [EVENTS])
    d2 = run_daemon(cfg)
    wait_until(lambda: {_key(e) for e in spooled} <= {_key(e) for e in _received(sub)}, 20,
               "the spooled events after the restart")
    got = [_key(e) for e in _received(sub)]
    assert got[: len(spooled)] == [_key(e) for e in spooled]  # first, and in order
    d2.signal(signal.SIGTERM)
    assert d2.wait(30) == 0


def test_killing_the_daemon_flips_availability_offline(
    broker: Broker, tmp_path: Path, clip: Path, subscriber_factory: Callable[..., Subscriber],
    run_daemon: Callable[..., Any],
) -> None:
    sub = subscriber_factory(broker, [AVAIL])
    d = run_daemon(daemon_config(tmp_path, clip, broker.port))
    wait_until(lambda: any(m.payload == b"online" for m in sub.on(AVAIL)), 20, "online")
    d.signal(signal.SIGKILL)
    d.wait(10)
    wait_until(lambda: sub.on(AVAIL)[-1].payload == b"offline", 20, "offline via the last will")


def test_wrong_password_keeps_running_and_never_logs_the_password(
    password_broker: Broker, tmp_path: Path, clip: Path, run_daemon: Callable[..., Any],
) -> None:
    wrong = "nope-" + PASSWORD
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "mqtt-password").write_text(wrong + "\n")
    cfg = daemon_config(tmp_path, clip, password_broker.port, gate=GATE,
                        mqtt={"username": USER, "password_file": "mqtt-password"},
                        daemon={"stop_timeout_s": 1.0})
    d = run_daemon(cfg, env={"CREDENTIALS_DIRECTORY": str(creds)})
    d.wait_for_log("broker refused the connection")
    time.sleep(2.0)
    assert d.proc.poll() is None, "the daemon died on a refused connection"
    d.signal(signal.SIGTERM)
    assert d.wait(30) == 0
    log = d.log
    assert "Not authorized" in log and "password file" in log
    assert wrong not in log and PASSWORD not in log
    # Nothing lost: the events wait in the spool for correct credentials.
    con = sqlite3.connect(tmp_path / "state" / "spool.sqlite3")
    assert con.execute("SELECT COUNT(*) FROM spool").fetchone()[0] == len(
        read_jsonl(tmp_path / "events.jsonl"))
    con.close()


def test_control_topics_through_the_daemon(
    broker: Broker, tmp_path: Path, clip: Path, subscriber_factory: Callable[..., Subscriber],
    run_daemon: Callable[..., Any],
) -> None:
    sub = subscriber_factory(broker, [REPLY, STATS, AVAIL])
    d = run_daemon(daemon_config(tmp_path, clip, broker.port))
    wait_until(lambda: any(m.payload == b"online" for m in sub.on(AVAIL)), 20, "online")
    time.sleep(0.3)
    sub.publish("visionedge/cam1/set/gate/start_pct", "1.25")
    sub.publish("visionedge/cam1/set/gate/stop_pct", "7")  # > start_pct: refused
    sub.publish("visionedge/cam1/set/enabled", "OFF")
    replies = [m.json() for m in sub.wait_for(REPLY, 3)]
    assert [r["ok"] for r in replies] == [True, False, True]
    assert "stop_pct" in replies[1]["error"]
    wait_until(lambda: any(m.json().get("enabled") is False for m in sub.on(STATS)), 10,
               "stats showing the daemon paused")
    last = sub.on(STATS)[-1].json()
    assert last["control_ok"] == 2 and last["control_rejected"] == 1
    d.signal(signal.SIGTERM)
    assert d.wait(30) == 0
    assert "control: analysis paused" in d.log


def test_sighup_reloads_a_good_config_and_refuses_a_bad_one(
    broker: Broker, tmp_path: Path, clip: Path, run_daemon: Callable[..., Any],
) -> None:
    cfg = daemon_config(tmp_path, clip, broker.port)
    d = run_daemon(cfg)
    d.wait_for_log("ready")
    good = cfg.read_text().replace("[events]", "[gate]\nstart_pct = 2.5\n\n[events]")
    cfg.write_text(good)
    d.signal(signal.SIGHUP)
    d.wait_for_log("gate.start_pct=2.5")
    cfg.write_text(good.replace("start_pct = 2.5", "start_pct = -4"))
    d.signal(signal.SIGHUP)
    d.wait_for_log("reload refused")
    assert d.proc.poll() is None
    d.signal(signal.SIGTERM)
    assert d.wait(30) == 0
    assert "gate.start_pct" in d.log.split("reload refused")[1].splitlines()[0]


def test_sd_notify_ready_watchdog_status_stopping(
    broker: Broker, tmp_path: Path, clip: Path, run_daemon: Callable[..., Any],
) -> None:
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(0.5)
    d = run_daemon(daemon_config(tmp_path, clip, broker.port),
                   env={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "1000000"})
    messages: list[str] = []
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        try:
            messages.append(sock.recv(4096).decode())
        except TimeoutError:
            if d.proc.poll() is not None:
                break
    sock.close()
    assert d.wait(10) == 0
    lines = [line for m in messages for line in m.splitlines()]
    assert lines.count("READY=1") == 1
    assert lines.index("READY=1") < lines.index("WATCHDOG=1")
    assert lines.count("WATCHDOG=1") >= 5  # ~10 s of frames, a ping every 0.5 s
    assert any(line.startswith("STATUS=") and "fps" in line for line in lines)
    assert "STOPPING=1" in lines


def test_metrics_endpoint(
    broker: Broker, tmp_path: Path, clip: Path, run_daemon: Callable[..., Any],
) -> None:
    port = free_port()
    d = run_daemon(daemon_config(tmp_path, clip, broker.port, metrics={"enabled": True,
                                                                      "port": port}))
    d.wait_for_log("ready")
    time.sleep(1.0)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    for name in ("visionedge_frames_total", "visionedge_spool_depth",
                 "visionedge_dropped_frames_total", "visionedge_gate_seconds_bucket",
                 "visionedge_frame_to_publish_seconds_count", "visionedge_reconnects_total"):
        assert name in text, name
    frames = [float(line.split()[-1]) for line in text.splitlines()
              if line.startswith("visionedge_frames_total")]
    assert frames and frames[0] > 0
    d.signal(signal.SIGTERM)
    assert d.wait(30) == 0


def test_sigterm_ends_the_open_event_flushes_and_says_offline(
    broker: Broker, tmp_path: Path, clip: Path, subscriber_factory: Callable[..., Subscriber],
    run_daemon: Callable[..., Any],
) -> None:
    sub = subscriber_factory(broker, [EVENTS, AVAIL])
    d = run_daemon(daemon_config(tmp_path, clip, broker.port))
    start = sub.wait_for(EVENTS, 1, timeout=20)[0].json()
    assert start["type"] == "start"
    d.signal(signal.SIGTERM)
    assert d.wait(30) == 0
    wait_until(lambda: _received(sub)[-1]["type"] == "end", 10, "the end message")
    end = _received(sub)[-1]
    assert end["event_id"] == start["event_id"] and end["end_reason"] == "stopped"
    assert sub.on(AVAIL)[-1].payload == b"offline"
    con = sqlite3.connect(tmp_path / "state" / "spool.sqlite3")
    assert con.execute("SELECT COUNT(*) FROM spool").fetchone()[0] == 0  # flushed on the way out
    con.close()


def test_every_frame_is_analysed_or_counted_as_dropped(
    tmp_path: Path, run_daemon: Callable[..., Any],
) -> None:
    """A realtime replay at 200 fps into a one-frame queue: whatever the machine's speed,
    frames read = frames analysed + frames dropped (latest wins), and the daemon keeps up."""
    from visionedge.synth import ObjectPass, SceneSpec, write_clip

    fast = tmp_path / "fast.avi"
    write_clip(SceneSpec(width=640, height=480, fps=200.0, seed=5, duration_s=2.0,
                         events=[ObjectPass("person", 0.2, 1.5)]), fast)
    cfg = daemon_config(tmp_path, fast, free_port(), mqtt={"enabled": False},
                        classifier={"enabled": True, "every_n_frames": 1},
                        daemon={"frame_queue": 1})
    d = run_daemon(cfg)
    assert d.wait(60) == 0, d.log
    m = re.search(r"stopped \(end_of_clip\): (\d+) frames read, (\d+) analysed, (\d+) dropped",
                  d.log)
    assert m, d.log
    read, analysed, dropped = map(int, m.groups())
    assert read == 400
    assert analysed + dropped == read and analysed > 0
