"""Shared helpers of tests/models (imported by conftest.py and the tests)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from visionedge.cli import main

_RUN_BACKEND = """
import sys, numpy as np
from visionedge.train.evaluate import TfliteRunner
runner = TfliteRunner(open(sys.argv[2], "rb").read(), backend=sys.argv[1])
x = np.load(sys.argv[3])
np.save(sys.argv[4], np.stack([runner.raw(img) for img in x]))
"""


@dataclass(frozen=True)
class TinyRun:
    """Paths of the session's tiny pipeline run."""

    data: Path
    work: Path
    export: Path


def run_cli(*argv: str) -> int:
    """Run ``visionedge`` in-process; returns the exit status."""
    return main(list(argv))


def raw_outputs(backend: str, model: Path, x: npt.NDArray[np.uint8]) -> npt.NDArray[np.generic]:
    """The model's raw output tensors for images ``x`` on ``backend``, in a fresh process.

    The test process has TensorFlow loaded, and two TFLite runtimes in one process can clash
    (tflite-runtime then fails with ``vector::reserve``), so each runtime gets its own.
    """
    with tempfile.TemporaryDirectory() as tmp:
        xin, out = Path(tmp) / "x.npy", Path(tmp) / "out.npy"
        np.save(xin, x)
        subprocess.run([sys.executable, "-c", _RUN_BACKEND, backend, str(model), str(xin),
                        str(out)], check=True, timeout=120)
        result: npt.NDArray[np.generic] = np.load(out)
        return result
