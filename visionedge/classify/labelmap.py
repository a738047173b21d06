"""Label maps: a model's own labels (1001 ImageNet classes, 21 PASCAL classes) → the labels
users act on (by default ``person``, ``vehicle``, ``animal``).

A user label's score is the **sum** of the scores of the model labels mapped to it: an
ImageNet model splits a car between "sports car", "minivan", "cab", … and no single one of
them may pass a threshold while together they are sure. Model labels mapped to nothing
count for no user label (their mass is "something else").
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from visionedge.errors import CardError

__all__ = ["LabelMap"]


class LabelMap:
    """Sums model-label scores into user-label scores; see the module docstring."""

    def __init__(
        self, model_labels: Sequence[str], mapping: Mapping[str, Sequence[str]], origin: str
    ) -> None:
        """``mapping`` is user label → model labels; every model label named must exist.

        A model label may be named by its full text or by its first comma-separated name
        (ImageNet's ``"tabby, tabby cat"`` is ``"tabby"``). A model label mapped to two user
        labels is an error: its score would count twice.
        """
        index: dict[str, list[int]] = {}
        for i, label in enumerate(model_labels):
            index.setdefault(label, []).append(i)
            short = label.split(",")[0].strip()
            if short != label:
                index.setdefault(short, []).append(i)
        self.user_labels: tuple[str, ...] = tuple(mapping)
        self.model_labels = tuple(model_labels)
        owner: dict[int, str] = {}
        matrix = np.zeros((len(model_labels), len(self.user_labels)), np.float32)
        for j, (user, names) in enumerate(mapping.items()):
            for name in names:
                hits = index.get(name)
                if not hits:
                    raise CardError(
                        f"{origin}: label_map maps '{name}' to '{user}', but the model has no "
                        "such label; use the model's labels (labels.txt)"
                    )
                for i in hits:
                    if i in owner and owner[i] != user:
                        raise CardError(
                            f"{origin}: label_map maps '{model_labels[i]}' to both "
                            f"'{owner[i]}' and '{user}'; map each model label once"
                        )
                    owner[i] = user
                    matrix[i, j] = 1.0
        self._matrix = matrix
        self.owner = owner

    def __call__(self, scores: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """User-label scores (in :attr:`user_labels` order) for one model score vector."""
        out: npt.NDArray[np.float32] = np.clip(scores @ self._matrix, 0.0, 1.0).astype(np.float32)
        return out

    def members(self, user_index: int) -> npt.NDArray[np.intp]:
        """Indices of the model labels that add up to user label ``user_index``."""
        return np.flatnonzero(self._matrix[:, user_index])

    def user_label_of(self, model_index: int) -> str:
        """The user label a model output counts for, or ``""``."""
        return self.owner.get(model_index, "")
