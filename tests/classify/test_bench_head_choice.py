"""bench/head_choice.py replays the default cascade's object vote with another head: with the
installed head it gives what the real classifier and vote give; a swapped head reaches the
crops no earlier stage claims."""

from __future__ import annotations

from types import ModuleType

import numpy as np
from scriptkit import load_script

from visionedge.classify import load_classifier
from visionedge.classify.cascade import CascadeClassifier
from visionedge.classify.head import Head, HeadClassifier
from visionedge.config import ClassifierConfig
from visionedge.events.vote import LabelVote


def _bench() -> ModuleType:
    return load_script("bench/head_choice.py", "bench_head_choice")


def test_object_label_replays_the_vote_and_swaps_the_head() -> None:
    bench = _bench()
    casc = load_classifier(ClassifierConfig())
    assert isinstance(casc, CascadeClassifier)
    k = bench.head_stage(casc)
    head = casc.stages[k]
    assert isinstance(head, HeadClassifier)
    rng = np.random.default_rng(7)
    # Gray noise: nothing person_detect or the ImageNet stages claim, so the head answers.
    images = [rng.integers(100, 140, (120, 160, 3), dtype=np.uint8) for _ in range(3)]
    crops = [(casc.stage_answers(img), head.embedding(head.input_tensor(img)).astype(np.float64))
             for img in images]
    vote = LabelVote(min_agree=casc.min_agree)
    for img in images:
        vote.add(casc.classify_image(img))
    best = vote.best()
    assert bench.object_label(casc, k, crops, None) == (best[0] if best else "")
    # A head that says "vehicle" whatever it sees: the object becomes a vehicle.
    h = head.head
    bias = np.array([4.0 if x == "vehicle" else 0.0 for x in h.labels])
    sure = Head(h.backbone, h.backbone_sha256, h.tensor, h.labels, h.mean, h.scale,
                np.zeros_like(h.weights), bias)
    assert bench.object_label(casc, k, crops, sure) == "vehicle"
