"""Image datasets for the pipeline: a folder-per-class reader with a recorded split, and the
project's own seeded synthetic dataset (made in :mod:`visionedge.train.synth_data`; the model
input and crop geometry live in :mod:`visionedge.train.crops`; both re-exported here).

A dataset is a folder with one sub-folder per class (the folder name is the label; labels
are sorted by name, so the output index order is stable)::

    data/animal/*.png  data/background/*.png  data/person/*.png  data/vehicle/*.png

:func:`make_split` splits it per class (stratified) with a seeded shuffle and writes
``split.json`` (root, seed, labels, the relative file list of each split), so every later
step (prune, quantize, evaluate) reads the same test images. :func:`preprocess` is the one
place an image becomes model input; it matches what the daemon's classifier feeds the
model (crop, the exact integer area resize of docs/gate-algorithm.md §6 that the firmware
also computes, BGR -> gray by OpenCV's BT.601), and models
are trained on pixel / 255, i.e. real values in [0, 1].

:func:`generate_synth_dataset` makes the demo model's training data from
:mod:`visionedge.synth`: objects moving through rendered scenes (seeds other than the demo
clip's), cropped around their ground-truth box the way a motion box looks (grown by a
margin, stretched towards where the object came from, shifted, squared), plus
:func:`~visionedge.synth.render_object` crops; ``background`` crops are scene patches with no
object and :func:`~visionedge.synth.render_background` textures.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.errors import TrainingError
from visionedge.train.crops import U8, Colour, crop_rect, crop_square, preprocess
from visionedge.train.synth_data import (
    SYNTH_LABELS,
    gate_crops,
    generate_synth_dataset,
    jpeg_roundtrip,
    synth_crops,
)

__all__ = [
    "IMAGE_SUFFIXES",
    "SYNTH_LABELS",
    "Colour",
    "Split",
    "augment",
    "crop_rect",
    "crop_square",
    "gate_crops",
    "generate_synth_dataset",
    "jpeg_roundtrip",
    "label_list",
    "load_split",
    "make_split",
    "preprocess",
    "scan_folder",
    "synth_crops",
    "to_float",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".webp")


def scan_folder(root: Path) -> dict[str, list[str]]:
    """Map label -> sorted relative image paths of a folder-per-class dataset.

    Raises TrainingError when ``root`` is not a directory, has no class folders, or a class
    folder holds no images.
    """
    if not root.is_dir():
        raise TrainingError(
            f"{root}: not a dataset folder; pass a folder with one sub-folder of images per "
            "class (or make one with `visionedge model synth-data --out DIR`)"
        )
    # unsure/ and _context/ etc. of a collected dataset are not classes.
    classes = sorted(p for p in root.iterdir() if p.is_dir()
                     and not p.name.startswith((".", "_")) and p.name != "unsure")
    if len(classes) < 2:
        raise TrainingError(
            f"{root}: found {len(classes)} class folder(s); a dataset needs at least two "
            "sub-folders of images, one per class"
        )
    out: dict[str, list[str]] = {}
    for c in classes:
        files = sorted(
            f"{c.name}/{f.name}"
            for f in c.iterdir()
            if f.is_file() and f.suffix.lower() in IMAGE_SUFFIXES
        )
        if not files:
            raise TrainingError(
                f"{c}: class folder has no images ({', '.join(IMAGE_SUFFIXES)}); add images "
                "or remove the folder"
            )
        out[c.name] = files
    return out


@dataclass
class Split:
    """A dataset split as recorded in ``split.json``."""

    root: Path
    seed: int
    labels: list[str]
    files: dict[str, list[str]]
    """"train"/"val"/"test" -> relative paths ("<label>/<file>")."""
    groups: dict[str, str] = field(default_factory=dict)
    """Relative path -> the clip it came from (by-clip splits of collected datasets)."""
    by: str = "class"
    """"class": stratified per class by file; "clip": whole clips on one side."""
    test_groups: list[str] = field(default_factory=list)
    """The clips of the test split (by-clip splits)."""

    def arrays(self, part: str, size: int, colour: Colour) -> tuple[U8, npt.NDArray[np.int64]]:
        """Load one split as (N x size x size x C uint8, N int64 labels)."""
        index = {label: i for i, label in enumerate(self.labels)}
        paths = self.files[part]
        channels = 1 if colour == "gray" else 3
        x = np.zeros((len(paths), size, size, channels), np.uint8)
        y = np.zeros(len(paths), np.int64)
        for i, rel in enumerate(paths):
            img: Any = cv2.imread(str(self.root / rel), cv2.IMREAD_COLOR)
            if img is None:
                raise TrainingError(
                    f"{self.root / rel}: not a readable image; delete it or replace it"
                )
            x[i] = preprocess(img, size, colour)
            y[i] = index[rel.split("/", 1)[0]]
        return x, y

    def to_json(self) -> dict[str, Any]:
        """The ``split.json`` content."""
        return {
            "root": str(self.root),
            "seed": self.seed,
            "labels": self.labels,
            "counts": {k: len(v) for k, v in self.files.items()},
            "by": self.by,
            "test_groups": self.test_groups,
            "groups": self.groups,
            **self.files,
        }

    def save(self, path: Path) -> None:
        """Write ``split.json``."""
        path.write_text(json.dumps(self.to_json(), indent=1) + "\n")


def make_split(
    root: Path, seed: int, fractions: tuple[float, float, float] = (0.7, 0.15, 0.15)
) -> Split:
    """Split a folder-per-class dataset per class with a seeded shuffle."""
    by_class = scan_folder(root)
    rng = np.random.default_rng(seed)
    files: dict[str, list[str]] = {"train": [], "val": [], "test": []}
    for label in sorted(by_class):
        items = list(by_class[label])
        order = rng.permutation(len(items))
        items = [items[i] for i in order]
        n = len(items)
        n_test = max(1, round(n * fractions[2])) if n >= 3 else 0
        n_val = max(1, round(n * fractions[1])) if n >= 3 else 0
        files["test"] += items[:n_test]
        files["val"] += items[n_test : n_test + n_val]
        files["train"] += items[n_test + n_val :]
    for part in files:
        files[part].sort()
    return Split(root=root.resolve(), seed=seed, labels=sorted(by_class), files=files)


def load_split(path: Path) -> Split:
    """Read ``split.json`` written by :meth:`Split.save`."""
    try:
        data = json.loads(path.read_text())
        return Split(
            root=Path(data["root"]),
            seed=int(data["seed"]),
            labels=list(data["labels"]),
            files={k: list(data[k]) for k in ("train", "val", "test")},
            groups=dict(data.get("groups", {})),
            by=str(data.get("by", "class")),
            test_groups=list(data.get("test_groups", [])),
        )
    except FileNotFoundError:
        raise TrainingError(
            f"{path}: no split.json; run `visionedge model train DATA --out {path.parent}` first"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise TrainingError(f"{path}: not a split.json written by the pipeline ({exc})") from exc


def to_float(x: U8) -> npt.NDArray[np.float32]:
    """uint8 pixels -> real model input in [0, 1]."""
    return (x.astype(np.float32) / 255.0).astype(np.float32)


def augment(
    x: U8, y: npt.NDArray[np.int64], seed: int, copies: int = 1
) -> tuple[U8, npt.NDArray[np.int64]]:
    """Append ``copies`` mirrored, brightness/contrast-jittered copies of (x, y), seeded."""
    rng = np.random.default_rng([seed, 23])
    xs, ys = [x], [y]
    for _ in range(copies):
        gain = rng.uniform(0.6, 1.4, (len(x), 1, 1, 1))
        offset = rng.uniform(-30, 30, (len(x), 1, 1, 1))
        flip = rng.random(len(x)) < 0.5
        aug = x.astype(np.float32)
        aug[flip] = aug[flip][:, :, ::-1]
        mean = aug.mean(axis=(1, 2, 3), keepdims=True)
        aug = (aug - mean) * gain + mean + offset
        xs.append(np.clip(np.rint(aug), 0, 255).astype(np.uint8))
        ys.append(y)
    return np.concatenate(xs), np.concatenate(ys)


def label_list(labels: Sequence[str]) -> str:
    """labels.txt content: one label per line, line index = output index."""
    return "".join(f"{label}\n" for label in labels)
