"""Session fixtures of the firmware tests: the built runners and exported clips (built once)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

# --import-mode=importlib does not put test folders on sys.path; fwkit is a unique name.
sys.path.insert(0, str(Path(__file__).parent))

from fwkit import FIRMWARE, Runner, cmake_build, missing_tools


@pytest.fixture(scope="session")
def host_build(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The build directory of firmware/ for the host, g++ with AddressSanitizer + UBSan."""
    missing = missing_tools("cmake", "g++")
    if missing:
        pytest.skip(f"the firmware host build needs {', '.join(missing)} (scripts/setup.sh test installs it)")
    return tmp_path_factory.mktemp("fw-host")


@pytest.fixture(scope="session")
def host_runner(host_build: Path) -> Runner:
    """The parity runner firmware/host/main.cpp, built for the host under ASan + UBSan."""
    return Runner(cmake_build(host_build, "-DVE_SANITIZE=ON", target="ve_host"))


@pytest.fixture(scope="session")
def core_check(host_build: Path) -> Runner:
    """ve_core_check: the core's crop, quantize, plane and id functions from the command line."""
    return Runner(cmake_build(host_build, "-DVE_SANITIZE=ON", target="ve_core_check"))


@pytest.fixture(scope="session")
def qemu_runner(tmp_path_factory: pytest.TempPathFactory) -> Runner:
    """The same runner as a Cortex-M4 image for QEMU's mps2-an386."""
    missing = missing_tools("cmake", "arm-none-eabi-g++", "qemu-system-arm")
    if missing:
        pytest.skip(f"the Cortex-M4 build needs {', '.join(missing)} (scripts/setup.sh test installs it)")
    build = tmp_path_factory.mktemp("fw-m4")
    return Runner(
        cmake_build(
            build,
            f"-DCMAKE_TOOLCHAIN_FILE={FIRMWARE / 'cmake' / 'arm-none-eabi.cmake'}",
            "-DVE_TARGET=mps2_an386",
            target="ve_qemu",
        ),
        qemu=True,
    )


def _replay_export(clip: Path, config_toml: str, out: Path) -> tuple[Path, list[str]]:
    """Run ``visionedge replay CLIP --export-frames`` (classifier off); return dir and event lines."""
    cfg = out / "config.toml"
    cfg.write_text(config_toml, encoding="utf-8")
    frames = out / "frames"
    proc = subprocess.run(
        [sys.executable, "-m", "visionedge", "replay", str(clip), "--config", str(cfg),
         "--export-frames", str(frames)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return frames, [line for line in proc.stdout.splitlines() if line.strip()]


SCENE_CONFIG = """
[classifier]
enabled = false
[objects]
mode = "motion"
[gate]
width = 160
[[gate.zones]]
name = "right"
polygon = [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]
[[gate.zones]]
name = "door"
polygon = [[0.05, 0.4], [0.3, 0.4], [0.3, 1.0], [0.05, 1.0]]
"""


@pytest.fixture(scope="session")
def scene_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, list[str]]:
    """The ~30 s default synthetic scene (passages, light switch, covered lens) as an MJPG
    clip, replayed by Python: (config, exported planes, Python's event lines)."""
    from visionedge.synth import default_scene, write_clip

    out = tmp_path_factory.mktemp("scene")
    clip = out / "scene.avi"
    write_clip(default_scene(seed=5, width=320, height=180), clip)
    frames, events = _replay_export(clip, SCENE_CONFIG, out)
    return SCENE_CONFIG, frames, events


SMALL_CONFIG = """
[classifier]
enabled = false
[objects]
mode = "motion"
[events]
update_every = 4
[gate]
width = 160
reference = "both"
masks = [[[0.0, 0.0], [0.4, 0.0], [0.4, 0.3], [0.0, 0.3]]]
[[gate.zones]]
name = "left"
polygon = [[0.0, 0.0], [0.5, 0.0], [0.5, 1.0], [0.0, 1.0]]
"""


@pytest.fixture(scope="session")
def small_export(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, list[str]]:
    """The ~8 s small scene (a vehicle passage and a light switch), replayed by Python."""
    from visionedge.synth import small_scene, write_clip

    out = tmp_path_factory.mktemp("small")
    clip = out / "small.avi"
    write_clip(small_scene(seed=11, cls="vehicle"), clip)
    frames, events = _replay_export(clip, SMALL_CONFIG, out)
    return SMALL_CONFIG, frames, events
