"""Crop datasets from footage: collect what moved, review it, split it by clip for training.

The tiny-data loop (docs/models.md)::

    visionedge dataset collect CLIP... --out DATA --teacher MODEL   # gate -> crops -> pre-labels
    visionedge dataset review DATA                                  # contact sheets per class
    visionedge dataset stats DATA                                   # counts per class and clip
    visionedge model train DATA --out WORK                          # split by clip, train

A dataset is a folder: one sub-folder per class (the folder a crop is in is its label:
moving a file relabels it), ``unsure/`` (low-confidence crops, never trained on),
``_context/`` (a wider crop around each crop, for reviewing), ``manifest.csv`` (one row per
crop: clip, frame, box, timestamp, the teacher's label, score and soft labels) and
``dataset.json`` (how it was collected). Only :mod:`.collect` needs a TFLite runtime.
"""

from __future__ import annotations

from visionedge.dataset.manifest import (
    CONTEXT_DIR,
    RESERVED_DIRS,
    UNSURE_DIR,
    Dataset,
    Item,
    ManifestRow,
    load_dataset,
    read_manifest,
    write_manifest,
)
from visionedge.dataset.split import split_by_clip

__all__ = [
    "CONTEXT_DIR",
    "RESERVED_DIRS",
    "UNSURE_DIR",
    "Dataset",
    "Item",
    "ManifestRow",
    "load_dataset",
    "read_manifest",
    "split_by_clip",
    "write_manifest",
]
