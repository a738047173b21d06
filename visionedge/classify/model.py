"""Loading a .tflite file into an interpreter and checking its input/output spec at load time.

Every way a model can be unusable is found here, before the daemon reports ready: the file
missing or unreadable, not TFLite, truncated, an input that is not one [1, H, W, 1|3] image
of int8/uint8/float32, quantization parameters missing, an output that is not one score
vector. Each raises :class:`~visionedge.errors.ModelError` with the file and the fix.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visionedge.classify import flatbuf
from visionedge.classify.backends import Interpreter, InterpreterFactory
from visionedge.classify.probe import crash_probe
from visionedge.classify.repair import repair_quantized_dimension
from visionedge.errors import ModelError

__all__ = [
    "MAX_MODEL_BYTES",
    "LoadedModel",
    "TensorSpec",
    "check_model_bytes",
    "open_model",
    "read_model_file",
]

log = logging.getLogger(__name__)

MAX_MODEL_BYTES = 256 * 1024 * 1024
"""Larger files are refused: no edge classifier is that big, and the bytes stay in memory."""

_DTYPES = {"int8": np.int8, "uint8": np.uint8, "float32": np.float32}

VERIFYING_BACKENDS = frozenset({"ai_edge_litert", "tensorflow"})
"""Runtimes whose ``model_content=`` runs the FlatBuffer verifier. tflite-runtime 2.14 does
not: corrupt bytes make it read wild pointers and kill the process (SIGSEGV/SIGBUS), so for
it the model is first built and run once in a forked child (:func:`crash_probe`)."""

@dataclass(frozen=True, slots=True)
class TensorSpec:
    """One input or output tensor: index, shape, dtype name and (scale, zero point)."""

    index: int
    shape: tuple[int, ...]
    dtype: str
    scale: float
    zero_point: int

    @property
    def quantized(self) -> bool:
        """Whether values are int8/uint8 with an affine scale."""
        return self.dtype in ("int8", "uint8")

    @property
    def qrange(self) -> tuple[int, int]:
        """The integer range of the dtype (quantized tensors only)."""
        return (-128, 127) if self.dtype == "int8" else (0, 255)


@dataclass(slots=True)
class LoadedModel:
    """A verified interpreter with tensors allocated, and the facts checked about it."""

    path: Path
    content: bytes
    sha256: str
    backend: str
    interpreter: Interpreter
    input: TensorSpec
    output: TensorSpec
    second: TensorSpec | None = None
    """An embedding model's second output: the backbone's own scores (:mod:`.embedding`)."""
    detections: tuple[TensorSpec, ...] = ()
    """A detector's four outputs: boxes, classes, scores, count (:mod:`.detector`)."""

    @property
    def height(self) -> int:
        return self.input.shape[1]

    @property
    def width(self) -> int:
        return self.input.shape[2]

    @property
    def channels(self) -> int:
        return self.input.shape[3]

    @property
    def num_outputs(self) -> int:
        return self.output.shape[-1]


def read_model_file(path: str | Path) -> bytes:
    """Read a model file whole, with a size limit and one-line errors."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_MODEL_BYTES:
            raise ModelError(
                f"{p}: model file is {size} bytes, over the {MAX_MODEL_BYTES}-byte limit; "
                "use a model made for edge devices"
            )
        content = p.read_bytes()
    except FileNotFoundError:
        raise ModelError(
            f"{p}: model file not found; set classifier.model (or --model) to a .tflite file"
        ) from None
    except IsADirectoryError:
        raise ModelError(
            f"{p}: is a directory; classifier.model must name a .tflite file"
        ) from None
    except OSError as exc:
        raise ModelError(
            f"{p}: cannot read model file ({exc.strerror}); check permissions"
        ) from exc
    return content


def check_model_bytes(content: bytes, origin: str) -> None:
    """Reject bytes that are not a TFLite FlatBuffer before any interpreter parses them."""
    if not content:
        raise ModelError(f"{origin}: model file is empty; export the model again")
    if len(content) < 8:
        raise ModelError(
            f"{origin}: not a TFLite model (only {len(content)} bytes); point at a .tflite file"
        )
    if content[4:8] != b"TFL3":
        hint = ""
        if content[:4] == b"PK\x03\x04":
            hint = " (it is a zip archive: unzip it and point at the .tflite inside)"
        elif content[:8] == b"\x89HDF\r\n\x1a\n":
            hint = " (it is a Keras .h5 file: convert it with TFLiteConverter)"
        elif content.lstrip()[:1] in (b"{", b"<") or b"\n" in content[:64]:
            hint = " (it looks like text, not a model)"
        raise ModelError(
            f"{origin}: not a TFLite model (no TFL3 identifier){hint}; point at a .tflite file"
        )
    try:
        flatbuf.check_tflite_structure(content)
    except flatbuf.Malformed as exc:
        raise ModelError(
            f"{origin}: TFLite file is truncated or corrupt ({exc}); copy or export it again"
        ) from None


def _spec(detail: dict[str, Any], what: str, origin: str) -> TensorSpec:
    dtype = np.dtype(detail["dtype"]).name
    scales = np.asarray(detail.get("quantization_parameters", {}).get("scales", []))
    zps = np.asarray(detail.get("quantization_parameters", {}).get("zero_points", []))
    scale, zp = detail.get("quantization", (0.0, 0))
    if scales.size > 1 or zps.size > 1:
        raise ModelError(
            f"{origin}: the {what} is quantized per channel ({scales.size} scales); "
            "visionedge needs one scale and zero point per tensor (per-tensor quantization)"
        )
    return TensorSpec(
        index=int(detail["index"]),
        shape=tuple(int(d) for d in detail["shape"]),
        dtype=dtype,
        scale=float(scale),
        zero_point=int(zp),
    )


def _check_quant(spec: TensorSpec, what: str, origin: str) -> None:
    if spec.dtype not in _DTYPES:
        raise ModelError(
            f"{origin}: the {what} is {spec.dtype}; visionedge supports int8, uint8 and float32 "
            "(convert with inference_input_type/inference_output_type = tf.int8)"
        )
    if spec.quantized:
        lo, hi = spec.qrange
        if not (np.isfinite(spec.scale) and spec.scale > 0):
            raise ModelError(
                f"{origin}: the {spec.dtype} {what} has no quantization scale (scale "
                f"{spec.scale}); re-export with full-integer post-training quantization"
            )
        if not lo <= spec.zero_point <= hi:
            raise ModelError(
                f"{origin}: the {what} zero point {spec.zero_point} is outside {spec.dtype}; "
                "the model is corrupt, export it again"
            )


OUTPUT_KIND_MISMATCH = "is not the output of"
"""In the message of an output that does not fit the expected model kind (cards check it)."""


def _inspect_segmenter_output(spec: TensorSpec, origin: str) -> None:
    if len(spec.shape) != 3 or spec.shape[0] != 1 or spec.dtype not in ("int32", "int64", "uint8"):
        raise ModelError(
            f"{origin}: output {spec.dtype} {list(spec.shape)} {OUTPUT_KIND_MISMATCH} a "
            "segmenter (one class-id map [1, height, width] of integers); use a model whose "
            "output is the per-pixel argmax"
        )


def _check_input(inp: TensorSpec, detail: dict[str, Any], origin: str) -> None:
    signature = tuple(int(d) for d in detail.get("shape_signature", inp.shape))
    if len(inp.shape) != 4 or inp.shape[0] != 1:
        raise ModelError(
            f"{origin}: input shape {list(inp.shape)} is not one image [1, height, width, "
            "channels]; export the classifier with batch size 1 and NHWC layout"
        )
    if any(d == -1 for d in signature[1:3]) or min(inp.shape[1:3]) < 1:
        raise ModelError(
            f"{origin}: input size {list(signature)} is not fixed; export the model with a "
            "fixed height and width"
        )
    if inp.shape[3] not in (1, 3):
        raise ModelError(
            f"{origin}: input has {inp.shape[3]} channels; visionedge feeds gray (1) or RGB (3)"
        )
    _check_quant(inp, "input", origin)


def detection_outputs(interp: Interpreter, origin: str) -> tuple[TensorSpec, ...]:
    """The four float outputs of ``TFLite_Detection_PostProcess``: boxes [1, N, 4], classes
    [1, N], scores [1, N], count [1], in that order (ModelError otherwise)."""
    outputs = interp.get_output_details()
    specs = tuple(_spec(d, "output", origin) for d in outputs)
    shapes = [s.shape for s in specs]
    ok = (
        len(specs) == 4
        and all(s.dtype == "float32" for s in specs)
        and len(shapes[0]) == 3 and shapes[0][0] == 1 and shapes[0][2] == 4
        and shapes[1] == shapes[2] == (1, shapes[0][1])
        and int(np.prod(shapes[3])) == 1
    )
    if not ok:
        raise ModelError(
            f"{origin}: outputs {[list(s) for s in shapes]} are {OUTPUT_KIND_MISMATCH} a "
            "detector (TFLite_Detection_PostProcess: float boxes [1, N, 4], classes [1, N], "
            "scores [1, N], count [1]); export the SSD with its post-processing op"
        )
    return specs


def _inspect(
    interp: Interpreter, origin: str, kind: str = "classifier"
) -> tuple[TensorSpec, TensorSpec]:
    inputs, outputs = interp.get_input_details(), interp.get_output_details()
    if len(inputs) != 1:
        raise ModelError(
            f"{origin}: the model has {len(inputs)} inputs; an image classifier has exactly one"
        )
    if kind == "detector":
        inp = _spec(inputs[0], "input", origin)
        specs = detection_outputs(interp, origin)
        _check_input(inp, inputs[0], origin)
        return inp, specs[2]
    if len(outputs) != 1 and not (kind == "embedding" and len(outputs) == 2):
        raise ModelError(
            f"{origin}: the model has {len(outputs)} outputs; an image classifier has exactly "
            "one score vector (a detector needs a card saying kind \"detector\")"
        )
    inp = _spec(inputs[0], "input", origin)
    out = _spec(outputs[0], "output", origin)
    _check_input(inp, inputs[0], origin)
    if kind == "segmenter":
        _inspect_segmenter_output(out, origin)
        return inp, out
    if kind == "embedding":
        # A backbone cut at its pooled features: [1, 1, 1, N] or [1, N], one vector.
        if int(np.prod(out.shape)) != out.shape[-1] or out.shape[-1] < 1:
            raise ModelError(
                f"{origin}: the embedding tensor has shape {list(out.shape)}, not one feature "
                "vector; cut the backbone at its pooling layer"
            )
        _check_quant(out, "embedding", origin)
        return inp, out
    if (
        not (len(out.shape) == 1 or (len(out.shape) == 2 and out.shape[0] == 1))
        or out.shape[-1] < 1
    ):
        raise ModelError(
            f"{origin}: output shape {list(out.shape)} {OUTPUT_KIND_MISMATCH} a classifier "
            "(one score vector [1, classes] or [classes]); visionedge runs image classifiers, "
            "and segmenters with a card saying so"
        )
    _check_quant(out, "output", origin)
    return inp, out


def open_model(
    content: bytes,
    origin: str | Path,
    *,
    backend: str,
    factory: InterpreterFactory,
    num_threads: int,
    kind: str = "classifier",
    output_tensor: str = "",
) -> LoadedModel:
    """Check ``content``, build an interpreter from it and validate its I/O spec.

    ``kind`` is ``"classifier"`` (one score vector), ``"segmenter"`` (one class-id map),
    ``"detector"`` (the four outputs of ``TFLite_Detection_PostProcess``) or
    ``"embedding"`` (a backbone whose output is set to ``output_tensor``, in memory:
    :func:`~visionedge.classify.embedding.cut_at`).
    Legacy per-channel bias tensors with an out-of-range ``quantized_dimension`` are
    repaired in memory first (:mod:`.repair`); ``sha256`` stays that of the file.
    """
    where = str(origin)
    check_model_bytes(content, where)
    original = content
    content, repaired = repair_quantized_dimension(content)
    if repaired:
        log.info("%s: set quantized_dimension to 0 on %d rank-1 tensors (legacy converter)",
                 where, repaired)
    if output_tensor:
        from visionedge.classify.embedding import cut_at

        content = cut_at(content, output_tensor, where)
    if backend not in VERIFYING_BACKENDS:
        crash = crash_probe(content, factory, cap_memory=True)
        if crash is None:
            crash = crash_probe(content, factory, cap_memory=False)
        if crash is not None:
            raise ModelError(
                f"{where}: TFLite file is corrupt or unsupported: {crash} with {backend}; copy "
                "or export it again (ai-edge-litert verifies files before loading them)"
            )
    try:
        interp = factory(model_content=content, num_threads=num_threads)
        interp.allocate_tensors()
    except (ValueError, RuntimeError, TypeError, IndexError, OverflowError, MemoryError) as exc:
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ModelError(
            f"{where}: the {backend} runtime cannot load this TFLite model ({reason}); check "
            "that the file is complete and was made for TFLite builtin operators"
        ) from None
    try:
        inp, out = _inspect(interp, where, kind)
    except (ValueError, RuntimeError, TypeError, IndexError, OverflowError) as exc:
        # Corrupt tensor names or types surface here as UnicodeDecodeError/ValueError.
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ModelError(
            f"{where}: TFLite file is corrupt (its tensors cannot be read: {reason}); copy or "
            "export it again"
        ) from None
    try:
        # One inference on zeros: a model whose kernels fail (bad tensor sizes, an op the
        # runtime lacks) fails now, at load time, not on the first motion.
        interp.set_tensor(inp.index, np.zeros(inp.shape, _DTYPES[inp.dtype]))
        interp.invoke()
        interp.get_tensor(out.index)
    except (ValueError, RuntimeError, TypeError, IndexError, OverflowError, MemoryError) as exc:
        reason = " ".join(str(exc).split())[:300] or type(exc).__name__
        raise ModelError(
            f"{where}: the model loads but fails to run on the {backend} runtime ({reason}); "
            "export it again with TFLite builtin operators"
        ) from None
    detections = detection_outputs(interp, where) if kind == "detector" else ()
    second = None
    if kind == "embedding" and len(interp.get_output_details()) == 2:
        second = _spec(interp.get_output_details()[1], "output", where)
        _check_quant(second, "output", where)
    return LoadedModel(
        path=Path(origin),
        content=original,
        sha256=hashlib.sha256(original).hexdigest(),
        backend=backend,
        interpreter=interp,
        input=inp,
        output=out,
        second=second,
        detections=detections,
    )
