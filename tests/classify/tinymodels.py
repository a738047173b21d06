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


def _float_tflite(model: Any) -> bytes:
    import tensorflow as tf

    return bytes(tf.lite.TFLiteConverter.from_keras_model(model).convert())


def build_bad_models(out: Path) -> dict[str, Path]:
    """Float models whose input/output spec visionedge must refuse; name → path."""
    import tensorflow as tf

    layers = tf.keras.layers
    out.mkdir(parents=True, exist_ok=True)
    made: dict[str, Any] = {}

    inp = tf.keras.Input((10,), batch_size=1)
    made["vector_input"] = tf.keras.Model(inp, layers.Dense(3, activation="softmax")(inp))

    inp = tf.keras.Input((8, 8, 2), batch_size=1)
    x = layers.GlobalAveragePooling2D()(inp)
    made["two_channels"] = tf.keras.Model(inp, layers.Dense(3, activation="softmax")(x))

    a = tf.keras.Input((8, 8, 3), batch_size=1)
    b = tf.keras.Input((8, 8, 3), batch_size=1)
    x = layers.GlobalAveragePooling2D()(layers.Add()([a, b]))
    made["two_inputs"] = tf.keras.Model([a, b], layers.Dense(3, activation="softmax")(x))

    inp = tf.keras.Input((8, 8, 3), batch_size=1)
    made["map_output"] = tf.keras.Model(inp, layers.Conv2D(3, 1)(inp))

    inp = tf.keras.Input((8, 8, 3), batch_size=1)
    x = layers.GlobalAveragePooling2D()(inp)
    made["two_outputs"] = tf.keras.Model(inp, [layers.Dense(3)(x), layers.Dense(2)(x)])

    inp = tf.keras.Input((None, None, 3), batch_size=1)
    x = layers.GlobalAveragePooling2D()(inp)
    made["dynamic_size"] = tf.keras.Model(inp, layers.Dense(3, activation="softmax")(x))

    paths = {}
    for name, model in made.items():
        path = out / f"{name}.tflite"
        path.write_bytes(_float_tflite(model))
        paths[name] = path
    return paths


def patch_model(content: bytes, edit: Callable[[Any], None]) -> bytes:
    """Apply ``edit`` to the model's object tree (TensorFlow's schema classes) and re-serialise."""
    from tensorflow.lite.tools import flatbuffer_utils as fu

    model = fu.read_model_from_bytearray(bytearray(content))
    edit(model)
    return bytes(fu.convert_object_to_bytearray(model))


def model_metadata(mean: list[float], std: list[float]) -> bytes:
    """A ``ModelMetadata`` FlatBuffer (identifier M001) whose first input normalises by mean/std.

    Built field by field after tensorflow_lite_support/metadata/metadata_schema.fbs:
    ModelMetadata.subgraph_metadata (slot 3) → SubGraphMetadata.input_tensor_metadata
    (slot 2) → TensorMetadata.process_units (slot 4) → ProcessUnit.options (type slot 0 =
    1, NormalizationOptions; value slot 1) → NormalizationOptions.mean/std (slots 0, 1).
    """
    import flatbuffers

    b = flatbuffers.Builder(0)

    def floats(values: list[float]) -> int:
        b.StartVector(4, len(values), 4)
        for v in reversed(values):
            b.PrependFloat32(v)
        return int(b.EndVector())

    def one(table: int) -> int:
        b.StartVector(4, 1, 4)
        b.PrependUOffsetTRelative(table)
        return int(b.EndVector())

    mean_off, std_off = floats(mean), floats(std)
    b.StartObject(2)
    b.PrependUOffsetTRelativeSlot(0, mean_off, 0)
    b.PrependUOffsetTRelativeSlot(1, std_off, 0)
    norm = b.EndObject()
    b.StartObject(2)
    b.PrependUint8Slot(0, 1, 0)
    b.PrependUOffsetTRelativeSlot(1, norm, 0)
    units = one(b.EndObject())
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(4, units, 0)
    tensors = one(b.EndObject())
    b.StartObject(7)
    b.PrependUOffsetTRelativeSlot(2, tensors, 0)
    subgraphs = one(b.EndObject())
    b.StartObject(8)
    b.PrependUOffsetTRelativeSlot(3, subgraphs, 0)
    b.Finish(b.EndObject(), file_identifier=b"M001")
    return bytes(b.Output())


def with_metadata(content: bytes, metadata: bytes) -> bytes:
    """The model with a ``TFLITE_METADATA`` entry holding ``metadata``."""
    from tensorflow.lite.python import schema_py_generated as schema

    def edit(model: Any) -> None:
        buf = schema.BufferT()
        buf.data = list(metadata)
        model.buffers.append(buf)
        entry = schema.MetadataT()
        entry.name = b"TFLITE_METADATA"
        entry.buffer = len(model.buffers) - 1
        model.metadata = [*(model.metadata or []), entry]

    return patch_model(content, edit)


def build_patched_models(out: Path, good: dict[str, Path]) -> dict[str, Path]:
    """Variants made by editing a model's FlatBuffer: broken specs and added metadata."""
    from tensorflow.lite.python import schema_py_generated as schema

    int8 = good["colour_int8"].read_bytes()

    def no_scale(model: Any) -> None:
        sg = model.subgraphs[0]
        sg.tensors[sg.inputs[0]].quantization.scale = [0.0]

    def int16_input(model: Any) -> None:
        sg = model.subgraphs[0]
        sg.tensors[sg.inputs[0]].type = schema.TensorType.INT16

    def far_buffer(model: Any) -> None:
        model.buffers[1].offset = 10_000_000
        model.buffers[1].size = 64
        model.buffers[1].data = None

    made = {
        "no_input_scale": patch_model(int8, no_scale),
        "int16_input": patch_model(int8, int16_input),
        "far_buffer": patch_model(int8, far_buffer),
        # The [0, 1] colour model declaring [-1, 1] through metadata (mean = std = 127.5).
        "meta_pm1_int8": with_metadata(int8, model_metadata([127.5], [127.5])),
        # The metadata writers' convention for quantized models: mean 0, std 1.
        "meta_identity_uint8": with_metadata(
            good["colour_uint8"].read_bytes(), model_metadata([0.0], [1.0])
        ),
        "meta_garbage_int8": with_metadata(int8, b"\x10\x00\x00\x00M001" + b"\xff" * 24),
    }
    paths = {}
    for name, content in made.items():
        path = out / f"{name}.tflite"
        path.write_bytes(content)
        (out / f"{name}_labels.txt").write_text("\n".join(COLOUR_LABELS) + "\n")
        paths[name] = path
    return paths


def build_all(out: Path) -> dict[str, Path]:
    """Every test model; name → path."""
    good = build_models(out)
    return {**good, **build_bad_models(out), **build_patched_models(out, good)}


if __name__ == "__main__":
    import json
    import sys

    built = build_all(Path(sys.argv[1]))
    print(json.dumps({k: str(v) for k, v in built.items()}))
