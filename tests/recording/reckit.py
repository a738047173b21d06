"""Recording test kit: one real live run (``visionedge run`` subprocess) shared by the tests.

The live run plays a generated 12 s clip (three passages, 320x180, 10 fps) as fast as it
decodes, with the real demo classifier, small ``events.max_duration_s`` and
``recording.max_s`` so that the recordings include a continued event, a cut, and windows
that start while an event is open.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from visionedge.synth import ObjectPass, SceneSpec, write_clip

ROOT = Path(__file__).parents[2]


@dataclass
class Run:
    code: int
    out: str
    err: str


def visionedge(*args: str, timeout: float = 120, cwd: Path = ROOT) -> Run:
    """The real command in a subprocess (this interpreter, this checkout)."""
    p = subprocess.run(
        [sys.executable, "-m", "visionedge", *args],
        capture_output=True, text=True, timeout=timeout, cwd=cwd,
    )
    return Run(p.returncode, p.stdout, p.stderr)


def toml(sections: dict[str, dict[str, Any]]) -> str:
    lines: list[str] = []
    for name, values in sections.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="session")
def rec_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = SceneSpec(
        width=320, height=180, fps=10.0, seed=11, duration_s=12.0,
        events=[
            ObjectPass("person", 0.5, 2.5, direction=1, height_frac=0.45, ground_frac=0.92),
            ObjectPass("vehicle", 5.0, 2.2, direction=-1, height_frac=0.35, ground_frac=0.88),
            ObjectPass("animal", 8.5, 2.5, direction=1, height_frac=0.3, ground_frac=0.95),
        ],
    )
    path = tmp_path_factory.mktemp("rclip") / "passages.avi"
    write_clip(spec, path)
    return path


def live_config(tmp: Path, clip: Path, mode: str = "motion", **recording: Any) -> Path:
    """A live run config; ``mode`` is ``objects.mode`` (motion: the windows follow motion events)."""
    rec = {"enabled": True, "path": str(tmp / "recordings"), "pre_roll_s": 1.0,
           "post_roll_s": 0.5, "keyframe_s": 0.7, "max_s": 3.0, "min_free_mb": 0.0}
    rec.update(recording)
    cfg = tmp / "live.toml"
    cfg.write_text(toml({
        "device": {"name": "gate1", "camera": "yard"},
        "source": {"kind": "file", "path": str(clip)},
        "events": {"max_duration_s": 2.0, "update_every": 4},
        "output": {"stdout": False, "file": str(tmp / "live.jsonl")},
        "daemon": {"state_dir": str(tmp / "state")},
        "recording": rec,
        # The recording windows here follow motion events (cut at events.max_duration_s);
        # object events are the default since the firmware ports them (docs/objects.md).
        "objects": {"mode": mode},
    }))
    return cfg


@dataclass
class LiveRun:
    dir: Path
    lines: list[str]
    recordings: list[Path]


def window(live: LiveRun, rec: Path) -> list[str]:
    """The live event lines of a recording's frame window."""
    m = json.loads((rec / "manifest.json").read_text())
    return [
        line for line in live.lines
        if m["first_frame"] <= json.loads(line)["frame"] <= m["last_frame"]
    ]


def one_error_line(err: str, status_text: str) -> None:
    """``err`` holds exactly one ``visionedge: error:`` line, containing ``status_text``."""
    lines = [line for line in err.splitlines() if line.startswith("visionedge: error:")]
    assert len(lines) == 1, err
    assert status_text in lines[0], err
    assert "Traceback" not in err


@pytest.fixture(scope="session")
def live(rec_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> LiveRun:
    """One live run with recordings (read-only for tests: copy before changing)."""
    tmp = tmp_path_factory.mktemp("live")
    r = visionedge("run", "--config", str(live_config(tmp, rec_clip)))
    assert r.code == 0, r.err
    lines = (tmp / "live.jsonl").read_text().splitlines()
    recs = sorted((tmp / "recordings").iterdir())
    return LiveRun(tmp, lines, recs)


@pytest.fixture
def copy_rec(live: LiveRun, tmp_path: Path) -> Callable[[int], Path]:
    def make(i: int) -> Path:
        dst = tmp_path / live.recordings[i].name
        shutil.copytree(live.recordings[i], dst)
        return dst

    return make
