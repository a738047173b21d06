"""Object mode in the real daemon: ``visionedge run`` on a generated clip in real time, the shipped
demo model, a real Mosquitto broker, recordings on. Each object's ``end`` names its recording
and its best-view JPEG; the snapshot topic carries object best views; per-label counts are
retained and announced to Home Assistant; every recording replays to the live bytes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from daemonkit import DaemonProcess, daemon_config, read_jsonl
from mqttkit import Broker, Subscriber
from objkit import validate

from visionedge.cli import main
from visionedge.synth import ObjectPass, SceneSpec, write_clip

SubFactory = Callable[..., Subscriber]


@pytest.fixture(scope="module")
def two_passages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = SceneSpec(
        width=320, height=180, fps=10.0, seed=11, duration_s=7.0,
        events=[
            ObjectPass("person", 0.5, 2.5, direction=1, height_frac=0.45, ground_frac=0.92),
            ObjectPass("vehicle", 3.8, 2.2, direction=-1, height_frac=0.35, ground_frac=0.88),
        ],
    )
    path = tmp_path_factory.mktemp("objdaemon") / "two_passages.avi"
    write_clip(spec, path)
    return path


def green_box(jpeg: bytes) -> tuple[int, int, int, int]:
    """Bounding box of the green rectangle drawn on a snapshot (pixels)."""
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    b, g, r = (img[..., i].astype(int) for i in range(3))
    ys, xs = np.nonzero(g - np.maximum(b, r) > 60)  # a 1-px line, blurred by JPEG
    return int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())


def test_object_events_carry_recording_and_snapshot_live_on_mqtt_and_replay(
    broker: Broker, subscriber_factory: SubFactory, two_passages: Path, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sub = subscriber_factory(broker, ["visionedge/cam1/#", "homeassistant/#"])
    rec_dir = tmp_path / "recordings"
    cfg = daemon_config(
        tmp_path, two_passages, broker.port,
        objects={"mode": "object"},
        classifier={"enabled": True, "model": "demo"},
        recording={"enabled": True, "path": str(rec_dir), "pre_roll_s": 1.0, "post_roll_s": 0.5,
                   "min_free_mb": 0.0},
    )
    d = DaemonProcess(cfg)
    try:
        assert d.wait(60) == 0, d.log
    finally:
        d.kill()
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    events = [json.loads(x) for x in lines]
    validate(events)
    assert {e["schema"] for e in events} == {2}
    ends = [e for e in events if e["type"] == "end"]
    assert [e["label"] for e in ends] == ["person", "vehicle"]

    # 1. Every end names its recording and a real JPEG of the object's best view, box drawn.
    snaps: dict[str, bytes] = {}
    for e in ends:
        assert Path(e["recording"]).parent == rec_dir.resolve()
        assert e["snapshot"] == f"{e['recording']}/snapshots/{e['event_id']}.jpg"
        jpeg = Path(e["snapshot"]).read_bytes()
        snaps[e["event_id"]] = jpeg
        x0, y0, x1, y1 = green_box(jpeg)
        bx = e["best"]["box"]
        assert abs(x0 - bx[0] * 320) <= 2 and abs(x1 - bx[2] * 320) <= 3, (e["best"], (x0, x1))
        assert abs(y0 - bx[1] * 180) <= 2 and abs(y1 - bx[3] * 180) <= 3, (e["best"], (y0, y1))
    assert all("recording" not in e for e in events if e["type"] != "end")

    # 2. MQTT: the same event lines; object best views on the snapshot topic (the last one is
    # the last object's end view, byte for byte the recorder's file); counts and discovery.
    topic = "visionedge/cam1"
    sub.wait_for(f"{topic}/events", len(lines))
    assert [m.payload.decode() for m in sub.on(f"{topic}/events")] == lines
    shots = sub.wait_for(f"{topic}/snapshot")
    assert 1 <= len(shots) <= 2 * len(ends)
    late = subscriber_factory(broker, [f"{topic}/snapshot", f"{topic}/person", f"{topic}/vehicle"],
                              client_id="late")
    assert late.wait_for(f"{topic}/snapshot")[0].payload == snaps[ends[-1]["event_id"]]
    for label in ("person", "vehicle"):
        seen = [m.payload for m in sub.on(f"{topic}/{label}")]
        assert b"1" in seen, (label, seen)
        got = late.wait_for(f"{topic}/{label}")[0]
        assert got.retain and got.payload == b"0"
    disc: list[dict[str, Any]] = [m.json() for m in sub.on("homeassistant/device/cam1/config")]
    assert {"count_person", "count_vehicle"} <= set(disc[-1]["cmps"])
    assert disc[-1]["cmps"]["count_vehicle"]["state_topic"] == f"{topic}/vehicle"

    # 3. Each recording replays to exactly the live lines of its window, and covers them all.
    recs = sorted(p for p in rec_dir.iterdir() if p.is_dir())
    assert recs
    covered = 0
    for rec in recs:
        m = json.loads((rec / "manifest.json").read_text())
        want = [x for x, e in zip(lines, events, strict=True)
                if m["first_frame"] <= e["frame"] <= m["last_frame"]]
        capsys.readouterr()
        assert main(["replay", str(rec)]) == 0
        assert capsys.readouterr().out == "".join(x + "\n" for x in want), rec.name
        covered += len(want)
    assert covered == len(lines)
    assert read_jsonl(tmp_path / "events.jsonl") == events
