"""Cascade stage settings and excluded labels, on the real models and real images."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from scriptkit import load_script

from visionedge.classify import load_classifier
from visionedge.classify import presets as presets_mod
from visionedge.classify.card import read_card
from visionedge.classify.cascade import CascadeClassifier
from visionedge.classify.classifier import TfliteClassifier
from visionedge.config import ClassifierConfig
from visionedge.errors import CardError, ModelError

IMAGES = Path(__file__).parent / "images"
CATS = ["tabby", "tiger cat", "Egyptian cat", "Persian cat", "Siamese cat"]


def _presets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: dict[str, Any],
             vote: object = None) -> Path:
    """A presets folder: the real stage presets plus a cascade ``pva`` with ``stage`` last."""
    root = tmp_path / "models"
    root.mkdir(parents=True)
    for name in ("person_detect", "mobilenet_v1_075"):
        (root / name).symlink_to(presets_mod.PRESETS_DIR / name)
    preset: dict[str, Any] = {
        "kind": "cascade",
        "stages": [{"preset": "person_detect", "claims": "person", "min_score": 0.8}, stage],
    }
    if vote is not None:
        preset["vote"] = vote
    (root / "pva").mkdir()
    (root / "pva" / "card.json").write_text(json.dumps(
        {"format": "visionedge-model-card/1", "name": "pva", "preset": preset}))
    monkeypatch.setattr(presets_mod, "PRESETS_DIR", root)
    return root / "pva" / "card.json"


def _generalist(clf: object) -> TfliteClassifier:
    """The cascade's ImageNet stage (the last one, or the one before a learned head)."""
    assert isinstance(clf, CascadeClassifier)
    last = next(s for s in reversed(clf.stages) if s.name == "mobilenet_v1_075")
    assert isinstance(last, TfliteClassifier)
    return last


def test_excluded_labels_count_for_no_user_label(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cat = cv2.imread(str(IMAGES / "cat.jpg"), cv2.IMREAD_COLOR)
    _presets(tmp_path, monkeypatch, {"preset": "mobilenet_v1_075"})
    plain = _generalist(load_classifier(ClassifierConfig(model="pva")))
    raw = plain.scores(cat)
    before, _ = plain.user_scores(cat)
    animal = plain.labels.index("animal")
    cat_ids = [i for i, label in enumerate(plain.model_labels) if label.split(",")[0] in CATS]
    assert len(cat_ids) == len(CATS) and raw[cat_ids].sum() > 0.3  # the image is mostly "cat"

    _presets(tmp_path / "b", monkeypatch, {"preset": "mobilenet_v1_075", "exclude": CATS})
    clf = load_classifier(ClassifierConfig(model="pva"))
    gen = _generalist(clf)
    after, _ = gen.user_scores(cat)
    # The excluded labels' scores left "animal" and went to no user label; nothing else moved.
    assert after[animal] == pytest.approx(before[animal] - raw[cat_ids].sum(), abs=1e-5)
    assert np.delete(after, animal) == pytest.approx(np.delete(before, animal), abs=1e-6)
    assert gen.label_map is not None
    assert all(gen.label_map.user_label_of(i) == "" for i in cat_ids)


def test_stage_settings_override_the_stage_presets_card(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _presets(tmp_path, monkeypatch, {"preset": "mobilenet_v1_075", "settings": {"threshold": 0.25}})
    gen = _generalist(load_classifier(ClassifierConfig(model="pva")))
    assert gen._cfg.threshold == 0.25
    # A threshold the user sets still wins over the card's.
    gen = _generalist(load_classifier(ClassifierConfig(model="pva", threshold=0.4)))
    assert gen._cfg.threshold == 0.4


def test_a_stage_per_label_threshold_decides_what_passes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The default card lowers only the ImageNet stage's "animal" threshold: a score between
    # the per-label and the general threshold passes for that label and no other.
    cat = cv2.imread(str(IMAGES / "cat.jpg"), cv2.IMREAD_COLOR)
    _presets(tmp_path, monkeypatch, {"preset": "mobilenet_v1_075"})
    scores, _ = _generalist(load_classifier(ClassifierConfig(model="pva"))).user_scores(cat)
    gen = _generalist(load_classifier(ClassifierConfig(model="pva")))
    animal = float(scores[gen.labels.index("animal")])
    assert 0.05 < animal < 0.99

    def labels(settings: dict[str, Any], where: Path) -> list[str]:
        _presets(where, monkeypatch, {"preset": "mobilenet_v1_075", "settings": settings})
        stage = _generalist(load_classifier(ClassifierConfig(model="pva")))
        return [p.label for p in stage.classify_image(cat).top]

    above, below = animal + 0.005, animal - 0.02
    assert labels({"threshold": above}, tmp_path / "a") == []
    assert labels({"threshold": above, "thresholds": {"animal": below}}, tmp_path / "b") == ["animal"]
    assert "animal" not in labels({"threshold": below, "thresholds": {"animal": above}}, tmp_path / "c")


def test_the_default_preset_is_what_its_card_says() -> None:
    clf = load_classifier(ClassifierConfig())
    card = read_card(presets_mod.PRESETS_DIR / presets_mod.DEFAULT_PRESET / "card.json")
    gen = _generalist(clf)
    imagenet = [s for s in card.stages if s.preset == "mobilenet_v1_075"]
    assert [(s.claims, s.min_score) for s in imagenet] == [("animal", 0.15), ("vehicle", 0.25)]
    assert gen._cfg.threshold == imagenet[0].settings["threshold"] == 0.25
    assert gen._cfg.thresholds == imagenet[0].settings["thresholds"] == {"animal": 0.1}
    # Both ImageNet stages are one interpreter, and the head's backbone run answers it.
    assert isinstance(clf, CascadeClassifier)
    assert clf.stages[2] is clf.stages[3] is gen
    head = clf.stages[-1]
    assert card.stages[-1].preset == "pva_head" and head._cfg.threshold == 0.25
    assert id(gen) in clf._shared and clf._shared[id(gen)] == (head, gen)
    # So the ImageNet stage's own interpreter is freed (~3 MB): it never runs.
    with pytest.raises(ModelError, match="freed"):
        gen.scores(np.zeros((64, 64, 3), np.uint8))
    assert clf.classify_image(np.full((64, 64, 3), 90, np.uint8)).classify_us > 0
    assert clf.min_agree == card.min_agree == 2
    assert clf.min_share == card.min_share == 0.2 and not card.plain_vote
    assert gen.label_map is not None
    for name in ("dugong", "nematode", "great white shark", "warplane", "airliner"):
        i = next(k for k, label in enumerate(gen.model_labels) if label.split(",")[0] == name)
        assert gen.label_map.user_label_of(i) == ""
    for name in ("tabby", "brown bear", "isopod", "sports car"):
        i = next(k for k, label in enumerate(gen.model_labels) if label.split(",")[0] == name)
        assert gen.label_map.user_label_of(i) in ("animal", "vehicle")


@pytest.mark.parametrize(
    ("stage", "vote", "match"),
    [
        ({"preset": "mobilenet_v1_075", "settings": {"every_n_frames": 2}}, None, "settings"),
        ({"preset": "mobilenet_v1_075", "exclude": "dugong"}, None, "exclude"),
        ({"preset": "mobilenet_v1_075"}, {"min_agree": 0}, "min_agree"),
        ({"preset": "mobilenet_v1_075"}, {"min_agree": 1.5}, "min_agree"),
        ({"preset": "mobilenet_v1_075"}, [2], "min_agree"),
        ({"preset": "mobilenet_v1_075"}, {"min_share": 1.5}, "min_share"),
        ({"preset": "mobilenet_v1_075"}, {"min_share": "a fifth"}, "min_share"),
        ({"preset": "mobilenet_v1_075"}, {"min_agree": 2, "share": 0.2}, "min_share"),
    ],
)
def test_bad_stage_settings_and_votes_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: dict[str, Any], vote: object, match: str
) -> None:
    card = _presets(tmp_path, monkeypatch, stage, vote)
    with pytest.raises(CardError, match=match):
        read_card(card)


def test_excluding_a_label_the_map_does_not_have_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "cellular telephone" is an ImageNet label, but no user label counts it: naming it is a
    # typo-class mistake (the exclusion would do nothing), so the load fails and says so.
    _presets(tmp_path, monkeypatch, {"preset": "mobilenet_v1_075", "exclude": ["dugong", "cellular telephone"]})
    with pytest.raises(CardError, match=r"'cellular telephone'.*does not map"):
        load_classifier(ClassifierConfig(model="pva"))


def _mosaic() -> np.ndarray:
    """Four real images of 96x96 in a 192x192 frame: a person top left, then cat, traffic, cat.

    At exactly twice person_detect's input size no tile is resized, so each tile's tensor is
    the tensor of that quarter alone.
    """
    small = [cv2.resize(cv2.imread(str(IMAGES / n), cv2.IMREAD_COLOR), (96, 96), interpolation=cv2.INTER_AREA)
             for n in ("grace_hopper.jpg", "cat.jpg", "traffic.jpg", "cat.jpg")]
    return np.vstack([np.hstack(small[:2]), np.hstack(small[2:])])


def test_tiled_scores_are_the_best_quarter() -> None:
    pd = load_classifier(ClassifierConfig(model="person_detect"))
    assert isinstance(pd, TfliteClassifier)
    m = _mosaic()
    quarters = [m[:96, :96], m[:96, 96:], m[96:, :96], m[96:, 96:]]
    each = [float(pd.user_scores(q)[0][0]) for q in quarters]
    tiled, raw = pd.tiled_user_scores(m, None, 2)
    assert float(tiled[0]) == max(each) == each[0]  # the person quarter
    assert raw is not None and raw.label == "person"
    # The same quarters from a box: tiles cut the box's crop, not the frame.
    frame = np.zeros((400, 600, 3), np.uint8)
    frame[100:292, 200:392] = m
    from visionedge.protocols import Box

    boxed, _ = pd.tiled_user_scores(frame, Box(200 / 600, 100 / 400, 392 / 600, 292 / 400), 2)
    assert float(boxed[0]) == float(tiled[0])


def test_a_tile_stage_claims_when_a_quarter_is_sure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = _mosaic()
    pd = load_classifier(ClassifierConfig(model="person_detect"))
    assert isinstance(pd, TfliteClassifier)
    whole, best = float(pd.user_scores(m)[0][0]), float(pd.tiled_user_scores(m, None, 2)[0][0])
    assert whole < best  # 0.91 vs 0.945 with the builtin kernels
    between = (whole + best) / 2

    def cascade(tile_stage: dict[str, Any] | None, name: str) -> Any:
        root = tmp_path / name / "models"
        root.mkdir(parents=True)
        for p in ("person_detect", "mobilenet_v1_075"):
            (root / p).symlink_to(presets_mod.PRESETS_DIR / p)
        stages: list[dict[str, Any]] = [{"preset": "person_detect", "claims": "person", "min_score": between}]
        stages += [tile_stage] if tile_stage else []
        stages.append({"preset": "mobilenet_v1_075"})
        (root / "c").mkdir()
        (root / "c" / "card.json").write_text(json.dumps({"format": "visionedge-model-card/1", "name": "c",
                                                          "preset": {"kind": "cascade", "stages": stages}}))
        monkeypatch.setattr(presets_mod, "PRESETS_DIR", root)
        return load_classifier(ClassifierConfig(model="c"))

    tiles = {"preset": "person_detect", "claims": "person", "min_score": between, "tiles": 2}
    clf = cascade(tiles, "a")
    assert clf.stages[0] is clf.stages[1]  # one interpreter for both person_detect stages
    r = clf.classify_image(m)
    assert r.best is not None and (r.best.label, r.best.score) == ("person", best)
    # Without the tile stage the whole crop falls short and the ImageNet stage answers.
    r = cascade(None, "b").classify_image(m)
    assert r.best is None or r.best.label != "person" or r.raw_label != "person"
    # A veto the ImageNet stage's vehicles and animals reach overrules the tile claim.
    r = cascade({**tiles, "veto": 0.01}, "c").classify_image(m)
    assert r.raw_label != "person"


@pytest.mark.parametrize(
    "stage",
    [
        {"preset": "person_detect", "claims": "person", "tiles": 0},
        {"preset": "person_detect", "claims": "person", "tiles": 5},
        {"preset": "person_detect", "claims": "person", "tiles": "two"},
    ],
)
def test_bad_tiles_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stage: dict[str, Any]) -> None:
    root = tmp_path / "models" / "c"
    root.mkdir(parents=True)
    (root / "card.json").write_text(json.dumps({"format": "visionedge-model-card/1", "preset": {
        "kind": "cascade", "stages": [stage, {"preset": "mobilenet_v1_075"}]}}))
    with pytest.raises(CardError, match="tiles"):
        read_card(root / "card.json")


def test_tiles_on_the_answering_stage_are_refused(tmp_path: Path) -> None:
    (tmp_path / "card.json").write_text(json.dumps({"format": "visionedge-model-card/1", "preset": {
        "kind": "cascade", "stages": [{"preset": "person_detect", "claims": "person"},
                                      {"preset": "mobilenet_v1_075", "tiles": 2}]}}))
    with pytest.raises(CardError, match="tiles"):
        read_card(tmp_path / "card.json")


def test_model_list_counts_a_model_two_stages_share_once() -> None:
    from visionedge.classify.presets import describe

    row = describe(presets_mod.DEFAULT_PRESET)
    sizes = sum(int(str(describe(p)["bytes"])) for p in ("person_detect", "mobilenet_v1_075"))
    head = (presets_mod.PRESETS_DIR / "pva_head" / "head.json").stat().st_size
    # the head's backbone is the ImageNet stage's model: counted once
    assert row["bytes"] == sizes + head <= 5 * 1024 * 1024


def test_decide_replays_the_stage_answers_and_a_head_swap_reaches_only_its_crops() -> None:
    # bench/head_choice.py replays the default cascade offline with other heads: every stage
    # answers once (stage_answers), and decide() must give what classify_image gives.
    clf = load_classifier(ClassifierConfig())
    assert isinstance(clf, CascadeClassifier)
    head = clf.stages[-1]
    k = len(clf.stages) - 1
    swapped_any = kept_any = False
    rng = np.random.default_rng(3)
    noise = rng.integers(100, 140, (120, 160, 3), dtype=np.uint8)  # nothing any stage claims
    images = [cv2.imread(str(IMAGES / n), cv2.IMREAD_COLOR)
              for n in ("cat.jpg", "dog.png", "grace_hopper.jpg", "traffic.jpg")]
    for img in [*images, noise]:
        got = clf.classify_image(img)
        answers = clf.stage_answers(img)
        assert len(answers) == len(clf.stages)
        top, raw = clf.decide(lambda i, a=answers: a[i])
        assert top == got.top and (raw.label if raw else "") == got.raw_label
        # A head sure of one label: only a crop no earlier stage claimed changes, to it.
        said = []
        for label in ("vehicle", "animal"):
            sure = np.array([float(x == label) for x in head.labels], np.float32)
            swapped = [*answers[:k], (sure, None)]
            said.append([p.label for p in clf.decide(lambda i, a=swapped: a[i])[0]])
        if said[0] != said[1]:
            assert said == [["vehicle"], ["animal"]]
            swapped_any = True
        else:
            assert said[0] == [p.label for p in got.top]
            kept_any = True
    assert swapped_any and kept_any


def test_the_shipped_head_was_trained_as_build_presets_says() -> None:
    # The L2 strength of pva_head is pinned in scripts/build_presets.py (measured per object
    # with bench/labels.py and bench/head_choice.py); the shipped file must be the one that
    # script trains.
    from visionedge.classify.head import read_head

    bp = load_script("scripts/build_presets.py", "build_presets")
    head = read_head(presets_mod.PRESETS_DIR / "pva_head" / "head.json")
    card = json.loads((presets_mod.PRESETS_DIR / "pva_head" / "card.json").read_text())
    assert head.training["l2"] == bp.HEAD_L2 == 0.03
    assert f"L2 {bp.HEAD_L2:g}" in card["description"]
    assert card["preset"]["threshold"] == bp.HEAD_THRESHOLD == 0.5


def _two_stage_cascade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, claim: dict[str, Any], last: str, **keys: Any
) -> Any:
    """A cascade preset of ``claim`` (with the ``keys`` not None) then ``last`` (shipped
    presets), loaded by name."""
    claim = {**claim, **{k: v for k, v in keys.items() if v is not None}}
    root = tmp_path / "models"
    root.mkdir(parents=True)
    for p in ("person_detect", "mobilenet_v1_075"):
        (root / p).symlink_to(presets_mod.PRESETS_DIR / p)
    (root / "c").mkdir()
    (root / "c" / "card.json").write_text(json.dumps({"format": "visionedge-model-card/1", "name": "c",
        "preset": {"kind": "cascade", "stages": [claim, {"preset": last}]}}))
    monkeypatch.setattr(presets_mod, "PRESETS_DIR", root)
    return load_classifier(ClassifierConfig(model="c"))


def _yields_cascade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, yields: Any) -> Any:
    """person_detect claims every crop (min_score 0) unless the ImageNet stage, answering last,
    gives a label of ``yields`` its score."""
    claim = {"preset": "person_detect", "claims": "person", "min_score": 0.0}
    return _two_stage_cascade(tmp_path, monkeypatch, claim, "mobilenet_v1_075", yields=yields)


def test_a_claim_yields_to_the_answering_stage_sure_of_a_label(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cat = cv2.imread(str(IMAGES / "cat.jpg"), cv2.IMREAD_COLOR)
    plain = _yields_cascade(tmp_path / "a", monkeypatch, None)
    scores, _ = plain.stages[-1].user_scores(cat)
    animal = float(scores[plain.stages[-1].labels.index("animal")])
    assert animal > 0.3
    best = plain.classify_image(cat).best
    assert best is not None and best.label == "person"  # min_score 0: the claim always stands
    # The ImageNet stage gives the cat "animal" above the yield score: the claim gives way.
    best = _yields_cascade(tmp_path / "b", monkeypatch, {"animal": animal - 0.01}).classify_image(cat).best
    assert best is not None and best.label == "animal"
    # Below it, the claim stands.
    best = _yields_cascade(tmp_path / "c", monkeypatch, {"animal": animal + 0.01}).classify_image(cat).best
    assert best is not None and best.label == "person"


@pytest.mark.parametrize(
    ("stages", "match"),
    [
        ([{"preset": "person_detect", "claims": "person", "yields": {"animal": 1.5}},
          {"preset": "mobilenet_v1_075"}], "'yields' maps labels to scores in 0..1"),
        ([{"preset": "person_detect", "claims": "person", "yields": ["animal"]},
          {"preset": "mobilenet_v1_075"}], "'yields' maps labels to scores in 0..1"),
        ([{"preset": "person_detect", "claims": "person"},
          {"preset": "mobilenet_v1_075", "yields": {"animal": 0.5}}], "only for a stage that claims"),
    ],
)
def test_bad_yields_are_refused(tmp_path: Path, stages: list[dict[str, Any]], match: str) -> None:
    _refused(tmp_path, {"kind": "cascade", "stages": stages}, match)


def _refused(tmp_path: Path, preset: dict[str, Any], match: str) -> None:
    """A card with ``preset`` is refused with a CardError matching ``match``."""
    (tmp_path / "card.json").write_text(json.dumps({"format": "visionedge-model-card/1", "preset": preset}))
    with pytest.raises(CardError, match=match):
        read_card(tmp_path / "card.json")


def test_yielding_to_a_label_the_last_stage_does_not_report_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CardError, match="yields to 'dragon', which the last stage"):
        _yields_cascade(tmp_path, monkeypatch, {"dragon": 0.5})


def _holding_cascade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, holds: Any) -> Any:
    """The ImageNet model claims every crop "animal" and always yields to person_detect
    (answering last) unless its own top class is one of ``holds``."""
    claim = {"preset": "mobilenet_v1_075", "claims": "animal", "min_score": 0.0, "yields": {"person": 0.0}}
    return _two_stage_cascade(tmp_path, monkeypatch, claim, "person_detect", holds=holds)


@pytest.fixture
def cat() -> Any:
    """The shipped real cat photo (BGR)."""
    return cv2.imread(str(IMAGES / "cat.jpg"), cv2.IMREAD_COLOR)


def test_a_claim_holds_on_its_own_top_class_whatever_it_yields_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cat: Any
) -> None:
    # The default card's cow fix in miniature: the learned head calls Holstein cows "person"
    # at 0.98, ImageNet calls them "ox", so the animal claim holds on "ox" (docs/classify.md).
    plain = _holding_cascade(tmp_path / "a", monkeypatch, None)
    _, raw = plain.stages[0].user_scores(cat)
    assert raw is not None and raw.label == "tabby, tabby cat"
    got = plain.classify_image(cat)
    assert got.best is None or got.best.label != "animal"  # yields: person_detect answers
    # Named by its short name at a score the cat reaches: the claim holds.
    got = _holding_cascade(tmp_path / "b", monkeypatch, {"tabby": raw.score - 0.01}).classify_image(cat)
    assert got.best is not None and got.best.label == "animal" and got.raw_label == "tabby, tabby cat"
    # Above its score, or another class: it yields as before.
    for holds in ({"tabby": raw.score + 0.01}, {"ox": 0.0}):
        got = _holding_cascade(tmp_path / str(holds), monkeypatch, holds).classify_image(cat)
        assert got.best is None or got.best.label != "animal"


def test_holding_on_a_class_the_stage_lacks_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CardError, match="stage 0 holds on class 'dragon', which preset 'mobilenet_v1_075'"):
        _holding_cascade(tmp_path, monkeypatch, {"dragon": 0.2})


@pytest.mark.parametrize(
    ("stage", "match"),
    [
        ({"preset": "mobilenet_v1_075", "claims": "animal", "holds": {"ox": 0.2}}, "it needs 'yields'"),
        ({"preset": "mobilenet_v1_075", "claims": "animal", "yields": {"person": 0.8},
          "holds": {"ox": 2}}, "'holds' maps labels to scores in 0..1"),
        ({"preset": "mobilenet_v1_075", "claims": "animal", "yeilds": {"person": 0.8}},
         "stage 0: unknown key 'yeilds' \\(a stage may hold preset, claims"),
    ],
)
def test_bad_holds_and_unknown_stage_keys_are_refused(
    tmp_path: Path, stage: dict[str, Any], match: str
) -> None:
    _refused(tmp_path, {"kind": "cascade", "stages": [stage, {"preset": "person_detect"}]}, match)


def test_the_default_presets_animal_claim_holds_on_livestock() -> None:
    card = read_card(presets_mod.PRESETS_DIR / presets_mod.DEFAULT_PRESET / "card.json")
    holds = [s.holds for s in card.stages if s.holds]
    assert len(holds) == 1 and card.stages[2].holds is holds[0] and card.stages[2].claims == "animal"
    assert {"ox", "water buffalo", "ram", "sorrel", "hog"} <= set(holds[0])
    # No dog breed: ImageNet calls people seen from high up dog breeds (the yield's reason).
    assert not {"Great Dane", "kelpie", "schipperke"} & set(holds[0])


def test_the_default_presets_imagenet_claims_yield_to_the_heads_person() -> None:
    card = read_card(presets_mod.PRESETS_DIR / presets_mod.DEFAULT_PRESET / "card.json")
    assert [s.yields for s in card.stages if s.preset == "mobilenet_v1_075"] == [{"person": 0.7}] * 2
    assert all(not s.yields for s in card.stages if s.preset != "mobilenet_v1_075")


def _confirming_cascade(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, confirms: dict[str, float],
                        confirm_px: int = 48) -> Any:
    """The ImageNet model answering alone after a person claim no crop reaches; its
    ``confirms`` and the card's ``objects.confirm_px`` as given."""
    root = tmp_path / "models"
    root.mkdir(parents=True)
    for p in ("person_detect", "mobilenet_v1_075"):
        (root / p).symlink_to(presets_mod.PRESETS_DIR / p)
    (root / "k").mkdir()
    (root / "k" / "card.json").write_text(json.dumps({"format": "visionedge-model-card/1", "name": "k",
        "preset": {"kind": "cascade", "objects": {"min_crop_px": 128, "confirm_px": confirm_px},
                   "stages": [{"preset": "person_detect", "claims": "person", "min_score": 1.0},
                              {"preset": "mobilenet_v1_075", "settings": {"threshold": 0.05},
                               "confirms": confirms}]}}))
    monkeypatch.setattr(presets_mod, "PRESETS_DIR", root)
    return load_classifier(ClassifierConfig(model="k"))


def test_a_label_named_after_the_surroundings_is_not_confirmed_on_the_tight_crop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from visionedge.frame import Frame
    from visionedge.objects.crop import grow_to, tight_to
    from visionedge.protocols import Box

    # A real cat on a plain grey canvas; a small box beside it (a speck): its 128-px crop
    # shows the cat, its tight crop only grey.
    canvas = np.full((360, 480, 3), 128, np.uint8)
    cat = cv2.resize(cv2.imread(str(IMAGES / "cat.jpg"), cv2.IMREAD_COLOR), (140, 140))
    canvas[40:180, 40:180] = cat
    frame = Frame(index=3, ts_ms=300, plane=canvas[::2, ::2, 0], _image=lambda: canvas)
    speck = Box(205 / 480, 105 / 360, 215 / 480, 115 / 360)
    grown = grow_to(speck, 480, 360, 128)
    probe = _confirming_cascade(tmp_path / "p", monkeypatch, {"animal": 0.5})
    imagenet = probe.stages[-1]
    animal = imagenet.labels.index("animal")
    on_grown = float(imagenet.user_scores(canvas, grown)[0][animal])
    on_tight = float(imagenet.user_scores(canvas, tight_to(speck, 480, 360, 48))[0][animal])
    assert on_grown > 0.1 and on_tight < on_grown / 4  # the cat is in the grown crop only
    need = (on_grown + on_tight) / 2

    clf = _confirming_cascade(tmp_path / "a", monkeypatch, {"animal": need})
    plain = clf.classify(frame, grown)
    assert plain.best is not None and plain.best.label == "animal"
    second = clf.classify_object(frame, grown, speck)
    assert second.top == () and second.raw_label == plain.raw_label and second.box == grown
    # A confirm score the tight crop reaches keeps the label; a label not listed is never
    # looked at again.
    lenient = _confirming_cascade(tmp_path / "b", monkeypatch, {"animal": on_tight / 2})
    best = lenient.classify_object(frame, grown, speck).best
    assert best is not None and best.label == "animal"
    off = _confirming_cascade(tmp_path / "c", monkeypatch, {"vehicle": 0.99})
    assert off.classify_object(frame, grown, speck).top == plain.top
    # A box that fills its crop was already seen on its own: the first look's answer is
    # held to the bar (a shadow as big as its crop is no animal at 0.15).
    photo = cv2.resize(cv2.imread(str(IMAGES / "cat.jpg"), cv2.IMREAD_COLOR), (480, 360))
    whole = Frame(index=4, ts_ms=400, plane=photo[::2, ::2, 0], _image=lambda: photo)
    big = Box(0.1, 0.1, 0.9, 0.9)
    first = float(imagenet.user_scores(photo, big)[0][animal])
    assert 0.0 < first < 1.0
    below = _confirming_cascade(tmp_path / "d", monkeypatch, {"animal": first * 0.9})
    best = below.classify_object(whole, big, big).best
    assert best is not None and best.label == "animal" and best.score == pytest.approx(first)
    above = _confirming_cascade(tmp_path / "e", monkeypatch, {"animal": min(1.0, first * 1.1)})
    assert above.classify(whole, big).best is not None
    assert above.classify_object(whole, big, big).top == ()
    # The same photo, a 40-px box in it: looked at again, and 1.0 is never reached.
    strict = _confirming_cascade(tmp_path / "f", monkeypatch, {"animal": 1.0})
    small = Box(220 / 480, 160 / 360, 260 / 480, 200 / 360)
    assert strict.classify(whole, big).best == best
    assert strict.classify_object(whole, big, small).top == ()


@pytest.mark.parametrize(
    ("objects", "confirms", "match"),
    [
        ({"confirm_px": 48}, {}, "go together"),
        ({}, {"animal": 0.1}, "go together"),
        ({"confirm_px": 48}, {"animal": -0.1}, "'confirms' maps labels to scores in 0..1"),
        ({"confirm_px": 4097}, {"animal": 0.1}, "confirm_px"),
    ],
)
def test_bad_confirms_are_refused(tmp_path: Path, objects: dict[str, Any], confirms: dict[str, Any],
                                  match: str) -> None:
    _refused(tmp_path, {"kind": "cascade", "objects": objects, "stages": [
        {"preset": "person_detect", "claims": "person"},
        {"preset": "mobilenet_v1_075", "confirms": confirms}]}, match)


def test_confirm_px_on_a_single_model_card_is_refused(tmp_path: Path) -> None:
    card = json.loads((presets_mod.PRESETS_DIR / "demo" / "card.json").read_text())
    _refused(tmp_path, {**card.get("preset", {}), "objects": {"confirm_px": 48}}, "for cascade cards")


def test_confirming_a_label_the_stage_does_not_report_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CardError, match="stage 1 confirms 'dragon'"):
        _confirming_cascade(tmp_path, monkeypatch, {"dragon": 0.5})


def test_the_default_preset_confirms_animals_and_vehicles_on_the_tight_crop() -> None:
    card = read_card(presets_mod.PRESETS_DIR / presets_mod.DEFAULT_PRESET / "card.json")
    assert card.object_confirm_px == 48
    assert [s.confirms for s in card.stages] == [
        {}, {}, {"animal": 0.5}, {"vehicle": 0.12}, {"animal": 0.5, "vehicle": 0.3}]
    clf = load_classifier(ClassifierConfig())
    assert isinstance(clf, CascadeClassifier) and clf.confirm_labels == {"animal", "vehicle"}
