"""TensorFlow Lite Micro's own interpreter (the pinned ``tflite-micro`` wheel) against LiteRT.

Runs in ``make test`` (no TFLM sources needed): every ``.tflite`` under ``visionedge/data/``
whose model card targets the MCU (a card with ``tflm.arena_bytes``, matched to the model by
sha256) is run on the same int8 input tensors by TFLM (reference kernels, as a board without
CMSIS-NN runs them) and by LiteRT's builtin kernels (no XNNPACK), and the int8 outputs must
be identical. The card's arena estimate is checked against TFLM's own allocation report
(RecordingMicroAllocator): the model must run in the card's arena, and the estimate may
exceed what TFLM allocates by at most ARENA_SLACK.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from fwkit import ROOT

DATA = ROOT / "visionedge" / "data"
ARENA_SLACK = 0.10
"""The card's arena may be up to 10 % larger than TFLM's allocation (never smaller)."""

runtime = pytest.importorskip(
    "tflite_micro.python.tflite_micro.runtime",
    reason="the tflite-micro wheel is not installed (scripts/setup.sh test installs the tflm extra)",
)


@dataclass(frozen=True)
class McuModel:
    """A shipped model whose card targets the MCU."""

    path: Path
    card: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.card["name"])


def mcu_models() -> list[McuModel]:
    """Every .tflite under visionedge/data with a card (same sha256) that has a TFLM arena."""
    cards: dict[str, dict[str, Any]] = {}
    for path in sorted(DATA.rglob("*.json")):
        try:
            card = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            continue
        if isinstance(card, dict) and str(card.get("format", "")).startswith("visionedge-model-card/"):
            cards[str(card.get("sha256", ""))] = card
    found = []
    for model in sorted(DATA.rglob("*.tflite")):
        card = cards.get(hashlib.sha256(model.read_bytes()).hexdigest())
        if card is not None and (card.get("tflm") or {}).get("arena_bytes"):
            found.append(McuModel(model, card))
    return found


MODELS = mcu_models()


def test_the_shipped_demo_model_is_covered() -> None:
    """The discovery cannot silently find nothing: the demo model's card targets the MCU."""
    assert "demo_int8" in {m.name for m in MODELS}, [m.path for m in MODELS]


def _litert(content: bytes) -> Any:
    from visionedge.classify.backends import resolve_backend

    # Builtin kernels, no XNNPACK: the kernels TFLM's reference kernels were ported from.
    _, factory = resolve_backend("auto", xnnpack=False)
    interp = factory(model_content=content, num_threads=1)
    interp.allocate_tensors()
    return interp


def _inputs(model: McuModel, count: int) -> list[npt.NDArray[np.int8]]:
    """The daemon's input tensors for crops of synthetic scenes, objects and backgrounds."""
    from visionedge.classify.normalization import range_to_normalization
    from visionedge.classify.preprocess import InputQuantizer, crop_rect, model_pixels
    from visionedge.synth import (
        CLASSES,
        default_scene,
        render_background,
        render_frames,
        render_object,
    )

    spec = model.card["input"]
    _, h, w, c = (int(v) for v in spec["shape"])
    assert spec["dtype"] == "int8", f"{model.name}: TFLM targets are int8, card says {spec['dtype']}"
    lo, hi = (float(v) for v in spec["real_range"])
    quant = InputQuantizer(range_to_normalization(lo, hi), c, "int8", float(spec["scale"]), int(spec["zero_point"]))
    rng = np.random.default_rng(11)
    images: list[tuple[npt.NDArray[np.uint8], tuple[int, int, int, int]]] = []
    for i in range(len(CLASSES) * 2):
        img = render_object(CLASSES[i % len(CLASSES)], max(h, w), rng)[0]
        images.append((img, (0, 0, img.shape[1], img.shape[0])))
    for _ in range(2):
        img = render_background(max(h, w), rng)
        images.append((img, (0, 0, img.shape[1], img.shape[0])))
    for index, (frame, truth) in enumerate(render_frames(default_scene(seed=3, width=320, height=180))):
        if len(images) >= count:
            break
        if index % 4 == 0 and truth.objects:
            rect = crop_rect(truth.objects[0].box, frame.shape[1], frame.shape[0], w / h, 0.15)
            images.append((frame, rect))
    tensors = [np.asarray(quant(model_pixels(img, rect, w, h, c)), np.int8) for img, rect in images[:count]]
    assert len(tensors) == count, f"only {len(tensors)} crops"
    return tensors


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_tflm_int8_outputs_equal_litert(model: McuModel, record_property: pytest.RecordProperty) -> None:
    content = model.path.read_bytes()
    lite = _litert(content)
    lin, lout = lite.get_input_details()[0], lite.get_output_details()[0]
    tflm = runtime.Interpreter.from_bytes(content, arena_size=int(model.card["tflm"]["arena_bytes"]))
    inputs = _inputs(model, 24)
    ours, theirs = [], []
    for x in inputs:
        lite.set_tensor(lin["index"], x)
        lite.invoke()
        theirs.append(np.array(lite.get_tensor(lout["index"]), np.int32).reshape(-1))
        tflm.set_input(x, 0)
        tflm.invoke()
        ours.append(np.array(tflm.get_output(0), np.int32).reshape(-1))
    a, b = np.stack(ours), np.stack(theirs)
    # The crops must not all give one answer, or "top-1 agrees" would say little.
    assert len(set(np.argmax(b, axis=1).tolist())) >= 2, f"{model.name}: every crop has the same top-1"
    largest = int(np.max(np.abs(a - b)))
    record_property("largest_int8_difference", largest)
    assert largest == 0, f"{model.name}: TFLM and LiteRT int8 outputs differ by up to {largest}"
    assert np.argmax(a, axis=1).tolist() == np.argmax(b, axis=1).tolist()


def _allocation_report(interp: Any, capfd: pytest.CaptureFixture[str]) -> dict[str, int]:
    capfd.readouterr()
    interp.print_allocations()  # RecordingMicroAllocator, printed by C++ on stderr
    text = capfd.readouterr().err
    found = dict(re.findall(r"Arena allocation (total|head|tail) (\d+) bytes", text))
    assert set(found) == {"total", "head", "tail"}, text
    return {k: int(v) for k, v in found.items()}


@pytest.mark.parametrize("model", MODELS, ids=[m.name for m in MODELS])
def test_card_arena_against_tflm_allocation(
    model: McuModel, capfd: pytest.CaptureFixture[str], record_property: pytest.RecordProperty
) -> None:
    content = model.path.read_bytes()
    card_arena = int(model.card["tflm"]["arena_bytes"])
    interp = runtime.Interpreter.from_bytes(content, arena_size=card_arena)  # must fit: raises if not
    x = _inputs(model, 1)[0]
    interp.set_input(x, 0)
    interp.invoke()
    used = _allocation_report(interp, capfd)
    record_property("tflm_arena_total", used["total"])
    print(f"\n{model.name}: card arena {card_arena} B, TFLM allocated {used['total']} B "
          f"(planned head {used['head']} B, card's plan {model.card['tflm'].get('arena_planned_bytes')} B)")
    assert used["total"] <= card_arena
    assert card_arena <= used["total"] * (1 + ARENA_SLACK), (
        f"{model.name}: card arena {card_arena} B is more than {ARENA_SLACK:.0%} above TFLM's {used['total']} B"
    )
    # And the report is the real bound: an arena 1 KiB short of it does not allocate.
    with pytest.raises(RuntimeError):
        short = runtime.Interpreter.from_bytes(content, arena_size=used["total"] - 1024)
        short.set_input(x, 0)
        short.invoke()
