"""Helpers shared by the gate tests (imported by name; conftest puts this folder on sys.path)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.config import GateConfig
from visionedge.gate import FrameDifferenceGate
from visionedge.protocols import GateResult
from visionedge.synth import GroundTruth

Plane = npt.NDArray[np.uint8]


def textured(h: int = 90, w: int = 160, seed: int = 0) -> Plane:
    """A static, textured scene plane (smooth blobs + fine detail) with a fixed seed."""
    rng = np.random.default_rng(seed)
    coarse = rng.integers(40, 216, (h // 8 + 2, w // 8 + 2)).astype(np.uint8)
    base = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    fine = rng.integers(-20, 21, (h, w))
    return np.clip(base.astype(np.int16) + fine, 0, 255).astype(np.uint8)


def with_box(plane: Plane, x: int, y: int, bw: int, bh: int, value: int = 250) -> Plane:
    """A copy of ``plane`` with a solid ``bw x bh`` rectangle at ``(x, y)``."""
    out = plane.copy()
    out[y : y + bh, x : x + bw] = value
    return out


def run(
    cfg: GateConfig,
    planes: Iterable[Plane],
    metadata: Iterable[Mapping[str, float] | None] | None = None,
) -> list[GateResult]:
    """Feed planes to a fresh gate and return every result."""
    gate = FrameDifferenceGate(cfg)
    metas = list(metadata) if metadata is not None else None
    return [
        gate.process_plane(p, i, metas[i] if metas is not None else None)
        for i, p in enumerate(planes)
    ]


@dataclass
class Clip:
    """A generated clip, decoded with OpenCV into motion planes, plus its ground truth."""

    path: Path
    truth: GroundTruth
    planes: list[Plane]
