"""bench/idle_sample.py and bench/object_footage.py still run (tiny generated clips); speed and
figures are never asserted here, only that each prints its rows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from visionedge.synth import ObjectPass, SceneSpec, write_clip

BENCH = Path(__file__).resolve().parents[2] / "bench"
ENV = {**os.environ, "PYTHONPATH": str(BENCH.parent)}


def bench(*args: str) -> str:
    p = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300,
                       env=ENV)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_idle_sample_bench_prints_every_budget_and_period() -> None:
    out = bench(str(BENCH / "idle_sample.py"), "--seconds", "12", "--repeat", "1",
                "--size", "160x120")
    rows = [line.split() for line in out.splitlines() if line.startswith(("default", "still-only"))]
    assert [(r[0], r[1]) for r in rows] == [
        (b, n) for b in ("default", "still-only") for n in ("off", "2", "5", "10")
    ]
    assert "vehicle" in out


def two_passages(tmp_path: Path) -> Path:
    clip = tmp_path / "two.avi"
    write_clip(SceneSpec(width=160, height=120, fps=10.0, seed=2, duration_s=6.0,
                         events=[ObjectPass("person", 0.5, 2.5), ObjectPass("vehicle", 3.0, 2.5)]),
               clip)
    return clip


def test_idle_sample_bench_on_a_clip_prints_every_period(tmp_path: Path) -> None:
    out = bench(str(BENCH / "idle_sample.py"), "--clip", str(two_passages(tmp_path)),
                "--repeat", "1")
    rows = [line.split() for line in out.splitlines()[2:]]
    assert [r[0] for r in rows] == ["off", "2", "5", "10"]
    assert all(r[-1] == "0" for r in rows[:1])  # the run without is its own reference


def test_object_footage_bench_compares_the_modes(tmp_path: Path) -> None:
    clip = two_passages(tmp_path)
    out = bench(str(BENCH / "object_footage.py"), str(clip))
    assert "two.avi: motion {'events': 1" in out or "two.avi: motion {'events': 2" in out
    assert "two.avi: object {'events': 2" in out
