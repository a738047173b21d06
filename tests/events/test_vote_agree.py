"""The vote's ``min_agree``: an event's label must top enough of its classifications."""

from __future__ import annotations

from eventkit import gate, make_frame, validate

from visionedge.classify import load_classifier
from visionedge.config import ClassifierConfig, DeviceConfig, EventsConfig
from visionedge.events import EventTracker, LabelVote, ModelInfo, deterministic_ids
from visionedge.pipeline import model_info
from visionedge.protocols import Box, Classification, Prediction


def cls(i: int, *preds: tuple[str, float]) -> Classification:
    return Classification(i, tuple(Prediction(label, 0, s) for label, s in preds), None)


def votes(min_agree: int, *crops: tuple[tuple[str, float], ...]) -> tuple[str, float] | None:
    vote = LabelVote(min_agree=min_agree)
    for i, preds in enumerate(crops):
        vote.add(cls(i, *preds))
    return vote.best()


def test_one_confident_crop_out_of_three_names_nothing_with_min_agree_2() -> None:
    # Moving leaves: one crop "animal" 0.5 (ImageNet's indri), two below threshold.
    crops = ((("animal", 0.5),), (), ())
    assert votes(1, *crops) == ("animal", 0.5 / 3)
    assert votes(2, *crops) is None


def test_two_agreeing_crops_carry_the_label() -> None:
    crops = ((("vehicle", 0.4),), (("animal", 0.58),), (("vehicle", 0.3),), ())
    # vehicle 0.7 in sum beats animal 0.58 and tops two classifications.
    assert votes(2, *crops) == ("vehicle", (0.4 + 0.3) / 4)


def test_a_label_counted_only_as_runner_up_does_not_agree() -> None:
    # vehicle has the larger sum, but tops one classification only.
    crops = ((("vehicle", 0.9),), (("animal", 0.3), ("vehicle", 0.29)), (("animal", 0.3),))
    assert votes(1, *crops) == ("vehicle", (0.9 + 0.29) / 3)
    assert votes(2, *crops) is None


def test_min_agree_1_is_the_plain_mean_vote() -> None:
    # red never tops a classification but has the largest sum: the mean vote picks it.
    crops = ((("green", 0.5), ("red", 0.45)), (("blue", 0.5), ("red", 0.45)))
    assert votes(1, *crops) == ("red", 0.45)
    assert votes(2, *crops) is None


def test_an_event_classified_once_keeps_its_one_answer() -> None:
    # min(min_agree, classifications): a short event is not left unlabelled for being short.
    assert votes(2, (("person", 0.9),)) == ("person", 0.9)
    assert votes(3, (("person", 0.5),), (("person", 0.25),)) == ("person", 0.375)


def test_min_share_asks_the_label_to_top_a_share_of_the_classifications() -> None:
    # A porch in the leaves: 11 classifications, "person" on 2 of them (person_detect's
    # quarters), nothing on the rest. min_agree 2 lets it through; a fifth does not.
    crops = ((("person", 0.82),), (("person", 0.85),)) + ((),) * 9
    assert votes(2, *crops) == ("person", (0.82 + 0.85) / 11)
    vote = LabelVote(min_agree=2, min_share=0.2)
    for i, preds in enumerate(crops):
        vote.add(cls(i, *preds))
    assert vote.best() is None
    # Three of them would be enough (3 >= 0.2 * 12), and a short event is not refused for
    # being short: 1 of 1 is all of it.
    vote.add(cls(11, ("person", 0.9)))
    assert vote.best() is not None and vote.best()[0] == "person"  # type: ignore[index]
    short = LabelVote(min_agree=2, min_share=0.2)
    short.add(cls(0, ("person", 0.9)))
    assert short.best() == ("person", 0.9)


def test_the_tracker_applies_the_models_min_agree() -> None:
    def run(min_agree: int) -> list[tuple[str, object]]:
        t = EventTracker(EventsConfig(update_every=1000), DeviceConfig(), ClassifierConfig(),
                         id_factory=deterministic_ids(), model=ModelInfo("m", "ab" * 32, min_agree=min_agree))
        out = t.on_gate(make_frame(0), gate(0, True, 3.0, opened=True, box=Box(0, 0, 0.5, 0.5)))
        for i, preds in enumerate(((("animal", 0.5),), (), ())):
            out += t.on_gate(make_frame(i + 1), gate(i + 1, True, 3.0))
            out += t.on_classification(cls(i + 1, *preds))
        out += t.on_gate(make_frame(5), gate(5, False, 0.0, closed=True))
        validate(out)
        return [(e["type"], e["label"]) for e in out]

    assert run(1) == [("start", None), ("update", "animal"), ("end", "animal")]
    # The first answer stands alone (one classification), then needs a second one.
    assert run(2) == [("start", None), ("update", "animal"), ("update", None), ("end", None)]


def test_the_default_preset_asks_two_agreeing_classifications_the_demo_one() -> None:
    default = model_info(load_classifier(ClassifierConfig()))
    demo = model_info(load_classifier(ClassifierConfig(model="demo")))
    assert default is not None and default.min_agree == 2 and default.raw_labels
    assert default.min_share == 0.2
    assert demo is not None and demo.min_agree == 1 and demo.min_share == 0.0
