"""Object events vote with the card's rule, the one motion events use (``LabelVote``).

A plain-vote card (``min_agree`` 1: demo, the MCU presets) must give exactly the object
events it gave before the card's rule applied to objects: the firmware's C++ port of the
object events votes that way, and its parity depends on it. The golden files were recorded
with the code before that change (``visionedge replay --config C demo.avi`` on
``write_clip(default_scene(), "demo.avi")``, ``C`` = ``[classifier] model = NAME`` +
``[objects] mode = "object"``); regenerate them only for an intended change of the tracker,
the generated scene or the payload, and say so in the commit.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_events import Labeller, run, walker

from visionedge.classify.card import read_card
from visionedge.classify.presets import MCU_PRESET, PRESETS_DIR, preset_names
from visionedge.cli import main
from visionedge.protocols import Box, Classification, Frame, Prediction
from visionedge.synth import default_scene, write_clip

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("votes") / "demo.avi"  # the name is in the event ids
    write_clip(default_scene(), path)
    return path


def test_the_mcu_and_demo_presets_vote_plainly() -> None:
    cards = {name: read_card(PRESETS_DIR / name / "card.json") for name in preset_names()}
    plain = {name for name, card in cards.items() if card.plain_vote}
    assert {"demo", MCU_PRESET} <= plain
    # Every preset a board can run votes the way the firmware does.
    assert all(card.plain_vote for card in cards.values() if card.for_mcu)


@pytest.mark.parametrize("preset", ["demo", MCU_PRESET])
def test_plain_vote_presets_give_exactly_the_pinned_object_events(
    preset: str, demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "obj.toml"
    cfg.write_text(f'[classifier]\nmodel = "{preset}"\n[objects]\nmode = "object"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["replay", "--config", str(cfg), str(demo)]) == 0
    got = capsys.readouterr().out
    assert got == (GOLDEN / f"plain_vote_{preset}.jsonl").read_text(encoding="utf-8")


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
