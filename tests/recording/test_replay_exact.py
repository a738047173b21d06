"""Live run -> recordings -> ``visionedge replay REC``: the same event bytes for each window."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import jsonschema
from reckit import LiveRun, visionedge, window

from visionedge.events import load_schema


def test_every_recording_replays_to_the_live_bytes(live: LiveRun) -> None:
    assert len(live.recordings) >= 3
    ends = {json.loads(m)["end"] for m in
            ((r / "manifest.json").read_text() for r in live.recordings)}
    assert {"cut", "finish"} <= ends or {"cut", "closed"} <= ends  # both ways a window ends
    covered = 0
    for rec in live.recordings:
        r = visionedge("replay", str(rec))
        assert r.code == 0, r.err
        expected = window(live, rec)
        assert expected, rec
        assert r.out == "".join(line + "\n" for line in expected), rec.name
        covered += len(expected)
    # Every live line belongs to exactly one window: nothing published went unrecorded.
    assert covered == len(live.lines)


def test_end_payloads_name_the_recording_and_a_real_snapshot(live: LiveRun) -> None:
    validator = jsonschema.Draft202012Validator(load_schema())
    ends = [json.loads(line) for line in live.lines if '"type":"end"' in line]
    assert ends
    for e in ends:
        validator.validate(e)
        rec, snap = Path(e["recording"]), Path(e["snapshot"])
        assert rec in live.recordings
        img = cv2.imread(str(snap))
        assert img is not None and img.shape == (180, 320, 3), snap
    starts = [json.loads(line) for line in live.lines if '"type":"start"' in line]
    assert all("recording" not in s for s in starts)
    assert any(e["reason"] == "continued" for e in starts)  # a window starting mid-event


def test_video_is_playable_with_every_frame(live: LiveRun) -> None:
    for rec in live.recordings:
        m = json.loads((rec / "manifest.json").read_text())
        cap = cv2.VideoCapture(str(rec / m["video"]))
        n = 0
        while cap.read()[0]:
            n += 1
        cap.release()
        assert n == m["frames"] > 0


def test_to_test_makes_a_passing_regression_case(live: LiveRun, tmp_path: Path) -> None:
    rec = live.recordings[0]
    r = visionedge("recordings", "to-test", str(rec), "--into", str(tmp_path / "cases"))
    assert r.code == 0, r.err
    case = tmp_path / "cases" / rec.name
    golden = tmp_path / "cases" / f"{rec.name}.golden.jsonl"
    assert golden.read_text() == "".join(line + "\n" for line in window(live, rec))
    assert visionedge("replay", str(case), "--expect", str(golden), "-q").code == 0
    # The case catches a change: one altered golden line fails with the replay mismatch status.
    golden.write_text(golden.read_text().replace('"seq":0', '"seq":9', 1))
    bad = visionedge("replay", str(case), "--expect", str(golden), "-q")
    assert bad.code == 7 and "differ" in bad.err


def test_list_and_show(live: LiveRun) -> None:
    r = visionedge("recordings", "list", "--dir", str(live.recordings[0].parent))
    assert r.code == 0, r.err
    assert len(r.out.splitlines()) == len(live.recordings)
    assert all(line.endswith("complete") for line in r.out.splitlines())
    s = visionedge("recordings", "show", str(live.recordings[0]))
    assert s.code == 0 and "status: complete" in s.out


def test_realtime_run_stopped_by_sigterm_replays_exactly(rec_clip: Path, tmp_path: Path) -> None:
    """The live path (realtime pacing, recorder never waits) and a window ended by SIGTERM."""
    import signal
    import subprocess
    import sys
    import time

    from reckit import ROOT, live_config

    cfg = live_config(tmp_path, rec_clip, max_s=60.0)
    text = cfg.read_text().replace(f'path = "{rec_clip}"', f'path = "{rec_clip}"\nrealtime = true')
    cfg.write_text(text)
    proc = subprocess.Popen([sys.executable, "-m", "visionedge", "run", "--config", str(cfg)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    events = tmp_path / "live.jsonl"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and '"type":"start"' not in (
            events.read_text() if events.exists() else ""
        ):
            time.sleep(0.1)
        time.sleep(1.0)  # into the event; the test does not depend on where exactly
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert proc.returncode == 0, err
    lines = events.read_text().splitlines()
    recs = sorted((tmp_path / "recordings").iterdir())
    last = json.loads((recs[-1] / "manifest.json").read_text())
    assert last["end"] == "finish" and last["end_reason"] == "stopped"
    assert json.loads(lines[-1])["end_reason"] == "stopped"
    for rec in recs:
        r = visionedge("replay", str(rec))
        assert r.code == 0, r.err
        m = json.loads((rec / "manifest.json").read_text())
        window = [x for x in lines if m["first_frame"] <= json.loads(x)["frame"] <= m["last_frame"]]
        assert r.out == "".join(x + "\n" for x in window)
