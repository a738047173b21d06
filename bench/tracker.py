"""Benchmark of the object tracker: cost per frame with 1, 10 and 50 objects.

Usage: ``python bench/tracker.py [--frames 600] [--repeat 3] [--width 320]``

For each object count N, a seeded script of N boxes moving at constant velocity across a
``width x width*3/4`` plane (bouncing off the edges, so objects cross and their regions
overlap) is fed to :class:`~visionedge.objects.ObjectTracker` and, separately, to the whole
object stage bookkeeping (tracker + :class:`~visionedge.objects.ObjectEvents`, classifier
off). The baseline, timed interleaved in the same run so both see the same machine load, is
the motion gate itself (``FrameDifferenceGate.process_plane``) on a textured plane of the
same size with a moving block: the tracker should cost a small share of what the gate costs.
Medians over ``--repeat`` runs; prints µs per frame and the ratio to the gate.

Exit status 1 when the tracker with 10 objects costs more than the gate (ratio > 1.0).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

from visionedge.config import Config
from visionedge.events import deterministic_ids
from visionedge.gate import FrameDifferenceGate
from visionedge.objects import ObjectEvents, ObjectTracker
from visionedge.objects.geometry import PxBox

TARGET_RATIO_10 = 1.0


def script(n: int, frames: int, w: int, h: int, seed: int = 0) -> list[list[PxBox]]:
    """Per frame, the boxes of ``n`` objects bouncing around the plane (largest first)."""
    rng = np.random.default_rng([seed, n])
    size = rng.integers(max(4, w // 40), max(6, w // 8), (n, 2))
    pos = rng.integers(0, [w, h], (n, 2)).astype(np.int64)
    vel = rng.integers(-4, 5, (n, 2))
    vel[vel == 0] = 1
    out: list[list[PxBox]] = []
    for _ in range(frames):
        boxes = []
        for (x, y), (bw, bh) in zip(pos.tolist(), size.tolist(), strict=True):
            x0, y0 = max(0, x), max(0, y)
            x1, y1 = min(w, x + bw), min(h, y + bh)
            if x1 > x0 and y1 > y0:
                boxes.append((x0, y0, x1, y1))
        boxes.sort(key=lambda b: (-(b[2] - b[0]) * (b[3] - b[1]), b[1], b[0]))
        out.append(boxes)
        pos += vel
        bounce = (pos < -size) | (pos > np.array([w, h]))
        vel[bounce] *= -1
    return out


def gate_planes(frames: int, w: int, h: int) -> list[np.ndarray]:
    """A textured plane with a bright block moving across it."""
    rng = np.random.default_rng(1)
    base = rng.integers(40, 200, (h, w)).astype(np.uint8)
    planes = []
    for i in range(frames):
        p = base.copy()
        x = (i * 3) % (w - 20)
        p[h // 3 : h // 3 + 20, x : x + 20] = 250
        planes.append(p)
    return planes


def run(n: int, frames: int, w: int, h: int, repeat: int) -> tuple[float, float, float]:
    """Median µs per frame: tracker, tracker + events, gate (interleaved per frame)."""
    cfg = Config()
    regions = script(n, frames, w, h)
    planes = gate_planes(frames, w, h)
    t_tr: list[float] = []
    t_ev: list[float] = []
    t_gate: list[float] = []
    for _ in range(repeat):
        tracker = ObjectTracker(cfg.objects, w, h)
        tracker2 = ObjectTracker(cfg.objects, w, h)
        events = ObjectEvents(cfg.objects, cfg.events, cfg.device, cfg.classifier, [], w, h,
                              id_factory=deterministic_ids())
        gate = FrameDifferenceGate(cfg.gate)
        a = b = c = 0.0
        for i in range(frames):
            t0 = time.perf_counter()
            tracker.update(regions[i], i, i * 100)
            t1 = time.perf_counter()
            step = tracker2.update(regions[i], i, i * 100)
            events.on_frame(step, {}, "bench", i, i * 100)
            t2 = time.perf_counter()
            gate.process_plane(planes[i], i)
            t3 = time.perf_counter()
            a += t1 - t0
            b += t2 - t1
            c += t3 - t2
        t_tr.append(a / frames * 1e6)
        t_ev.append(b / frames * 1e6)
        t_gate.append(c / frames * 1e6)
    return statistics.median(t_tr), statistics.median(t_ev), statistics.median(t_gate)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=600)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--width", type=int, default=320)
    args = ap.parse_args(argv)
    w = args.width
    h = w * 3 // 4
    import cv2

    cv2.setNumThreads(1)
    print(f"plane {w}x{h}, {args.frames} frames, median of {args.repeat}")
    print(f"{'objects':>7} {'tracker µs':>11} {'+events µs':>11} {'gate µs':>9} {'tracker/gate':>13} {'+events/gate':>13}")
    ok = True
    for n in (1, 10, 50):
        tr, ev, gt = run(n, args.frames, w, h, args.repeat)
        print(f"{n:>7} {tr:>11.1f} {ev:>11.1f} {gt:>9.1f} {tr / gt:>13.2f} {ev / gt:>13.2f}")
        if n == 10 and tr / gt > TARGET_RATIO_10:
            ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
