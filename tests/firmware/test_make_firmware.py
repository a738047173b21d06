"""``make firmware`` configures from a fresh clone (no build/ folder, any working directory).

CMake resolves a relative ``CMAKE_TOOLCHAIN_FILE`` against the new build folder, so the
Makefile must pass an absolute path. The test copies the Makefile and firmware/ into an empty
folder (what a fresh clone has of them), takes the commands ``make -n firmware`` would run and
runs their configure steps (the builds themselves are what the parity tests do).
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from fwkit import FIRMWARE, ROOT, missing_tools


def test_make_firmware_configures_host_and_cortex_m4_from_a_fresh_tree(tmp_path: Path) -> None:
    missing = missing_tools("make", "cmake", "g++", "arm-none-eabi-g++")
    if missing:
        pytest.skip(f"make firmware needs {', '.join(missing)} (scripts/setup.sh test installs it)")
    clone = tmp_path / "clone"
    shutil.copytree(FIRMWARE, clone / "firmware", ignore=shutil.ignore_patterns("build*"))
    shutil.copy2(ROOT / "Makefile", clone / "Makefile")
    plan = subprocess.run(["make", "-n", "firmware"], cwd=clone, capture_output=True, text=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    configures = [cmd for line in plan.stdout.replace("\\\n", " ").splitlines() for cmd in line.split("&&")
                  if shlex.split(cmd)[:2] == ["cmake", "-S"]]
    assert len(configures) == 2, plan.stdout
    for cmd in configures:
        proc = subprocess.run(shlex.split(cmd), cwd=clone, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    cache = (clone / "build" / "fw-m4" / "CMakeCache.txt").read_text(encoding="utf-8")
    toolchain = next(line.split("=", 1)[1] for line in cache.splitlines() if line.startswith("CMAKE_TOOLCHAIN_FILE:"))
    assert Path(toolchain) == clone / "firmware" / "cmake" / "arm-none-eabi.cmake"
