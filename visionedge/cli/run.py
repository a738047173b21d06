"""``visionedge run``: the long-running pipeline, frames from the configured source.

SIGTERM and SIGINT set a stop flag: the pipeline stops after the frame in hand, ends the
open event (``end_reason = "stopped"``), flushes and closes the sinks, and the process
exits 0 — what systemd expects from a clean stop. A second signal aborts at once.
"""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

from visionedge.config import Config

__all__ = ["register", "run_pipeline", "stop_on_signals"]


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


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """While inside, SIGTERM/SIGINT set ``stop``; a second one raises KeyboardInterrupt."""

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {s: signal.signal(s, handler) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def run_pipeline(config: Config, stop: threading.Event | None = None) -> int:
    """Build the pipeline from ``config`` and run it until the source ends or ``stop`` is set."""
    from visionedge.pipeline import build_pipeline

    stop = stop or threading.Event()
    pipeline = build_pipeline(config, deterministic_ids=False)
    try:
        with stop_on_signals(stop):
            pipeline.run(stop)
    finally:
        pipeline.close()
    return 0


def _run(args: argparse.Namespace) -> int:
    from visionedge.config import load_config
    from visionedge.daemon import run_daemon

    # The service path: sd_notify, watchdog, SIGHUP reload, MQTT control (visionedge/daemon.py).
    return run_daemon(load_config(args.config), args.config)
