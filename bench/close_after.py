"""Choosing ``gate.close_after_s``: recall and false alarms per real clip for several tails.

Usage: ``python bench/close_after.py [--clips DIR] [--values 0.1,0.2,0.3,0.5,1,1.5]``

Every clip in DIR (default: ``realdata/clips`` or ``shared/data/clips`` beside the project) is
decoded once by the project's file source (its motion planes and frame rate); then the default
gate runs on the planes once per ``close_after_s`` value. A frame is scored against a truth:

- ``cdnet_highway*``: the CDnet per-frame labels (``cdnet_highway_labels.csv``, frames with a
  label only); motion = more than 0.1 % of the pixels in the official foreground mask;
- any other clip: a pseudo-label independent of the gate and its hysteresis: the blurred
  plane against the median of the planes within ±5 s (two per second), a pixel changed when
  it differs by more than 25 levels; motion when at least 0.3 % changed, still below 0.1 %,
  unscored in between. It marks where something that is not part of the (slowly changing)
  scene is in view, so "open while still" is mostly the tail the gate keeps after things
  leave. Things that stay for more than ~5 s become scene for it.

Printed per clip and value: recall (open on motion frames), false-open frames (open on still
frames, and their share), and events (openings). The default should keep recall where the
longer tails have it while cutting the false-open frames.
"""

from __future__ import annotations

import argparse
import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.config import GateConfig, SourceConfig
from visionedge.gate import FrameDifferenceGate
from visionedge.sources import open_source

Plane = npt.NDArray[np.uint8]
HERE = Path(__file__).resolve().parents[1].parent
PSEUDO_WINDOW_S = 5.0
PSEUDO_LEVEL = 25
PSEUDO_MOTION_PCT = 0.3
PSEUDO_STILL_PCT = 0.1


@dataclass
class Clip:
    name: str
    fps: float
    planes: list[Plane]
    truth: list[bool | None]


def load(path: Path, cfg: GateConfig) -> Clip:
    with open_source(SourceConfig(kind="file", path=str(path)), cfg.width) as src:
        planes = [f.plane for f in src.frames()]
        fps = float(src.fps)  # type: ignore[attr-defined]
    labels = path.parent / "cdnet_highway_labels.csv"
    if path.name.startswith("cdnet_highway") and labels.exists():
        truth: list[bool | None] = [None] * len(planes)
        with labels.open(newline="") as fh:
            for row in csv.DictReader(fh):
                i = int(row["frame"]) - 1
                if row["in_temporal_roi"] == "1" and row["motion"] != "" and i < len(planes):
                    truth[i] = row["motion"] == "1"
    else:
        truth = pseudo_truth(planes, fps)
    return Clip(path.name, fps, planes, truth)


def pseudo_truth(planes: list[Plane], fps: float) -> list[bool | None]:
    """Motion where the blurred plane differs from the local median scene (±5 s)."""
    blurred = np.stack([cv2.GaussianBlur(p, (3, 3), 0) for p in planes])
    n, half, stride = len(blurred), int(PSEUDO_WINDOW_S * fps), max(1, int(fps // 2))
    out: list[bool | None] = []
    for i in range(n):
        window = blurred[max(0, i - half) : min(n, i + half + 1) : stride]
        median = np.median(window, axis=0).astype(np.uint8)
        pct = 100.0 * np.count_nonzero(cv2.absdiff(blurred[i], median) > PSEUDO_LEVEL) / median.size
        out.append(True if pct >= PSEUDO_MOTION_PCT else False if pct < PSEUDO_STILL_PCT else None)
    return out


def score(clip: Clip, cfg: GateConfig) -> tuple[int, int, int, int, int]:
    gate = FrameDifferenceGate(cfg, fps=clip.fps)
    hit = motion = false_open = still = events = 0
    for i, plane in enumerate(clip.planes):
        r = gate.process_plane(plane, i)
        events += r.opened
        t = clip.truth[i]
        if t is None:
            continue
        if t:
            motion += 1
            hit += r.motion
        else:
            still += 1
            false_open += r.motion
    return hit, motion, false_open, still, events


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=Path, help="folder of clips")
    ap.add_argument("--values", default="0.1,0.2,0.3,0.5,1,1.5", help="close_after_s values")
    args = ap.parse_args(argv)
    folder = args.clips
    if folder is None:
        folder = next(
            (d for d in (HERE / "realdata" / "clips", HERE / "shared" / "data" / "clips") if d.is_dir()),
            None,
        )
    if folder is None:
        raise SystemExit("no clips: pass --clips DIR")
    values = [float(v) for v in args.values.split(",")]
    base = GateConfig()
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".avi", ".mp4", ".mkv"))
    print(f"{'clip':40} {'fps':>5} {'truth':>6} " + " ".join(f"{v:>22g}" for v in values))
    print(f"{'':40} {'':>5} {'':>6} " + " ".join(f"{'recall false-open ev':>22}" for _ in values))
    for path in paths:
        clip = load(path, base)
        labelled = (path.parent / "cdnet_highway_labels.csv").exists()
        kind = "labels" if path.name.startswith("cdnet_highway") and labelled else "pseudo"
        cells = []
        for v in values:
            hit, motion, fo, still, ev = score(clip, base.model_copy(update={"close_after_s": v}))
            rec = hit / motion if motion else float("nan")
            cells.append(f"{rec:6.3f} {fo:5d}/{still:<5d} {ev:3d}")
        print(f"{path.name[:40]:40} {clip.fps:5.1f} {kind:>6} " + " ".join(f"{c:>22}" for c in cells))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
