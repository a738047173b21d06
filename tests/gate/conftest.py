"""Fixtures for the gate tests: generated, decoded clips (session-scoped, written to tmp)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

# --import-mode=importlib does not put test folders on sys.path; the helpers module has a
# name no other test folder uses.
sys.path.insert(0, str(Path(__file__).parent))

from gatehelp import Clip, Plane

from visionedge.config import GateConfig
from visionedge.gate import to_motion_plane
from visionedge.synth import SceneSpec, default_scene, small_scene, write_clip


def _decode(path: Path, width: int) -> list[Plane]:
    cap = cv2.VideoCapture(str(path))
    assert cap.isOpened(), f"OpenCV cannot open {path}"
    planes: list[Plane] = []
    try:
        while True:
            ok, img = cap.read()
            if not ok:
                break
            planes.append(to_motion_plane(np.asarray(img, dtype=np.uint8), width))
    finally:
        cap.release()
    return planes


@pytest.fixture(scope="session")
def make_clip(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str, SceneSpec], Clip]:
    """Write a scene with visionedge.synth, decode it, cache per name for the session."""
    cache: dict[str, Clip] = {}

    def make(name: str, spec: SceneSpec) -> Clip:
        if name not in cache:
            path = tmp_path_factory.mktemp("clips") / f"{name}.avi"
            truth = write_clip(spec, path)
            cache[name] = Clip(path, truth, _decode(path, GateConfig().width))
        return cache[name]

    return make


@pytest.fixture(scope="session")
def default_clip(make_clip: Callable[[str, SceneSpec], Clip]) -> Clip:
    """The ~30 s default scene at 640x360 (three passages, light switch, cover)."""
    return make_clip("default", default_scene(seed=0))


@pytest.fixture(scope="session")
def small_clips(make_clip: Callable[[str, SceneSpec], Clip]) -> dict[str, Clip]:
    """One small scene per object class (one passage and a light switch each)."""
    return {
        cls: make_clip(f"small_{cls}", small_scene(seed=1, cls=cls))
        for cls in ("person", "vehicle", "animal")
    }
