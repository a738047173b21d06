"""The model pipeline: dataset, architecture, train, prune, quantize, evaluate, export.

TensorFlow (with tf-keras and tensorflow-model-optimization) is only in the ``train`` extra,
and only the modules of this package that train or convert import it, always through
:func:`load_tf` inside a function: the daemon never imports TensorFlow, and ``export``,
``flatbuffer`` and ``tflm_ops`` work on any ``.tflite`` with the base install.
"""

from __future__ import annotations

import contextlib
import os
from typing import Any

from visionedge.errors import TrainingError

__all__ = ["load_tf", "seed_everything"]


def load_tf() -> tuple[Any, Any]:
    """Import TensorFlow with Keras 2 (tf-keras), which tensorflow-model-optimization needs.

    ``TF_USE_LEGACY_KERAS=1`` must be set before the first TensorFlow import, otherwise
    ``tf.keras`` is Keras 3 and tfmot's pruning/QAT wrappers refuse the model.
    """
    os.environ["TF_USE_LEGACY_KERAS"] = "1"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import tensorflow as tf
        import tf_keras
    except ImportError as exc:
        raise TrainingError(
            f"the model pipeline needs TensorFlow ({exc.name} is not installed); "
            "install the train extra: pip install 'visionedge[train]'"
        ) from None
    return tf, tf_keras


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and ask TensorFlow for deterministic kernels.

    On CPU this makes a training run repeatable bit for bit with the same TensorFlow build
    and thread count; a different CPU (instruction set) or TF version may still round
    differently.
    """
    tf, keras = load_tf()
    keras.utils.set_random_seed(seed)
    # Older TF, or already configured in this process: seeding still applies.
    with contextlib.suppress(AttributeError, RuntimeError):
        tf.config.experimental.enable_op_determinism()
