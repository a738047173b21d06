"""From a score vector to the predictions that count: ignore list, thresholds, top-k."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from visionedge.protocols import Prediction

__all__ = ["rank", "softmax"]


def softmax(logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Numerically stable softmax of a 1-D vector."""
    z = logits.astype(np.float64) - float(np.max(logits))
    e = np.exp(z)
    out: npt.NDArray[np.float32] = (e / e.sum()).astype(np.float32)
    return out


def rank(
    scores: npt.NDArray[np.float32],
    labels: Sequence[str],
    *,
    top_k: int,
    threshold: float,
    thresholds: Mapping[str, float] | None = None,
    ignore: Collection[str] = (),
) -> tuple[Prediction, ...]:
    """The best ``top_k`` labels, best first, that are not ignored and reach their threshold.

    A label's threshold is ``thresholds[label]`` when given, else ``threshold``; a score equal
    to the threshold passes. Ties keep the lower output index first, so results are
    deterministic. Scores are rounded to 6 decimals (they come from 8-bit outputs; more
    digits would only expose float noise between runtimes).
    """
    per_label = thresholds or {}
    order = np.argsort(-scores, kind="stable")
    out: list[Prediction] = []
    for i in order:
        label = labels[int(i)]
        score = float(scores[int(i)])
        if label in ignore:
            continue
        if score < per_label.get(label, threshold):
            continue
        out.append(Prediction(label=label, index=int(i), score=round(score, 6)))
        if len(out) >= top_k:
            break
    return tuple(out)
