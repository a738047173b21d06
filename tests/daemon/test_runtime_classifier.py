"""Classifier settings changed over MQTT while ``visionedge run`` runs (issue 10 item 12)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from daemonkit import daemon_config, read_jsonl
from mqttkit import Broker, Subscriber, wait_until

REPLY = "visionedge/cam1/reply"
AVAIL = "visionedge/cam1/availability"


def test_classifier_budget_and_thresholds_change_over_mqtt(
    broker: Broker, tmp_path: Path, clip: Path, subscriber_factory: Callable[..., Subscriber],
    run_daemon: Callable[..., Any],
) -> None:
    sub = subscriber_factory(broker, [REPLY, AVAIL])
    # The real shipped int8 model classifies every frame of an event by default here.
    cfg = daemon_config(tmp_path, clip, broker.port, gate={"close_after_s": 0.5},
                        classifier={"enabled": True, "model": "demo", "every_n_frames": 1})
    d = run_daemon(cfg)
    wait_until(lambda: any(m.payload == b"online" for m in sub.on(AVAIL)), 20, "online")
    sub.publish("visionedge/cam1/set/classifier", '{"max_per_event": 1, "every_n_frames": 1}')
    sub.publish("visionedge/cam1/set/classifier/thresholds", '{"unicorn": 0.5}')
    sub.publish("visionedge/cam1/set/classifier/threshold", "0.05")
    replies = [m.json() for m in sub.wait_for(REPLY, 3, timeout=15)]
    assert [r["ok"] for r in replies] == [True, False, True], replies
    assert "unicorn" in replies[1]["error"] and "not a label" in replies[1]["error"]
    assert replies[2]["applied"] == {"classifier.threshold": 0.05}
    assert d.wait(60) == 0, d.log
    ends = [e for e in read_jsonl(tmp_path / "events.jsonl") if e["type"] == "end"]
    assert len(ends) >= 2
    # The last passage (7 s in) started long after the replies: one classification, labelled.
    assert ends[-1]["classified_frames"] == 1 and ends[-1]["label"], ends[-1]
    assert "reload refused" not in d.log and "refused" not in d.log
