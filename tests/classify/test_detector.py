"""The detector kind (COCO SSD) and the cascade's ``locate`` check, on a real photo.

The scene: the real cat photo of the test images pasted onto a plain noisy wall. A motion
box on the cat is the cat; a box on the bare wall beside it, grown to the same crop, shows
the cat too, which is how a classifier comes to *borrow* the cat's label for the wall.
"""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from visionedge.classify import load_classifier
from visionedge.classify.cascade import CascadeClassifier
from visionedge.classify.detector import Detection, TfliteDetector, overlap
from visionedge.classify.presets import DEFAULT_PRESET, PRESETS_DIR
from visionedge.config import ClassifierConfig
from visionedge.errors import CardError, ModelError
from visionedge.protocols import Box

IMAGES = Path(__file__).parent / "images"
W, H = 640, 360


def _px(x0: float, y0: float, x1: float, y1: float) -> Box:
    return Box(x0 / W, y0 / H, x1 / W, y1 / H)


CROP = _px(150, 40, 400, 300)
"""The grown crop both boxes are classified on: the cat's hind half and the wall right of it."""
ON_CAT = _px(160, 90, 280, 200)
BESIDE = _px(320, 100, 380, 200)


@pytest.fixture(scope="module")
def scene() -> np.ndarray:
    cat = cv2.imread(str(IMAGES / "cat.jpg"), cv2.IMREAD_COLOR)
    assert cat is not None
    rng = np.random.default_rng(0)
    canvas = np.clip(rng.normal(120, 6, (H, W, 3)), 0, 255).astype(np.uint8)
    canvas[60:220, 60:300] = cv2.resize(cat, (240, 160), interpolation=cv2.INTER_AREA)
    return canvas


@pytest.fixture(scope="module")
def detector() -> TfliteDetector:
    clf = load_classifier(ClassifierConfig(model="coco_ssd"))
    assert isinstance(clf, TfliteDetector)
    return clf


def test_overlap_is_a_share_of_the_smaller_box() -> None:
    walker = Detection(0, 0.9, 0.0, 0.0, 40.0, 100.0)
    # The walker's legs lie inside the walker; so does the walker inside a big motion box.
    assert overlap(walker, 10.0, 50.0, 20.0, 60.0) == pytest.approx(1.0)
    assert overlap(walker, 0.0, 0.0, 400.0, 400.0) == pytest.approx(1.0)
    assert overlap(walker, 20.0, 0.0, 60.0, 100.0) == pytest.approx(0.5)
    assert overlap(walker, 100.0, 0.0, 140.0, 100.0) == 0.0


def test_the_detector_finds_the_cat_where_it_is(scene: np.ndarray, detector: TfliteDetector) -> None:
    dets = detector.detect(scene, CROP)
    best = dets[0]
    assert detector.model_labels[best.index] == "cat" and best.score >= 0.5
    # Its box, in frame pixels, is on the pasted photo (60..300 x 60..220), not the wall.
    assert best.x0 >= 60 and best.y0 >= 60 and best.x1 <= 300 and best.y1 <= 230
    assert [d.score for d in dets] == sorted((d.score for d in dets), reverse=True)


def test_a_box_beside_the_cat_does_not_borrow_its_label(
    scene: np.ndarray, detector: TfliteDetector
) -> None:
    on = detector.classify_object_image(scene, CROP, ON_CAT)
    assert on.best is not None and on.best.label == "animal" and on.raw_label == "cat"
    beside = detector.classify_object_image(scene, CROP, BESIDE)
    assert beside.best is None
    # In motion mode the box is the crop: everything the detector finds in it counts.
    whole = detector.classify_image(scene, CROP)
    assert whole.best is not None and whole.best.label == "animal"


def _write_cascade(tmp_path: Path, name: str, stages: list[dict[str, object]],
                   locate: dict[str, object]) -> Path:
    """A cascade card of ``stages``, with a ``locate`` section on coco_ssd when ``locate``."""
    preset: dict[str, object] = {"kind": "cascade", "stages": stages}
    if locate:
        preset["locate"] = {"preset": "coco_ssd", **locate}
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps({"format": "visionedge-model-card/1", "name": name, "preset": preset}))
    return path


def _cascade_card(tmp_path: Path, name: str, **locate: object) -> Path:
    """A cascade of the ImageNet preset alone (which names whatever its crop shows: it claims
    animals, then answers the rest), with a ``locate`` section when ``locate`` is given."""
    stages: list[dict[str, object]] = [
        {"preset": "mobilenet_v1_075", "claims": "animal", "min_score": 0.15},
        {"preset": "mobilenet_v1_075"},
    ]
    return _write_cascade(tmp_path, name, stages, locate)


def _located_card(tmp_path: Path, **locate: object) -> Path:
    return _cascade_card(tmp_path, "located", min_score=0.5, **locate)


def test_the_cascade_drops_a_label_the_detector_places_beside_the_box(
    scene: np.ndarray, tmp_path: Path
) -> None:
    plain = load_classifier(ClassifierConfig(model=str(_cascade_card(tmp_path, "plain"))))
    located = load_classifier(ClassifierConfig(model=str(_located_card(tmp_path))))
    assert isinstance(plain, CascadeClassifier) and isinstance(located, CascadeClassifier)
    # The ImageNet model borrows the cat for the wall; with locate, the wall has no label.
    borrowed = plain.classify_object_image(scene, CROP, BESIDE)
    assert borrowed.best is not None and borrowed.best.label == "animal"
    assert located.classify_object_image(scene, CROP, BESIDE).best is None
    kept = located.classify_object_image(scene, CROP, ON_CAT)
    assert kept.best is not None and kept.best.label == "animal"
    assert located._locator is not None and located._locator.checks == 2
    # Motion mode has no object box to check: the crop's answer is the cascade's own.
    assert located.classify_image(scene, CROP).top == plain.classify_image(scene, CROP).top
    assert located._locator.checks == 2


def test_the_located_preset_counts_its_detector_in_its_size() -> None:
    from visionedge.classify.presets import describe

    # The detector changes the answers: it is part of the model identity events carry.
    located = load_classifier(ClassifierConfig(model="person_vehicle_animal_ssd"))
    assert located.sha256 != load_classifier(ClassifierConfig()).sha256
    ssd, plain = describe("person_vehicle_animal_ssd"), describe(DEFAULT_PRESET)
    assert ssd["bytes"] == int(str(plain["bytes"])) + int(str(describe("coco_ssd")["bytes"]))
    assert "300x300x3" in str(ssd["input"])


def test_the_located_preset_is_the_default_and_a_detector() -> None:
    # "The default + locate": a change to the default's stages must reach it too.
    ssd = json.loads((PRESETS_DIR / "person_vehicle_animal_ssd" / "card.json").read_text())["preset"]
    plain = json.loads((PRESETS_DIR / DEFAULT_PRESET / "card.json").read_text())["preset"]
    assert ssd.pop("locate")["preset"] == "coco_ssd"
    assert {k: v for k, v in ssd.items() if k != "measured"} == {
        k: v for k, v in plain.items() if k != "measured"}


def _person_claim_card(tmp_path: Path, name: str, **locate: object) -> Path:
    """``person_detect`` claims people at 0.5 (it gives the cat 0.65), ImageNet answers the
    rest; with ``locate`` when given."""
    stages: list[dict[str, object]] = [
        {"preset": "person_detect", "claims": "person", "min_score": 0.5},
        {"preset": "mobilenet_v1_075"},
    ]
    return _write_cascade(tmp_path, name, stages, locate)


def test_the_detector_overrules_a_person_claim_on_an_animal(scene: np.ndarray, tmp_path: Path) -> None:
    claimed = load_classifier(ClassifierConfig(model=str(_person_claim_card(tmp_path, "claim"))))
    said = claimed.classify_object_image(scene, CROP, ON_CAT)  # type: ignore[union-attr]
    assert said.best is not None and said.best.label == "person"
    # Borrowing alone does not touch it: no person anywhere for the label to come from.
    borrow = load_classifier(ClassifierConfig(model=str(_person_claim_card(tmp_path, "b", min_score=0.5))))
    assert borrow.classify_object_image(scene, CROP, ON_CAT).best.label == "person"  # type: ignore[union-attr]
    over = load_classifier(ClassifierConfig(
        model=str(_person_claim_card(tmp_path, "over", overrule=["person"], overrule_score=0.6))))
    result = over.classify_object_image(scene, CROP, ON_CAT)  # type: ignore[union-attr]
    assert result.best is not None and result.best.label == "animal"
    assert result.raw_label == "cat" and result.raw_score is not None and result.raw_score >= 0.6
    # A bar above the detector's score leaves the claim alone.
    high = load_classifier(ClassifierConfig(
        model=str(_person_claim_card(tmp_path, "high", overrule=["person"], overrule_score=0.95))))
    assert high.classify_object_image(scene, CROP, ON_CAT).best.label == "person"  # type: ignore[union-attr]


def test_a_box_that_fills_its_crop_is_not_checked(scene: np.ndarray, tmp_path: Path) -> None:
    located = load_classifier(ClassifierConfig(model=str(_located_card(tmp_path, max_fill_pct=2))))
    assert isinstance(located, CascadeClassifier) and located._locator is not None
    # BESIDE covers 9 % of CROP, over max_fill_pct: the detector never runs.
    result = located.classify_object_image(scene, CROP, BESIDE)
    assert result.best is not None and located._locator.checks == 0


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda p: p.update(locate={"preset": "mobilenet_v1_075"}), "not a detector preset"),
        (lambda p: p.update(locate={"preset": "coco_ssd", "min_score": 2}), "'locate' holds preset"),
        (lambda p: p.update(locate={"preset": "coco_ssd", "colour": 1}), "'locate' holds preset"),
        (lambda p: p.update(locate="coco_ssd"), "'locate' holds preset"),
        (lambda p: p["stages"].insert(0, {"preset": "coco_ssd", "claims": "person", "tiles": 2}),
         "cuts detector 'coco_ssd' into tiles"),
        (lambda p: p.update(locate={"preset": "coco_ssd", "overrule": "person"}), "'locate' holds preset"),
        (lambda p: p.update(locate={"preset": "coco_ssd", "overrule": ["cow"]}),
         "'locate.overrule' names 'cow'"),
    ],
)
def test_a_bad_locate_section_is_one_card_error(tmp_path: Path, edit: object, match: str) -> None:
    card = json.loads((PRESETS_DIR / DEFAULT_PRESET / "card.json").read_text())
    edit(card["preset"])  # type: ignore[operator]
    path = tmp_path / "card.json"
    path.write_text(json.dumps(card))
    with pytest.raises(CardError, match=match) as exc:
        load_classifier(ClassifierConfig(model=str(path)))
    assert "\n" not in str(exc.value) and str(path) in str(exc.value)


def _copy_preset(name: str, tmp_path: Path) -> Path:
    src = PRESETS_DIR / name
    dst = tmp_path / name
    dst.mkdir()
    for f in src.iterdir():
        (dst / f.name).write_bytes(f.read_bytes())
    return dst / "card.json"


def _model_beside(card_path: Path) -> str:
    """The model file a card names (a path with its card beside it, as a user exports one)."""
    return str(card_path.parent / json.loads(card_path.read_text())["file"])


def test_detector_cards_that_contradict_their_model_are_refused(tmp_path: Path) -> None:
    # A detector read as a classifier (a card without its kind): four outputs, one line.
    card_path = _copy_preset("coco_ssd", tmp_path)
    card = json.loads(card_path.read_text())
    del card["preset"]["kind"], card["preset"]["detect"]
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"4 outputs.*kind \"detector\"") as exc:
        load_classifier(ClassifierConfig(model=_model_beside(card_path)))
    assert "\n" not in str(exc.value)
    # A classifier's card saying "detector": its one output is no detector's.
    clf_path = _copy_preset("mobilenet_v1_075", tmp_path)
    clf = json.loads(clf_path.read_text())
    clf["preset"]["kind"] = "detector"
    clf_path.write_text(json.dumps(clf))
    with pytest.raises(CardError, match=r"kind 'detector'.*TFLite_Detection_PostProcess"):
        load_classifier(ClassifierConfig(model=_model_beside(clf_path)))
    # 'detect' belongs to detector cards, 'locate' to cascades.
    clf["preset"]["kind"] = "classifier"
    clf["preset"]["detect"] = {"min_overlap": 0.5}
    clf_path.write_text(json.dumps(clf))
    with pytest.raises(CardError, match="'detect' is for detector cards"):
        load_classifier(ClassifierConfig(model=_model_beside(clf_path)))
    del clf["preset"]["detect"]
    clf["preset"]["locate"] = {"preset": "coco_ssd"}
    clf_path.write_text(json.dumps(clf))
    with pytest.raises(CardError, match="'locate' is for cascade cards"):
        load_classifier(ClassifierConfig(model=_model_beside(clf_path)))
