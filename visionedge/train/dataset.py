"""Image datasets for the pipeline: a folder-per-class reader with a recorded split, and the
project's own seeded synthetic dataset.

A dataset is a folder with one sub-folder per class (the folder name is the label; labels
are sorted by name, so the output index order is stable)::

    data/animal/*.png  data/background/*.png  data/person/*.png  data/vehicle/*.png

:func:`make_split` splits it per class (stratified) with a seeded shuffle and writes
``split.json`` (root, seed, labels, the relative file list of each split), so every later
step (prune, quantize, evaluate) reads the same test images. :func:`preprocess` is the one
place an image becomes model input; it matches what the daemon's classifier feeds the
model (crop, ``cv2.resize`` with INTER_AREA, BGR -> gray by OpenCV's BT.601), and models
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
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.errors import TrainingError

__all__ = [
    "IMAGE_SUFFIXES",
    "SYNTH_LABELS",
    "Colour",
    "Split",
    "crop_square",
    "generate_synth_dataset",
    "load_split",
    "make_split",
    "preprocess",
    "scan_folder",
    "synth_crops",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".webp")
SYNTH_LABELS: tuple[str, ...] = ("animal", "background", "person", "vehicle")
"""The demo model's labels, sorted (folder order = output index order)."""

Colour = Literal["gray", "rgb"]
U8 = npt.NDArray[np.uint8]


def preprocess(bgr: U8, size: int, colour: Colour) -> U8:
    """Resize a BGR (or gray) crop to ``size`` x ``size`` and convert to the model's colour.

    Returns H x W x C uint8 (C = 1 for gray, 3 for RGB). Real model input is this / 255.
    """
    img = bgr
    if img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    if img.shape[0] != size or img.shape[1] != size:
        img = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    if colour == "gray":
        if img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        return np.ascontiguousarray(img[:, :, None])
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    return np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB))


def crop_square(image: U8, box: tuple[float, float, float, float]) -> U8:
    """Crop the square around ``box`` (pixel x0, y0, x1, y1), padding outside with edge pixels."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = box
    side = max(x1 - x0, y1 - y0, 2.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = int(round(cx - side / 2)), int(round(cy - side / 2))
    s = int(round(side))
    # Clamp the square into the frame when it fits (the daemon shifts rather than pads).
    if s <= w:
        left = min(max(0, left), w - s)
    if s <= h:
        top = min(max(0, top), h - s)
    pad = max(0, -left, -top, left + s - w, top + s - h)
    if pad:
        image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        left += pad
        top += pad
    return np.ascontiguousarray(image[top : top + s, left : left + s])


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
    classes = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
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

    def arrays(self, part: str, size: int, colour: Colour) -> tuple[U8, npt.NDArray[np.int64]]:
        """Load one split as (N x size x size x C uint8, N int64 labels)."""
        index = {label: i for i, label in enumerate(self.labels)}
        paths = self.files[part]
        channels = 1 if colour == "gray" else 3
        x = np.zeros((len(paths), size, size, channels), np.uint8)
        y = np.zeros(len(paths), np.int64)
        for i, rel in enumerate(paths):
            img = cv2.imread(str(self.root / rel), cv2.IMREAD_COLOR)
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
        )
    except FileNotFoundError:
        raise TrainingError(
            f"{path}: no split.json; run `visionedge model train DATA --out {path.parent}` first"
        ) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise TrainingError(f"{path}: not a split.json written by the pipeline ({exc})") from exc


# --- the synthetic dataset --------------------------------------------------------------


def _motion_box(
    box: tuple[float, float, float, float], direction: int, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """Make a ground-truth box look like a gate motion box: trail, margin, jitter."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    # The background-referenced gate also marks where the object just was: a trail behind it.
    trail = float(rng.uniform(0.0, 0.8)) * w
    if direction > 0:
        x0 -= trail
    else:
        x1 += trail
    margin = float(rng.uniform(0.05, 0.3))
    jx, jy = rng.uniform(-0.08, 0.08, 2)
    bw, bh = x1 - x0, y1 - y0
    return (
        x0 - margin * bw + jx * bw,
        y0 - margin * bh + jy * bh,
        x1 + margin * bw + jx * bw,
        y1 + margin * bh + jy * bh,
    )


def _random_scene(seed: int, rng: np.random.Generator) -> Any:
    from visionedge.synth import LightSwitch, ObjectPass, SceneSpec
    from visionedge.synth.shapes import CLASSES

    events: list[Any] = []
    t = 0.5
    while t < 26.0:
        cls = CLASSES[int(rng.integers(len(CLASSES)))]
        dur = float(rng.uniform(2.0, 5.0))
        events.append(
            ObjectPass(
                cls,
                t,
                dur,
                direction=1 if rng.random() < 0.5 else -1,
                height_frac=float(
                    rng.uniform(*{"person": (0.3, 0.6), "vehicle": (0.2, 0.45),
                                  "animal": (0.14, 0.35)}[cls])
                ),
                ground_frac=float(rng.uniform(0.8, 0.98)),
            )
        )
        t += dur + float(rng.uniform(0.3, 1.5))
    if rng.random() < 0.5:
        events.append(LightSwitch(float(rng.uniform(5, 25)), gain=float(rng.uniform(0.5, 1.3)),
                                  offset=float(rng.uniform(-10, 10))))
    return SceneSpec(width=640, height=360, fps=10.0, seed=seed, events=events, duration_s=30.0)


def synth_crops(
    seed: int, *, scenes: int, every: int = 3, jpeg_quality: int = 95
) -> Iterator[tuple[str, U8]]:
    """Yield (label, BGR crop) from ``scenes`` random scenes (scene seeds 1000+seed*100+i).

    Object crops come from every ``every``-th frame in which the object is at least half
    inside the frame; one background patch is taken from every object-free frame sampled.
    Frames go through a JPEG round trip at the demo clip's quality, as the daemon reads them.
    """
    from visionedge.synth import render_frames

    rng = np.random.default_rng([seed, 7])
    for i in range(scenes):
        spec = _random_scene(1000 + seed * 100 + i, rng)
        directions = [getattr(e, "direction", 1) for e in spec.events if hasattr(e, "cls")]
        for frame, truth in render_frames(spec):
            if truth.index % every or truth.covered:
                continue
            ok, enc = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality])
            img = cv2.imdecode(enc, cv2.IMREAD_COLOR) if ok else frame
            fh, fw = img.shape[:2]
            for obj in truth.objects:
                b = obj.box
                px = (b.x0 * fw, b.y0 * fh, b.x1 * fw, b.y1 * fh)
                # Skip slivers entering at the frame edge: the gate sees them, but a few
                # columns of an object carry no class.
                if obj.visible_pct < 0.4:
                    continue
                d = directions[obj.track - 1] if 0 < obj.track <= len(directions) else 1
                yield obj.cls, crop_square(img, _motion_box(px, d, rng))
            if not truth.objects:
                side = float(rng.uniform(0.15, 0.6)) * fh
                x0 = float(rng.uniform(0, fw - side))
                y0 = float(rng.uniform(0, fh - side))
                yield "background", crop_square(img, (x0, y0, x0 + side, y0 + side))


def generate_synth_dataset(
    out: Path, *, per_class: int, seed: int = 0, size: int = 96, scenes: int | None = None
) -> dict[str, int]:
    """Write a balanced folder-per-class PNG dataset (gray-agnostic BGR crops) under ``out``.

    Half of each class comes from scene crops (:func:`synth_crops`), the rest from
    ``render_object``/``render_background``. Returns the count per label.
    """
    from visionedge.synth import render_background, render_object

    out.mkdir(parents=True, exist_ok=True)
    for label in SYNTH_LABELS:
        (out / label).mkdir(exist_ok=True)
    counts = dict.fromkeys(SYNTH_LABELS, 0)
    want_scene = per_class - per_class // 2
    # About 25 crops per object class per scene at every=3.
    n_scenes = scenes if scenes is not None else max(2, math.ceil(want_scene / 20))
    for label, crop in synth_crops(seed, scenes=n_scenes):
        if counts[label] >= want_scene:
            continue
        _write(out / label / f"{label}_{counts[label]:05d}.png", crop, size)
        counts[label] += 1
    rng = np.random.default_rng([seed, 11])
    for label in SYNTH_LABELS:
        while counts[label] < per_class:
            render = int(rng.integers(size, 2 * size))
            if label == "background":
                img = render_background(render, rng)
            else:
                img, _ = render_object(label, render, rng)
            _write(out / label / f"{label}_{counts[label]:05d}.png", img, size)
            counts[label] += 1
    (out / "dataset.json").write_text(
        json.dumps({"generator": "visionedge.train.dataset.generate_synth_dataset",
                    "seed": seed, "per_class": per_class, "size": size,
                    "scenes": n_scenes, "counts": counts}, indent=1) + "\n"
    )
    return counts


def _write(path: Path, bgr: U8, size: int) -> None:
    img = cv2.resize(bgr, (size, size), interpolation=cv2.INTER_AREA)
    if not cv2.imwrite(str(path), img):
        raise TrainingError(f"{path}: cannot write image; check the folder is writable")


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
