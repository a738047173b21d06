"""Benchmark: int8 builtin kernels against the XNNPACK delegate, speed and output identity.

Usage: ``python bench/classify_kernels.py [--crops DIR] [--model M.tflite --labels L.txt]``

For the shipped model (and the shared ImageNet MobileNet when present beside the project),
each crop (PNG/JPEG files under ``--crops``, e.g. a folder of real crops; default: 64 seeded
random 160x120 images) is classified by both interpreters of the same runtime, one thread:
the median ``invoke`` time, and how far the raw int8/uint8 outputs differ (max level
difference, share of crops whose outputs differ at all, share whose top-1 label differs).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.classify import load_classifier
from visionedge.classify.classifier import TfliteClassifier
from visionedge.config import ClassifierConfig

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def crops(folder: Path | None, limit: int) -> list[npt.NDArray[np.uint8]]:
    if folder is None:
        rng = np.random.default_rng(0)
        return [rng.integers(0, 256, (120, 160, 3), dtype=np.uint8) for _ in range(limit)]
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    step = max(1, len(files) // limit)
    out = []
    for p in files[::step][:limit]:
        img = cv2.imread(str(p), cv2.IMREAD_COLOR)
        if img is not None:
            out.append(np.asarray(img, np.uint8))
    if not out:
        raise SystemExit(f"{folder}: no images")
    return out


def raw_outputs(clf: TfliteClassifier, images: list[npt.NDArray[np.uint8]]) -> tuple[list[npt.NDArray[np.int32]], float]:
    interp = clf._model.interpreter  # bench only: the bare inference
    index = clf._model.input.index
    out_index = interp.get_output_details()[0]["index"]
    outs, times = [], []
    for img in images:
        tensor = clf.input_tensor(img)
        for _ in range(3):
            interp.set_tensor(index, tensor)
            t = time.perf_counter_ns()
            interp.invoke()
            times.append((time.perf_counter_ns() - t) / 1000)
        outs.append(interp.get_tensor(out_index).astype(np.int32).reshape(-1))
    return outs, statistics.median(times)


def compare(name: str, cfg: ClassifierConfig, images: list[npt.NDArray[np.uint8]]) -> None:
    builtin = load_classifier(cfg.model_copy(update={"xnnpack": False, "num_threads": 1}))
    xnn = load_classifier(cfg.model_copy(update={"xnnpack": True, "num_threads": 1}))
    assert isinstance(builtin, TfliteClassifier) and isinstance(xnn, TfliteClassifier)
    a, ta = raw_outputs(builtin, images)
    b, tb = raw_outputs(xnn, images)
    diffs = [int(np.abs(x - y).max()) for x, y in zip(a, b, strict=True)]
    differ = sum(d > 0 for d in diffs)
    top1 = sum(int(np.argmax(x)) != int(np.argmax(y)) for x, y in zip(a, b, strict=True))
    print(
        f"{name:30} {builtin.backend:15} builtin {ta:7.0f} µs  xnnpack {tb:7.0f} µs  "
        f"(x{ta / tb:4.1f})  outputs differ on {differ}/{len(images)} crops, max "
        f"{max(diffs)} levels, top-1 differs on {top1}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--crops", type=Path)
    ap.add_argument("--limit", type=int, default=64)
    ap.add_argument("--model", default="")
    ap.add_argument("--labels", default="")
    args = ap.parse_args(argv)
    images = crops(args.crops, args.limit)
    print(f"{len(images)} crops; median invoke, one thread")
    compare("shipped demo_int8", ClassifierConfig(), images)
    if args.model:
        compare(Path(args.model).name, ClassifierConfig(model=args.model, labels=args.labels), images)
    mobilenet = SHARED / "models" / "mobilenet_v1_0.25_128_quant.tflite"
    if mobilenet.is_file():
        cfg = ClassifierConfig(model=str(mobilenet), labels=str(SHARED / "models" / "imagenet_labels.txt"))
        compare("MobileNet v1 0.25 128 quant", cfg, images)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
