"""Quantize to int8: full-integer post-training quantization, QAT, and pruning-preserving QAT.

Every int8 model here is *full integer*: int8 weights (per-channel for convolutions), int8
activations, and int8 input and output tensors, so the firmware needs no QUANTIZE/DEQUANTIZE
and the classifier feeds pixels with the model's own scale and zero point. The activation
ranges of PTQ come from representative images preprocessed exactly like training input: the
work directory's own training crops (:func:`training_crops`, ``--representative train``), an
``.npz`` the user names, or by default ``calibration/representative.npz`` (generated shapes,
made by ``calibration/make_representative.py``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from visionedge.errors import TrainingError
from visionedge.train import load_tf
from visionedge.train.dataset import Colour, Split, preprocess, to_float

__all__ = [
    "DEFAULT_REPRESENTATIVE",
    "MAX_CALIBRATION",
    "load_representative",
    "ptq",
    "qat",
    "to_tflite_fp32",
    "to_tflite_int8",
    "training_crops",
]

DEFAULT_REPRESENTATIVE = Path(__file__).resolve().parents[2] / "calibration" / "representative.npz"
"""The project's representative set (a source checkout; pass ``--representative`` otherwise)."""


def load_representative(path: Path, size: int, colour: Colour) -> npt.NDArray[np.uint8]:
    """Load the representative images (``images``: N x H x W [x C] uint8) as model input pixels."""
    try:
        with np.load(path) as z:
            images = np.asarray(z["images"])
    except FileNotFoundError:
        raise TrainingError(
            f"{path}: representative set not found; pass --representative train (the work "
            "directory's training crops) or FILE.npz, or run `python calibration/make_representative.py`"
        ) from None
    except (ValueError, KeyError, OSError) as exc:
        raise TrainingError(
            f"{path}: not a representative .npz with an 'images' uint8 array ({exc}); "
            "regenerate it with calibration/make_representative.py"
        ) from exc
    if images.dtype != np.uint8 or images.ndim not in (3, 4) or len(images) == 0:
        raise TrainingError(
            f"{path}: 'images' must be a non-empty N x H x W [x C] uint8 array, got "
            f"{images.dtype} {images.shape}; regenerate it with calibration/make_representative.py"
        )
    out = np.stack([preprocess(img if img.ndim == 2 or img.shape[2] != 1 else img[:, :, 0],
                               size, colour) for img in images])
    return out


MAX_CALIBRATION = 500
"""At most this many training crops calibrate (:func:`training_crops`, evenly spaced over the
split's files): activation ranges settle after a few hundred, and conversion time grows with
the count."""


def training_crops(split: Split, size: int, colour: Colour) -> npt.NDArray[np.uint8]:
    """The training split's crops as model input pixels, at most :data:`MAX_CALIBRATION`
    (``model quantize --representative train``); only the crops used are read."""
    files = split.files["train"]
    if not files:
        raise TrainingError("--representative train: the work directory's training split is "
                            "empty; pass --representative FILE.npz")
    if len(files) > MAX_CALIBRATION:
        picks = np.linspace(0, len(files) - 1, MAX_CALIBRATION).round().astype(int)
        split = dataclasses.replace(split, files={**split.files, "train": [files[i] for i in picks]})
    x, _ = split.arrays("train", size, colour)
    return x


def _converter_from(model: Any) -> Any:
    tf, _ = load_tf()
    return tf.lite.TFLiteConverter.from_keras_model(model)


def to_tflite_fp32(model: Any) -> bytes:
    """Convert a tf-keras model to a float32 TFLite flatbuffer (the baseline)."""
    conv = _converter_from(model)
    return bytes(conv.convert())


def to_tflite_int8(
    model: Any, representative: npt.NDArray[np.uint8], *, per_channel: bool = True
) -> bytes:
    """Full-integer conversion (int8 weights, activations, input and output).

    Used for plain PTQ and for QAT/PQAT models (whose fake-quant ranges the converter takes;
    the representative set then only fixes the input tensor's range). ``per_channel=False``
    quantizes each weight tensor with one scale instead of one per output channel: the
    file then carries one scale and zero point per tensor instead of per channel (a float32
    and an int64 each), which is a third of a small model's int8 file; TFLM and CMSIS-NN
    run both forms.
    """
    tf, _ = load_tf()
    conv = _converter_from(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    samples = to_float(representative)

    def rep() -> Iterator[list[npt.NDArray[np.float32]]]:
        # A black and a white image first: the input tensor's observed range is then
        # exactly [0, 1], so its scale is 1/255 and zero point -128 (q = pixel - 128).
        for level in (0.0, 1.0):
            yield [np.full((1, *samples.shape[1:]), level, np.float32)]
        for s in samples:
            yield [s[None]]

    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    if not per_channel:
        # The converter's only switch for this; present since TF 2.5.
        conv._experimental_disable_per_channel = True
    try:
        return bytes(conv.convert())
    except Exception as exc:
        # The converter raises ConverterError/RuntimeError with pages of MLIR; keep one line.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainingError(
            f"int8 conversion failed: {first}; the model must use layers with int8 TFLite "
            "kernels (see docs/models.md)"
        ) from exc


def ptq(model: Any, representative: npt.NDArray[np.uint8], *, per_channel: bool = True) -> bytes:
    """Post-training full-integer quantization of a float model."""
    return to_tflite_int8(model, representative, per_channel=per_channel)


def qat(
    model: Any,
    train: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]],
    val: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]],
    representative: npt.NDArray[np.uint8],
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    preserve_sparsity: bool = False,
    log: Callable[[str], None] = print,
) -> bytes:
    """Quantization-aware fine-tuning, then full-integer conversion.

    ``preserve_sparsity`` (for a pruned, stripped model) uses tfmot's pruning-preserving QAT
    (``Default8BitPrunePreserveQuantizeScheme``), so fine-tuning keeps the zeros pruning made.
    """
    import tensorflow_model_optimization as tfmot

    from visionedge.train.train import fit

    load_tf()
    q = tfmot.quantization.keras
    with q.quantize_scope():
        if preserve_sparsity:
            annotated = q.quantize_annotate_model(model)
            scheme = tfmot.experimental.combine.Default8BitPrunePreserveQuantizeScheme()
            qmodel = q.quantize_apply(annotated, scheme)
        else:
            qmodel = q.quantize_model(model)
    hist = fit(qmodel, train, val, epochs=epochs, batch_size=batch_size,
               learning_rate=learning_rate, seed=seed)
    acc = hist.get("val_accuracy", [float("nan")])[-1]
    log(f"quantize: {'PQAT' if preserve_sparsity else 'QAT'} {epochs} epochs, val accuracy "
        f"{acc:.3f}")
    _pin_input_range(qmodel)
    return to_tflite_int8(qmodel, representative)


def _pin_input_range(qmodel: Any) -> None:
    """Set the input QuantizeLayer's range to exactly [0, 1] (scale 1/255, zero point -128).

    QAT learns the input range from the pixels it saw (e.g. [0, 0.92] when no training pixel
    is brighter than 235), which would make brighter pixels clip; the model's real input
    range is [0, 1] by construction.
    """
    for layer in qmodel.layers:
        if type(layer).__name__ == "QuantizeLayer":
            for w in layer.weights:
                # e.g. "quantize_layer/quantize_layer_min:0"
                name = w.name.split(":")[0]
                if name.endswith("_min"):
                    w.assign(0.0)
                elif name.endswith("_max"):
                    w.assign(1.0)
