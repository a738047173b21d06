"""Generated clips and one collected dataset per session, shared by tests/dataset.

Four ~8 s generated scenes (two with a person passing, two with a vehicle), collected with
the real gate and the shipped demo model as the teacher (it was trained on these shapes, so
its pre-labels are meaningful here): a second or two, no network, no ../shared.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from datasetkit import SCENES, TEACHER, TEACHER_LABELS, Collected, run_cli

from visionedge.synth import small_scene, write_clip


@pytest.fixture(scope="session")
def collected(tmp_path_factory: pytest.TempPathFactory) -> Collected:
    root = tmp_path_factory.mktemp("collect")
    clips = root / "clips"
    for cls, seed in SCENES:
        write_clip(small_scene(seed, cls=cls), clips / f"{cls}{seed}.avi")
    data = root / "data"
    assert run_cli("dataset", "collect", str(clips), "--out", str(data),
                   "--teacher", str(TEACHER), "--teacher-labels", str(TEACHER_LABELS), "--size", "64") == 0
    return Collected(clips, data)
