"""Object events vote with the card's rule, the one motion events use (``LabelVote``).

A plain-vote card (``min_agree`` 1: demo, the MCU presets) must give exactly the object
events it gave before the card's rule applied to objects: the firmware's C++ port of the
object events votes that way, and its parity depends on it. The pin: each such preset's
object events on the generated demo clip equal, byte for byte, those of a run with the
vote as it was (:class:`PlainVote`, a frozen copy of the mean vote) and the object's own box
(no card crop). tests/golden/demo_objects_labelled.jsonl pins the demo preset's bytes too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from test_events import Labeller, run, walker

from visionedge.classify import load_classifier
from visionedge.classify.card import read_card
from visionedge.classify.presets import MCU_PRESET, PRESETS_DIR, preset_names
from visionedge.cli import main
from visionedge.config import Config
from visionedge.events import encode_event
from visionedge.events.vote import LabelVote
from visionedge.objects import events as object_events
from visionedge.pipeline import build_pipeline
from visionedge.protocols import Box, Classification, Frame, Prediction
from visionedge.sinks.memory import MemorySink
from visionedge.sources import open_source
from visionedge.synth import default_scene, write_clip

CARDS = {name: read_card(PRESETS_DIR / name / "card.json") for name in preset_names()}
PLAIN = sorted(name for name, card in CARDS.items() if card.plain_vote and card.kind == "classifier"
               and (card.for_mcu or name in ("demo", MCU_PRESET)))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("votes") / "demo.avi"
    write_clip(default_scene(), path)
    return path


def test_the_mcu_and_demo_presets_vote_plainly() -> None:
    assert {"demo", MCU_PRESET} <= set(PLAIN)
    # Every preset a board can run votes the way the firmware does.
    assert all(card.plain_vote for card in CARDS.values() if card.for_mcu)


@dataclass(slots=True)
class PlainVote:
    """The object vote before cards applied to it: mean score per label over the
    classifications, ties to the name that sorts first, no other condition."""

    count: int = 0
    sums: dict[str, float] = field(default_factory=dict)
    raw: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    """The raw labels behind each winning label, as LabelVote keeps them (raw_label did not
    change with the cards)."""
    wins: dict[str, int] = field(default_factory=dict)
    """The classifications each label topped, as LabelVote counts them: the still rule
    (``objects.still_min_votes``) reads them, and it applies to both runs alike."""

    def add(self, classification: Classification) -> None:
        self.count += 1
        if classification.top:
            first = classification.top[0].label
            self.wins[first] = self.wins.get(first, 0) + 1
        for p in classification.top:
            self.sums[p.label] = self.sums.get(p.label, 0.0) + p.score
        if classification.raw_label and classification.top and classification.raw_score is not None:
            per = self.raw.setdefault(classification.top[0].label, {})
            entry = per.setdefault(classification.raw_label, [0.0, 0.0])
            entry[0] += classification.raw_score
            entry[1] += 1

    best_raw = LabelVote.best_raw

    def best(self) -> tuple[str, float] | None:
        if self.count == 0 or not self.sums:
            return None
        label = min(self.sums, key=lambda name: (-self.sums[name], name))
        return label, self.sums[label] / self.count


class TightBox:
    """The preset's classifier with the object's own box (no card crop)."""

    def __init__(self, inner: object) -> None:
        self._inner = inner
        self.object_min_crop_px = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._inner, name)


def object_lines(clip: Path, preset: str, *, as_before: bool, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    # The settle rule and the back-off off in both runs: this pins the vote and the crop (the
    # rules themselves are pinned by tests/objects/test_settle.py, test_backoff.py and the goldens).
    cfg = Config.model_validate({"source": {"kind": "file", "path": str(clip)},
                                 "classifier": {"model": preset},
                                 "objects": {"mode": "object", "settle_after": 0, "backoff_after": 0}})
    clf: object = load_classifier(cfg.classifier)
    with monkeypatch.context() as m:
        if as_before:
            m.setattr(object_events.ObjectEvents, "_new_vote", lambda self: PlainVote())
            clf = TightBox(clf)
        sink = MemorySink()
        build_pipeline(cfg, source=open_source(cfg.source, cfg.gate.width), sinks=[sink],
                       classifier=clf, deterministic_ids=True).run()  # type: ignore[arg-type]
    return [encode_event(e) for e in sink.events if e.get("schema") == 2]


@pytest.mark.parametrize("preset", PLAIN)
def test_plain_vote_presets_give_exactly_the_object_events_of_before(
    preset: str, demo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = object_lines(demo, preset, as_before=False, monkeypatch=monkeypatch)
    before = object_lines(demo, preset, as_before=True, monkeypatch=monkeypatch)
    assert now and any('"label":"' in line for line in now)
    assert now == before


def test_the_default_preset_is_not_plain(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The comparison above can tell: the default preset's vote and crop do change them.
    assert object_lines(demo, "person_vehicle_animal", as_before=False, monkeypatch=monkeypatch) != \
        object_lines(demo, "person_vehicle_animal", as_before=True, monkeypatch=monkeypatch)


class Agreeing(Labeller):
    """A classifier whose card asks two agreeing classifications: one confident "animal",
    then answers below threshold (moving leaves)."""

    min_agree = 2

    def classify(self, f: Frame, box: Box | None) -> Classification:
        self.calls.append((f.index, box))
        top = (Prediction("animal", 0, 0.5),) if len(self.calls) == 1 else ()
        return Classification(f.index, top, box, 10.0)


def labels(min_agree: int) -> list[tuple[str, str | None]]:
    clf = Agreeing()
    clf.min_agree = min_agree
    script = [[b] for b in walker(4, 5, 30)] + [[]] * 20
    sink = run(script, {"classifier": {"every_n_frames": 5}}, clf)
    return [(e["type"], e["label"]) for e in sink.events]


def test_object_events_apply_the_cards_min_agree() -> None:
    plain, agree = labels(1), labels(2)
    # Plain: the one confident crop names the object to the end.
    assert plain[-1] == ("end", "animal")
    # Two agreeing crops asked: alone it stands (one classification), then it needs a
    # second one and the object ends unlabelled: as a motion event does (tests/events).
    assert ("start", "animal") in agree or ("update", "animal") in agree
    assert agree[-1] == ("end", None)


def test_firmware_config_refuses_a_vote_the_firmware_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "board.toml"
    cfg.write_text('[classifier]\nmodel = "person_vehicle_animal"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["firmware", "config", str(cfg), "--format", "params"]) == 10
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("visionedge: error: classifier.model")
    assert "min_agree 2" in err[0] and MCU_PRESET in err[0]
    # The MCU preset, and no model key (the board's own build), are fine.
    for text in (f'[classifier]\nmodel = "{MCU_PRESET}"\n', ""):
        cfg.write_text(text, encoding="utf-8")
        assert main(["firmware", "config", str(cfg), "--format", "params"]) == 0
