"""Tiny TFLite models with known behaviour, built with TensorFlow for the classify tests.

``colour``: RGB input, blur → global average → dense → softmax; its answer is the dominant
colour channel in RGB order (labels red, green, blue), so a test can tell whether pixels
arrive in the right channel order, range and quantization. ``gray``: one channel, labels
dark/bright by mean brightness. ``logits``: the colour model without the softmax.
The weights are set by hand (no training), so the models are deterministic and build in
seconds.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

COLOUR_LABELS = ("red", "green", "blue")
GRAY_LABELS = ("dark", "bright")
COLOUR_HW = (24, 32)  # H, W: a 4:3 landscape input, so crop aspect matters
GRAY_HW = (16, 16)


def _colour_keras(lo: float, hi: float, softmax: bool) -> Any:
    import tensorflow as tf

    h, w = COLOUR_HW
    inp = tf.keras.Input((h, w, 3), batch_size=1)
    blur = tf.keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False)
    x = blur(inp)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    dense = tf.keras.layers.Dense(3)
    x = dense(x)
    if softmax:
        x = tf.keras.layers.Softmax()(x)
    model = tf.keras.Model(inp, x)
    blur.set_weights([np.full((3, 3, 3, 1), 1 / 9, np.float32)])
    # Map the channel mean from [lo, hi] to [0, 1], then a steep identity: the dominant
    # channel wins clearly.
    k = 10.0 / (hi - lo)
    dense.set_weights([np.eye(3, dtype=np.float32) * k, np.full(3, -k * lo, np.float32)])
    return model


def _gray_keras() -> Any:
    import tensorflow as tf

    h, w = GRAY_HW
    inp = tf.keras.Input((h, w, 1), batch_size=1)
    x = tf.keras.layers.Conv2D(2, 3, padding="same", use_bias=False)(inp)
    x = tf.keras.layers.GlobalAveragePooling2D()(x)
    dense = tf.keras.layers.Dense(2)
    x = dense(x)
    x = tf.keras.layers.Softmax()(x)
    model = tf.keras.Model(inp, x)
    conv = model.layers[1]
    kern = np.zeros((3, 3, 1, 2), np.float32)
    kern[1, 1, 0, :] = 1.0
    conv.set_weights([kern])
    dense.set_weights(
        [np.array([[0.0, 0.0], [-12.0, 12.0]], np.float32), np.array([6.0, -6.0], np.float32)]
    )
    return model


def _convert(model: Any, kind: str, lo: float, hi: float, seed: int) -> bytes:
    import tensorflow as tf

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    if kind != "float32":
        shape = model.input_shape[1:]
        rng = np.random.default_rng(seed)

        def rep() -> Iterator[list[np.ndarray]]:
            for i in range(24):
                # Flat colours with a little noise: the activations see their whole range.
                level = rng.uniform(lo, hi, size=(1, 1, 1, shape[-1]))
                noise = rng.normal(0, 0.05 * (hi - lo), size=(1, *shape))
                img = np.clip(level + noise, lo, hi).astype(np.float32)
                # Include the exact ends so the input quantization spans the whole range.
                img.flat[0] = lo if i % 2 else hi
                img.flat[1] = hi if i % 2 else lo
                yield [img]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = rep
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        io = tf.int8 if kind == "int8" else tf.uint8
        conv.inference_input_type = io
        conv.inference_output_type = io
    return bytes(conv.convert())


def build_models(out: Path) -> dict[str, Path]:
    """Write every tiny model (and its labels) under ``out``; return name → model path."""
    out.mkdir(parents=True, exist_ok=True)
    specs: dict[str, Callable[[], tuple[Any, str, float, float, tuple[str, ...]]]] = {
        "colour_int8": lambda: (_colour_keras(0, 1, True), "int8", 0.0, 1.0, COLOUR_LABELS),
        "colour_uint8": lambda: (_colour_keras(0, 1, True), "uint8", 0.0, 1.0, COLOUR_LABELS),
        "colour_float32": lambda: (_colour_keras(0, 1, True), "float32", 0.0, 1.0, COLOUR_LABELS),
        # Trained (calibrated) on [-1, 1], like ImageNet MobileNets.
        "colour_pm1_uint8": lambda: (_colour_keras(-1, 1, True), "uint8", -1.0, 1.0, COLOUR_LABELS),
        "colour_logits_int8": lambda: (_colour_keras(0, 1, False), "int8", 0.0, 1.0, COLOUR_LABELS),
        "gray_int8": lambda: (_gray_keras(), "int8", 0.0, 1.0, GRAY_LABELS),
    }
    paths: dict[str, Path] = {}
    for i, (name, make) in enumerate(specs.items()):
        model, kind, lo, hi, labels = make()
        path = out / f"{name}.tflite"
        path.write_bytes(_convert(model, kind, lo, hi, seed=i))
        (out / f"{name}_labels.txt").write_text("\n".join(labels) + "\n")
        paths[name] = path
    return paths


if __name__ == "__main__":
    import sys

    for n, p in build_models(Path(sys.argv[1])).items():
        print(n, p, p.stat().st_size)
