"""The daemon's small parts: latest-wins queue, watchdog gate, reload merge, sd_notify."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import numpy as np

from visionedge.config import Config, parse_config
from visionedge.frame import Frame
from visionedge.service.daemon import Captured, FrameQueue, WatchdogGate, merge_reloadable
from visionedge.service.sdnotify import Notifier


def _frame(i: int) -> Captured:
    plane = np.zeros((4, 4), np.uint8)
    return Captured(Frame(i, i * 100, plane, lambda: np.zeros((4, 4, 3), np.uint8)), float(i))


def test_latest_wins_drops_the_oldest_and_counts() -> None:
    q = FrameQueue(2, latest_wins=True)
    stop = threading.Event()
    for i in range(5):
        q.put(_frame(i), stop)
    assert q.dropped == 3 and q.arrived == 5
    a, b = q.get(0.1), q.get(0.1)
    assert a is not None and b is not None
    assert (a.frame.index, b.frame.index) == (3, 4)
    assert q.get(0.01) is None and not q.drained
    q.close()
    assert q.drained


def test_replay_mode_blocks_instead_of_dropping() -> None:
    q = FrameQueue(1, latest_wins=False)
    stop = threading.Event()
    q.put(_frame(0), stop)
    t = threading.Thread(target=q.put, args=(_frame(1), stop))
    t.start()
    t.join(0.3)
    assert t.is_alive(), "put should wait for room"
    first = q.get(1.0)
    t.join(2.0)
    second = q.get(1.0)
    assert first is not None and second is not None
    assert [first.frame.index, second.frame.index] == [0, 1] and q.dropped == 0


def test_watchdog_pings_only_while_frames_arrive() -> None:
    wd = WatchdogGate(1.0, now=0.0)
    assert not wd.due(5.0)  # no frames at all: no ping, however long
    wd.frame()
    assert not wd.due(0.5)  # too early
    assert wd.due(1.0)
    assert not wd.due(3.0)  # frames stopped: the pings stop, systemd will act
    wd.frame()
    assert wd.due(3.1)
    assert not WatchdogGate(None, 0.0).due(10.0)


def test_merge_reloadable_takes_runtime_sections_and_names_the_rest() -> None:
    cur = Config()
    new = parse_config({
        "gate": {"start_pct": 2.0, "stop_pct": 1.0, "width": 160},
        "events": {"update_every": 4},
        "classifier": {"threshold": 0.7, "model": "/other.tflite"},
        "mqtt": {"enabled": True},
    })
    merged, restart = merge_reloadable(cur, new)
    assert merged.gate.start_pct == 2.0 and merged.gate.width == cur.gate.width
    assert merged.events.update_every == 4
    assert merged.classifier.threshold == 0.7 and merged.classifier.model == cur.classifier.model
    assert merged.mqtt == cur.mqtt
    assert set(restart) == {"mqtt", "gate.width", "classifier.model"}


def test_reload_names_an_objects_change_as_needing_a_restart() -> None:
    # The tracker and the open object events are built from [objects]: a change must not be
    # dropped silently (it once was), it is kept as running and named.
    cur = Config()
    new = parse_config({"objects": {"mode": "motion", "lost_s": 3.0}})
    merged, restart = merge_reloadable(cur, new)
    assert merged.objects == cur.objects
    assert restart == ["objects"]


def test_notifier_without_socket_is_a_noop() -> None:
    n = Notifier({})
    assert not n.enabled and not n.ready() and n.watchdog_interval() is None


def test_notifier_abstract_namespace_and_watchdog_usec() -> None:
    name = f"visionedge-test-{os.getpid()}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        n = Notifier({"NOTIFY_SOCKET": "@" + name, "WATCHDOG_USEC": "4000000",
                      "WATCHDOG_PID": str(os.getpid())})
        assert n.watchdog_interval() == 2.0
        assert n.ready("up")
        assert sock.recv(100) == b"READY=1\nSTATUS=up"
        assert n.status("a\nb")
        assert sock.recv(100) == b"STATUS=a b"
        n.close()
    finally:
        sock.close()


def test_watchdog_pid_of_another_process_is_ignored() -> None:
    n = Notifier({"NOTIFY_SOCKET": "/nonexistent", "WATCHDOG_USEC": "1000000",
                  "WATCHDOG_PID": "1"})
    assert n.watchdog_interval() is None
    assert n.send(status="x") is False  # a missing socket is logged, not raised


def test_notifier_path_socket(tmp_path: Path) -> None:
    p = tmp_path / "n.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(p))
    sock.settimeout(2)
    n = Notifier({"NOTIFY_SOCKET": str(p)})
    assert n.watchdog()
    assert sock.recv(100) == b"WATCHDOG=1"
    sock.close()
