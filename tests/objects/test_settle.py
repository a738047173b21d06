"""The settle rule (``objects.settle_after``, ``objects.recheck_s``): an object whose label has
settled is classified only at its re-checks; a re-check that disagrees unsettles it.

Scripted gate regions and scripted answers through the real pipeline (frames 100 ms apart),
then the demo preset's real model on the generated demo clip: same labels, fewer crops.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest
from test_events import run, walker

from visionedge.config import Config
from visionedge.events import encode_event
from visionedge.events.vote import LabelVote
from visionedge.pipeline import build_pipeline
from visionedge.protocols import Box, Classification, Frame, Prediction
from visionedge.sinks.memory import MemorySink
from visionedge.sources import open_source
from visionedge.synth import default_scene, write_clip

Answer = Callable[[int], tuple[Prediction, ...]]


class Scripted:
    """Answers by call number (the object's n-th classification: one object in view)."""

    name = "scripted.tflite"
    sha256 = "2" * 64

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.frames: list[int] = []

    def classify(self, f: Frame, box: Box | None) -> Classification:
        top = self.answer(len(self.frames))
        self.frames.append(f.index)
        return Classification(f.index, top, box, 10.0)


def person(_: int) -> tuple[Prediction, ...]:
    return (Prediction("person", 0, 0.8),)


def gaps(answer: Answer, **objects: float) -> tuple[list[int], list[str | None]]:
    """Frames between one walker's classifications (80 frames in view, every_n_frames 5,
    max_per_event 100) and the labels of its messages."""
    clf = Scripted(answer)
    sink = run([[b] for b in walker(0, 1, 80)] + [[]] * 20,
               {"classifier": {"every_n_frames": 5, "max_per_event": 100}, "objects": objects}, clf)
    f = clf.frames
    return [b - a for a, b in pairwise(f)], [e["label"] for e in sink.events]


def test_a_settled_object_is_classified_only_at_its_rechecks() -> None:
    steps, labels = gaps(person, settle_after=3, recheck_s=2.0)
    # Three agreeing classifications 5 frames apart, then a re-check every 2 s (20 frames).
    assert steps[:2] == [5, 5] and set(steps[2:]) == {20} and len(steps) >= 4, steps
    assert labels[-1] == "person"
    off, off_labels = gaps(person, settle_after=0)
    assert set(off) == {5} and len(off) > 2 * len(steps)
    assert off_labels[-1] == "person"


def test_a_recheck_that_disagrees_unsettles_the_object() -> None:
    def answer(n: int) -> tuple[Prediction, ...]:
        return (Prediction("vehicle" if n in (3, 4) else "person", 0, 0.8),)

    steps, labels = gaps(answer, settle_after=3, recheck_s=2.0)
    # Settled after 3; the re-check (call 3) says vehicle: back to every 5 frames until three
    # persons in a row again (calls 5, 6, 7), then re-checks.
    assert steps[:7] == [5, 5, 20, 5, 5, 5, 5] and set(steps[7:]) == {20}, steps
    assert labels[-1] == "person"


def test_a_run_of_no_label_never_settles() -> None:
    steps, labels = gaps(lambda n: (), settle_after=3, recheck_s=2.0, backoff_after=0)
    assert set(steps) == {5} and labels[-1] is None


def test_a_streak_the_vote_does_not_follow_is_not_settled() -> None:
    # Two confident persons, then weak vehicles: the vehicle streak is long enough, but the
    # mean vote still says person until the fourth vehicle.
    def answer(n: int) -> tuple[Prediction, ...]:
        return (Prediction("person", 0, 0.9),) if n < 2 else (Prediction("vehicle", 1, 0.3),)

    steps, _ = gaps(answer, settle_after=3, recheck_s=2.0)
    # Calls 2-4 are vehicles (streak 3), vote person 1.8 vs vehicle 0.9; call 7 makes vehicle
    # 1.8 = person 1.8: the tie goes to "person" (sorts first); call 8: vehicle 2.1 wins.
    assert steps[:8] == [5] * 8 and steps[8] == 20, steps


def test_the_vote_tracks_the_streak() -> None:
    v = LabelVote(min_agree=2)
    for label in ("animal", None, "person", "person"):
        v.add(Classification(0, (Prediction(label, 0, 0.9),) if label else (), None))
    assert (v.streak_label, v.streak) == ("person", 2)
    assert v.settled(2) and not v.settled(3) and not v.settled(0)


def object_lines(clip: Path, settle_after: int) -> tuple[list[str], int]:
    cfg = Config.model_validate({"source": {"kind": "file", "path": str(clip)},
                                 "classifier": {"model": "demo"},
                                 "objects": {"mode": "object", "settle_after": settle_after}})
    sink = MemorySink()
    p = build_pipeline(cfg, source=open_source(cfg.source, cfg.gate.width), sinks=[sink],
                       deterministic_ids=True)
    p.run()
    stage = p.objects
    assert stage is not None
    return [encode_event(e) for e in sink.events if e.get("schema") == 2], stage.classifications  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("settle") / "demo.avi"
    write_clip(default_scene(), path)
    return path


def test_the_demo_scene_keeps_its_labels_with_fewer_classifications(demo: Path) -> None:
    import json

    on, crops_on = object_lines(demo, 3)
    off, crops_off = object_lines(demo, 0)

    def labels(lines: list[str]) -> list[tuple[int, str, str | None]]:
        return [(e["object_id"], e["type"], e["label"]) for e in map(json.loads, lines)
                if e["type"] == "end"]

    assert labels(on) == labels(off) == [(1, "end", "person"), (2, "end", "vehicle"), (3, "end", "animal")]
    assert crops_on < crops_off, (crops_on, crops_off)
