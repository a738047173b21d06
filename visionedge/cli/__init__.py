"""The ``visionedge`` command: one sub-command per module in this package.

Each module ``visionedge.cli.<name>`` that defines ``register(subparsers)`` adds its own
sub-command and sets ``func`` on its parser; modules keep heavy imports (TensorFlow, cv2,
paho) inside their handlers so ``visionedge --help`` stays fast. When the command line
names a command of :data:`COMMANDS`, only that command's module is imported and
registered (the others' imports and parsers cost ~8 ms of a ``run``'s start); any other
command line (``--help``, ``--version``, a typo) gets the parser with every command. Errors from
:mod:`visionedge.errors` become one line on stderr and the error's exit status; a traceback
is printed only with ``--debug``.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from visionedge import __version__
from visionedge.errors import EXIT_INTERNAL, VisionEdgeError

__all__ = ["COMMANDS", "build_parser", "main"]

COMMANDS = {
    "calibrate": "calibrate",
    "classify": "classify",
    "config": "config_cmd",
    "dataset": "dataset",
    "firmware": "firmware",
    "model": "model",
    "recordings": "recordings",
    "replay": "replay",
    "run": "run",
}
"""Command name -> the module that registers it (tests/cli/test_light_imports.py checks it)."""


def _command(argv: Sequence[str]) -> str | None:
    """The command the line names: the first word that is not a top-level option."""
    # The top-level options (-h, --version, --debug) take no value, so the first word not
    # starting with "-" is the command.
    return next((a for a in argv if not a.startswith("-")), None)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """Build the argument parser: every sub-command, or only ``command`` when it is known."""
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
    if command in COMMANDS:
        names = [COMMANDS[command]]
    else:
        names = sorted({Path(p).stem for d in __path__ for p in os.listdir(d) if p.endswith(".py")})
    for name in names:
        if name.startswith("_"):
            continue
        # __import__, not importlib.import_module: only the import statement's path is
        # timed by ``python -X importtime`` (bench/startup.py, tests/cli/test_light_imports.py).
        __import__(f"{__name__}.{name}")
        module = sys.modules[f"{__name__}.{name}"]
        register = getattr(module, "register", None)
        if callable(register):
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status."""
    line = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(_command(line))
    args = parser.parse_args(line)
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
