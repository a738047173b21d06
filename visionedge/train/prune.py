"""Magnitude pruning to a target sparsity (tensorflow-model-optimization), then strip.

The schedule ramps sparsity from 0 to the target over the first 70 % of the fine-tuning
steps (polynomial decay, as tfmot recommends) and holds it after; ``strip_pruning`` then
removes the wrappers so the saved model is an ordinary tf-keras model whose pruned weights
are exact zeros. Zeros do not shrink a dense .tflite file, but they compress: the saving
shows in the gzip size (and in flash for a compressed OTA image). The depthwise and
batch-norm layers are left dense: their few weights matter more than they weigh.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from visionedge.errors import TrainingError
from visionedge.train import load_tf

__all__ = ["prune", "sparsity"]


def prune(
    model: Any,
    train: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]],
    val: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]],
    *,
    target_sparsity: float,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    log: Callable[[str], None] = print,
) -> Any:
    """Fine-tune ``model`` with magnitude pruning to ``target_sparsity``; return it stripped."""
    if not 0.0 < target_sparsity < 1.0:
        raise TrainingError(
            f"target sparsity {target_sparsity} is outside (0, 1); use e.g. --sparsity 0.5"
        )
    import tensorflow_model_optimization as tfmot

    from visionedge.train.train import fit

    _, keras = load_tf()
    sk = tfmot.sparsity.keras
    steps = max(1, int(np.ceil(len(train[0]) / batch_size))) * max(1, epochs)
    schedule = sk.PolynomialDecay(
        initial_sparsity=0.0, final_sparsity=target_sparsity, begin_step=0,
        end_step=max(1, int(steps * 0.7)), frequency=max(1, steps // 20),
    )

    def wrap(layer: Any) -> Any:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)) and not isinstance(
            layer, keras.layers.DepthwiseConv2D
        ):
            return sk.prune_low_magnitude(layer, pruning_schedule=schedule)
        return layer

    # prune_low_magnitude wraps the trained layer itself, so the trained weights carry over;
    # the other layers are shared with ``model``: pass a copy you can spare (load it afresh).
    pruned = keras.models.clone_model(model, clone_function=wrap)
    hist = fit(pruned, train, val, epochs=epochs, batch_size=batch_size,
               learning_rate=learning_rate, seed=seed, callbacks=[sk.UpdatePruningStep()])
    stripped = sk.strip_pruning(pruned)
    acc = hist.get("val_accuracy", [float("nan")])[-1]
    log(f"prune: sparsity {sparsity(stripped):.3f} of prunable weights (target "
        f"{target_sparsity}), val accuracy {acc:.3f}")
    return stripped


def sparsity(model: Any) -> float:
    """Fraction of exact zeros among the kernels of Conv2D (not depthwise) and Dense layers."""
    _, keras = load_tf()
    zeros = total = 0
    for layer in model.layers:
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)) and not isinstance(
            layer, keras.layers.DepthwiseConv2D
        ):
            w = layer.get_weights()[0]
            zeros += int(np.count_nonzero(w == 0))
            total += w.size
    return zeros / total if total else 0.0
