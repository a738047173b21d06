"""Benchmark: the whole ``visionedge replay`` process against a process that only decodes.

Usage: ``python bench/replay_cost.py [--seconds 300] [--fps 15] [--repeat 3] [--clip PATH ...]
[--numpy] [--settle-off] [--no-stages]``

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
- ``replay, settle off`` and ``replay, demo, settle off`` (``--settle-off``): the default and
  the demo preset with ``objects.settle_after = 0`` (every object classified every
  ``classifier.every_n_frames`` up to ``classifier.max_per_event``, as before the settle
  rule), so the rule's saving is measured in the same run;
- ``replay, numpy gate`` (``--numpy``): the default replay with ``VISIONEDGE_GATE_NATIVE=off``
  (the gate's numpy/OpenCV path instead of its compiled core), to show what the core saves.

Then (unless ``--no-stages``) ``bench/replay_stages.py`` breaks each clip's replay down per
stage and frame (thread CPU µs: decode, plane, gate, BGR, classifier, objects, sinks,
pipeline, loop; and the crops classified), with the default config, the demo preset and no
classifier (and the settle-off variants with ``--settle-off``), and the **floor** of each
replay is printed from the same run: what no pipeline around this decoder and this
classifier can go below, the decode-only process plus the crops' cost (crops x ms per crop,
the BGR of the classified frames included) plus the start-up (the replay of the first 10
frames minus their decode), as CPU (everything adds up) and as wall time on two free cores
(the file source decodes on its own thread, so decoding and the crops could overlap:
max(decode, crops) + start-up, if the decoder could run ahead without limit; with the file
source's prefetch depth, ``depth_for`` at the clip's size (48 frames of 640x360), it hides at
most that many frames' decode behind each crop: decode + crops x (ms/crop - depth x decode
per frame) + start-up, the "lead" column); the gap between a measured ratio and its floor is the per-frame Python and
gate work around them ("rest" = plane, gate, objects, sinks, pipeline, loop).

``startup`` is the replay of the clip's first 10 frames (imports, model load, clip open),
so ``loop`` = replay - startup is the per-clip work (against decode minus the decode of
those 10 frames); the ratios are printed both ways, for wall time and for CPU time (on a
machine shared with other jobs the CPU time is the steadier figure).
Target (issue 11): whole replay wall <= 1.3x decode-only wall (exit status 1 when missed).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

from visionedge.sources.prefetch import depth_for
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


Rows = dict[str, tuple[float, float]]


def bench_clip(clip: Path, tmp: Path, repeat: int, numpy_gate: bool, settle_off: bool) -> Rows:
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
        "replay, demo preset": timed(
            [py, "-m", "visionedge", "replay", str(clip), "--quiet", "--config", str(demo)],
            repeat,
        ),
        "replay, no classifier": timed(
            [py, "-m", "visionedge", "replay", str(clip), "--quiet", "--config", str(gate_only)],
            repeat,
        ),
    }
    if settle_off:
        rows["replay, settle off"] = timed(
            [py, "-m", "visionedge", "replay", str(clip), "--quiet", "--config", str(off)], repeat
        )
        rows["replay, demo, settle off"] = timed(
            [py, "-m", "visionedge", "replay", str(clip), "--quiet", "--config", str(demo_off)],
            repeat,
        )
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
    rows["decode head"] = (head_wall, head_cpu)
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
    return rows


def lead_frames(clip: Path) -> int:
    """Frames the file source decodes ahead of a replay of ``clip`` (its prefetch budget at
    the clip's frame size, visionedge/sources/prefetch.py ``depth_for``)."""
    import av

    with av.open(str(clip)) as c:
        stream = c.streams.video[0]
        return depth_for(stream.width, stream.height)

STAGE_CONFIGS = {"default": "replay", "demo": "replay, demo preset", "no classifier": "replay, no classifier"}
"""The replays whose floor is printed: stage-breakdown config name -> process row."""
_STARTUP = {"replay": "startup", "replay, demo preset": "startup, demo preset",
            "replay, no classifier": "startup, no classifier"}


def floor_table(clip: Path, rows: Rows, stages: dict[str, dict[str, object]]) -> None:
    """Print the floor of each replay of ``clip`` against what it measured (see the module doc)."""
    d_wall, d_cpu = rows["decode"]
    h_wall, h_cpu = rows["decode head"]
    lead = lead_frames(clip)
    print(f"\n{clip.name}: floor (decode + crops x ms/crop + start-up) against the measured replay; "
          f"the decoder's lead: {lead} frames")
    print(f"  {'config':14} {'crops':>6} {'ms/crop':>7} {'crops s':>7} {'rest s':>6} {'start s':>7} "
          f"{'CPU floor':>9} {'CPU':>6} {'wall floor (2 cores)':>20} {'lead':>6} {'wall':>6} "
          f"{'no start-up: CPU / wall floor':>30}")
    for name, proc in STAGE_CONFIGS.items():
        st = stages.get(name)
        if st is None or proc not in rows:
            continue
        us = st["us_per_frame"]
        assert isinstance(us, dict)
        n = int(st["frames"])  # type: ignore[call-overload]
        crops = int(st["crops"])  # type: ignore[call-overload]
        crop_s = (us["classifier"] + us["bgr"]) * n / 1e6
        rest_s = sum(us[k] for k in ("plane", "gate", "objects", "sinks", "pipeline", "loop")) * n / 1e6
        s_wall, s_cpu = rows[_STARTUP[proc]]
        start_wall, start_cpu = max(s_wall - h_wall, 0.0), max(s_cpu - h_cpu, 0.0)
        cpu_floor = (d_cpu + crop_s + start_cpu) / d_cpu
        wall_floor = (max(d_wall, crop_s) + start_wall) / d_wall
        # The decoder runs at most `lead` frames ahead: that much decode hides behind a crop.
        hidden = crops * min(crop_s / crops, lead * d_wall / n) if crops else 0.0
        lead_floor = (max(d_wall + crop_s - hidden, d_wall, crop_s) + start_wall) / d_wall
        wall, cpu = rows[proc]
        ms = 1e3 * crop_s / crops if crops else 0.0
        print(f"  {name:14} {crops:6d} {ms:7.1f} {crop_s:7.2f} {rest_s:6.2f} {start_wall:7.2f} "
              f"{cpu_floor:8.2f}x {cpu / d_cpu:5.2f}x {wall_floor:19.2f}x {lead_floor:5.2f}x "
              f"{wall / d_wall:5.2f}x "
              f"{(d_cpu + crop_s) / d_cpu:22.2f}x / {max(d_wall, crop_s) / d_wall:.2f}x")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--fps", type=float, default=15.0)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--clip", action="append", type=Path, default=[])
    ap.add_argument("--numpy", action="store_true", help="also replay with the numpy gate")
    ap.add_argument("--settle-off", action="store_true",
                    help="also replay with objects.settle_after = 0 (default and demo preset)")
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
        measured = {clip: bench_clip(clip, tmp, args.repeat, args.numpy, args.settle_off) for clip in every}
        worst = max(r["replay"][0] / r["decode"][0] for r in measured.values())
        if not args.no_stages:
            stages = Path(__file__).with_name("replay_stages.py")
            configs: dict[str, Path | None] = {
                "default": None, "demo": tmp / "demo.toml", "no classifier": tmp / "gate_only.toml",
            }
            if args.settle_off:
                configs |= {"settle off": tmp / "settle_off.toml",
                            "demo, settle off": tmp / "demo_settle_off.toml"}
            per_clip: dict[str, dict[str, dict[str, object]]] = {str(c): {} for c in every}
            for name, config in configs.items():
                print()
                extra = ["--config", str(config)] if config is not None else []
                out = tmp / "stages.json"
                subprocess.run(
                    [sys.executable, str(stages), *map(str, every), *extra, "--json", str(out)],
                    check=True, env=dict(os.environ, OMP_NUM_THREADS="1"),
                )
                for row in json.loads(out.read_text()):
                    per_clip[row["clip"]][name] = row
            for clip in every:
                floor_table(clip, measured[clip], per_clip[str(clip)])
    print(f"\nworst whole replay wall / decode wall: {worst:.2f} (target <= 1.3)")
    return 0 if worst <= 1.3 else 1


if __name__ == "__main__":
    raise SystemExit(main())
