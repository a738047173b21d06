"""A model card's per-label still bars (``preset.objects.still_min_score``).

Scores are each model's own scale, so the bar at which an object that never travels counts
may differ per label: the default card lowers it for animals (an ImageNet sum over hundreds
of classes is rarely as sure as ``person_detect`` is of people). Real cards and models here;
the bars' effect on events is in tests/objects/test_events.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from visionedge.classify import load_classifier
from visionedge.classify import presets as presets_mod
from visionedge.classify.card import read_card
from visionedge.cli import main
from visionedge.config import ClassifierConfig
from visionedge.errors import CardError
from visionedge.pipeline.models import model_info


def _student_with(tmp_path: Path, objects: Any) -> Path:
    """A copy of the MCU preset (a plain classifier card) whose ``objects`` section is given:
    its model file, which the card beside it describes."""
    src = presets_mod.PRESETS_DIR / presets_mod.MCU_PRESET
    dst = tmp_path / "student"
    shutil.copytree(src, dst)
    card = json.loads((dst / "card.json").read_text())
    card["preset"]["objects"] = objects
    (dst / "card.json").write_text(json.dumps(card))
    return dst / str(card["file"])


def test_the_default_card_lowers_the_still_bar_for_animals_only() -> None:
    card = read_card(presets_mod.PRESETS_DIR / presets_mod.DEFAULT_PRESET / "card.json")
    assert card.object_still_min_score == {"animal": 0.65}
    clf = load_classifier(ClassifierConfig())
    assert clf.object_still_min_score == {"animal": 0.65}
    info = model_info(clf)
    assert info is not None and info.still_min_score == (("animal", 0.65),)


def test_a_card_without_bars_leaves_the_configs_bar_for_every_label(tmp_path: Path) -> None:
    clf = load_classifier(ClassifierConfig(model=str(_student_with(tmp_path, {}))))
    assert clf.object_still_min_score == {}
    info = model_info(clf)
    assert info is not None and info.still_min_score == ()


@pytest.mark.parametrize("bars", [{"animal": 1.5}, {"animal": "high"}, [0.7], {"": 0.7}])
def test_a_malformed_bar_is_a_card_error(tmp_path: Path, bars: Any) -> None:
    path = _student_with(tmp_path, {"still_min_score": bars})
    with pytest.raises(CardError, match=r"still_min_score.*fix the card"):
        read_card(path.with_name("card.json"))


def test_a_bar_for_a_label_the_model_does_not_report_is_refused_at_load(tmp_path: Path) -> None:
    # It would silently do nothing: the error names the label and the labels there are.
    path = _student_with(tmp_path, {"still_min_score": {"dragon": 0.7}})
    with pytest.raises(CardError, match=r"names 'dragon'.*its labels: person, vehicle, animal"):
        load_classifier(ClassifierConfig(model=str(path)))


def test_firmware_config_refuses_a_card_with_still_bars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The board applies objects.still_min_score to every label: such a card would count
    # still objects differently there than in the daemon.
    path = _student_with(tmp_path, {"still_min_score": {"animal": 0.6}})
    cfg = tmp_path / "board.toml"
    cfg.write_text(f'[classifier]\nmodel = "{path}"\n', encoding="utf-8")
    capsys.readouterr()
    assert main(["firmware", "config", str(cfg), "--format", "params"]) == 10
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "per-label still bars" in err[0] and presets_mod.MCU_PRESET in err[0]
