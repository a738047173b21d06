"""The per-runtime tests again, with TensorFlow's tf.lite as the runtime, in a fresh process.

TensorFlow and tflite-runtime 2.14 cannot share a process (see conftest.py), so the
``tensorflow`` backend gets its own pytest run over the same test files and models.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from visionedge.classify import installed_backends

HERE = Path(__file__).parent
FILES = ["test_models_on_every_backend.py", "test_bad_input.py", "test_fuzz.py"]


def test_every_check_passes_on_tensorflow_lite(models: dict[str, Path]) -> None:
    if os.environ.get("VISIONEDGE_TEST_BACKENDS"):
        pytest.skip("already inside a single-runtime run")
    if "tensorflow" not in installed_backends():
        pytest.skip("TensorFlow is not installed (pip install -e '.[train]')")
    env = {
        **os.environ,
        "VISIONEDGE_TEST_BACKENDS": "tensorflow",
        "VISIONEDGE_TEST_MODELS": str(next(iter(models.values())).parent),
    }
    files = [str(HERE / f) for f in FILES if (HERE / f).exists()]
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", *files],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=HERE.parent.parent,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout
