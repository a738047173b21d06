"""``dataset collect`` on generated clips: the crops, their provenance, de-duplication."""

from __future__ import annotations

import hashlib
from collections import Counter
from pathlib import Path

import cv2
import pytest
from datasetkit import SCENES, TEACHER, TEACHER_LABELS, Collected, run_cli

from visionedge.dataset import CONTEXT_DIR, load_dataset, read_manifest
from visionedge.synth import GroundTruth, truth_path


def _truth(clip: Path) -> GroundTruth:
    return GroundTruth.load(truth_path(clip))


def _iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union else 0.0


def test_every_crop_is_on_disk_with_its_context_and_provenance(collected: Collected) -> None:
    rows = read_manifest(collected.data / "manifest.csv")
    ds = load_dataset(collected.data)
    assert {r.clip for r in rows} == {f"{c}{s}.avi" for c, s in SCENES}
    on_disk = {Path(it.rel).name for it in [*ds.items, *ds.unsure]}
    assert on_disk == {r.file for r in rows}
    assert ds.size == (64, 64)
    for r in rows:
        ctx = cv2.imread(str(collected.data / CONTEXT_DIR / r.file))
        assert ctx is not None and ctx.shape == (64, 64, 3)
        truth = _truth(collected.clips / r.clip)
        frame = truth.frames[r.frame]
        # Each crop is of something that moved: the object the scene rendered there.
        assert frame.objects, f"{r.file}: no object in frame {r.frame}"
        best = max(_iou(r.box, (o.box.x0, o.box.y0, o.box.x1, o.box.y1)) for o in frame.objects)
        assert best > 0.2, f"{r.file}: motion box {r.box} misses the object"
        assert r.ts_ms == round(r.frame * 1000 / truth.fps)
        x0, y0, x1, y1 = r.rect
        assert x1 - x0 == y1 - y0 or x1 - x0 == truth.width or y1 - y0 == truth.height


def test_a_passage_gives_a_handful_of_distinct_crops(collected: Collected) -> None:
    rows = read_manifest(collected.data / "manifest.csv")
    per_clip = Counter(r.clip for r in rows)
    for clip, n in per_clip.items():
        moving = sum(1 for f in _truth(collected.clips / clip).frames if f.motion)
        # The object is in view for ~35 frames; every 2nd frame, 3 regions: up to ~50 crops
        # without de-duplication.
        assert 2 <= n <= 8, f"{clip}: {n} crops from {moving} moving frames"


def test_teacher_pre_labels_into_class_folders(collected: Collected) -> None:
    ds = load_dataset(collected.data)
    by_clip: dict[str, Counter[str]] = {}
    for it in ds.items:
        by_clip.setdefault(it.group, Counter())[it.label] += 1
    for cls, seed in SCENES:
        labels = by_clip.get(f"{cls}{seed}.avi", Counter())
        assert labels[cls] >= 1, f"{cls}{seed}: {dict(labels)}"
    for it in ds.items:
        assert it.row is not None and it.row.teacher_label == it.label
        assert it.row.teacher_score >= 0.6
        assert sum(it.row.soft.values()) == pytest.approx(1.0, abs=1e-3)
    for it in ds.unsure:
        assert it.row is not None and it.row.teacher_score < 0.6


def _digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "_review" not in p.parts}


def test_collect_is_deterministic(collected: Collected, tmp_path: Path) -> None:
    again = tmp_path / "again"
    assert run_cli("dataset", "collect", str(collected.clips), "--out", str(again),
                   "--teacher", str(TEACHER), "--teacher-labels", str(TEACHER_LABELS), "--size", "64") == 0
    assert _digest(again) == _digest(collected.data)


def test_without_a_teacher_every_crop_is_unsure(collected: Collected, tmp_path: Path) -> None:
    out = tmp_path / "plain"
    clip = collected.clips / "person0.avi"
    assert run_cli("dataset", "collect", str(clip), "--out", str(out), "--size", "32") == 0
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == [CONTEXT_DIR, "unsure"]
    assert len(list((out / "unsure").iterdir())) == len(read_manifest(out / "manifest.csv"))


def test_review_and_stats(collected: Collected, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("dataset", "stats", str(collected.data)) == 0
    out = capsys.readouterr().out
    assert "person0.avi" in out and "total" in out and "4 clips" in out
    assert run_cli("dataset", "review", str(collected.data)) == 0
    sheets = capsys.readouterr().out.split()
    assert sheets and all(Path(s).is_file() for s in sheets)
    img = cv2.imread(sheets[0])
    assert img is not None and img.shape[0] > 64


@pytest.fixture(scope="module")
def collected_objects(collected: Collected, tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("objects") / "data"
    assert run_cli("dataset", "collect", str(collected.clips), "--out", str(data), "--objects",
                   "--crop-px", "48", "--teacher", str(TEACHER), "--teacher-labels",
                   str(TEACHER_LABELS), "--size", "64") == 0
    return data


def test_objects_mode_cuts_each_tracked_object_on_its_grown_box(
    collected: Collected, collected_objects: Path
) -> None:
    rows = read_manifest(collected_objects / "manifest.csv")
    assert {r.clip for r in rows} == {f"{c}{s}.avi" for c, s in SCENES}
    assert rows and all(r.object_id > 0 and r.file.endswith(f"_o{r.object_id}.png") for r in rows)
    per_object = Counter((r.clip, r.object_id) for r in rows)
    assert max(per_object.values()) <= 8  # max_per_passage counts per object
    for r in rows:
        truth = _truth(collected.clips / r.clip)
        frame = truth.frames[r.frame]
        # The manifest keeps the object's own box: on the object the scene rendered there.
        best = max(_iou(r.box, (o.box.x0, o.box.y0, o.box.x1, o.box.y1)) for o in frame.objects)
        assert best > 0.2, f"{r.file}: object box {r.box} misses the object"
        # The cut is the box grown to 48 frame pixels (and the classifier's margin) around it.
        x0, y0, x1, y1 = r.rect
        assert min(x1 - x0, y1 - y0) >= min(48, truth.width, truth.height)
        bx0, by0, bx1, by1 = (r.box[0] * truth.width, r.box[1] * truth.height,
                              r.box[2] * truth.width, r.box[3] * truth.height)
        assert x0 <= bx0 + 1 and y0 <= by0 + 1 and x1 >= bx1 - 1 and y1 >= by1 - 1
    ds = load_dataset(collected_objects)
    assert ds.size == (64, 64) and {Path(it.rel).name for it in [*ds.items, *ds.unsure]} == {r.file for r in rows}
    # The demo teacher knows these shapes: each clip's object is pre-labelled its class.
    for cls, seed in SCENES:
        assert any(it.label == cls for it in ds.items if it.group == f"{cls}{seed}.avi")


def test_a_manifest_without_the_object_id_column_still_reads(collected: Collected, tmp_path: Path) -> None:
    text = (collected.data / "manifest.csv").read_text().splitlines()
    header = text[0].split(",")
    assert header[-1] == "object_id"
    old = tmp_path / "manifest.csv"
    old.write_text("\n".join(",".join(line.split(",")[:-1]) if i == 0 else line.rsplit(",", 1)[0]
                             for i, line in enumerate(text)) + "\n")
    rows = read_manifest(old)
    assert rows == read_manifest(collected.data / "manifest.csv")
    assert all(r.object_id == 0 for r in rows)
