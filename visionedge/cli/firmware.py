"""``visionedge firmware config CONFIG.toml``: the firmware's gate header from the daemon's config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from visionedge.errors import FirmwareError


def register(sub: Any) -> None:
    """Add the ``firmware`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "firmware", help="generate firmware configuration (gate_config.h)"
    )
    fsub = p.add_subparsers(dest="firmware_command", metavar="ACTION")
    fsub.required = True
    c = fsub.add_parser(
        "config",
        help="render gate_config.h (gate parameters, mask/zone bitmaps) from a config file",
    )
    c.add_argument("config", help="TOML config file (the one the daemon reads)")
    c.add_argument("-o", "--output", help="write here instead of standard output")
    size = c.add_mutually_exclusive_group()
    size.add_argument(
        "--frame",
        metavar="WxH",
        help="camera frame size the board captures (default: source.width x source.height)",
    )
    size.add_argument("--plane", metavar="WxH", help="motion-plane size directly")
    c.add_argument(
        "--fps",
        type=float,
        help="frame rate of the board's camera; the gate's seconds become frame counts at it "
        "(default: source.fps)",
    )
    c.add_argument(
        "--format",
        choices=("header", "params"),
        default="header",
        help="header: gate_config.h for a board build; params: the text file the host/QEMU "
        "runners read with --params",
    )
    c.set_defaults(func=_config)


def _parse_size(text: str, what: str) -> tuple[int, int]:
    try:
        w_s, h_s = text.lower().split("x")
        w, h = int(w_s), int(h_s)
    except ValueError:
        raise FirmwareError(f"{what} '{text}' is not WxH; write it like 640x480") from None
    if w < 1 or h < 1:
        raise FirmwareError(f"{what} '{text}' must be positive, like 640x480")
    return w, h


def _config(args: argparse.Namespace) -> int:
    from visionedge.config import load_config
    from visionedge.firmware_config import build_spec, plane_size, render_header, render_params

    cfg = load_config(args.config)
    if args.plane:
        pw, ph = _parse_size(args.plane, "--plane")
    else:
        fw, fh = (
            _parse_size(args.frame, "--frame")
            if args.frame
            else (cfg.source.width, cfg.source.height)
        )
        pw, ph = plane_size(fw, fh, cfg.gate.width)
    spec = build_spec(cfg, pw, ph, args.fps)
    text = render_params(spec) if args.format == "params" else render_header(spec, Path(args.config).name)
    if args.output:
        try:
            Path(args.output).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise FirmwareError(
                f"{args.output}: cannot write ({exc.strerror}); check the directory exists"
            ) from exc
        print(f"{args.output}: {args.format} for a {pw}x{ph} motion plane", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
