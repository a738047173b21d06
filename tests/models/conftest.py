"""One tiny run of the model pipeline per session, shared by the tests of tests/models.

The run goes through the real CLI in-process (``visionedge model synth-data``, ``train``,
``prune``, ``quantize``, ``export``, ``evaluate``) on a handful of generated images per
class, at 32x32 input and width 0.25, one epoch each: seconds, not minutes. The models are
useless as classifiers; the tests check the pipeline's mechanics, formats and errors.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from models_helpers import TinyRun, run_cli


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> TinyRun:
    pytest.importorskip("tensorflow", reason="the model pipeline needs the train extra")
    pytest.importorskip("tensorflow_model_optimization",
                        reason="the model pipeline needs the train extra")
    root = tmp_path_factory.mktemp("tiny")
    data, work, export = root / "data", root / "work", root / "export"
    assert run_cli("model", "synth-data", "--out", str(data), "--per-class", "8",
                   "--size", "32") == 0
    assert run_cli("model", "train", str(data), "--out", str(work), "--size", "32",
                   "--alpha", "0.25", "--epochs", "1", "--batch-size", "8") == 0
    assert run_cli("model", "quantize", str(work), "--method", "ptq") == 0
    assert run_cli("model", "quantize", str(work), "--method", "ptq", "--per-tensor") == 0
    assert run_cli("model", "prune", str(work), "--sparsity", "0.5", "--epochs", "1") == 0
    assert run_cli("model", "quantize", str(work), "--method", "pqat", "--epochs", "1") == 0
    assert run_cli("model", "export", str(work / "int8_ptq.tflite"), "--labels",
                   str(work / "labels.txt"), "--out", str(export), "--name", "tiny") == 0
    return TinyRun(data, work, export)
