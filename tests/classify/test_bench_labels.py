"""bench/labels.py judges events by the hand-checked crops inside them (no real footage here:
a generated clip and a made-up crop table stand in for the realdata folder)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from visionedge.synth import small_scene, write_clip

BENCH = Path(__file__).resolve().parents[2] / "bench" / "labels.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_labels", BENCH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _folder(tmp: Path, rows: list[str]) -> Path:
    (tmp / "clips").mkdir(parents=True)
    (tmp / "crops").mkdir()
    (tmp / "manifest.json").write_text(json.dumps({"clips": [
        {"id": "road", "file": "road.avi", "classes": ["vehicle"], "dominant": "vehicle", "split": "train"},
    ]}))
    (tmp / "crops" / "manifest.csv").write_text(
        "file,clip,split,class,frame,x0,y0,x1,y1\n" + "".join(r + "\n" for r in rows))
    return tmp


def test_event_truth_comes_from_the_checked_crops_inside_the_event(tmp_path: Path) -> None:
    bench = _bench()
    data = _folder(tmp_path, [
        "a.png,road,train,vehicle,12,0,0,1,1",
        "b.png,road,train,background,14,0,0,1,1",
        "c.png,road,train,background,40,0,0,1,1",
        "d.png,other,train,person,41,0,0,1,1",  # not in the manifest: ignored
    ])
    checked = bench.hand_checked(data)
    assert checked == {"road.avi": [(12, "vehicle"), (14, "background"), (40, "background")]}
    road = checked["road.avi"]
    clip_classes = ("vehicle",)
    # A car inside: vehicle. Only background (leaves): no label is right. Nothing checked
    # inside: the clip's classes.
    assert bench.event_truth({"start_frame": 10, "end_frame": 20}, road, clip_classes) == ("vehicle",)
    assert bench.event_truth({"start_frame": 30, "end_frame": 45}, road, clip_classes) == ("",)
    assert bench.event_truth({"start_frame": 50, "end_frame": 60}, road, clip_classes) == ("vehicle",)
    assert bench.hand_checked(tmp_path / "missing") == {}


def test_bench_prints_both_measures_per_clip(tmp_path: Path) -> None:
    data = _folder(tmp_path / "data", ["a.png,road,train,background,0,0,0,1,1"])
    write_clip(small_scene(seed=3, cls="vehicle"), data / "clips" / "road.avi")
    out = subprocess.run(
        [sys.executable, str(BENCH), "--data", str(data), "--presets", "demo", "--all-clips",
         "--events-only", "--teacher", ""],
        capture_output=True, text=True, timeout=300, check=False,
    ).stdout
    row = next(line for line in out.splitlines() if "events road.avi (train)" in line)
    assert "by clip class" in row and "by checked crops" in row, out
    assert "(clip):" in out and "(checked):" in out
