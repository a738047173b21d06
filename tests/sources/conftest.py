"""Fixtures for the source tests: small generated clips and the camera fakes in tests/fakes."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from visionedge.synth import GroundTruth, small_scene, write_clip

FAKES = Path(__file__).resolve().parents[1] / "fakes"


@pytest.fixture(scope="session")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GroundTruth]:
    """An ~8 s 160x96 generated clip (80 frames) and its ground truth."""
    path = tmp_path_factory.mktemp("clips") / "small.avi"
    truth = write_clip(small_scene(seed=3, width=160, height=96), path)
    return path, truth


@pytest.fixture
def fake_picamera2(monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The fake picamera2 package, importable as ``picamera2`` for this test only."""
    monkeypatch.syspath_prepend(str(FAKES))
    monkeypatch.delitem(sys.modules, "picamera2", raising=False)
    mod = importlib.import_module("picamera2")
    assert Path(mod.__file__ or "").resolve().is_relative_to(FAKES), "a real picamera2 shadows the fake"
    monkeypatch.setitem(sys.modules, "picamera2", mod)
    mod.control.reset()
    yield mod
    mod.control.reset()


@pytest.fixture
def fake_capture(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The scripted fake of cv2.VideoCapture (tests/fakes/fake_capture.py)."""
    monkeypatch.syspath_prepend(str(FAKES))
    return importlib.import_module("fake_capture")
