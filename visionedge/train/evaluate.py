"""Evaluate TFLite models on the test split with a real TFLite interpreter.

For each model: top-1 accuracy, the per-class confusion matrix, top-1 agreement with a
reference model (the fp32 TFLite model), file size raw and gzip-compressed, and latency on
this CPU (1 thread, median of N invokes after a warm-up). Inputs are pixels / 255 quantized
with each model's own input scale and zero point, exactly as the daemon feeds them.
"""

from __future__ import annotations

import gzip
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from visionedge.errors import BackendError, ModelError
from visionedge.train.flatbuffer import parse_tflite

__all__ = ["BACKENDS", "ModelMetrics", "TfliteRunner", "evaluate_models", "gzip_size",
           "installed_backends", "read_model"]

BACKENDS = ("ai_edge_litert", "tflite_runtime", "tensorflow")


def installed_backends() -> list[str]:
    """The TFLite runtimes importable here, in preference order."""
    import importlib.util

    names = {"ai_edge_litert": "ai_edge_litert", "tflite_runtime": "tflite_runtime",
             "tensorflow": "tensorflow"}
    return [b for b in BACKENDS if importlib.util.find_spec(names[b]) is not None]


def _interpreter_class(backend: str) -> Any:
    if backend == "auto":
        for b in installed_backends():
            return _interpreter_class(b)
        raise BackendError("no TFLite runtime installed; pip install ai-edge-litert")
    try:
        if backend == "ai_edge_litert":
            from ai_edge_litert.interpreter import Interpreter

            return Interpreter
        if backend == "tflite_runtime":
            from tflite_runtime.interpreter import Interpreter

            return Interpreter
        if backend == "tensorflow":
            from visionedge.train import load_tf

            tf, _ = load_tf()
            return tf.lite.Interpreter
    except ImportError:
        pass
    raise BackendError(f"TFLite backend {backend!r} is not installed; use one of "
                       f"{', '.join(installed_backends()) or 'none (pip install ai-edge-litert)'}")


def read_model(path: Path) -> bytes:
    """Read a .tflite file and check it is one (ModelError otherwise)."""
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise ModelError(f"{path}: model file not found; check the path") from None
    except OSError as exc:
        raise ModelError(f"{path}: cannot read model ({exc.strerror})") from exc
    parse_tflite(content, str(path))
    return content


class TfliteRunner:
    """One model in one interpreter: uint8 pixels in, dequantized scores out."""

    def __init__(self, content: bytes, *, backend: str = "auto", num_threads: int = 1,
                 what: str = "model", xnnpack: bool = True) -> None:
        cls = _interpreter_class(backend)
        kwargs: dict[str, Any] = {}
        if not xnnpack:
            # The built-in kernels only (what the daemon runs with classifier.xnnpack off).
            module = __import__(cls.__module__, fromlist=["OpResolverType"])
            kwargs["experimental_op_resolver_type"] = (
                module.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        try:
            self.interpreter = cls(model_content=content, num_threads=num_threads, **kwargs)
            self.interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{what}: the TFLite interpreter rejected the model ({exc}); "
                             "re-export it with the TFLite converter") from exc
        self.input = self.interpreter.get_input_details()[0]
        self.output = self.interpreter.get_output_details()[0]

    def _quantize(self, pixels: npt.NDArray[np.uint8]) -> npt.NDArray[Any]:
        real = pixels.astype(np.float32) / 255.0
        dtype = self.input["dtype"]
        if dtype == np.float32:
            return real[None]
        scale, zp = self.input["quantization"]
        info = np.iinfo(dtype)
        q = np.round(real / scale) + zp
        out: npt.NDArray[Any] = np.clip(q, info.min, info.max).astype(dtype)[None]
        return out

    def scores(self, pixels: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """Dequantized output for one H x W x C uint8 image."""
        self.interpreter.set_tensor(self.input["index"], self._quantize(pixels))
        self.interpreter.invoke()
        raw = np.asarray(self.interpreter.get_tensor(self.output["index"])[0])
        if self.output["dtype"] == np.float32:
            return raw.astype(np.float32)
        scale, zp = self.output["quantization"]
        out: npt.NDArray[np.float32] = ((raw.astype(np.float32) - zp) * scale).astype(np.float32)
        return out

    def raw(self, pixels: npt.NDArray[np.uint8]) -> npt.NDArray[Any]:
        """The output tensor as stored (int8 for int8 models), for backend comparisons."""
        self.interpreter.set_tensor(self.input["index"], self._quantize(pixels))
        self.interpreter.invoke()
        out: npt.NDArray[Any] = self.interpreter.get_tensor(self.output["index"])[0].copy()
        return out

    def predict(self, x: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
        """Scores for N images (N x classes)."""
        if not len(x):
            return np.zeros((0, 0), np.float32)
        out: npt.NDArray[np.float32] = np.stack([self.scores(img) for img in x])
        return out

    def latency_ms(self, pixels: npt.NDArray[np.uint8], runs: int = 50) -> float:
        """Median wall time of one invoke (input already set), after 5 warm-up runs."""
        self.interpreter.set_tensor(self.input["index"], self._quantize(pixels))
        for _ in range(5):
            self.interpreter.invoke()
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            self.interpreter.invoke()
            times.append(time.perf_counter() - t0)
        return statistics.median(times) * 1000.0


def gzip_size(content: bytes) -> int:
    """Size after gzip -9 (no timestamp, so reproducible)."""
    return len(gzip.compress(content, compresslevel=9, mtime=0))


@dataclass
class ModelMetrics:
    """What ``evaluate`` measured for one model."""

    name: str
    accuracy: float
    confusion: list[list[int]]
    agreement: float
    size_bytes: int
    gzip_bytes: int
    latency_ms: float
    input_dtype: str
    per_class_accuracy: dict[str, float] = field(default_factory=dict)
    extra: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


def evaluate_models(
    models: dict[str, bytes],
    x: npt.NDArray[np.uint8],
    y: npt.NDArray[np.int64],
    labels: Sequence[str],
    *,
    reference: str | None = None,
    latency_runs: int = 50,
    backend: str = "auto",
    extra_sets: dict[str, tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]] | None = None,
) -> list[ModelMetrics]:
    """Evaluate each model on (x, y); agreement is measured against ``reference``."""
    preds: dict[str, npt.NDArray[np.int64]] = {}
    runners = {name: TfliteRunner(c, backend=backend, what=name) for name, c in models.items()}
    for name, r in runners.items():
        preds[name] = np.argmax(r.predict(x), axis=1) if len(x) else np.zeros(0, np.int64)
    ref = reference if reference in preds else next(iter(preds))
    out: list[ModelMetrics] = []
    k = len(labels)
    for name, r in runners.items():
        p = preds[name]
        conf = np.zeros((k, k), np.int64)
        for t, q in zip(y, p, strict=True):
            conf[int(t), int(q)] += 1
        per_class = {
            labels[i]: round(float(conf[i, i] / conf[i].sum()), 4) if conf[i].sum() else 0.0
            for i in range(k)
        }
        extra: dict[str, float] = {}
        for set_name, (xs, ys) in (extra_sets or {}).items():
            if len(xs):
                extra[f"{set_name}_accuracy"] = round(
                    float(np.mean(np.argmax(r.predict(xs), axis=1) == ys)), 4)
        out.append(ModelMetrics(
            name=name,
            accuracy=round(float(np.mean(p == y)), 4) if len(y) else 0.0,
            confusion=conf.tolist(),
            agreement=round(float(np.mean(p == preds[ref])), 4) if len(y) else 0.0,
            size_bytes=len(models[name]),
            gzip_bytes=gzip_size(models[name]),
            latency_ms=round(r.latency_ms(x[0], latency_runs), 4) if len(x) else 0.0,
            input_dtype=str(np.dtype(r.input["dtype"])),
            per_class_accuracy=per_class,
            extra=extra,
        ))
    return out
