"""Fixtures: tiny TFLite models built once per session, and the runtimes to test on.

The models are built by ``tinymodels.py`` in a child process, so this process never imports
TensorFlow: with TensorFlow loaded, tflite-runtime 2.14 in the same process resolves some
symbols to TensorFlow's newer TFLite and fails on valid models ("vector::reserve"). For
the same reason the ``tensorflow`` backend runs these tests in a separate pytest process
(test_tensorflow_backend.py), selected by ``VISIONEDGE_TEST_BACKENDS``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from visionedge.classify import installed_backends
from visionedge.config import ClassifierConfig

HERE = Path(__file__).parent


def backends_in_process() -> list[str]:
    """The runtimes this pytest process tests (see the module docstring)."""
    chosen = os.environ.get("VISIONEDGE_TEST_BACKENDS")
    if chosen:
        return [b for b in chosen.split(",") if b]
    return [b for b in installed_backends() if b != "tensorflow"]


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """name → .tflite path (labels beside it as <name>_labels.txt); see tinymodels.py."""
    given = os.environ.get("VISIONEDGE_TEST_MODELS")
    if given:
        index = json.loads((Path(given) / "models.json").read_text())
        return {k: Path(v) for k, v in index.items()}
    if "tensorflow" not in installed_backends():
        pytest.skip("building the test models needs TensorFlow (pip install -e '.[train]')")
    out = tmp_path_factory.mktemp("models")
    proc = subprocess.run(
        [sys.executable, str(HERE / "tinymodels.py"), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"building the test models failed:\n{proc.stderr[-3000:]}")
    index = json.loads(proc.stdout.strip().splitlines()[-1])
    (out / "models.json").write_text(json.dumps(index))
    return {k: Path(v) for k, v in index.items()}


@pytest.fixture(params=backends_in_process())
def backend(request: pytest.FixtureRequest) -> str:
    """Each runtime under test in turn."""
    name: str = request.param
    return name


@pytest.fixture(scope="session")
def runtimes() -> list[str]:
    """All runtimes of this process, for cross-runtime comparisons (LiteRT always among them)."""
    names = backends_in_process()
    return names if "ai_edge_litert" in names else ["ai_edge_litert", *names]


@pytest.fixture
def make_cfg(models: dict[str, Path]) -> Callable[..., ClassifierConfig]:
    """ClassifierConfig for a test model: no thresholds, no ignore list unless given."""

    def make(name: str, **kw: object) -> ClassifierConfig:
        base: dict[str, object] = {"model": str(models[name]), "threshold": 0.0, "ignore": []}
        base.update(kw)
        return ClassifierConfig.model_validate(base)

    return make
