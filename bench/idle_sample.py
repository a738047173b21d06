"""Benchmark of the idle sample (``objects.idle_sample_s``): CPU against detection delay.

Usage: ``python bench/idle_sample.py [--seconds 60] [--repeat 2] [--size 320x240]``
or ``python bench/idle_sample.py --clip REAL_CLIP [--repeat 2]``

A generated scene (visionedge.synth, 10 fps, seeded): a car drives in at 5 s and parks; a
person walks in at 30 s and stands still; both stay to the end. It is replayed through the
real pipeline (``build_pipeline`` + the file source, object mode, the shipped demo model)
with the idle sample off and every 2, 5 and 10 s, under two classifier budgets:

- ``default``: ``objects.classify_per_frame = 1`` (moving objects are classified);
- ``still-only``: ``classify_per_frame = 0``: only the idle sample classifies, i.e. the
  classifier runs on nothing that moves (the cheapest setting that still labels newcomers).

Per run: CPU per frame (``time.process_time`` of the whole replay: decode, gate, tracker,
classifier), its ratio to the same budget with the idle sample off (interleaved, same
load), classifications (all / idle), and per newcomer the detection delay: from its first
frame in view to the first published message naming its class (blank: never), when it was
reported stationary and how its object ended. No target; the figures are for docs/objects.md.

With ``--clip`` a real clip (no ground truth) is replayed instead, default budget and the
configured default classifier: CPU, classifications, and how many object labels differ
from the run without the idle sample.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from visionedge.config import Config
from visionedge.pipeline import build_pipeline
from visionedge.sinks.memory import MemorySink
from visionedge.synth import GroundTruth, ObjectPass, SceneSpec, write_clip

PERIODS: tuple[float, ...] = (0.0, 2.0, 5.0, 10.0)
BUDGETS: dict[str, int] = {"default": 1, "still-only": 0}


def scene(seconds: float, width: int, height: int) -> SceneSpec:
    """A car that parks and a person who stops, both staying to the end."""
    return SceneSpec(
        width=width, height=height, fps=10.0, seed=21, duration_s=seconds,
        events=[
            ObjectPass("vehicle", 5.0, 4.0, direction=1, height_frac=0.3, ground_frac=0.8,
                       stop_frac=0.35, stop_s=10 * seconds),
            ObjectPass("person", 30.0, 6.0, direction=-1, height_frac=0.45, ground_frac=0.95,
                       stop_frac=0.3, stop_s=10 * seconds),
        ],
    )


def run(clip: Path, idle_s: float, per_frame: int, model: str = "demo"
        ) -> tuple[float, Any, list[dict[str, Any]]]:
    """CPU seconds per frame, the pipeline and its payloads for one replay."""
    cfg = Config.model_validate({
        "source": {"kind": "file", "path": str(clip)},
        "classifier": {"model": model},
        "objects": {"mode": "object", "idle_sample_s": idle_s, "classify_per_frame": per_frame},
    })
    sink = MemorySink()
    pipe = build_pipeline(cfg, sinks=[sink], deterministic_ids=True)
    c0 = time.process_time()
    pipe.run()
    cpu = (time.process_time() - c0) / max(pipe.stats.frames, 1)
    return cpu, pipe, sink.events


def delays(truth: GroundTruth, events: list[dict[str, Any]]) -> list[tuple[str, float | None, str]]:
    """Per passage: its class, seconds to the first message naming it, how its object ended."""
    out: list[tuple[str, float | None, str]] = []
    for p in truth.passages:
        first_ms = round(p.first_frame * 1000 / truth.fps)
        named = [e for e in events if e["label"] == p.cls and e["ts_ms"] >= first_ms]
        delay = (named[0]["ts_ms"] - first_ms) / 1000 if named else None
        mine = [e for e in events if e.get("schema") == 2 and e["start_frame"] >= p.first_frame - 5
                and e["label"] in (p.cls, None)]
        ends = [e for e in mine if e["type"] == "end"]
        still = [e for e in mine if e["stationary"]]
        how = f"stationary at {still[0]['ts_ms'] / 1000:.1f} s, " if still else ""
        how += (f"{ends[0]['end_reason']} at {ends[0]['ts_ms'] / 1000:.1f} s, last seen "
                f"{ends[0]['end_ts_ms'] / 1000:.1f} s") if ends else "-"
        out.append((p.cls, delay, how))
    return out


def real_clip(clip: Path, repeat: int) -> None:
    """The ``--clip`` figures: CPU, classifications and changed labels per period."""
    cpu: dict[float, list[float]] = {n: [] for n in PERIODS}
    last: dict[float, tuple[Any, list[dict[str, Any]]]] = {}
    for _ in range(repeat):
        for n in PERIODS:
            c, pipe, events = run(clip, n, 1, model="")
            cpu[n].append(c)
            last[n] = (pipe, events)

    def labels(events: list[dict[str, Any]]) -> dict[int, Any]:
        return {e["object_id"]: e["label"] for e in events if e["type"] == "end"}

    base = statistics.median(cpu[0.0])
    ref = labels(last[0.0][1])
    print(f"{clip.name}, default classifier, median of {repeat}")
    print(f"{'idle':>5} {'CPU ms/frame':>12} {'ratio':>6} {'classif.':>8} {'idle cl.':>8} "
          f"{'objects':>7} {'labels changed':>14}")
    for n in PERIODS:
        pipe, events = last[n]
        got = labels(events)
        changed = sum(1 for k in set(ref) | set(got) if ref.get(k) != got.get(k))
        med = statistics.median(cpu[n])
        print(f"{('off' if n == 0 else f'{n:.0f} s'):>5} {med * 1000:>12.2f} {med / base:>6.2f} "
              f"{pipe.stats.classifications:>8} {pipe.objects.idle_classifications:>8} "
              f"{len(got):>7} {changed:>14}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--size", default="320x240")
    ap.add_argument("--clip", type=Path, help="a real clip instead of the generated scene")
    args = ap.parse_args(argv)
    w, h = (int(x) for x in args.size.split("x"))
    import cv2

    cv2.setNumThreads(1)
    if args.clip is not None:
        real_clip(args.clip, args.repeat)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "park.avi"
        write_clip(scene(args.seconds, w, h), clip)
        truth = GroundTruth.load(clip)
        arrivals = ", ".join(f"{p.cls} at {p.first_frame / truth.fps:.1f} s" for p in truth.passages)
        print(f"scene {w}x{h}, {args.seconds:.0f} s at 10 fps; newcomers: {arrivals}; "
              f"median of {args.repeat}")
        print(f"{'budget':<10} {'idle':>5} {'CPU ms/frame':>12} {'ratio':>6} {'classif.':>8} "
              f"{'idle cl.':>8}  newcomers: delay to label (s), how the object ended")
        for name, per_frame in BUDGETS.items():
            cpu: dict[float, list[float]] = {n: [] for n in PERIODS}
            last: dict[float, tuple[Any, list[dict[str, Any]]]] = {}
            for _ in range(args.repeat):
                for n in PERIODS:  # interleaved: every period sees the same machine load
                    c, pipe, events = run(clip, n, per_frame)
                    cpu[n].append(c)
                    last[n] = (pipe, events)
            base = statistics.median(cpu[0.0])
            for n in PERIODS:
                pipe, events = last[n]
                med = statistics.median(cpu[n])
                found = "; ".join(
                    f"{cls} {'never' if d is None else f'{d:.1f}'} ({how})"
                    for cls, d, how in delays(truth, events)
                )
                print(f"{name:<10} {('off' if n == 0 else f'{n:.0f} s'):>5} {med * 1000:>12.2f} "
                      f"{med / base:>6.2f} {pipe.stats.classifications:>8} "
                      f"{pipe.objects.idle_classifications:>8}  {found}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
