"""Image datasets for the pipeline: a folder-per-class reader with a recorded split, and the
project's own seeded synthetic dataset.

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
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.classify.preprocess import area_resize
from visionedge.errors import TrainingError

__all__ = [
    "IMAGE_SUFFIXES",
    "SYNTH_LABELS",
    "Colour",
    "Split",
    "crop_rect",
    "crop_square",
    "gate_crops",
    "generate_synth_dataset",
    "jpeg_roundtrip",
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
    img: Any = bgr
    if img.ndim == 3 and img.shape[2] == 4:
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
    if img.shape[0] != size or img.shape[1] != size:
        img = area_resize(img, size, size)  # as the daemon and the firmware
    if colour == "gray":
        if img.ndim == 3:
            img = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        gray: U8 = np.ascontiguousarray(img[:, :, None], dtype=np.uint8)
        return gray
    if img.ndim == 2:
        img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    rgb: U8 = np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2RGB), dtype=np.uint8)
    return rgb


def crop_rect(
    box: tuple[float, float, float, float], frame_w: int, frame_h: int, margin: float
) -> tuple[int, int, int, int]:
    """The square pixel rectangle the daemon's classifier cuts around a pixel ``box``.

    Mirrors ``visionedge.classify.preprocess.crop_rect`` for a square model: grow the box to
    a square, then by ``margin``; shift it inside the frame; if it is still larger than the
    frame, clamp it (the resize then stretches, as the daemon's does).
    """
    x0, y0, x1, y1 = box
    bw, bh = max(x1 - x0, 1.0), max(y1 - y0, 1.0)
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    side = max(bw, bh) * (1 + margin)
    side = max(side, 16.0)
    w, h = min(side, float(frame_w)), min(side, float(frame_h))
    if w > h:
        w = max(h, min(bw, float(frame_w)))
    elif h > w:
        h = max(w, min(bh, float(frame_h)))
    iw, ih = min(max(1, round(w)), frame_w), min(max(1, round(h)), frame_h)
    left = min(max(math.floor(cx - iw / 2 + 0.5), 0), frame_w - iw)
    top = min(max(math.floor(cy - ih / 2 + 0.5), 0), frame_h - ih)
    return left, top, left + iw, top + ih


def crop_square(image: U8, box: tuple[float, float, float, float], margin: float = 0.0) -> U8:
    """Cut the daemon-style crop (:func:`crop_rect`) around a pixel box out of ``image``."""
    x0, y0, x1, y1 = crop_rect(box, image.shape[1], image.shape[0], margin)
    return np.ascontiguousarray(image[y0:y1, x0:x1])


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


# --- the synthetic dataset --------------------------------------------------------------


def _motion_box(
    box: tuple[float, float, float, float], direction: int, rng: np.random.Generator
) -> tuple[float, float, float, float]:
    """Make a ground-truth box look like a gate motion box: a trail behind it, jitter."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    # The background-referenced gate also marks where the object just was: a trail behind it.
    trail = float(rng.uniform(0.0, 0.6)) * w
    if direction > 0:
        x0 -= trail
    else:
        x1 += trail
    jx, jy = rng.uniform(-0.06, 0.06, 2)
    return (x0 + jx * w, y0 + jy * h, x1 + jx * w, y1 + jy * h)


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """Intersection area over the area of ``a``."""
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = max(1e-9, (a[2] - a[0]) * (a[3] - a[1]))
    return ix * iy / area


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


def jpeg_roundtrip(frame: U8, quality: int = 95) -> U8:
    """Encode and decode as JPEG, as the demo clip's MJPG frames are."""
    ok, enc = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        return frame
    out: U8 = np.asarray(cv2.imdecode(enc, cv2.IMREAD_COLOR), dtype=np.uint8)
    return out


def _label_region(
    rbox: tuple[float, float, float, float],
    objs: Sequence[tuple[str, tuple[float, float, float, float]]],
) -> str | None:
    """The class of the object a gate region mostly covers; background if none; None if unclear."""
    if not objs:
        return "background"
    cover, cls = max((_overlap(rbox, b), c) for c, b in objs)
    return cls if cover >= 0.35 else None


def gate_crops(
    spec: Any, *, margin: float = 0.15, every: int = 1, jpeg_quality: int = 95
) -> Iterator[tuple[int, str, U8]]:
    """Yield (frame index, label, BGR crop) of what the daemon classifies in scene ``spec``.

    The scene's frames go through a JPEG round trip and the real gate (default config); on
    every ``every``-th frame with a motion region, the largest region is cropped with the
    daemon's geometry and labelled from the ground truth (:func:`_label_region`; unclear
    regions are skipped).
    """
    from visionedge.config import GateConfig
    from visionedge.gate import FrameDifferenceGate, to_motion_plane
    from visionedge.synth import render_frames

    cfg = GateConfig()
    gate = FrameDifferenceGate(cfg)
    for frame, truth in render_frames(spec):
        img = jpeg_roundtrip(frame, jpeg_quality)
        result = gate.process_plane(to_motion_plane(img, cfg.width), truth.index)
        if truth.index % every or truth.covered or not result.regions:
            continue
        fh, fw = img.shape[:2]
        r = result.regions[0]
        rbox = (r.x0 * fw, r.y0 * fh, r.x1 * fw, r.y1 * fh)
        objs = [(o.cls, (o.box.x0 * fw, o.box.y0 * fh, o.box.x1 * fw, o.box.y1 * fh))
                for o in truth.objects]
        label = _label_region(rbox, objs)
        if label is not None:
            yield truth.index, label, crop_square(img, rbox, margin)


def synth_crops(
    seed: int, *, scenes: int, every: int = 3, jpeg_quality: int = 95
) -> Iterator[tuple[str, U8]]:
    """Yield (label, BGR crop) from ``scenes`` random scenes (scene seeds 1000+seed*100+i).

    Every frame goes through a JPEG round trip at the demo clip's quality and the real motion
    gate (:class:`visionedge.gate.FrameDifferenceGate`, default config), as in the daemon. On
    every ``every``-th frame:

    - the gate's largest region (what the daemon classifies), labelled with the object it
      mostly covers (skipped when ambiguous; ``background`` when it covers none);
    - each visible object's ground-truth box made to look like a motion box (trail, jitter);
    - on object-free frames, one random scene patch as ``background``.

    Crops use the daemon's geometry (:func:`crop_rect`) with a margin of 0.1-0.25.
    """
    from visionedge.config import GateConfig
    from visionedge.gate import FrameDifferenceGate, to_motion_plane
    from visionedge.synth import render_frames

    rng = np.random.default_rng([seed, 7])
    gate_cfg = GateConfig()
    for i in range(scenes):
        spec = _random_scene(1000 + seed * 100 + i, rng)
        directions = [getattr(e, "direction", 1) for e in spec.events if hasattr(e, "cls")]
        gate = FrameDifferenceGate(gate_cfg)
        for frame, truth in render_frames(spec):
            img = jpeg_roundtrip(frame, jpeg_quality)
            result = gate.process_plane(to_motion_plane(img, gate_cfg.width), truth.index)
            if truth.index % every or truth.covered:
                continue
            fh, fw = img.shape[:2]
            objs = [
                (o.cls, (o.box.x0 * fw, o.box.y0 * fh, o.box.x1 * fw, o.box.y1 * fh), o)
                for o in truth.objects
            ]
            margin = float(rng.uniform(0.1, 0.25))
            if result.regions:
                r = result.regions[0]
                rbox = (r.x0 * fw, r.y0 * fh, r.x1 * fw, r.y1 * fh)
                label = _label_region(rbox, [(c, b) for c, b, _ in objs])
                if label is not None:
                    yield label, crop_square(img, rbox, margin)
            for cls, b, o in objs:
                if o.visible_pct < 0.4:
                    continue  # a sliver entering at the edge carries no class
                d = directions[o.track - 1] if 0 < o.track <= len(directions) else 1
                yield cls, crop_square(img, _motion_box(b, d, rng), margin)
            if not objs:
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
    img = bgr if bgr.shape[:2] == (size, size) else area_resize(bgr, size, size)
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
