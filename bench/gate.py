"""Benchmark of the motion gate: cost per frame, and recall on labelled real footage.

Usage: ``python bench/gate.py [--config gate.toml] [--repeat 3] [--clip PATH ...]``

For a generated 640x360 clip (visionedge.synth default scene) and every ``*.avi`` under
``../shared/data/clips`` (when present), all frames are decoded and turned into motion planes
first (from the decoder's luma, as the file source does; the gate runs at the clip's frame
rate); only the gate is timed. Each frame is timed twice, interleaved: the gate
(``FrameDifferenceGate.process_plane``) and a plain baseline gate (``cv2.absdiff`` against
the previous plane + ``cv2.threshold`` + ``cv2.countNonZero``, preallocated buffers), so both
see the same machine load; the ratio is gate / baseline. OpenCV runs on one thread.

On ``cdnet_highway`` the gate's open state is scored against
``cdnet_highway_labels.csv``: recall = share of labelled motion frames (470..1700) on which
the gate is open; false-open = labelled still frames on which it is open. AVI frame i
(0-based) is CDnet frame i+1.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.config import GateConfig, load_config
from visionedge.gate import FrameDifferenceGate
from visionedge.protocols import GateResult

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
Plane = npt.NDArray[np.uint8]


@dataclass
class Row:
    clip: str
    size: str
    plane: str
    frames: int
    plane_us: float
    gate_med: float
    gate_mean: float
    gate_p90: float
    gate_cpu: float
    still_med: float
    open_med: float
    base_med: float
    open_pct: float
    recall: str = ""
    false_open: str = ""


def decode(path: Path, width: int) -> tuple[list[Plane], str, float, float]:
    """All motion planes of a clip (from the decoder's luma, as the file source makes them),
    its frame size, the mean plane cost (µs) and its frame rate."""
    from visionedge.gate.plane import to_motion_plane as plane_of
    from visionedge.sources.av_video import VideoDecoder

    decoder = VideoDecoder(path, "convert it to H.264 or MJPEG")
    planes: list[Plane] = []
    size = ""
    spent = 0
    try:
        for frame in decoder.frames():
            size = f"{frame.luma.shape[1]}x{frame.luma.shape[0]}"
            t0 = time.perf_counter_ns()
            planes.append(plane_of(frame.luma, width, full_range=frame.full_range))
            spent += time.perf_counter_ns() - t0
    finally:
        decoder.close()
    if not planes:
        raise SystemExit(f"{path}: no frames decoded")
    return planes, size, spent / 1000.0 / len(planes), decoder.fps or 10.0


class Baseline:
    """The popular simplest gate: |frame - previous| > threshold, count the pixels."""

    def __init__(self, shape: tuple[int, ...], threshold: int) -> None:
        self.prev: Plane | None = None
        self.diff = np.empty(shape, np.uint8)
        self.mask = np.empty(shape, np.uint8)
        self.threshold = threshold

    def step(self, plane: Plane) -> int:
        if self.prev is None:
            self.prev = plane
            return 0
        cv2.absdiff(plane, self.prev, dst=self.diff)
        cv2.threshold(self.diff, self.threshold, 255, cv2.THRESH_BINARY, dst=self.mask)
        self.prev = plane
        return int(cv2.countNonZero(self.mask))


def run_once(
    planes: list[Plane], cfg: GateConfig, fps: float
) -> tuple[list[float], list[float], list[float], list[GateResult]]:
    gate = FrameDifferenceGate(cfg, fps=fps)
    base = Baseline(planes[0].shape, cfg.pixel_threshold)
    gate_us: list[float] = []
    gate_cpu_us: list[float] = []
    base_us: list[float] = []
    results: list[GateResult] = []
    clock, cpu = time.perf_counter_ns, time.thread_time_ns
    for i, plane in enumerate(planes):
        t0 = clock()
        base.step(plane)
        t1 = clock()
        c1 = cpu()
        results.append(gate.process_plane(plane, i))
        c2 = cpu()
        t2 = clock()
        base_us.append((t1 - t0) / 1000.0)
        gate_us.append((t2 - t1) / 1000.0)
        gate_cpu_us.append((c2 - c1) / 1000.0)
    return gate_us, gate_cpu_us, base_us, results


def stage_costs(planes: list[Plane], cfg: GateConfig) -> dict[str, float]:
    """Median wall µs of the gate's main steps on these planes (explains the total).

    The numpy/OpenCV path's steps one by one, then, when the compiled core is built, its one
    pass (all of them; with the tamper sums) and its regions.
    """
    from visionedge.gate import RegionFinder, plane_stats
    from visionedge.gate.native import native_module

    h, w = planes[0].shape
    cur, diff, mask = (np.empty((h, w), np.uint8) for _ in range(3))
    bg, lo, hi = planes[0].copy(), np.empty((h, w), np.uint8), np.empty((h, w), np.uint8)
    step = np.full((h, w), cfg.background_step, np.uint8)
    finder = RegionFinder(h, w)
    min_area = max(1, int(cfg.min_region_pct * h * w / 100))
    steps: dict[str, list[float]] = {
        k: [] for k in ("blur", "diff+thr+count", "bg step", "tamper check", "regions")
    }
    clock = time.perf_counter_ns
    for plane in planes[:: max(1, len(planes) // 200)]:
        t0 = clock()
        cv2.GaussianBlur(plane, (3, 3), 0, dst=cur)
        t1 = clock()
        cv2.absdiff(cur, bg, dst=diff)
        cv2.threshold(diff, cfg.pixel_threshold, 255, cv2.THRESH_BINARY, dst=mask)
        cv2.countNonZero(mask)
        t2 = clock()
        cv2.subtract(bg, step, dst=lo)
        cv2.add(bg, step, dst=hi)
        cv2.max(cur, lo, dst=lo)
        cv2.min(lo, hi, dst=bg)
        t3 = clock()
        plane_stats(plane)
        t4 = clock()
        finder.find(mask, min_area)
        t5 = clock()
        for key, a, b in (
            ("blur", t0, t1),
            ("diff+thr+count", t1, t2),
            ("bg step", t2, t3),
            ("tamper check", t3, t4),
            ("regions", t4, t5),
        ):
            steps[key].append((b - a) / 1000.0)
    nat = native_module()
    if nat is not None:
        prev, changed = planes[0].copy(), np.empty((h, w), np.uint8)
        for key in ("compiled pass", "compiled pass + tamper sums", "compiled regions"):
            steps[key] = []
        for plane in planes[:: max(1, len(planes) // 200)]:
            t0 = clock()
            nat.gate_pass(plane, cur, prev, bg, changed, None, None, w, h, 0,
                          cfg.pixel_threshold, cfg.background_step, 1, cfg.blur, False, False)
            t1 = clock()
            nat.gate_pass(plane, cur, prev, bg, changed, None, None, w, h, 0,
                          cfg.pixel_threshold, cfg.background_step, 1, cfg.blur, False, True,
                          True)
            t2 = clock()
            nat.regions(changed, w, h, min_area)
            t3 = clock()
            prev, cur = cur, prev
            for key, a, b in (
                ("compiled pass", t0, t1),
                ("compiled pass + tamper sums", t1, t2),
                ("compiled regions", t2, t3),
            ):
                steps[key].append((b - a) / 1000.0)
    return {k: statistics.median(v) for k, v in steps.items()}


def highway_score(results: list[GateResult], labels: Path) -> tuple[str, str]:
    motion = still = hit = false_open = 0
    with labels.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["in_temporal_roi"] != "1" or row["motion"] == "":
                continue
            i = int(row["frame"]) - 1
            if i >= len(results):
                continue
            is_open = results[i].motion
            if row["motion"] == "1":
                motion += 1
                hit += is_open
            else:
                still += 1
                false_open += is_open
    recall = hit / motion if motion else float("nan")
    return f"{recall:.4f} ({hit}/{motion})", f"{false_open}/{still}"


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def bench_clip(path: Path, cfg: GateConfig, repeat: int) -> Row:
    planes, size, plane_us, fps = decode(path, cfg.width)
    best: tuple[float, list[float], list[float], list[float], list[GateResult]] | None = None
    for _ in range(repeat):
        gate_us, cpu_us, base_us, results = run_once(planes, cfg, fps)
        med = statistics.median(gate_us)
        if best is None or med < best[0]:
            best = (med, gate_us, cpu_us, base_us, results)
    assert best is not None
    _, gate_us, cpu_us, base_us, results = best
    h, w = planes[0].shape
    row = Row(
        clip=path.name,
        size=size,
        plane=f"{w}x{h}",
        frames=len(planes),
        plane_us=plane_us,
        gate_med=statistics.median(gate_us),
        gate_mean=statistics.fmean(gate_us),
        gate_p90=float(np.percentile(gate_us, 90)),
        gate_cpu=statistics.median(cpu_us),
        still_med=_median([t for t, r in zip(gate_us, results, strict=True) if not r.motion]),
        open_med=_median([t for t, r in zip(gate_us, results, strict=True) if r.motion]),
        base_med=statistics.median(base_us),
        open_pct=100.0 * sum(r.motion for r in results) / len(results),
    )
    labels = path.parent / "cdnet_highway_labels.csv"
    if path.name.startswith("cdnet_highway") and labels.exists():
        row.recall, row.false_open = highway_score(results, labels)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", help="TOML config whose [gate] section is used (default: defaults)")
    ap.add_argument("--repeat", type=int, default=3, help="passes per clip; the best is kept")
    ap.add_argument("--clip", action="append", type=Path, help="benchmark only these clips")
    args = ap.parse_args(argv)
    cfg = load_config(args.config).gate
    cv2.setNumThreads(1)
    clips: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        if args.clip:
            clips = list(args.clip)
        else:
            from visionedge.synth import default_scene, write_clip

            synth = Path(tmp) / "synth_default_640x360.avi"
            write_clip(default_scene(seed=0, width=640, height=360), synth)
            clips = [synth, *sorted((SHARED / "clips").glob("*.avi"))]
        rows = [bench_clip(c, cfg, args.repeat) for c in clips]
        costs = stage_costs(decode(clips[0], cfg.width)[0], cfg)
    head = (
        f"{'clip':34} {'frame':>8} {'plane':>8} {'frames':>6} {'plane µs':>8} {'gate µs':>8} "
        f"{'mean':>6} {'p90':>6} {'cpu':>6} {'closed':>6} {'open':>6} {'fps':>7} {'base µs':>7} {'ratio':>5} {'open%':>6} "
        f"{'recall':>18} {'false-open':>10}"
    )
    core = "compiled core" if FrameDifferenceGate(cfg).native else "numpy/OpenCV path"
    print(
        f"motion gate ({core}; VISIONEDGE_GATE_NATIVE=off for the other), one OpenCV thread; "
        f"µs per frame: median wall time (best of {args.repeat} "
        "passes), mean, p90, median thread CPU time, median on frames with the gate closed / open; "
        "fps from the mean; ratio = gate / baseline median"
    )
    print(head)
    for r in rows:
        print(
            f"{r.clip[:34]:34} {r.size:>8} {r.plane:>8} {r.frames:6d} {r.plane_us:8.1f} "
            f"{r.gate_med:8.1f} {r.gate_mean:6.1f} {r.gate_p90:6.1f} {r.gate_cpu:6.1f} "
            f"{r.still_med:6.1f} {r.open_med:6.1f} "
            f"{1e6 / r.gate_mean:7.0f} "
            f"{r.base_med:7.1f} {r.gate_med / r.base_med:5.1f} {r.open_pct:6.1f} "
            f"{r.recall:>18} {r.false_open:>10}"
        )
    print(
        f"steps on {clips[0].name} (median µs; numpy path, then the compiled core; the tamper "
        "check runs every "
        f"{cfg.tamper.check_every_s:g} s, regions only while open): "
        + ", ".join(f"{k} {v:.1f}" for k, v in costs.items())
    )
    if not (SHARED / "clips").is_dir() and not args.clip:
        print(f"(no real clips: {SHARED / 'clips'} is absent)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
