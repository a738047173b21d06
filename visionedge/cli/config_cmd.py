"""``visionedge config check FILE`` and ``visionedge config defaults``.

``check`` validates the file against the config model and then everything ``run`` would
need (:mod:`visionedge.service.preflight`: source file, model and labels, output file, password
file, TLS files, spool directory) without connecting to anything; a problem exits with
the status ``run`` would exit with for it.
"""

from __future__ import annotations

import argparse
from typing import Any

from visionedge.config import default_config_toml, load_config


def register(sub: Any) -> None:
    """Add the ``config`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser("config", help="check or print configuration")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION")
    csub.required = True
    check = csub.add_parser(
        "check",
        help="validate a config file and what `run` needs (files, model, credentials), "
        "without connecting; report the first problem",
    )
    check.add_argument("file", help="TOML config file")
    check.set_defaults(func=_check)
    defaults = csub.add_parser("defaults", help="print the default config, commented")
    defaults.set_defaults(func=_defaults)


def _check(args: argparse.Namespace) -> int:
    from visionedge.service.preflight import preflight

    notes = preflight(load_config(args.file))
    print(f"{args.file}: ok")
    for note in notes:
        print(f"  note: {note}")
    return 0


def _defaults(args: argparse.Namespace) -> int:
    print(default_config_toml(), end="")
    return 0
