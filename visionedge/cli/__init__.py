"""The ``visionedge`` command: one sub-command per module in this package.

Each module ``visionedge.cli.<name>`` that defines ``register(subparsers)`` adds its own
sub-command and sets ``func`` on its parser; modules keep heavy imports (TensorFlow, cv2,
paho) inside their handlers so ``visionedge --help`` stays fast. Errors from
:mod:`visionedge.errors` become one line on stderr and the error's exit status; a traceback
is printed only with ``--debug``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from visionedge import __version__
from visionedge.errors import EXIT_INTERNAL, VisionEdgeError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every registered sub-command."""
    parser = argparse.ArgumentParser(
        prog="visionedge",
        description="Edge-vision daemon: motion gate, int8 TFLite classifier, MQTT events.",
    )
    parser.add_argument("--version", action="version", version=f"visionedge {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks and debug logging on errors"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    # The package's own files, not pkgutil.iter_modules: that imports inspect (and more)
    # on every start, for nothing.
    names = sorted({Path(p).stem for d in __path__ for p in os.listdir(d) if p.endswith(".py")})
    for name in names:
        if name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{name}")
        register = getattr(module, "register", None)
        if callable(register):
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
    except VisionEdgeError as exc:
        if args.debug:
            traceback.print_exc()
        print(f"visionedge: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `visionedge replay ... | head` closes the pipe early; that is not an error.
        return 0
    except Exception as exc:
        if args.debug:
            traceback.print_exc()
        print(
            f"visionedge: internal error: {type(exc).__name__}: {exc} "
            "(this is a bug; rerun with --debug and report the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return int(result or 0)
