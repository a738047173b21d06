"""Choosing a runtime: preference order, and a clear error naming the pip package."""

from __future__ import annotations

import importlib
import subprocess
import sys
from typing import Any

import pytest

from visionedge.classify import backends
from visionedge.errors import BackendError


def test_auto_prefers_litert() -> None:
    name, _ = backends.resolve_backend("auto")
    assert name == "ai_edge_litert"


def _hide(monkeypatch: pytest.MonkeyPatch, *hidden: str) -> None:
    real = importlib.import_module

    def fake(name: str, package: Any = None) -> Any:
        if name.split(".")[0] in hidden:
            raise ImportError(f"No module named '{name}'")
        return real(name, package)

    monkeypatch.setattr(backends.importlib, "import_module", fake)


def test_missing_requested_backend_names_the_pip_package(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, "tflite_runtime")
    with pytest.raises(BackendError, match=r"pip install tflite-runtime"):
        backends.resolve_backend("tflite_runtime")


def test_auto_skips_a_broken_runtime(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, "ai_edge_litert")
    name, _ = backends.resolve_backend("auto")
    assert name == "tflite_runtime"


def test_auto_with_no_runtime_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    _hide(monkeypatch, "ai_edge_litert", "tflite_runtime", "tensorflow")
    with pytest.raises(BackendError, match=r"no TFLite runtime is usable.*pip install ai-edge-litert"):
        backends.resolve_backend("auto")


def test_unknown_backend_name() -> None:
    with pytest.raises(BackendError, match="unknown"):
        backends.resolve_backend("onnx")


@pytest.mark.skipif("tflite_runtime" not in backends.installed_backends(), reason="tflite-runtime is not installed (scripts/setup.sh test installs it)")
def test_tflite_runtime_is_refused_by_name_after_tensorflow_was_imported() -> None:
    # Loaded after TensorFlow, tflite-runtime reaches TensorFlow's TFLite symbols and every model
    # then "fails to load"; the backend says why instead (and "auto" moves on to the next one).
    code = (
        "import tensorflow\n"
        "from visionedge.classify import backends\n"
        "from visionedge.errors import BackendError\n"
        "try:\n"
        "    backends.resolve_backend('tflite_runtime')\n"
        "except BackendError as e:\n"
        "    print('refused:', e)\n"
        "print('auto:', backends.resolve_backend('auto')[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180,
                         check=True).stdout
    assert "refused:" in out and "TensorFlow is loaded" in out
    assert "auto: tflite_runtime" not in out
