"""Benchmark: the gate update against a plain frame difference and Frigate's motion detector.

Usage: ``python bench/gate_compare.py [--frigate DIR] [--clip PATH] [--frames 600]``

All detectors see the same frames: the luma planes of a clip (default: the seeded synthetic
640x360 scene with objects in view most of the time, encoded H.264 at bench time), decoded
once up front. Per frame, interleaved so that all see the same machine load, the calling
thread's CPU time of:

- ``gate``: ``FrameDifferenceGate.process_plane`` on the motion plane (the gate update),
  with the motion regions on every open frame;
- ``gate, no regions``: the same without the regions, as the pipeline runs it on the frames
  it will not classify (most of them);
- ``numpy gate, no regions``: the same on the numpy/OpenCV path (``native=False``), to show
  what the compiled core (visionedge.gate._native, ``VISIONEDGE_GATE_NATIVE``) saves;
- ``plane + gate``: the plane from the frame's luma (``to_motion_plane``) plus the update;
- ``base full``: ``cv2.absdiff`` + ``cv2.threshold`` + ``cv2.countNonZero`` against the
  previous frame at the frame's resolution (preallocated buffers), the usual simplest gate;
- ``base plane``: the same at the motion plane's resolution;
- ``frigate``: ``ImprovedMotionDetector.detect`` of Frigate (default motion config: 100 px
  high motion frame, contrast improvement, threshold 30, contour area 10) on the luma plane,
  which is what Frigate feeds it (the Y rows of its YUV420 frame).

Frigate is not a dependency and none of its code is in this project: ``--frigate`` names a
Frigate checkout (default: ``frigate`` beside the project); its ``frigate/motion/
improved_motion.py`` is executed as it is, with stand-ins for the three names it imports from
the rest of Frigate (two types, and ``grab_cv2_contours``, which picks the contour list out
of ``cv2.findContours``' result). It needs scipy.

Then the cost against resolution: for frames of 320x240 up to 1920x1080 (the synthetic
scene rendered at that size), the median µs of one memory pass over the luma (a copy), of
the plane extraction from luma (compiled and numpy/OpenCV) and from BGR, of the gate update
(without regions; compiled and numpy) and of the plain absdiff + threshold + count at that
resolution. Targets (issue 11): gate
<= 0.6x base at the same resolution and <= 0.12x Frigate; exit status 1 when the gate
without regions misses either.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt
from gate import Baseline  # bench/gate.py: the same plain absdiff+threshold+count

from visionedge.config import GateConfig
from visionedge.gate import FrameDifferenceGate, to_motion_plane
from visionedge.synth import SceneSpec
from visionedge.synth.scene import render_frames

Plane = npt.NDArray[np.uint8]
HERE = Path(__file__).resolve().parents[1]


def load_frigate(root: Path) -> Any:
    """Frigate's ImprovedMotionDetector class, from its own source file."""
    src = root / "frigate" / "motion" / "improved_motion.py"
    if not src.is_file():
        raise SystemExit(f"{src}: not found; pass --frigate DIR (a Frigate checkout)")

    def grab_cv2_contours(cnts: Any) -> Any:
        return cnts[0] if len(cnts) == 2 else cnts[1]

    class MotionDetector:  # the abstract base: no behaviour
        pass

    stand_ins = {
        "frigate": {},
        "frigate.camera": {"PTZMetrics": object},
        "frigate.config": {},
        "frigate.config.config": {"RuntimeMotionConfig": object},
        "frigate.motion": {"MotionDetector": MotionDetector},
        "frigate.util": {},
        "frigate.util.image": {"grab_cv2_contours": grab_cv2_contours},
    }
    saved = {name: sys.modules.get(name) for name in stand_ins}
    try:
        for name, attrs in stand_ins.items():
            mod = types.ModuleType(name)
            mod.__dict__.update(attrs)
            sys.modules[name] = mod
        namespace: dict[str, Any] = {"__name__": "frigate_improved_motion"}
        exec(compile(src.read_text(), str(src), "exec"), namespace)
    finally:
        for name, old in saved.items():
            if old is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = old
    return namespace["ImprovedMotionDetector"]


def frigate_config(shape: tuple[int, int]) -> Any:
    """Frigate's default MotionConfig values, with an all-open mask."""
    return types.SimpleNamespace(
        enabled=True, threshold=30, lightning_threshold=0.8, skip_motion_threshold=None,
        improve_contrast=True, contour_area=10, delta_alpha=0.2, frame_alpha=0.01,
        frame_height=100, rasterized_mask=np.full(shape, 255, np.uint8), mqtt_off_delay=30,
    )


def synth_lumas(width: int, height: int, frames: int, busy: bool = True) -> tuple[list[Plane], list[Any]]:
    """Luma planes (limited range, as a decoder gives) and BGR frames of the synthetic scene."""
    from visionedge.synth import ObjectPass

    events = [ObjectPass(("person", "vehicle", "animal")[i % 3], i * 4.0, 3.5,
                         direction=1 - 2 * (i % 2)) for i in range(int(frames / 10 / 4) + 1)] if busy else []
    spec = SceneSpec(width=width, height=height, fps=10.0, seed=3, duration_s=frames / 10.0,
                     events=events)  # type: ignore[arg-type]
    lumas, bgrs = [], []
    for img, _ in render_frames(spec):
        full = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
        lumas.append(np.asarray(cv2.LUT(full, _LIMITED), np.uint8))
        bgrs.append(img)
    return lumas, bgrs


_LIMITED = (16 + (219 * np.arange(256) + 127) // 255).astype(np.uint8)


def clip_lumas(path: Path, frames: int) -> list[Plane]:
    from visionedge.sources.av_video import VideoDecoder

    dec = VideoDecoder(path, "")
    out = []
    try:
        for i, f in enumerate(dec.frames()):
            if i >= frames:
                break
            out.append(np.ascontiguousarray(f.luma))
    finally:
        dec.close()
    return out


def compare(lumas: list[Plane], frigate_cls: Any | None, cfg: GateConfig) -> dict[str, float]:
    planes = [to_motion_plane(y, cfg.width) for y in lumas]
    gate = FrameDifferenceGate(cfg, fps=15.0)
    gate2 = FrameDifferenceGate(cfg, fps=15.0)
    gate3 = FrameDifferenceGate(cfg, fps=15.0)
    gate3.regions_wanted = False
    gate4 = FrameDifferenceGate(cfg, fps=15.0, native=False)
    gate4.regions_wanted = False
    base_full = Baseline(lumas[0].shape, cfg.pixel_threshold)
    base_plane = Baseline(planes[0].shape, cfg.pixel_threshold)
    frigate = None
    if frigate_cls is not None:
        frigate = frigate_cls(lumas[0].shape, frigate_config(lumas[0].shape), 15)
    steps: dict[str, Callable[[int], object]] = {
        "gate": lambda i: gate.process_plane(planes[i], i),
        "gate, no regions": lambda i: gate3.process_plane(planes[i], i),
        "numpy gate, no regions": lambda i: gate4.process_plane(planes[i], i),
        "plane + gate": lambda i: gate2.process_plane(to_motion_plane(lumas[i], cfg.width), i),
        "base full": lambda i: base_full.step(lumas[i]),
        "base plane": lambda i: base_plane.step(planes[i]),
    }
    if frigate is not None:
        steps["frigate"] = lambda i: frigate.detect(lumas[i])
    times: dict[str, list[float]] = {k: [] for k in steps}
    cpu = time.thread_time_ns
    for i in range(len(lumas)):
        for name, fn in steps.items():
            t0 = cpu()
            fn(i)
            times[name].append((cpu() - t0) / 1000.0)
    # Drop the first frames: buffers allocated, Frigate calibrating.
    return {k: statistics.median(v[10:]) for k, v in times.items()}


def per_resolution(cfg: GateConfig) -> None:
    print("\ncost against resolution (median µs per frame, one thread; copy = one memory pass over "
          "the luma; base = absdiff + threshold + count at the frame's resolution; gate without "
          "regions; 'np' = the numpy/OpenCV path)")
    print(f"  {'frame':>10} {'plane':>8} {'copy Y':>7} {'plane←Y':>8} {'np':>6} {'plane←BGR':>9} "
          f"{'gate':>6} {'np':>6} {'plane←Y+gate':>12} {'÷ copy':>7} {'base':>6} {'gate÷base':>9}")
    for w, h in ((320, 240), (640, 360), (1280, 720), (1920, 1080)):
        lumas, bgrs = synth_lumas(w, h, 60)
        gate = FrameDifferenceGate(cfg, fps=15.0, native=None)
        gate.regions_wanted = False
        slow = FrameDifferenceGate(cfg, fps=15.0, native=False)
        slow.regions_wanted = False
        base = Baseline(lumas[0].shape, cfg.pixel_threshold)
        dst = np.empty_like(lumas[0])
        keys = ("copy", "plane_y", "plane_y_np", "plane_bgr", "gate", "gate_np", "base")
        t: dict[str, list[float]] = {k: [] for k in keys}
        clock = time.perf_counter_ns
        for i, (y, bgr) in enumerate(zip(lumas, bgrs, strict=True)):
            stamps = [clock()]
            np.copyto(dst, y)
            stamps.append(clock())
            plane = to_motion_plane(y, cfg.width)
            stamps.append(clock())
            to_motion_plane(y, cfg.width, native=False)
            stamps.append(clock())
            to_motion_plane(bgr, cfg.width)
            stamps.append(clock())
            gate.process_plane(plane, i)
            stamps.append(clock())
            slow.process_plane(plane, i)
            stamps.append(clock())
            base.step(y)
            stamps.append(clock())
            for k, a, b in zip(keys, stamps[:-1], stamps[1:], strict=True):
                t[k].append((b - a) / 1000.0)
        m = {k: statistics.median(v[5:]) for k, v in t.items()}
        ph, pw = plane.shape
        both = m["plane_y"] + m["gate"]
        print(f"  {w:>5}x{h:<4} {pw:>4}x{ph:<3} {m['copy']:7.1f} {m['plane_y']:8.1f} "
              f"{m['plane_y_np']:6.1f} {m['plane_bgr']:9.1f} {m['gate']:6.1f} {m['gate_np']:6.1f} "
              f"{both:12.1f} {both / m['copy']:7.2f} {m['base']:6.1f} {m['gate'] / m['base']:9.2f}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frigate", type=Path, default=HERE.parent / "frigate")
    ap.add_argument("--clip", type=Path, help="a real clip instead of the synthetic scene")
    ap.add_argument("--frames", type=int, default=600)
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)
    cfg = GateConfig()
    frigate_cls = None
    try:
        frigate_cls = load_frigate(args.frigate)
    except SystemExit as exc:
        print(f"(no Frigate comparison: {exc})", file=sys.stderr)
    if args.clip:
        lumas, what = clip_lumas(args.clip, args.frames), args.clip.name
    else:
        with tempfile.TemporaryDirectory():
            lumas, _ = synth_lumas(640, 360, args.frames)
        what = "synthetic 640x360 scene"
    m = compare(lumas, frigate_cls, cfg)
    h, w = lumas[0].shape
    path = "compiled core" if FrameDifferenceGate(cfg).native else "numpy/OpenCV path"
    print(f"gate update vs baselines on {len(lumas)} frames of {what} ({w}x{h}); median thread "
          f"CPU µs per frame; gate on the {path}")
    for k, v in m.items():
        print(f"  {k:14} {v:8.1f}")
    print(f"  gate / base full  = {m['gate'] / m['base full']:.2f}   (target <= 0.6)")
    print(f"  gate / base plane = {m['gate'] / m['base plane']:.2f}")
    print(f"  plane+gate / base full = {m['plane + gate'] / m['base full']:.2f}")
    print(f"  gate, no regions / base full = {m['gate, no regions'] / m['base full']:.2f}")
    print(f"  numpy gate, no regions / base full = "
          f"{m['numpy gate, no regions'] / m['base full']:.2f}")
    if "frigate" in m:
        print(f"  gate / frigate    = {m['gate'] / m['frigate']:.3f}  (target <= 0.12)")
        print(f"  gate, no regions / frigate = {m['gate, no regions'] / m['frigate']:.3f}")
        print(f"  plane+gate / frigate = {m['plane + gate'] / m['frigate']:.3f}")
    per_resolution(cfg)
    missed = m["gate, no regions"] / m["base full"] > 0.6
    if "frigate" in m:
        missed = missed or m["gate, no regions"] / m["frigate"] > 0.12
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
