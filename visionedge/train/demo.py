"""Build the shipped demo model end to end: ``visionedge model build-demo``.

synthetic dataset -> train fp32 -> PTQ int8 -> QAT int8 -> prune 50 % -> pruning-preserving
QAT int8 -> evaluate all on the test split and on crops of the demo clip -> export the
chosen int8 model (card, C array, report, chart) -> optionally install it as the package's
default model (``visionedge/data/demo_int8.tflite``, ``demo_labels.txt``, ``demo_card.json``).
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from visionedge.train.dataset import (
    SYNTH_LABELS,
    Colour,
    crop_square,
    gate_crops,
    generate_synth_dataset,
    jpeg_roundtrip,
    preprocess,
)

__all__ = ["DATA_DIR", "DemoRecipe", "build_demo", "demo_clip_gt_set", "demo_clip_set"]

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
"""The package data folder the shipped model is installed into."""


@dataclass
class DemoRecipe:
    """Everything that determines the demo model (recorded in its card)."""

    seed: int = 0
    per_class: int = 900
    size: int = 96
    alpha: float = 1.0
    epochs: int = 24
    qat_epochs: int = 4
    prune_epochs: int = 6
    sparsity: float = 0.5
    batch_size: int = 64
    learning_rate: float = 3e-3

    @classmethod
    def quick(cls) -> DemoRecipe:
        """A small, fast recipe (minutes) for a first model and smoke runs."""
        return cls(per_class=250, alpha=0.5, epochs=8, qat_epochs=2, prune_epochs=2)


def demo_clip_set(size: int, colour: Colour = "gray", margin: float = 0.15,
                  every: int = 1) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """What the daemon classifies in the demo clip (seed 0), labelled from its ground truth.

    The clip's frames go through the real gate; the largest motion region of each frame is
    cropped like the daemon's classifier does (margin 0.15). The demo clip is never in the
    training data (training scenes use other seeds), so this says how the model does on
    exactly the footage ``make demo`` replays.
    """
    from visionedge.synth import default_scene

    index = {label: i for i, label in enumerate(SYNTH_LABELS)}
    xs: list[npt.NDArray[np.uint8]] = []
    ys: list[int] = []
    for _, label, crop in gate_crops(default_scene(0), margin=margin, every=every):
        xs.append(preprocess(crop, size, colour))
        ys.append(index[label])
    if not xs:
        return np.zeros((0, size, size, 1 if colour == "gray" else 3), np.uint8), np.zeros(0, np.int64)
    return np.stack(xs), np.asarray(ys, np.int64)


def demo_clip_gt_set(size: int, colour: Colour = "gray", margin: float = 0.15,
                     every: int = 2) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Crops of the demo clip around every visible ground-truth object (gate or not)."""
    from visionedge.synth import default_scene, render_frames

    index = {label: i for i, label in enumerate(SYNTH_LABELS)}
    xs: list[npt.NDArray[np.uint8]] = []
    ys: list[int] = []
    for frame, truth in render_frames(default_scene(0)):
        if truth.index % every or truth.covered:
            continue
        img = jpeg_roundtrip(frame, 95)
        fh, fw = img.shape[:2]
        for o in truth.objects:
            if o.visible_pct < 0.4:
                continue
            b = (o.box.x0 * fw, o.box.y0 * fh, o.box.x1 * fw, o.box.y1 * fh)
            xs.append(preprocess(crop_square(img, b, margin), size, colour))
            ys.append(index[o.cls])
    return np.stack(xs), np.asarray(ys, np.int64)


def build_demo(
    out: Path,
    work: Path,
    *,
    recipe: DemoRecipe,
    representative: Path,
    install: bool = False,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the whole pipeline; returns the shipped model's card."""
    from visionedge.train.evaluate import evaluate_models
    from visionedge.train.export import export_model
    from visionedge.train.prune import prune, sparsity
    from visionedge.train.quantize import load_representative, ptq, qat, to_tflite_fp32
    from visionedge.train.report import write_report
    from visionedge.train.train import TrainConfig, load_keras, train

    t_start = time.perf_counter()
    data = work / "data"
    if not (data / "dataset.json").is_file():
        log(f"build-demo: generating the synthetic dataset ({recipe.per_class} per class)")
        generate_synth_dataset(data, per_class=recipe.per_class, seed=recipe.seed,
                               size=recipe.size)
    cfg = TrainConfig(size=recipe.size, colour="gray", alpha=recipe.alpha, epochs=recipe.epochs,
                      batch_size=recipe.batch_size, learning_rate=recipe.learning_rate,
                      seed=recipe.seed)
    wd = train(data, work, cfg, log=log)
    split = _split(wd)
    rep = load_representative(representative, recipe.size, "gray")
    trn = split.arrays("train", recipe.size, "gray")
    val = split.arrays("val", recipe.size, "gray")
    xte, yte = split.arrays("test", recipe.size, "gray")

    fp32 = load_keras(wd.keras("fp32"))
    wd.tflite("int8_ptq").write_bytes(ptq(fp32, rep))
    wd.tflite("int8_ptq_pt").write_bytes(ptq(fp32, rep, per_channel=False))
    log("build-demo: PTQ (per-channel and per-tensor) done")
    wd.tflite("int8_qat").write_bytes(
        qat(load_keras(wd.keras("fp32")), trn, val, rep, epochs=recipe.qat_epochs,
            batch_size=recipe.batch_size, learning_rate=recipe.learning_rate / 10,
            seed=recipe.seed, log=log))
    pruned = prune(load_keras(wd.keras("fp32")), trn, val, target_sparsity=recipe.sparsity,
                   epochs=recipe.prune_epochs, batch_size=recipe.batch_size,
                   learning_rate=recipe.learning_rate / 3, seed=recipe.seed, log=log)
    pruned.save(wd.keras("pruned"), include_optimizer=False)
    wd.tflite("pruned_fp32").write_bytes(to_tflite_fp32(pruned))
    wd.tflite("pruned_int8_ptq").write_bytes(ptq(pruned, rep))
    wd.tflite("pruned_int8_pqat").write_bytes(
        qat(load_keras(wd.keras("pruned")), trn, val, rep, epochs=recipe.qat_epochs,
            batch_size=recipe.batch_size, learning_rate=recipe.learning_rate / 10,
            seed=recipe.seed, preserve_sparsity=True, log=log))
    pruned_sparsity = sparsity(pruned)

    names = ["fp32", "int8_ptq", "int8_ptq_pt", "int8_qat", "pruned_fp32", "pruned_int8_ptq",
             "pruned_int8_pqat"]
    models = {n: wd.tflite(n).read_bytes() for n in names}
    clip = demo_clip_set(recipe.size)
    clip_gt = demo_clip_gt_set(recipe.size)
    metrics = evaluate_models(models, xte, yte, split.labels, reference="fp32",
                              extra_sets={"demo_clip": clip, "demo_clip_gt": clip_gt})
    by_name = {m.name: m for m in metrics}
    # Ship the smallest unpruned int8 model that costs at most one point of test accuracy
    # against fp32 and nothing on the demo-clip crops (flash is what an MCU lacks); if none
    # qualifies, the most accurate one.
    candidates = ["int8_ptq", "int8_ptq_pt", "int8_qat"]
    ref = by_name["fp32"]

    def clip_acc(n: str) -> float:
        return by_name[n].extra.get("demo_clip_accuracy", 0.0)

    fine = [n for n in candidates if by_name[n].accuracy >= ref.accuracy - 0.01
            and clip_acc(n) >= clip_acc("fp32")]
    chosen = (min(fine, key=lambda n: (by_name[n].size_bytes, n)) if fine else
              max(candidates, key=lambda n: (by_name[n].accuracy + clip_acc(n), n)))
    log(f"build-demo: shipping {chosen}")
    info = {
        "recipe": recipe.__dict__,
        "stage": chosen,
        "pruned_sparsity": round(pruned_sparsity, 4),
        "dataset": {"counts": split.to_json()["counts"], "seed": recipe.seed,
                    "generator": "visionedge.train.dataset.generate_synth_dataset"},
        "demo_clip_crops": len(clip[1]),
        "demo_clip_gt_crops": len(clip_gt[1]),
        "build_seconds": round(time.perf_counter() - t_start, 1),
    }
    card = export_model(
        wd.tflite(chosen), wd.labels, out, name="demo_int8", input_range=(0.0, 1.0),
        extra={"metrics": {m.name: _short(m) for m in metrics}, "training": {
            "input_range": [0.0, 1.0], "colour": "gray", "size": recipe.size,
            "alpha": recipe.alpha, "seed": recipe.seed, "epochs": recipe.epochs,
            "train_seconds": wd.load_config().train_seconds}, "build": info},
    )
    write_report(out, metrics, split.labels, chosen=chosen, card=card, info=info)
    (out / "metrics.json").write_text(json.dumps([m.to_json() for m in metrics], indent=1) + "\n")
    if install:
        install_demo(out, card, log=log)
    return card


def install_demo(out: Path, card: dict[str, Any], *, log: Callable[[str], None] = print) -> None:
    """Copy the exported model into the package data (the daemon's default model)."""
    DATA_DIR.mkdir(exist_ok=True)
    shutil.copyfile(out / card["file"], DATA_DIR / "demo_int8.tflite")
    shutil.copyfile(out / "labels.txt", DATA_DIR / "demo_labels.txt")
    shutil.copyfile(out / "card.json", DATA_DIR / "demo_card.json")
    log(f"build-demo: installed into {DATA_DIR}")


def _short(m: Any) -> dict[str, Any]:
    return {"accuracy": m.accuracy, "agreement_with_fp32": m.agreement,
            "bytes": m.size_bytes, "gzip_bytes": m.gzip_bytes, "latency_ms": m.latency_ms,
            **m.extra}


def _split(wd: Any) -> Any:
    from visionedge.train.dataset import load_split

    return load_split(wd.split)
