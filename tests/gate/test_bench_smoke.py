"""bench/gate.py still runs (on a small generated clip); speed itself is never asserted."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from gatehelp import Clip

from visionedge.synth import SceneSpec, small_scene

BENCH = Path(__file__).resolve().parents[2] / "bench" / "gate.py"


def test_bench_prints_a_row_per_clip(make_clip: Callable[[str, SceneSpec], Clip]) -> None:
    clip = make_clip("small_person", small_scene(seed=1, cls="person"))
    out = subprocess.run(
        [sys.executable, str(BENCH), "--clip", str(clip.path), "--repeat", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rows = [line for line in out.splitlines() if line.startswith(clip.path.name)]
    assert len(rows) == 1, out
    assert "320x180" in rows[0] and "blur" in out
