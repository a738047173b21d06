"""The project's own seeded synthetic crop dataset (the demo model's training data).

Objects moving through :mod:`visionedge.synth` scenes (seeds other than the demo clip's) are
cropped around their ground-truth box the way a motion box looks (grown by a margin,
stretched towards where the object came from, shifted, squared), plus
:func:`~visionedge.synth.render_object` crops; ``background`` crops are scene patches with no
object and :func:`~visionedge.synth.render_background` textures. Re-exported by
:mod:`visionedge.train.dataset` (its public home, named in every ``dataset.json``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from visionedge.classify.preprocess import area_resize
from visionedge.errors import TrainingError
from visionedge.train.crops import U8, crop_square

__all__ = ["SYNTH_LABELS", "gate_crops", "generate_synth_dataset", "jpeg_roundtrip", "synth_crops"]

SYNTH_LABELS: tuple[str, ...] = ("animal", "background", "person", "vehicle")
"""The demo model's labels, sorted (folder order = output index order)."""


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
