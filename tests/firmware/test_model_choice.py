"""Which model the firmware links: ``VE_MODEL`` names an MCU preset (default: the gray MCU
preset); anything else stops CMake with one message that lists the MCU presets."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fwkit import FIRMWARE, firmware_model, missing_tools

from visionedge.classify.presets import MCU_PRESET


def _configure(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if missing_tools("cmake", "g++"):
        pytest.skip("the firmware build needs cmake and g++ (scripts/setup.sh test installs them)")
    # VE_GATE_CONFIG_DIR makes CMake resolve the model (as the size image and TFLM builds do).
    return subprocess.run(["cmake", "-S", str(FIRMWARE), "-B", str(tmp / "b"), f"-DVE_GATE_CONFIG_DIR={tmp}", *args],
                          capture_output=True, text=True, timeout=300)


def test_the_default_is_the_mcu_preset_and_gray() -> None:
    name, tflite, card = firmware_model()
    assert name == MCU_PRESET
    assert card["input"]["shape"] == [1, 96, 96, 1] and card["input"]["colour"] == "gray"
    assert tflite.stat().st_size == card["bytes"] <= 300 * 1024 and card["tflm"]["arena_bytes"] <= 150 * 1024


@pytest.mark.parametrize("model", ["demo", "tiny_pva"])
def test_other_mcu_presets_are_selectable(tmp_path: Path, model: str) -> None:
    proc = _configure(tmp_path, f"-DVE_MODEL={model}")
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.mark.parametrize(("model", "says"), [
    ("nope", "VE_MODEL=nope: no such preset; the MCU presets are: demo, tiny_pva, tiny_pva_gray"),  # sorted
    ("person_detect", "VE_MODEL=person_detect: not an MCU preset (its card has no tflm.arena_bytes)"),
])
def test_a_model_that_is_not_an_mcu_preset_is_refused(tmp_path: Path, model: str, says: str) -> None:
    proc = _configure(tmp_path, f"-DVE_MODEL={model}")
    assert proc.returncode != 0
    assert says in " ".join(proc.stderr.split()), proc.stderr[-2000:]


def test_own_model_needs_both_files(tmp_path: Path) -> None:
    proc = _configure(tmp_path, f"-DVE_MODEL_CARD={tmp_path / 'card.json'}")
    assert proc.returncode != 0
    assert "pass both -DVE_MODEL_TFLITE= and -DVE_MODEL_CARD=" in " ".join(proc.stderr.split())
