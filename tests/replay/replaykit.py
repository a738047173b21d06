"""Running the ``visionedge`` command in-process and as the installed console script."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from visionedge.cli import main
from visionedge.synth import default_scene, small_scene, write_clip

ROOT = Path(__file__).parents[2]
GOLDEN = ROOT / "tests" / "golden"


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_inproc(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    """``visionedge ARGS`` in this process (fast); stdout/stderr captured."""
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return Result(code, out, err)


def console_script() -> str:
    """The installed ``visionedge`` entry point next to this interpreter."""
    exe = Path(sys.executable).parent / "visionedge"
    found = str(exe) if exe.exists() else shutil.which("visionedge")
    assert found, "the visionedge console script is not installed; run `pip install -e .`"
    return found


def run_script(*args: str, timeout: float = 120) -> Result:
    """The real ``visionedge`` console script in a subprocess."""
    p = subprocess.run(
        [console_script(), *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT
    )
    return Result(p.returncode, p.stdout, p.stderr)


_SCENES = {"small": small_scene, "default": default_scene}


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """``clip("small")`` → path of ``small.avi`` (generated once per test session)."""
    root = tmp_path_factory.mktemp("clips")
    made: dict[str, Path] = {}

    def get(scene: str) -> Path:
        if scene not in made:
            path = root / f"{scene}.avi"
            write_clip(_SCENES[scene](), path)
            made[scene] = path
        return made[scene]

    return get
