"""Benchmark: the whole ``visionedge replay`` process against a process that only decodes.

Usage: ``python bench/replay_cost.py [--seconds 300] [--fps 15] [--repeat 3] [--clip PATH ...]
[--numpy] [--no-stages]``

Two 640x360 H.264 clips (``yuv420p``, as cameras and most files are) are encoded at bench
time with PyAV from the seeded synthetic scene: one with objects in view ~70 % of the time,
one with none (0 % motion). ``--clip`` adds real clips. For each clip, each of these runs as
its own process, best wall time of ``--repeat`` runs (CPU = user + system of the process):

- ``decode``: PyAV decodes every frame and touches its luma plane (the floor: nothing can
  replay a file without decoding it);
- ``decode bgr``: OpenCV ``VideoCapture.read`` of every frame as BGR (the usual way);
- ``replay``: ``python -m visionedge replay CLIP --quiet`` with the default config (gate,
  motion and object events, the default preset's classifier on what moved);
- ``replay, demo preset``: the same with ``classifier.model = "demo"`` (one small model);
- ``replay, no classifier``: the same with ``classifier.enabled = false``;
- ``replay, settle off`` and ``replay, demo, settle off``: the default and the demo preset
  with ``objects.settle_after = 0`` (every object classified every
  ``classifier.every_n_frames`` up to ``classifier.max_per_event``, as before the settle
  rule), so the rule's saving is measured in the same run;
- ``replay, numpy gate`` (``--numpy``): the default replay with ``VISIONEDGE_GATE_NATIVE=off``
  (the gate's numpy/OpenCV path instead of its compiled core), to show what the core saves.

Then (unless ``--no-stages``) ``bench/replay_stages.py`` breaks each clip's replay down per
stage and frame (thread CPU µs: decode, plane, gate, BGR, classifier, objects, sinks,
pipeline, loop; and the crops classified), with the default config and with the demo preset,
each with the settle rule on (the default) and off.

``startup`` is the replay of the clip's first 10 frames (imports, model load, clip open),
so ``loop`` = replay - startup is the per-clip work (against decode minus the decode of
those 10 frames); the ratios are printed both ways, for wall time and for CPU time (on a
machine shared with other jobs the CPU time is the steadier figure).
Target (issue 11): whole replay wall <= 1.3x decode-only wall (exit status 1 when missed).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from visionedge.synth import ObjectPass, SceneSpec
from visionedge.synth.scene import render_frames

DECODE = """
import sys, av, numpy as np
with av.open(sys.argv[1]) as c:
    s = c.streams.video[0]
    n = 0
    for f in c.decode(s):
        p = f.planes[0]
        np.frombuffer(p, np.uint8, count=f.height * p.line_size)
        n += 1
print(n)
"""
DECODE_BGR = """
import sys, cv2
cv2.setNumThreads(1)
cap = cv2.VideoCapture(sys.argv[1], cv2.CAP_FFMPEG)
n = 0
while cap.read()[0]:
    n += 1
print(n)
"""


def scene(seconds: float, fps: float, busy: float) -> SceneSpec:
    """Objects crossing one after another for ``busy`` of the time (0: none)."""
    events = []
    if busy > 0:
        slot = 10.0
        count = max(1, int(seconds // slot))
        kinds = ("person", "vehicle", "animal")
        for i in range(count):
            events.append(
                ObjectPass(kinds[i % 3], i * slot + 0.5, slot * busy, direction=1 - 2 * (i % 2),
                           height_frac=0.4, ground_frac=0.9)
            )
    return SceneSpec(width=640, height=360, fps=fps, seed=5, duration_s=seconds, events=events)


def encode_h264(spec: SceneSpec, path: Path, frames: int | None = None) -> None:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(int(spec.fps)))
        stream.width, stream.height, stream.pix_fmt = spec.width, spec.height, "yuv420p"
        stream.options = {"crf": "23", "preset": "veryfast", "g": str(int(spec.fps) * 4)}
        for i, (img, _truth) in enumerate(render_frames(spec)):
            if frames is not None and i >= frames:
                break
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="bgr24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def first_frames(src: Path, dst: Path, count: int) -> None:
    """Copy the first ``count`` frames of ``src`` (re-encoded H.264) to ``dst``."""
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        rate = vin.average_rate or Fraction(15)
        stream = out.add_stream("libx264", rate=rate)
        stream.width, stream.height, stream.pix_fmt = vin.width, vin.height, "yuv420p"
        for i, frame in enumerate(inp.decode(vin)):
            if i >= count:
                break
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def timed(cmd: list[str], repeat: int, **extra_env: str) -> tuple[float, float]:
    """Best wall seconds and that run's CPU seconds (user + system) of ``cmd``."""
    best = (float("inf"), 0.0)
    env = dict(os.environ, OMP_NUM_THREADS="1", **extra_env)
    for _ in range(repeat):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if wall < best[0]:
            best = (wall, cpu)
    return best


def bench_clip(clip: Path, tmp: Path, repeat: int, numpy_gate: bool) -> float:
    py = sys.executable
    gate_only = tmp / "gate_only.toml"
    gate_only.write_text("[classifier]\nenabled = false\n")
    demo = tmp / "demo.toml"
    demo.write_text('[classifier]\nmodel = "demo"\n')
    off = tmp / "settle_off.toml"
    off.write_text("[objects]\nsettle_after = 0\n")
    demo_off = tmp / "demo_settle_off.toml"
    demo_off.write_text('[classifier]\nmodel = "demo"\n[objects]\nsettle_after = 0\n')
    head = tmp / f"{clip.stem}_head.mp4"
    first_frames(clip, head, 10)
    rows = {
        "decode": timed([py, "-c", DECODE, str(clip)], repeat),
        "decode bgr": timed([py, "-c", DECODE_BGR, str(clip)], repeat),
        "replay": timed([py, "-m", "visionedge", "replay", str(clip), "--quiet"], repeat),
        "replay, settle off": timed(
            [py, "-m", "visionedge", "replay", str(clip), "--quiet", "--config", str(off)], repeat
        ),
        "replay, demo preset": timed(
            [py, "-m", "visionedge", "replay", str(clip), "--quiet", "--config", str(demo)],
            repeat,
        ),
        "replay, demo, settle off": timed(
            [py, "-m", "visionedge", "replay", str(clip), "--quiet", "--config", str(demo_off)],
            repeat,
        ),
        "replay, no classifier": timed(
            [py, "-m", "visionedge", "replay", str(clip), "--quiet", "--config", str(gate_only)],
            repeat,
        ),
    }
    if numpy_gate:
        rows["replay, numpy gate"] = timed(
            [py, "-m", "visionedge", "replay", str(clip), "--quiet"], repeat,
            VISIONEDGE_GATE_NATIVE="off",
        )
    rows["startup"] = timed([py, "-m", "visionedge", "replay", str(head), "--quiet"], repeat)
    rows["startup, demo preset"] = timed(
        [py, "-m", "visionedge", "replay", str(head), "--quiet", "--config", str(demo)], repeat
    )
    rows["startup, no classifier"] = timed(
        [py, "-m", "visionedge", "replay", str(head), "--quiet", "--config", str(gate_only)],
        repeat,
    )
    base_wall, base_cpu = rows["decode"]
    head_wall, head_cpu = timed([py, "-c", DECODE, str(head)], repeat)
    print(f"\n{clip.name}")
    print(
        f"  {'process':26} {'wall s':>7} {'cpu s':>7} {'wall/decode':>11} {'cpu/decode':>10} "
        f"{'loop wall/decode':>16} {'loop cpu/decode':>15}"
    )
    for name, (wall, cpu) in rows.items():
        loops = ""
        if name.startswith("replay"):
            # The settle rule and the numpy gate change nothing before the first frame.
            variant = name.removeprefix("replay").replace(", numpy gate", "")
            variant = variant.replace(", demo, settle off", ", demo preset").replace(", settle off", "")
            s_wall, s_cpu = rows["startup" + variant]
            lw = (wall - s_wall) / max(base_wall - head_wall, 1e-9)
            lc = (cpu - s_cpu) / max(base_cpu - head_cpu, 1e-9)
            loops = f"{lw:16.2f} {lc:15.2f}"
        print(
            f"  {name:26} {wall:7.2f} {cpu:7.2f} {wall / base_wall:11.2f} {cpu / base_cpu:10.2f} "
            f"{loops}"
        )
    return rows["replay"][0] / base_wall


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--fps", type=float, default=15.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--clip", action="append", type=Path, default=[])
    ap.add_argument("--numpy", action="store_true", help="also replay with the numpy gate")
    ap.add_argument("--no-stages", action="store_true", help="skip the per-stage breakdown")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        clips = []
        for name, busy in (("motion70", 0.7), ("motion0", 0.0)):
            path = tmp / f"{name}_640x360.mp4"
            encode_h264(scene(args.seconds, args.fps, busy), path)
            clips.append(path)
        print(
            f"whole processes, best of {args.repeat}; synthetic clips: {args.seconds:g} s at "
            f"{args.fps:g} fps, H.264 yuv420p 640x360"
        )
        every = [*clips, *args.clip]
        worst = max(bench_clip(clip, tmp, args.repeat, args.numpy) for clip in every)
        if not args.no_stages:
            stages = Path(__file__).with_name("replay_stages.py")
            for config in (None, tmp / "settle_off.toml", tmp / "demo.toml", tmp / "demo_settle_off.toml"):
                print()
                extra = ["--config", str(config)] if config is not None else []
                subprocess.run(
                    [sys.executable, str(stages), *map(str, every), *extra], check=True,
                    env=dict(os.environ, OMP_NUM_THREADS="1"),
                )
    print(f"\nworst whole replay wall / decode wall: {worst:.2f} (target <= 1.3)")
    return 0 if worst <= 1.3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
