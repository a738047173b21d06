"""The shipped demo model (package data) is what its card says and fits an MCU."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from visionedge.train.evaluate import installed_backends
from visionedge.train.export import arena_estimate, model_card
from visionedge.train.flatbuffer import parse_tflite

DATA = Path(__file__).resolve().parents[2] / "visionedge" / "data"
DEMO = Path(__file__).resolve().parents[2] / "models" / "demo"


def test_card_matches_the_model_and_labels() -> None:
    content = (DATA / "demo_int8.tflite").read_bytes()
    card = json.loads((DATA / "demo_card.json").read_text())
    labels = (DATA / "demo_labels.txt").read_text().split("\n")[:-1]
    assert card["sha256"] == hashlib.sha256(content).hexdigest()
    assert card["labels"] == labels == ["animal", "background", "person", "vehicle"]
    # Recomputing the card from the model gives the same specs (the card is not stale).
    fresh = model_card(content, labels, name=card["name"])
    for key in ("input", "output", "operators", "tflm"):
        assert fresh[key] == card[key], key


def test_fits_the_mcu_budgets() -> None:
    content = (DATA / "demo_int8.tflite").read_bytes()
    assert len(content) <= 300 * 1024
    info = parse_tflite(content)
    assert arena_estimate(info).recommended_bytes <= 150 * 1024
    tin = info.tensors[info.inputs[0]]
    assert (tin.dtype, tin.shape) == ("int8", (1, 96, 96, 1))


def test_models_demo_holds_the_same_model() -> None:
    if not (DEMO / "card.json").exists():
        pytest.fail("models/demo/card.json is missing; run `visionedge model build-demo "
                    "--out models/demo --install`")
    shipped = json.loads((DATA / "demo_card.json").read_text())
    committed = json.loads((DEMO / "card.json").read_text())
    assert committed["sha256"] == shipped["sha256"]
    from visionedge.train.export import c_array_bytes

    assert c_array_bytes((DEMO / "model_data.cc").read_text()) == (
        DATA / "demo_int8.tflite").read_bytes()


@pytest.mark.parametrize("backend", [b for b in installed_backends() if b != "tensorflow"])
def test_classifies_rendered_objects(backend: str) -> None:
    """Clearly drawn people, vehicles and animals mostly come out as such."""
    import numpy as np
    from models_helpers import raw_outputs

    from visionedge.synth import render_object
    from visionedge.train.dataset import preprocess

    labels = (DATA / "demo_labels.txt").read_text().split()
    rng = np.random.default_rng(12345)
    x, y = [], []
    for cls in ("person", "vehicle", "animal"):
        for _ in range(10):
            img, _ = render_object(cls, 128, rng)
            x.append(preprocess(img, 96, "gray"))
            y.append(labels.index(cls))
    raw = raw_outputs(backend, DATA / "demo_int8.tflite", np.stack(x))
    hits = int(np.sum(np.argmax(raw, axis=1) == np.asarray(y)))
    assert hits >= 0.8 * len(y), f"{hits}/{len(y)} rendered objects classified correctly"
