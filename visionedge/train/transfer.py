"""Transfer learning: a pretrained MobileNet v1 backbone read out of a quantized TFLite model.

:func:`mobilenet_from_tflite` rebuilds the convolutional part of a MobileNet v1 ``.tflite``
(e.g. Coral's ``mobilenet_v1_0.25_128_quant.tflite``, Apache-2.0) as a tf-keras model with
the same weights, dequantized (``(q - zero_point) * scale``), then puts a new
global-average-pool + softmax head on it. The TFLite graph already has batch norm folded
into each convolution's bias, so the Keras layers are plain convolutions with bias and
ReLU6. Strides are read from the tensors' shapes.

The backbone was trained on inputs in [-1, 1]; the pipeline feeds pixel / 255 in [0, 1]. The
first convolution absorbs the change (``w' = w * 255/128``, ``b' = b - sum(w)``), so the model
keeps the project's input contract and needs no extra operator. (Only zero padding at the
bottom/right edge differs: it now means black instead of mid-gray.) At alpha 0.25 the
backbone holds ~0.2 M weights: ~220 KB int8, an MCU-size model with ImageNet features, which
is what lets ~50 crops per class give a usable classifier. A gray model (``input_shape``
with one channel) sums the first convolution's three input channels into one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from visionedge.errors import TrainingError
from visionedge.train import load_tf

__all__ = ["backbone_layers", "mobilenet_from_tflite"]

F32 = npt.NDArray[np.float32]


def _dequant(detail: dict[str, Any], value: npt.NDArray[Any]) -> F32:
    q = detail["quantization_parameters"]
    scales = np.asarray(q["scales"], np.float32)
    zps = np.asarray(q["zero_points"], np.float32)
    if scales.size == 0:
        return np.asarray(value, np.float32)
    shape = [1] * value.ndim
    if scales.size > 1:
        shape[int(q["quantized_dimension"])] = -1
    out: F32 = (value.astype(np.float32) - zps.reshape(shape)) * scales.reshape(shape)
    return out


def backbone_layers(path: Path) -> list[tuple[str, int, F32, F32]]:
    """(kind, stride, kernel, bias) of each convolution of a MobileNet v1 ``.tflite``, in order.

    Kernels come in Keras layout (Conv2D: kh x kw x in x out; DepthwiseConv2D: kh x kw x in
    x 1). Stops at the pooling layer: the classifier on top is not part of the backbone.
    """
    tf, _ = load_tf()
    try:
        interp = tf.lite.Interpreter(model_path=str(path))
        interp.allocate_tensors()
    except (ValueError, RuntimeError) as exc:
        raise TrainingError(f"{path}: cannot read the backbone model ({exc})") from None
    details = {d["index"]: d for d in interp.get_tensor_details()}
    layers: list[tuple[str, int, F32, F32]] = []
    for op in interp._get_ops_details():  # private, but the only way to walk the graph
        name = op["op_name"]
        if name in ("AVERAGE_POOL_2D", "MEAN"):
            break
        if name not in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            raise TrainingError(f"{path}: operator {name} before the pooling layer; the "
                                "backbone must be a MobileNet v1 (convolutions only)")
        inp, wt, bias = (int(i) for i in op["inputs"][:3])
        out = int(op["outputs"][0])
        w = _dequant(details[wt], interp.get_tensor(wt))
        b = _dequant(details[bias], interp.get_tensor(bias))
        stride = round(int(details[inp]["shape"][1]) / int(details[out]["shape"][1]))
        if name == "CONV_2D":
            kernel = np.transpose(w, (1, 2, 3, 0))  # OHWI -> HWIO
        else:
            kernel = np.transpose(w, (1, 2, 3, 0))  # 1 x H x W x C -> H x W x C x 1
        layers.append(("conv" if name == "CONV_2D" else "dw", stride, kernel, b))
    if not layers or layers[0][0] != "conv":
        raise TrainingError(f"{path}: no convolution backbone found; pass a MobileNet v1 "
                            ".tflite (e.g. mobilenet_v1_0.25_128_quant.tflite)")
    return layers


def mobilenet_from_tflite(
    path: Path,
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    dropout: float = 0.2,
    trainable: bool = False,
    drop_blocks: int = 0,
) -> Any:
    """The backbone of ``path`` with its weights, a new softmax head; inputs in [0, 1].

    RGB (3 channels) or gray (1 channel: the first convolution's RGB filters are summed
    into one, what boards with a gray camera need).

    ``drop_blocks`` leaves out the last N depthwise + pointwise blocks: MobileNet v1 0.25's
    last block alone holds 66 K of its 211 K weights, so dropping it keeps an int8 export
    well under 300 KB.
    """
    _, keras = load_tf()
    if input_shape[2] not in (1, 3):
        raise TrainingError(f"a MobileNet backbone reads RGB or gray, not {input_shape[2]} channels; "
                            "train with --colour rgb or --colour gray")
    conv = backbone_layers(path)
    if drop_blocks:
        if 2 * drop_blocks >= len(conv):
            raise TrainingError(f"--drop-blocks {drop_blocks}: the backbone has only "
                                f"{(len(conv) - 1) // 2} blocks")
        conv = conv[: len(conv) - 2 * drop_blocks]
    kind, stride, k0, b0 = conv[0]
    # Fold pixel / 255 -> (pixel - 128) / 128 into the first convolution.
    k0, b0 = k0 * (255.0 / 128.0), b0 - k0.sum(axis=(0, 1, 2)).astype(np.float32)
    if input_shape[2] == 1:
        # A gray pixel is R = G = B, so the RGB filter applied to it equals the sum of its
        # three channel slices applied to the one gray channel: the same features, exactly.
        k0 = k0.sum(axis=2, keepdims=True)
    conv[0] = (kind, stride, k0.astype(np.float32), b0)
    layers = keras.layers
    inp = keras.Input(shape=input_shape, name="image")
    x = inp
    for i, (kind, stride, kernel, bias) in enumerate(conv):
        if kind == "conv":
            layer = layers.Conv2D(kernel.shape[3], kernel.shape[:2], strides=stride,
                                  padding="same", name=f"bb{i}_conv")
        else:
            layer = layers.DepthwiseConv2D(kernel.shape[:2], strides=stride, padding="same",
                                           name=f"bb{i}_dw")
        x = layer(x)
        layer.set_weights([kernel, bias])
        layer.trainable = trainable
        x = layers.ReLU(6.0, name=f"bb{i}_relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="dropout")(x)
    out = layers.Dense(num_classes, activation="softmax", name="probs")(x)
    return keras.Model(inp, out, name=f"visionedge_mobilenet_{Path(path).stem}")
