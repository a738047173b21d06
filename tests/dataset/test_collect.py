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
