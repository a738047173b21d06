"""The box an object is classified on: grown to the card's ``objects.min_crop_px``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_events import H, Labeller, W, run, walker

from visionedge.classify.card import read_card
from visionedge.classify.presets import DEFAULT_PRESET, MCU_PRESET, PRESETS_DIR
from visionedge.errors import CardError
from visionedge.frame import Frame
from visionedge.objects.crop import fill_pct, grow_to, tight_to
from visionedge.protocols import Box, Classification


def px(b: Box, w: int, h: int) -> tuple[float, float, float, float]:
    return (round(b.x0 * w, 6), round(b.y0 * h, 6), round(b.x1 * w, 6), round(b.y1 * h, 6))


def test_a_small_box_grows_about_its_centre_and_stays_inside_the_frame() -> None:
    # 20x10 px at (100..120, 50..60) of 320x240, grown to 64: centred on (110, 55).
    assert px(grow_to(Box(100 / 320, 50 / 240, 120 / 320, 60 / 240), 320, 240, 64), 320, 240) == (
        78.0, 23.0, 142.0, 87.0)
    # At the left edge: shifted right, not cut.
    assert px(grow_to(Box(0.0, 50 / 240, 10 / 320, 60 / 240), 320, 240, 64), 320, 240) == (
        0.0, 23.0, 64.0, 87.0)
    # Bigger than min_px in one direction: that side is kept, the other grows.
    assert px(grow_to(Box(0.0, 0.0, 100 / 320, 20 / 240), 320, 240, 64), 320, 240) == (
        0.0, 0.0, 100.0, 64.0)
    # Never past the whole frame; 0 keeps the box.
    assert px(grow_to(Box(0.4, 0.4, 0.5, 0.5), 320, 240, 1000), 320, 240) == (0.0, 0.0, 320.0, 240.0)
    b = Box(0.4, 0.4, 0.5, 0.5)
    assert grow_to(b, 320, 240, 0) == b


def test_the_default_preset_grows_object_crops_the_board_models_do_not() -> None:
    cards = {n: read_card(PRESETS_DIR / n / "card.json") for n in (DEFAULT_PRESET, MCU_PRESET, "demo")}
    assert cards[DEFAULT_PRESET].object_min_crop_px > 0
    assert cards[MCU_PRESET].object_min_crop_px == 0 and cards["demo"].object_min_crop_px == 0


@pytest.mark.parametrize("objects", [{"min_crop_px": -1}, {"min_crop_px": 1.5}, {"min_crop": 96}, [96],
                                     {"classify_per_frame": 0}, {"classify_per_frame": True},
                                     {"min_fill_pct": -1}, {"min_fill_pct": 101}, {"min_fill_pct": 2.5}])
def test_a_bad_objects_section_is_refused(tmp_path: Path, objects: object) -> None:
    card = json.loads((PRESETS_DIR / "demo" / "card.json").read_text())
    card.setdefault("preset", {})["objects"] = objects
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card))
    with pytest.raises(CardError, match="min_crop_px"):
        read_card(path)


class Growing(Labeller):
    object_min_crop_px = 64


def test_the_stage_classifies_the_grown_box() -> None:
    # A 12x30 walker in a 160x120 frame: classified on 64x64 around its centre.
    clf, plain = Growing(), Labeller()
    script = [[b] for b in walker(4, 5, 26)] + [[]] * 20
    run(script, {}, clf)
    run(script, {}, plain)
    assert clf.calls and len(clf.calls) == len(plain.calls)
    for (fa, a), (fb, b) in zip(clf.calls, plain.calls, strict=True):
        assert fa == fb and a is not None and b is not None
        assert round((a.x1 - a.x0) * W) == 64 and round((a.y1 - a.y0) * H) == 64
        # Same centre (unless shifted inside the frame at the edge).
        if a.x0 > 0 and a.x1 < 1:
            assert abs((a.x0 + a.x1) - (b.x0 + b.x1)) < 1e-9


def test_fill_is_the_boxs_share_of_its_grown_crop() -> None:
    # 16x16 px of 320x240 grown to 64x64: 256 / 4096 = 6.25 %.
    assert fill_pct(Box(100 / 320, 50 / 240, 116 / 320, 66 / 240), 320, 240, 64) == pytest.approx(6.25)
    # Bigger than the crop in one direction: 100x20 grown to 100x64.
    assert fill_pct(Box(0.0, 0.0, 100 / 320, 20 / 240), 320, 240, 64) == pytest.approx(31.25)
    assert fill_pct(Box(0.0, 0.0, 0.5, 0.5), 320, 240, 64) == pytest.approx(100.0)


class Filling(Growing):
    object_min_fill_pct = 4


def test_a_box_lost_in_its_grown_crop_is_not_classified() -> None:
    # A 12x30 walker fills 360 / 4096 = 8.8 % of its 64 px crop; a 10x10 speck 2.4 %.
    big, speck = walker(4, 5, 26), walker(4, 5, 26, y=80, w=10, h=10)
    clf, plain = Filling(), Growing()
    run([[b] for b in big] + [[]] * 20, {}, clf)
    run([[b] for b in big] + [[]] * 20, {}, plain)
    assert clf.calls and clf.calls == plain.calls  # at 4 % the walker is classified as before
    lone = Filling()
    events = run([[b] for b in speck] + [[]] * 20, {}, lone).events
    assert lone.calls == [] and events  # the speck is tracked and published, never classified
    assert all(e["label"] is None for e in events)


class Busy(Labeller):
    object_classify_per_frame = 2


def three_walkers() -> list[list[tuple[int, int, int, int]]]:
    ws = (walker(4, 5, 26, y=5), walker(140, -5, 26, y=45), walker(4, 5, 26, y=85))
    return [list(boxes) for boxes in zip(*ws, strict=True)] + [[]] * 20


def per_frame_calls(objects: dict[str, object]) -> int:
    """Most classifications on one frame, three walkers in view (0: none at all)."""
    clf = Busy()
    run(three_walkers(), {"objects": objects} if objects else {}, clf)
    frames = [f for f, _ in clf.calls]
    return max((frames.count(f) for f in set(frames)), default=0)


def test_the_cards_classify_per_frame_replaces_only_the_built_in_default() -> None:
    assert per_frame_calls({}) == 2
    assert per_frame_calls({"classify_per_frame": 1}) == 2  # the built-in default: the card's
    assert per_frame_calls({"classify_per_frame": 3}) == 3
    # 0: moving objects are never classified (the idle sample only), whatever the card says.
    assert per_frame_calls({"classify_per_frame": 0}) == 0


def test_a_tight_crop_is_the_box_squared_to_its_longer_side() -> None:
    # 20x10 px at (100..120, 50..60) of 320x240: 20x20 about its centre, or min_px if larger.
    b = Box(100 / 320, 50 / 240, 120 / 320, 60 / 240)
    assert px(tight_to(b, 320, 240, 0), 320, 240) == (100.0, 45.0, 120.0, 65.0)
    assert px(tight_to(b, 320, 240, 32), 320, 240) == (94.0, 39.0, 126.0, 71.0)
    # Never past the frame.
    assert px(tight_to(Box(0.0, 0.0, 0.9, 0.1), 320, 240, 48), 320, 240) == (0.0, 0.0, 288.0, 240.0)
    assert px(tight_to(Box(0.0, 0.0, 0.1, 1.0), 320, 240, 48), 320, 240) == (0.0, 0.0, 240.0, 240.0)


class Confirming(Growing):
    """A cascade's second look at the seam: records the grown box and the object's own box."""

    def __init__(self) -> None:
        super().__init__()
        self.looks: list[tuple[Box, Box]] = []

    def classify_object(self, f: Frame, box: Box, own: Box) -> Classification:
        self.looks.append((box, own))
        return self.classify(f, box)


def test_the_stage_gives_a_second_look_the_objects_own_box() -> None:
    clf, plain = Confirming(), Growing()
    script = [[b] for b in walker(4, 5, 26)] + [[]] * 20
    assert run(script, {}, clf).events == run(script, {}, plain).events
    assert clf.looks and [b for b, _ in clf.looks] == [b for _, b in plain.calls]
    for grown, own in clf.looks:
        # The walker's own 12x30 box, inside the 64 px crop it was grown to.
        assert round((own.x1 - own.x0) * W) == 12 and round((own.y1 - own.y0) * H) == 30
        assert grown.x0 <= own.x0 <= own.x1 <= grown.x1 and grown.y0 <= own.y0 <= own.y1 <= grown.y1
