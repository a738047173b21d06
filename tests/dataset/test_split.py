"""The by-clip split: a clip (and a passage) is never on both sides."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from datasetkit import Collected, run_cli

from visionedge.dataset import ManifestRow, load_dataset, split_by_clip, write_manifest
from visionedge.errors import DatasetError

CLASSES = ("animal", "person", "vehicle")


def _make(root: Path, clips: dict[str, dict[str, int]], passages: int = 3) -> Path:
    """A dataset of 8x8 images: clip -> class -> count, spread over ``passages`` passages."""
    rows = []
    for clip, counts in clips.items():
        for cls, n in counts.items():
            (root / cls).mkdir(parents=True, exist_ok=True)
            for i in range(n):
                name = f"{clip}_{cls}_{i:03d}.png"
                cv2.imwrite(str(root / cls / name), np.full((8, 8, 3), i, np.uint8))
                rows.append(ManifestRow(file=name, clip=clip, frame=i, ts_ms=i * 100,
                                        passage=i % passages, box=(0.1, 0.1, 0.5, 0.5),
                                        rect=(0, 0, 8, 8), teacher_label=cls,
                                        teacher_score=1.0, soft={cls: 1.0}))
    write_manifest(root / "manifest.csv", rows)
    return root


def _clips_of(split_files: list[str], groups: dict[str, str]) -> set[str]:
    return {groups[f] for f in split_files}


@pytest.mark.parametrize("seed", range(8))
def test_no_clip_is_on_both_sides(tmp_path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    clips = {f"clip{i}.avi": {c: int(rng.integers(0, 12)) for c in CLASSES} for i in range(7)}
    for c in CLASSES:  # every class in at least two clips
        clips["clip0.avi"][c] = clips["clip1.avi"][c] = 5
    ds = load_dataset(_make(tmp_path, clips))
    split = split_by_clip(ds, seed=seed)
    test = _clips_of(split.files["test"], split.groups)
    train = _clips_of(split.files["train"], split.groups)
    val = _clips_of(split.files["val"], split.groups)
    assert test and train
    assert not test & (train | val)
    assert sorted(test) == split.test_groups
    # Validation takes whole passages: no (clip, passage) pair on both train and val.
    rows = {it.rel: it.row for it in ds.items}
    key = {rel: (r.clip, r.passage) for rel, r in rows.items() if r is not None}
    assert not {key[f] for f in split.files["train"]} & {key[f] for f in split.files["val"]}
    # Every labelled crop is used exactly once, and every class keeps training data.
    used = split.files["train"] + split.files["val"] + split.files["test"]
    assert sorted(used) == sorted(it.rel for it in ds.items)
    assert {f.split("/")[0] for f in split.files["train"]} == set(CLASSES)


def test_named_test_clips(tmp_path: Path) -> None:
    clips = {f"c{i}.avi": {"person": 4, "vehicle": 4} for i in range(3)}
    ds = load_dataset(_make(tmp_path, clips))
    split = split_by_clip(ds, test_clips=["c1.avi"])
    assert _clips_of(split.files["test"], split.groups) == {"c1.avi"}
    with pytest.raises(DatasetError, match="no labelled crops"):
        split_by_clip(ds, test_clips=["nope.avi"])


def test_one_clip_cannot_be_split_by_clip(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    data = _make(tmp_path / "d", {"only.avi": {"person": 6, "vehicle": 6}})
    before = sorted(p.relative_to(data) for p in data.rglob("*"))
    assert run_cli("model", "train", str(data), "--out", str(tmp_path / "w")) == 20
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "at least two clips" in err[0]
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == before


def test_collected_dataset_split_is_by_clip(collected: Collected) -> None:
    split = split_by_clip(load_dataset(collected.data), seed=0)
    assert split.by == "clip"
    assert not (_clips_of(split.files["test"], split.groups)
                & _clips_of(split.files["train"] + split.files["val"], split.groups))
