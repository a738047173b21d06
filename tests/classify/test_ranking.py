"""Thresholds, the ignore list and top-k."""

from __future__ import annotations

import numpy as np

from visionedge.classify.ranking import rank, softmax

LABELS = ("background", "person", "vehicle", "animal")


def _scores(*v: float) -> np.ndarray:
    return np.array(v, np.float32)


def test_top_k_best_first() -> None:
    top = rank(_scores(0.1, 0.5, 0.3, 0.1), LABELS, top_k=2, threshold=0.0)
    assert [(p.label, p.index) for p in top] == [("person", 1), ("vehicle", 2)]
    assert top[0].score == 0.5


def test_ignore_list_skips_labels_but_not_their_rank_slots() -> None:
    top = rank(_scores(0.7, 0.2, 0.06, 0.04), LABELS, top_k=2, threshold=0.0, ignore={"background"})
    assert [p.label for p in top] == ["person", "vehicle"]


def test_global_and_per_label_thresholds() -> None:
    s = _scores(0.0, 0.55, 0.3, 0.15)
    assert [p.label for p in rank(s, LABELS, top_k=3, threshold=0.5)] == ["person"]
    strict = rank(s, LABELS, top_k=3, threshold=0.5, thresholds={"person": 0.6})
    assert strict == ()
    lenient = rank(s, LABELS, top_k=3, threshold=0.5, thresholds={"vehicle": 0.3})
    assert [p.label for p in lenient] == ["person", "vehicle"]  # a score equal to it passes


def test_ties_keep_output_order() -> None:
    top = rank(_scores(0.25, 0.25, 0.25, 0.25), LABELS, top_k=4, threshold=0.0)
    assert [p.index for p in top] == [0, 1, 2, 3]


def test_softmax_is_stable_and_sums_to_one() -> None:
    s = softmax(_scores(1000.0, 1001.0, -50.0))
    assert np.isfinite(s).all()
    assert float(s.sum()) == np.float32(1.0) or abs(float(s.sum()) - 1.0) < 1e-6
    assert int(np.argmax(s)) == 1
