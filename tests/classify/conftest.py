"""Fixtures: tiny TFLite models built once per session, and the installed runtimes."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import tinymodels

from visionedge.classify import installed_backends
from visionedge.config import ClassifierConfig

BACKENDS = installed_backends()


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name → .tflite path (labels beside it as <name>_labels.txt); see tinymodels.py."""
    pytest.importorskip("tensorflow", reason="building the test models needs the train extra")
    out = tmp_path_factory.mktemp("models")
    return {**tinymodels.build_models(out), **tinymodels.build_bad_models(out / "bad")}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each installed TFLite runtime in turn."""
    name: str = request.param
    return name


@pytest.fixture
def make_cfg(models: dict[str, Path]) -> Callable[..., ClassifierConfig]:
    """ClassifierConfig for a test model: no thresholds, no ignore list unless given."""

    def make(name: str, **kw: object) -> ClassifierConfig:
        base: dict[str, object] = {
            "model": str(models[name]),
            "threshold": 0.0,
            "ignore": [],
        }
        base.update(kw)
        return ClassifierConfig.model_validate(base)

    return make
