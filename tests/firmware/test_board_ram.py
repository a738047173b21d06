"""The Nano 33 BLE sketch allocates exactly what the size report measures.

The sketch and the size image (bench/firmware_size.py) both keep every buffer in one
``ve::BoardApp g_app`` (firmware/boards/common/board_app.h): the camera frame is the motion
plane (one 19,200-byte buffer, not a frame plus a plane). Both translation units are compiled
for the Cortex-M4 with the same flags (the sketch against declaration-only Arduino headers in
arduino_stub/, TFLM left out: the arena is reserved in its place) and their static RAM read
with ``nm``: apart from a few bytes of loop state, all of it must be ``g_app``, the same size
in both.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from fwkit import FIRMWARE, firmware_model, missing_tools

CAMERA = 160 * 120
CARD = firmware_model()[2]  # the model the firmware links by default
# The object table of a board build (the sketch's own -D flags; bench/firmware_size.py uses them too).
LIMITS = re.findall(r"-D(VE_MAX_OBJECTS|VE_MAX_PATH_POINTS)=(\d+)",
                    (FIRMWARE / "boards" / "nano33ble" / "platformio.ini").read_text(encoding="utf-8"))


def _static_ram(obj: Path) -> dict[str, int]:
    """Sizes of the .bss/.data symbols an object defines (demangled names)."""
    out = subprocess.run(["arm-none-eabi-nm", "-S", "-C", str(obj)], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    ram = {}
    for line in out.splitlines():
        parts = line.split(maxsplit=3)
        if len(parts) == 4 and parts[2] in "bBdD":
            ram[parts[3]] = int(parts[1], 16)
    return ram


@pytest.fixture(scope="module")
def objects(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, int]]:
    missing = missing_tools("arm-none-eabi-g++", "arm-none-eabi-nm")
    if missing:
        pytest.skip(f"the Cortex-M4 build needs {', '.join(missing)} (scripts/setup.sh test installs it)")
    tmp = tmp_path_factory.mktemp("board-ram")
    cfg = tmp / "empty.toml"
    cfg.write_text("", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "visionedge", "firmware", "config", str(cfg), "--frame", "160x120",
                           "-o", str(tmp / "gate_config.h")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    flags = ["arm-none-eabi-g++", "-std=gnu++17", "-Os", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard",
             "-mfpu=fpv4-sp-d16", "-fno-exceptions", "-fno-rtti", "-fno-threadsafe-statics",
             "-DVE_MAX_PLANE_W=160", "-DVE_MAX_PLANE_H=120", f"-DVE_ARENA_BYTES={CARD['tflm']['arena_bytes']}",
             *(f"-D{k}={v}" for k, v in LIMITS),
             f"-I{FIRMWARE / 'core' / 'include'}", f"-I{FIRMWARE / 'boards' / 'common'}", f"-I{tmp}",
             f"-I{Path(__file__).parent / 'arduino_stub'}", "-c"]
    found = {}
    for name, src in (("nano", FIRMWARE / "boards" / "nano33ble" / "src" / "main.cpp"),
                      ("size_image", FIRMWARE / "boards" / "mps2_an386" / "size_image.cpp"),
                      ("board_app", FIRMWARE / "boards" / "common" / "board_app.cpp")):
        obj = tmp / f"{name}.o"
        proc = subprocess.run([*flags, str(src), "-o", str(obj)], capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        found[name] = _static_ram(obj)
    return found


def test_the_sketch_keeps_every_buffer_in_the_board_app(objects: dict[str, dict[str, int]]) -> None:
    nano = dict(objects["nano"])
    app = nano.pop("(anonymous namespace)::g_app")
    assert sum(nano.values()) <= 64, f"the sketch allocates RAM outside ve::BoardApp: {nano}"
    # One camera buffer (= the motion plane), the arena and the gate's 4 planes, the object
    # table (about 650 B per object: track and event state; plus 4 KB for the frame's region
    # list and the object JSON line), not more.
    arena = int(CARD["tflm"]["arena_bytes"])
    objects = int(dict(LIMITS)["VE_MAX_OBJECTS"])
    assert arena + 5 * CAMERA <= app <= arena + 5 * CAMERA + 12 * 1024 + 800 * objects, app


def test_the_board_build_has_an_object_table() -> None:
    assert {k for k, _ in LIMITS} == {"VE_MAX_OBJECTS", "VE_MAX_PATH_POINTS"}, LIMITS


def test_the_size_image_measures_the_same_board_state(objects: dict[str, dict[str, int]]) -> None:
    assert objects["nano"]["(anonymous namespace)::g_app"] == objects["size_image"]["(anonymous namespace)::g_app"]
    assert sum(objects["board_app"].values()) <= 16, objects["board_app"]
