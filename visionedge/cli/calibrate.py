"""``visionedge calibrate CLIP``: propose gate thresholds from a scene's noise floor."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def register(sub: Any) -> None:
    """Add the ``calibrate`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "calibrate",
        help="measure a quiet clip's noise floor and propose gate thresholds",
        description="Run the gate's changed-pixel measurement over footage in which nothing "
        "moves and propose start_pct/stop_pct/global_pct as a [gate] config snippet.",
    )
    p.add_argument("clip", type=Path, help="video file (or image folder) of the quiet scene")
    p.add_argument("--config", type=Path, default=None,
                   help="config whose [gate] settings (width, blur, pixel_threshold, masks) "
                   "to measure with (default: the defaults)")
    p.add_argument("--out", type=Path, default=None, help="write the TOML snippet here")
    p.add_argument("--plot", type=Path, default=None, help="write a PNG histogram + timeline")
    p.add_argument("--margin", type=float, default=3.0,
                   help="start_pct = p99.9 of the noise x this (default 3)")
    p.add_argument("--floor", type=float, default=0.05,
                   help="start_pct is never below this percentage (default 0.05)")
    p.add_argument("--max-frames", type=int, default=None, help="stop after this many frames")
    p.set_defaults(func=_calibrate)


def _calibrate(args: argparse.Namespace) -> int:
    import sys

    from visionedge.calibrate import measure, propose, snippet, write_plot
    from visionedge.config import load_config
    from visionedge.extras import require

    if args.plot:
        require("matplotlib", "plot", "calibrate --plot")  # before measuring, not after

    cfg = load_config(args.config)
    pct, rejected = measure(args.clip, cfg, max_frames=args.max_frames)
    cal = propose(pct, rejected, cfg.gate, clip=args.clip.name, margin=args.margin,
                  floor=args.floor)
    text = snippet(cal, cfg.gate)
    print(text, end="")
    if cal.above_current_start:
        print(f"visionedge: warning: {cal.above_current_start} frame(s) reach the configured "
              f"start_pct {cfg.gate.start_pct}; the clip may not be quiet, and the proposal "
              "then includes motion (check the plot, record footage where nothing moves)",
              file=sys.stderr)
    if args.out:
        args.out.write_text(text)
    if args.plot:
        write_plot(args.plot, pct, cal)
    return 0
