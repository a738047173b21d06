"""bench/labels.py judges events by the hand-checked crops inside them (no real footage here:
a generated clip and a made-up crop table stand in for the realdata folder)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from scriptkit import load_script

from visionedge.synth import small_scene, write_clip

BENCH = Path(__file__).resolve().parents[2] / "bench" / "labels.py"


def _bench() -> ModuleType:
    return load_script("bench/labels.py", "bench_labels")


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
    full = (0.0, 0.0, 1.0, 1.0)
    assert checked == {"road.avi": [(12, "vehicle", full), (14, "background", full), (40, "background", full)]}
    road = checked["road.avi"]
    clip_classes = ("vehicle",)
    # A car inside: vehicle. Only background (leaves): no label is right. Nothing checked
    # inside: the clip's classes.
    assert bench.event_truth({"start_frame": 10, "end_frame": 20}, road, clip_classes) == ("vehicle",)
    assert bench.event_truth({"start_frame": 30, "end_frame": 45}, road, clip_classes) == ("",)
    assert bench.event_truth({"start_frame": 50, "end_frame": 60}, road, clip_classes) == ("vehicle",)
    assert bench.hand_checked(tmp_path / "missing") == {}


def test_objects_judged_by_eye_count_without_a_gate_crop_table(tmp_path: Path) -> None:
    # A fresh test set has only objects_checked.csv (every object looked at by eye); its
    # judgements must count (session 12: a set judged so was scored by clip class alone).
    bench = _bench()
    data = _folder(tmp_path, [])
    (data / "crops" / "manifest.csv").unlink()
    (data / "crops" / "objects_checked.csv").write_text(
        "file,clip,split,class,frame,x0,y0,x1,y1,note\n,road,test,background,7,0.1,0.1,0.2,0.2,by eye\n")
    assert bench.hand_checked(data) == {"road.avi": [(7, "background", (0.1, 0.1, 0.2, 0.2))]}
    shadow = {7: (0.1, 0.1, 0.2, 0.2)}
    assert bench.object_truth(shadow, bench.hand_checked(data)["road.avi"], ("vehicle",)) == (("",), True)


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


def test_object_truth_comes_from_the_checked_crops_on_its_box_path() -> None:
    bench = _bench()
    checked = [
        (10, "vehicle", (0.0, 0.0, 0.5, 0.5)),      # the car's crop
        (11, "background", (0.6, 0.6, 1.0, 1.0)),   # leaves elsewhere on the frame
        (30, "background", (0.5, 0.0, 1.0, 0.5)),   # leaves where the second object is
    ]
    car = {10: (0.1, 0.1, 0.3, 0.3), 11: (0.12, 0.1, 0.32, 0.3)}
    leaves = {30: (0.6, 0.1, 0.8, 0.3), 31: (0.6, 0.1, 0.8, 0.3)}
    elsewhere = {50: (0.1, 0.1, 0.3, 0.3)}
    # Inside the crop on a frame it was tracked: the crop's class; the leaves' crop on frame
    # 11 is not on the car's box.
    assert bench.object_truth(car, checked, ("vehicle",)) == (("vehicle",), True)
    # Only background crops on its path: no label is right.
    assert bench.object_truth(leaves, checked, ("vehicle",)) == (("",), True)
    # No crop on its path: the clip's classes, not judged by crops.
    assert bench.object_truth(elsewhere, checked, ("vehicle",)) == (("vehicle",), False)
    # A crop on the right frame but off its box does not judge it.
    assert bench.object_truth({10: (0.7, 0.7, 0.9, 0.9)}, checked, ("vehicle",))[1] is False


def test_a_box_checked_for_the_object_itself_decides_alone() -> None:
    # A sliver of pavement under a crop of two people: the crop alone makes it a "person";
    # its own box, looked at by eye, says background, and that decides.
    bench = _bench()
    sliver = {20: (0.10, 0.90, 0.40, 0.95)}
    people = (20, "person", (0.0, 0.3, 0.5, 1.0))
    assert bench.object_truth(sliver, [people], ("person",)) == (("person",), True)
    own = (20, "background", (0.10, 0.90, 0.40, 0.95))
    assert bench.object_truth(sliver, [people, own], ("person",)) == (("",), True)
    # A box that only overlaps the object's (under OWN_BOX) is judged as a crop, not as its own.
    near = (20, "background", (0.10, 0.88, 0.30, 0.95))
    assert bench.iou(sliver[20], near[2]) < bench.OWN_BOX
    assert bench.object_truth(sliver, [people, near], ("person",)) == (("person",), True)


def test_boxes_of_objects_no_crop_touched_judge_like_crops(tmp_path: Path) -> None:
    # crops/objects_checked.csv (boxes looked at by eye, no image) adds to the crops' table:
    # a speck of dust is "background", so only no label is right for it.
    bench = _bench()
    data = _folder(tmp_path, ["a.png,road,train,vehicle,12,0,0,0.5,0.5"])
    (data / "crops" / "objects_checked.csv").write_text(
        "file,clip,split,class,frame,x0,y0,x1,y1,note\n"
        ",road,train,background,40,0.8,0.8,0.82,0.82,object 7\n")
    checked = bench.hand_checked(data)["road.avi"]
    assert (12, "vehicle", (0.0, 0.0, 0.5, 0.5)) in checked
    assert (40, "background", (0.8, 0.8, 0.82, 0.82)) in checked
    speck = {40: (0.8, 0.8, 0.82, 0.82)}
    assert bench.object_truth(speck, checked, ("vehicle",)) == (("",), True)
    # Without the table the same speck falls back to the clip's class.
    (data / "crops" / "objects_checked.csv").unlink()
    assert bench.object_truth(speck, bench.hand_checked(data)["road.avi"], ("vehicle",)) == (
        ("vehicle",), False)


def test_bench_object_mode_prints_objects_per_clip(tmp_path: Path) -> None:
    data = _folder(tmp_path / "data", ["a.png,road,train,background,0,0,0,1,1"])
    write_clip(small_scene(seed=3, cls="vehicle"), data / "clips" / "road.avi")
    dump = tmp_path / "dump.json"
    out = subprocess.run(
        [sys.executable, str(BENCH), "--data", str(data), "--presets", "demo", "--all-clips",
         "--events-only", "--teacher", "", "--mode", "object", "--dump", str(dump)],
        capture_output=True, text=True, timeout=300, check=False,
    ).stdout
    row = next(line for line in out.splitlines() if "objects road.avi (train)" in line)
    assert "by checked crops" in row and "judged by crops" in row, out
    # Every clip of the folder's manifest; the cost counts the objects that never published too.
    said = sum(len(o["said"]) for c in json.loads(dump.read_text()) for o in c["objects"])
    cost = next(line for line in out.splitlines() if "object classifications:" in line)
    m = re.search(r"object classifications: (\d+), ([\d.]+) ms wall each .*dearest clip (\S+) ", cost)
    assert m is not None and int(m[1]) >= said > 0 and float(m[2]) > 0, out
    dumped = json.loads(dump.read_text())
    assert dumped[0]["clip"] == "road.avi" and dumped[0]["objects"], dumped
    assert all(o["said"] for o in dumped[0]["objects"])


def test_a_folder_with_a_manifest_keeps_to_its_own_clips(tmp_path: Path) -> None:
    # A second footage folder (../realdata2) must not get the shared test clips mixed into
    # its figures; a folder without a manifest (../shared/data) is those clips.
    bench = _bench()
    data = _folder(tmp_path / "data", [])
    for name in ("road.avi", *bench.SHARED_CLIPS):
        (data / "clips" / name).write_bytes(b"x")
    assert [(p.name, split) for p, _, split in bench.clips_of(data, ("train", "test"))] == [
        ("road.avi", "train")]
    shared = tmp_path / "shared"
    (shared / "clips").mkdir(parents=True)
    for name in bench.SHARED_CLIPS:
        (shared / "clips" / name).write_bytes(b"x")
    got = {(p.name, cls, split) for p, cls, split in bench.clips_of(shared)}
    assert got == {(name, (cls,), "test") for name, cls in bench.SHARED_CLIPS.items()}


def test_what_a_user_receives_does_not_count_unlabelled_boxes_as_right() -> None:
    bench = _bench()
    # A dog clip: the dog named, a fragment unlabelled (right: a box of nothing), the owner's
    # legs called "animal" (wrong), the owner's hands unlabelled (wrong: a person).
    row = bench.received_labels(["animal", "", "animal", ""],
                                [("animal",), ("",), ("person",), ("person",)], ("animal", "person"))
    assert row == (1, 1, 2, False)  # the person is never named
    assert bench.received_labels(["person"], [("person",)], ("person",)) == (1, 0, 0, True)
    line = bench.received_line([row, (1, 0, 0, True)])
    assert line == ("labels a user receives: 2 right, 1 wrong (66.7% of the labelled events "
                    "right), 2 unlabelled; every class of the clip named rightly on 1/2 clips")
