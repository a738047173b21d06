"""A small depthwise-separable CNN for microcontroller budgets.

MobileNet-v1 style: a 3x3 stride-2 convolution, then depthwise-3x3 + pointwise-1x1 blocks,
global average pooling and a softmax dense layer. Every layer maps to one TFLM builtin
(CONV_2D, DEPTHWISE_CONV_2D, MEAN, FULLY_CONNECTED, SOFTMAX; batch norm and ReLU6 fold into
the convolutions), so the int8 export needs five operators. At 96x96x1 and ``alpha=1`` the
largest pair of live activations is 48x48x16 + 48x48x32 int8 = 108 KB, which sets the
TFLM arena; ``alpha`` scales every channel count (weights grow with its square).
"""

from __future__ import annotations

from typing import Any

from visionedge.train import load_tf

__all__ = ["BLOCKS", "BN_MOMENTUM", "build_model", "channels"]

BN_MOMENTUM = 0.9
"""Batch-norm moving-average momentum. Keras' 0.99 leaves the moving variance near its
initial 1.0 for the first few hundred steps, far above the true variance of small-dataset
activations, and the model then predicts one class in inference mode."""

BLOCKS: tuple[tuple[int, int], ...] = ((32, 1), (64, 2), (64, 1), (128, 2), (128, 1), (256, 2))
"""(pointwise filters at alpha=1, depthwise stride) of each separable block."""


def channels(base: int, alpha: float) -> int:
    """``base * alpha`` rounded to a multiple of 8 (at least 8): int8 kernels like that."""
    return max(8, int(base * alpha + 4) // 8 * 8)


def build_model(
    input_shape: tuple[int, int, int],
    num_classes: int,
    *,
    alpha: float = 1.0,
    dropout: float = 0.2,
) -> Any:
    """Build the (uncompiled) tf-keras model; inputs are real values in [0, 1]."""
    _, keras = load_tf()
    layers = keras.layers
    inp = keras.Input(shape=input_shape, name="image")
    x = layers.Conv2D(channels(16, alpha), 3, strides=2, padding="same", use_bias=False,
                      name="stem_conv")(inp)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name="stem_bn")(x)
    x = layers.ReLU(6.0, name="stem_relu")(x)
    for i, (filters, stride) in enumerate(BLOCKS, start=1):
        x = layers.DepthwiseConv2D(3, strides=stride, padding="same", use_bias=False,
                                   name=f"b{i}_dw")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"b{i}_dw_bn")(x)
        x = layers.ReLU(6.0, name=f"b{i}_dw_relu")(x)
        x = layers.Conv2D(channels(filters, alpha), 1, use_bias=False, name=f"b{i}_pw")(x)
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"b{i}_pw_bn")(x)
        x = layers.ReLU(6.0, name=f"b{i}_pw_relu")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, name="dropout")(x)
    out = layers.Dense(num_classes, activation="softmax", name="probs")(x)
    return keras.Model(inp, out, name=f"visionedge_dscnn_a{alpha:g}")
