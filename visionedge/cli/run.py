"""``visionedge run``: the long-running pipeline, frames from the configured source.

The work is done by :func:`visionedge.service.daemon.run_daemon`: it wires the pipeline
(:mod:`visionedge.pipeline`) with the configured source and sinks, and adds the service
behaviour (sd_notify, watchdog, SIGHUP reload, MQTT control). SIGTERM and SIGINT stop it
cleanly: the open event ends with ``end_reason = "stopped"``, sinks are flushed and
closed, and the process exits 0. With a finite source (a file, the default demo clip) it
exits 0 when the source ends.
"""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``run`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "run",
        help="run the pipeline on the configured source (default: the generated demo clip)",
        description="Run source -> gate -> classifier -> events -> sinks until the source "
        "ends or SIGTERM/SIGINT. With the default config this plays the generated demo clip "
        "and prints events as JSON lines.",
    )
    p.add_argument("--config", metavar="FILE", help="TOML config file (default: built-in defaults)")
    p.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from visionedge.config import load_config
    from visionedge.service.daemon import run_daemon

    # The service path: sd_notify, watchdog, SIGHUP reload, MQTT control (visionedge/service/daemon.py).
    return run_daemon(load_config(args.config), args.config)
