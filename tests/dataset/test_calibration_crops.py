"""`model quantize --representative train`: which training crops calibrate (no TensorFlow)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from visionedge.train.dataset import Split
from visionedge.train.quantize import MAX_CALIBRATION, training_crops


def test_at_most_max_calibration_crops_evenly_spread_are_read(tmp_path: Path) -> None:
    n = MAX_CALIBRATION + 37
    (tmp_path / "a").mkdir()
    files = []
    for i in range(n):  # each crop's grey level is its index, so the picks can be read back
        cv2.imwrite(str(tmp_path / "a" / f"{i:04d}.png"), np.full((8, 8), i % 256, np.uint8))
        files.append(f"a/{i:04d}.png")
    split = Split(root=tmp_path, seed=0, labels=["a", "b"],
                  files={"train": files, "val": [], "test": []})
    x = training_crops(split, 8, "gray")
    assert x.shape == (MAX_CALIBRATION, 8, 8, 1)
    assert x[0].max() == 0 and x[-1].max() == (n - 1) % 256  # first and last crop included
    assert split.files["train"] == files  # the work directory's split is left as it was
    few = Split(root=tmp_path, seed=0, labels=["a", "b"],
                files={"train": files[:3], "val": [], "test": []})
    assert training_crops(few, 8, "gray").shape == (3, 8, 8, 1)
