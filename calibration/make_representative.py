"""Make calibration/representative.npz: the images post-training quantization calibrates on.

Run from the project root (deterministic; the same file on every run)::

    .venv/bin/python calibration/make_representative.py

It draws crops like the daemon's classifier input from :mod:`visionedge.synth` with a seed
the training data does not use (scene crops of all four classes plus textures), resized to
96 x 96, converted to gray as the shipped model and the MCU camera path see them, and stores them
as uint8 (``images``: N x 96 x 96) with their labels. Gray keeps the file small (colour
noise textures hardly compress); an RGB model calibrates on the same images replicated to
three channels, which covers its input range, or on your own set (``--representative``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from visionedge.train.dataset import SYNTH_LABELS, synth_crops

HERE = Path(__file__).resolve().parent


def make(count: int, seed: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Return (images N x size x size uint8 gray, label indices), balanced over the labels."""
    per = count // len(SYNTH_LABELS)
    got: dict[str, list[np.ndarray]] = {label: [] for label in SYNTH_LABELS}
    for label, crop in synth_crops(seed, scenes=12, every=7):
        if len(got[label]) < per:
            small = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
            got[label].append(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY))
        if all(len(v) >= per for v in got.values()):
            break
    images = [img for label in SYNTH_LABELS for img in got[label]]
    labels = [i for i, label in enumerate(SYNTH_LABELS) for _ in got[label]]
    return np.stack(images).astype(np.uint8), np.asarray(labels, np.int64)


def main() -> None:
    """Write the .npz."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "representative.npz")
    ap.add_argument("--count", type=int, default=100)
    ap.add_argument("--seed", type=int, default=90)
    ap.add_argument("--size", type=int, default=96)
    args = ap.parse_args()
    images, labels = make(args.count, args.seed, args.size)
    np.savez_compressed(args.out, images=images, labels=labels,
                        label_names=np.asarray(SYNTH_LABELS))
    print(f"{args.out}: {len(images)} images {images.shape[1:]}, {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
