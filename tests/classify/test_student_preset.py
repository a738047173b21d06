"""The student presets trained here (tiny_pva, RGB; tiny_pva_gray, the gray MCU preset the
firmware links): card matches the model, MCU-size, provenance recorded, background never an
event label."""

from __future__ import annotations

import json

import numpy as np
import pytest

from visionedge.classify import installed_backends, load_classifier
from visionedge.classify.backends import resolve_backend
from visionedge.classify.presets import PRESETS_DIR
from visionedge.config import ClassifierConfig
from visionedge.protocols import Box

STUDENTS = {"tiny_pva": 3, "tiny_pva_gray": 1}
"""Preset -> input channels."""
pytestmark = pytest.mark.parametrize("name", sorted(STUDENTS))


def _card(name: str) -> dict:  # type: ignore[type-arg]
    card: dict = json.loads((PRESETS_DIR / name / "card.json").read_text())  # type: ignore[type-arg]
    return card


def test_the_card_describes_the_model_file(name: str) -> None:
    import hashlib

    card = _card(name)
    D = PRESETS_DIR / name
    content = (D / card["file"]).read_bytes()
    assert hashlib.sha256(content).hexdigest() == card["sha256"] == card["preset"]["source"]["sha256"]
    assert len(content) == card["bytes"]
    _, factory = resolve_backend(installed_backends()[0], xnnpack=False)
    interp = factory(model_content=content, num_threads=1)
    interp.allocate_tensors()
    inp, out = interp.get_input_details()[0], interp.get_output_details()[0]
    assert list(inp["shape"]) == card["input"]["shape"] == [1, 96, 96, STUDENTS[name]]
    assert list(out["shape"]) == card["output"]["shape"] == [1, len(card["labels"])]
    assert inp["quantization"] == (card["input"]["scale"], card["input"]["zero_point"])
    assert out["quantization"] == (card["output"]["scale"], card["output"]["zero_point"])
    assert card["labels"] == ["animal", "background", "person", "vehicle"]


def test_it_fits_the_mcu_target_in_the_format_the_firmware_reads(name: str) -> None:
    card = _card(name)
    mcu = card["preset"]["mcu"]
    assert card["bytes"] <= 300 * 1024
    assert mcu["arena_bytes"] == card["tflm"]["arena_bytes"] <= 150 * 1024
    assert set(card["operators"]) <= set(card["tflm"]["resolver"])


def test_provenance_names_backbone_licence_and_data_split_by_clip(name: str) -> None:
    card = _card(name)
    src = card["preset"]["source"]
    assert card["preset"]["licence"] == src["licence"] == "Apache-2.0"
    assert src["backbone"]["licence"] == "Apache-2.0" and len(src["backbone"]["commit"]) == 40
    data = card["preset"]["data"]
    train = {c["clip"] for c in data["train_clips"]}
    test = {c["clip"] for c in data["test_clips"]}
    assert train and test and not train & test
    assert all(c["licence"] and c["source"] for c in data["train_clips"] + data["test_clips"])
    stills = data.get("train_stills", [])
    assert all(s["licence"] and s["source"] and s["id"] not in test for s in stills)
    notice = (PRESETS_DIR / name / "NOTICE").read_text()
    assert card["sha256"] in notice and src["backbone"]["commit"] in notice


def test_background_is_scored_but_never_a_label(name: str) -> None:
    clf = load_classifier(ClassifierConfig(model=name, threshold=0.0))
    assert clf.labels == ("person", "vehicle", "animal")
    flat = np.full((120, 160, 3), 128, np.uint8)
    result = clf.classify_image(flat, Box(0.2, 0.2, 0.8, 0.8))
    # A flat gray crop is the student's "background": no user label passes the card's 0.5.
    strict = load_classifier(ClassifierConfig(model=name))
    assert strict.classify_image(flat, Box(0.2, 0.2, 0.8, 0.8)).best is None
    assert all(p.label != "background" for p in result.top)
    assert strict.reports_raw_labels
