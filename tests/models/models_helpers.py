"""Shared helpers of tests/models (imported by conftest.py and the tests)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from visionedge.cli import main


@dataclass(frozen=True)
class TinyRun:
    """Paths of the session's tiny pipeline run."""

    data: Path
    work: Path
    export: Path


def run_cli(*argv: str) -> int:
    """Run ``visionedge`` in-process; returns the exit status."""
    return main(list(argv))
