"""Helpers of tests/dataset: the generated scenes, the teacher, the CLI in-process.

Four ~8 s generated scenes (two with a person passing, two with a vehicle), collected with
the real gate and the shipped demo model as the teacher (it was trained on these shapes, so
its pre-labels are meaningful here): a second or two, no network, no ../shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from visionedge.cli import main

DATA = Path(__file__).resolve().parents[2] / "visionedge" / "data"
TEACHER = DATA / "demo_int8.tflite"
TEACHER_LABELS = DATA / "demo_labels.txt"
SCENES = (("person", 0), ("person", 1), ("vehicle", 0), ("vehicle", 1))


@dataclass(frozen=True)
class Collected:
    """The clips and the dataset collected from them."""

    clips: Path
    data: Path


def run_cli(*args: str) -> int:
    """The CLI in-process; returns the exit status."""
    return main(list(args))
