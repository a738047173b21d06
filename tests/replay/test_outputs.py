"""replay's outputs: --expect diffs, --record, --trace CSV, --plot PNG, --export-frames, image folders."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from replaykit import GOLDEN, run_inproc

from visionedge.gate.plane import to_motion_plane
from visionedge.protocols import TRACE_COLUMNS
from visionedge.replay.export_frames import read_pgm

GATE_ONLY = str(GOLDEN / "gate_only.toml")


def test_expect_mismatch_exits_7_with_a_unified_diff(
    clip: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (GOLDEN / "small_gate.jsonl").read_text().splitlines()
    altered = [json.loads(line) for line in lines]
    altered[0]["peak_changed_pct"] = 42.0
    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join(json.dumps(e, separators=(",", ":")) + "\n" for e in altered[:-1]))
    r = run_inproc(capsys, "replay", str(clip("small")), "--config", GATE_ONLY, "--expect", str(bad), "-q")
    assert r.code == 7
    assert f"--- {bad}" in r.err and "+++ replay" in r.err and "@@" in r.err
    assert '-{"schema":1,"type":"start"' in r.err and '"peak_changed_pct":42.0' in r.err
    assert "+" + lines[-1] in r.err  # the dropped last line shows as added by the replay
    last = r.err.splitlines()[-1]
    assert last.startswith("visionedge: error: 2 event line(s) differ from") and "--record" in last
    assert "Traceback" not in r.err


def test_expect_with_a_missing_golden_file_says_how_to_record_it(
    clip: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "none.jsonl"
    r = run_inproc(capsys, "replay", str(clip("small")), "--config", GATE_ONLY, "--expect", str(missing), "-q")
    assert r.code == 7 and f"--record {missing}" in r.err


def test_record_then_expect_round_trips(
    clip: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    golden = tmp_path / "g.jsonl"
    rec = run_inproc(capsys, "replay", str(clip("small")), "--config", GATE_ONLY, "--record", str(golden))
    assert rec.code == 0 and golden.read_text() == rec.out and rec.out
    assert run_inproc(capsys, "replay", str(clip("small")), "--config", GATE_ONLY, "--expect", str(golden)).code == 0


def test_trace_has_the_documented_columns_and_one_row_per_frame(
    clip: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = tmp_path / "t.csv"
    r = run_inproc(capsys, "replay", str(clip("small")), "--config", GATE_ONLY, "--trace", str(trace))
    assert r.code == 0, r.err
    with trace.open(newline="") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == tuple(TRACE_COLUMNS)
    body = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    from visionedge.synth import frame_count, small_scene

    assert [int(b["frame"]) for b in body] == list(range(frame_count(small_scene())))
    assert {b["motion"] for b in body} == {"0", "1"}
    assert all(b["classified"] == "0" and b["label"] == "" and b["score"] == "" for b in body)
    assert all(b["classify_us"] == "" and float(b["gate_us"]) > 0 for b in body)
    events = [json.loads(line) for line in r.out.splitlines()]
    starts = {e["start_frame"]: e["event_id"] for e in events if e["type"] == "start"}
    for frame, eid in starts.items():
        assert body[frame]["event_id"] == eid and body[frame]["motion"] == "1"
    assert all(b["event_id"] for b in body if b["motion"] == "1")
    # Outside open frames an event id appears only on the frame the gate closed on.
    quiet_ends = {e["end_frame"] for e in events if e["end_reason"] == "quiet"}
    assert {int(b["frame"]) for b in body if b["event_id"] and b["motion"] == "0"} == quiet_ends
    assert all(float(b["changed_pct"]) >= 0 for b in body)


def test_plot_writes_a_png(clip: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    png = tmp_path / "timeline.png"
    r = run_inproc(capsys, "replay", str(clip("small")), "--config", GATE_ONLY, "--plot", str(png), "-q")
    assert r.code == 0 and r.out == ""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[1] == 1200 and image.shape[0] == 400
    # Event shading is drawn in a pale blue that the plain white background does not have.
    pale_blue = np.all(np.abs(image.astype(int) - (244, 235, 221)) <= 12, axis=2)
    assert pale_blue.sum() > 1000


def test_export_frames_writes_the_motion_planes_and_a_manifest(
    clip: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "frames"
    r = run_inproc(capsys, "replay", str(clip("small")), "--config", GATE_ONLY, "--export-frames", str(out), "-q")
    assert r.code == 0, r.err
    manifest = json.loads((out / "manifest.json").read_text())
    pgms = sorted(out.glob("frame_*.pgm"))
    assert manifest["count"] == len(pgms) == len(manifest["frames"])
    assert manifest["clip_id"] == "small.avi" and manifest["fps"] == 10.0
    from visionedge.config import GateConfig

    assert manifest["gate"] == GateConfig().model_dump(mode="json") and manifest["format"] == "pgm"
    assert pgms[0].name == "frame_000000.pgm"
    # The exported planes are exactly what the gate saw: the decoder's luma, downscaled
    # (MJPEG's full-range Y mapped to limited range).
    import av

    with av.open(str(clip("small"))) as container:
        for i, decoded in zip(range(3), container.decode(video=0), strict=False):
            plane = read_pgm(out / manifest["frames"][i]["file"])
            assert plane.shape == (manifest["height"], manifest["width"])
            y = decoded.to_ndarray(format="gray")
            assert np.array_equal(plane, to_motion_plane(y, 320, full_range=True))


def test_an_image_folder_replays_like_the_clip(
    clip: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "small_frames"
    folder.mkdir()
    # Gray pictures of the clip's (full-range MJPEG) luma give the gate the same planes.
    import av

    with av.open(str(clip("small"))) as container:
        for i, decoded in enumerate(container.decode(video=0)):
            cv2.imwrite(str(folder / f"img_{i:04d}.png"), decoded.to_ndarray(format="gray"))
    r = run_inproc(capsys, "replay", str(folder), "--config", GATE_ONLY)
    assert r.code == 0, r.err
    from_folder = [json.loads(line) for line in r.out.splitlines()]
    from_clip = [json.loads(line) for line in (GOLDEN / "small_gate.jsonl").read_text().splitlines()]
    strip = ("event_id", "continues", "source")
    assert [{k: v for k, v in e.items() if k not in strip} for e in from_folder] == [
        {k: v for k, v in e.items() if k not in strip} for e in from_clip
    ]
    assert from_folder[0]["source"] == "small_frames"
