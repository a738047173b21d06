"""Model cards: the ``card.json`` beside a model, read into what the classifier needs.

A card is what ``visionedge model export`` writes (format ``visionedge-model-card/1``:
``file``, ``sha256``, ``labels``, ``input``/``output`` tensor specs, ``tflm`` arena) plus,
for presets, an optional ``preset`` section: the model kind, the label map and the
classifier settings the model needs (input range, ignore list, thresholds, margin), and
its provenance. Everything is checked against the model when it loads
(:func:`check_card_against_model`): a card that contradicts its model raises
:class:`~visionedge.errors.CardError`, never a plausible-looking wrong label.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionedge.errors import CardError

__all__ = [
    "CARD_FORMAT",
    "KINDS",
    "Card",
    "Locate",
    "Stage",
    "check_card_against_model",
    "read_card",
]

CARD_FORMAT = "visionedge-model-card/1"
KINDS = ("classifier", "segmenter", "detector", "cascade", "head")
"""classifier: one score vector; segmenter: a class id per pixel; detector: boxes with a
class and score each (``TFLite_Detection_PostProcess``); cascade: two presets; head: a
trained head (``head.json``) over a backbone preset's embedding."""

SETTINGS = ("input_range", "ignore", "threshold", "thresholds", "margin", "label_map", "output")
"""Classifier settings a card's ``preset`` section may give (config keys override them)."""


@dataclass(frozen=True, slots=True)
class Stage:
    """One step of a cascade: a preset, and when its answer stands.

    ``claims``: the user label this stage decides (e.g. ``person``), with ``min_score``;
    the claim stands unless the next stage gives at least ``veto`` (< 1) to its other labels.
    A stage without ``claims`` answers whatever the earlier stages did not claim.
    ``settings``: classifier settings (:data:`SETTINGS`) over the stage preset's own card,
    e.g. a lower ``threshold`` in this cascade. ``exclude``: model labels taken out of the
    stage's label map (they then count for no user label: ImageNet's dugong or nematode,
    which no camera on land sees, stop turning grey blobs into animals).
    """

    preset: str
    claims: str = ""
    min_score: float = 0.5
    veto: float = 1.0
    settings: dict[str, Any] = field(default_factory=dict)
    exclude: tuple[str, ...] = ()
    tiles: int = 1
    """A claiming stage also looks at the crop cut into ``tiles`` x ``tiles`` parts and
    claims with its best part: a 96x96 person model sees a crowd filmed from high up as
    a texture, each quarter of it as people."""
    confirms: dict[str, float] = field(default_factory=dict)
    """In object mode (with the card's ``objects.confirm_px``), a crop answered with one of
    these labels keeps it only if this stage, or another that lists it, gives the label at
    least this score on the object's tight crop as well (:func:`~visionedge.objects.crop.tight_to`)."""
    yields: dict[str, float] = field(default_factory=dict)
    """A claiming stage's claim gives way when the last (answering) stage gives one of these
    labels at least its score: an ImageNet model calls a person seen from high up a dog
    breed, while a head trained on such views is sure it is a person."""
    holds: dict[str, float] = field(default_factory=dict)
    """A claim that ``yields`` stands all the same when the stage's own top class (the model
    label behind its best user label; full or short name) is one of these at least its score:
    the learned head calls Holstein cows a person, ImageNet calls them "ox", and calls no
    person "ox"."""


@dataclass(frozen=True, slots=True)
class Locate:
    """A cascade card's ``locate`` section: a detector that checks where an object's label is.

    In object mode, a label the cascade gives an object is *borrowed* (dropped) when the
    detector ``preset`` finds that label in the object's crop at ``min_score`` or more only
    away from the object's box (overlapping it by less than ``max_overlap`` of the smaller of
    the two boxes), and nothing of that label on the box at ``keep_score`` or more. Only crops
    where the object's box covers less than ``max_fill_pct`` of its grown crop are checked:
    a box that fills its crop is what the crop shows (:mod:`visionedge.classify.locate`).

    ``overrule`` names labels the detector may overrule on any crop: when it finds another of
    its labels on the object's box at ``overrule_score`` or more, and nothing of the given
    label there at ``keep_score``, the object gets the detector's label (``person_detect``
    calls Holstein cows and a car on a motorway "person"; COCO SSD sees a cow and a car).
    """

    preset: str
    min_score: float = 0.5
    max_overlap: float = 0.1
    keep_score: float = 0.3
    max_fill_pct: int = 100
    overrule: tuple[str, ...] = ()
    overrule_score: float = 0.6


@dataclass(frozen=True, slots=True)
class Card:
    """The parts of a model card visionedge uses; ``raw`` keeps the whole JSON."""

    path: Path
    name: str
    kind: str
    model_file: Path | None
    labels_file: Path | None
    labels: tuple[str, ...]
    sha256: str
    settings: dict[str, Any] = field(default_factory=dict)
    stages: tuple[Stage, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict)
    locate: Locate | None = None

    @property
    def preset(self) -> dict[str, Any]:
        """The card's ``preset`` section (empty for a plain exported card)."""
        section = self.raw.get("preset")
        return section if isinstance(section, dict) else {}

    @property
    def min_agree(self) -> int:
        """``preset.vote.min_agree``: classifications an event's label must top (1: any)."""
        vote = self.preset.get("vote")
        return int(vote.get("min_agree", 1)) if isinstance(vote, dict) else 1

    @property
    def min_share(self) -> float:
        """``preset.vote.min_share``: the share of an event's classifications its label must
        top (0: any); with ``min_agree``, a long-lived box of leaves that two crops of many
        called "person" names nothing."""
        vote = self.preset.get("vote")
        return float(vote.get("min_share", 0.0)) if isinstance(vote, dict) else 0.0

    @property
    def detect_min_overlap(self) -> float:
        """``preset.detect.min_overlap``: a detector's box speaks for the motion box only when
        the two overlap by at least this share of the smaller one (0.5 by default); a box on a
        fence post beside a sheep is not the sheep, though the crop around it shows one."""
        detect = self.preset.get("detect")
        return float(detect.get("min_overlap", 0.5)) if isinstance(detect, dict) else 0.5

    @property
    def object_min_fill_pct(self) -> int:
        """``preset.objects.min_fill_pct``: with ``min_crop_px``, a tracked object is classified
        only on frames where its box covers at least this percent of its grown crop (smaller,
        the crop shows its surroundings); 0 (default): always."""
        objects = self.preset.get("objects")
        return int(objects.get("min_fill_pct", 0)) if isinstance(objects, dict) else 0

    @property
    def object_min_crop_px(self) -> int:
        """``preset.objects.min_crop_px``: in object mode, a tracked object's box is grown
        (about its centre, inside the frame) to at least this many full-frame pixels wide and
        tall before it is cropped; 0 (default): the object's box as it is."""
        objects = self.preset.get("objects")
        return int(objects.get("min_crop_px", 0)) if isinstance(objects, dict) else 0

    @property
    def object_classify_per_frame(self) -> int:
        """``preset.objects.classify_per_frame``: objects classified per frame when the config
        leaves ``objects.classify_per_frame`` at its built-in default; 0: not set."""
        objects = self.preset.get("objects")
        return int(objects.get("classify_per_frame", 0)) if isinstance(objects, dict) else 0

    @property
    def object_still_min_score(self) -> dict[str, float]:
        """``preset.objects.still_min_score``: per label, the mean score at which an object
        that has not travelled counts, in place of ``objects.still_min_score`` while the
        config leaves that at its built-in default (scores are the model's own scale: an
        ImageNet sum over hundreds of animal classes is rarely as sure as ``person_detect``);
        empty (default): the config's bar for every label."""
        objects = self.preset.get("objects")
        still = objects.get("still_min_score", {}) if isinstance(objects, dict) else {}
        return {str(k): float(v) for k, v in still.items()} if isinstance(still, dict) else {}

    @property
    def object_confirm_px(self) -> int:
        """``preset.objects.confirm_px``: in object mode, a label some cascade stage
        ``confirms`` must also show on the object's tight crop (its box made square,
        :data:`~visionedge.objects.crop.TIGHT_SCALE` times its longer side, at least this
        many pixels); 0 (default): no second look."""
        objects = self.preset.get("objects")
        return int(objects.get("confirm_px", 0)) if isinstance(objects, dict) else 0

    @property
    def plain_vote(self) -> bool:
        """Whether events vote with the plain mean vote (``min_agree`` 1, no ``min_share``),
        the only rule the firmware's C++ core implements."""
        return self.min_agree == 1 and self.min_share == 0

    @property
    def for_mcu(self) -> bool:
        """Whether a board runs this model: exported for TFLM, or a preset with an MCU arena."""
        tflm = self.raw.get("tflm")
        return bool(isinstance(tflm, dict) and tflm.get("arena_bytes")) or "mcu" in self.preset


def _fail(path: Path, what: str) -> CardError:
    return CardError(f"{path}: {what}; fix the card or export the model again")


def _str_list(value: Any, path: Path, key: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail(path, f"'{key}' is not a list of names")
    return tuple(value)


def _score_map(entry: dict[str, Any], key: str, path: Path, i: int) -> dict[str, float]:
    value = entry.get(key, {})
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and k and isinstance(v, (int, float)) and not isinstance(v, bool)
        and 0.0 <= v <= 1.0 for k, v in value.items()
    ):
        raise _fail(path, f"stage {i}: '{key}' maps labels to scores in 0..1")
    return {k: float(v) for k, v in value.items()}


_STAGE_KEYS = ("preset", "claims", "min_score", "veto", "settings", "exclude", "tiles",
               "confirms", "yields", "holds")


def _stages(value: Any, path: Path) -> tuple[Stage, ...]:
    if not isinstance(value, list) or len(value) < 2:
        raise _fail(path, "a cascade needs 'stages': a list of at least two presets")
    out = []
    for i, entry in enumerate(value):
        if not isinstance(entry, dict) or not isinstance(entry.get("preset"), str):
            raise _fail(path, f"stage {i} has no 'preset' name")
        unknown = sorted(set(entry) - set(_STAGE_KEYS))
        if unknown:
            # A misspelt key would otherwise be ignored, and the stage run without it.
            raise _fail(path, f"stage {i}: unknown key {unknown[0]!r} (a stage may hold "
                        f"{', '.join(_STAGE_KEYS)})")
        settings = entry.get("settings", {})
        if not isinstance(settings, dict) or any(k not in SETTINGS for k in settings):
            raise _fail(path, f"stage {i}: 'settings' may only hold {', '.join(SETTINGS)}")
        exclude = _str_list(entry.get("exclude", []), path, f"stage {i} exclude")
        yields = _score_map(entry, "yields", path, i)
        holds = _score_map(entry, "holds", path, i)
        confirms = _score_map(entry, "confirms", path, i)
        if yields and not entry.get("claims"):
            raise _fail(path, f"stage {i}: 'yields' is only for a stage that claims a label")
        if holds and not yields:
            raise _fail(path, f"stage {i}: 'holds' says when a claim does not yield; it needs 'yields'")
        try:
            stage = Stage(
                preset=entry["preset"],
                claims=str(entry.get("claims", "")),
                min_score=float(entry.get("min_score", 0.5)),
                veto=float(entry.get("veto", 1.0)),
                settings=dict(settings),
                exclude=exclude,
                tiles=int(entry.get("tiles", 1)),
                yields=yields,
                holds=holds,
                confirms=confirms,
            )
        except (TypeError, ValueError):
            raise _fail(path, f"stage {i} has a non-numeric min_score, veto or tiles") from None
        if not 1 <= stage.tiles <= 4 or (stage.tiles > 1 and not stage.claims):
            raise _fail(path, f"stage {i}: tiles is 1..4, and only for a stage that claims a label")
        if not (0.0 <= stage.min_score <= 1.0 and 0.0 <= stage.veto <= 1.0):
            raise _fail(path, f"stage {i}: min_score and veto are scores in 0..1")
        out.append(stage)
    if out[-1].claims:
        raise _fail(path, "the last cascade stage must answer everything (no 'claims')")
    return tuple(out)


def _locate(section: Any, path: Path) -> Locate | None:
    """The ``locate`` section of a cascade card (None when absent)."""
    if section is None:
        return None
    numbers = {"min_score": (0.0, 1.0), "max_overlap": (0.0, 1.0), "keep_score": (0.0, 1.0),
               "overrule_score": (0.0, 1.0), "max_fill_pct": (1, 100)}
    overrule = section.get("overrule", []) if isinstance(section, dict) else None
    if (not isinstance(section, dict) or not isinstance(section.get("preset"), str)
            or not section["preset"] or set(section) - set(numbers) - {"preset", "overrule"}
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       and numbers[k][0] <= v <= numbers[k][1]
                       for k, v in section.items() if k in numbers)
            or not isinstance(section.get("max_fill_pct", 100), int)
            or not isinstance(overrule, list)
            or not all(isinstance(x, str) and x for x in overrule)):
        raise _fail(path, "'locate' holds preset (a detector preset's name) and may hold "
                    "min_score, max_overlap, keep_score, overrule_score (numbers 0..1), "
                    "max_fill_pct (a whole number 1..100) and overrule (a list of labels)")
    return Locate(
        preset=section["preset"],
        min_score=float(section.get("min_score", 0.5)),
        max_overlap=float(section.get("max_overlap", 0.1)),
        keep_score=float(section.get("keep_score", 0.3)),
        max_fill_pct=int(section.get("max_fill_pct", 100)),
        overrule=tuple(overrule),
        overrule_score=float(section.get("overrule_score", 0.6)),
    )


def read_card(path: Path) -> Card:
    """Read and check the structure of ``path`` (a card.json); raise CardError if unusable."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise CardError(f"{path}: model card not found; export the model with its card") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(path, f"model card is not readable JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _fail(path, "model card is not a JSON object")
    if data.get("format") != CARD_FORMAT:
        raise _fail(path, f"format is {data.get('format')!r}, expected {CARD_FORMAT!r}")
    preset = data.get("preset", {})
    if not isinstance(preset, dict):
        raise _fail(path, "'preset' is not an object")
    kind = preset.get("kind", "classifier")
    if kind not in KINDS:
        raise _fail(path, f"kind {kind!r} is not one of {', '.join(KINDS)}")
    vote = preset.get("vote", {})
    agree = vote.get("min_agree", 1) if isinstance(vote, dict) else None
    share = vote.get("min_share", 0) if isinstance(vote, dict) else None
    if (not isinstance(agree, int) or isinstance(agree, bool) or not 1 <= agree <= 100
            or not isinstance(share, (int, float)) or isinstance(share, bool) or not 0 <= share <= 1
            or set(vote) - {"min_agree", "min_share"}):
        raise _fail(path, "'vote' may hold min_agree (a whole number 1..100) and min_share "
                    "(a number 0..1)")
    objects = preset.get("objects", {})
    limits = {"min_crop_px": (0, 4096), "classify_per_frame": (1, 16), "min_fill_pct": (0, 100),
              "confirm_px": (0, 4096)}
    if not isinstance(objects, dict) or set(objects) - set(limits) - {"still_min_score"} or not all(
        isinstance(v, int) and not isinstance(v, bool) and limits[k][0] <= v <= limits[k][1]
        for k, v in objects.items() if k != "still_min_score"
    ):
        raise _fail(path, "'objects' may hold min_crop_px (a whole number 0..4096), "
                    "classify_per_frame (1..16), min_fill_pct (0..100), confirm_px (0..4096) "
                    "and still_min_score (per label, a number 0..1)")
    still = objects.get("still_min_score", {})
    if not isinstance(still, dict) or not all(
        isinstance(k, str) and k and isinstance(v, (int, float)) and not isinstance(v, bool)
        and 0 <= v <= 1 for k, v in still.items()
    ):
        raise _fail(path, "'objects.still_min_score' maps labels to numbers 0..1 "
                    '(e.g. {"animal": 0.7})')
    detect = preset.get("detect", {})
    least = detect.get("min_overlap", 0.5) if isinstance(detect, dict) else None
    if (not isinstance(least, (int, float)) or isinstance(least, bool) or not 0 < least <= 1
            or set(detect) - {"min_overlap"} or (detect and kind != "detector")):
        raise _fail(path, "'detect' is for detector cards and may hold min_overlap (a number "
                    "over 0, at most 1)")
    name = str(data.get("name") or path.parent.name)
    settings = {k: preset[k] for k in SETTINGS if k in preset}
    if kind == "cascade":
        stages = _stages(preset.get("stages"), path)
        if bool(objects.get("confirm_px")) != any(s.confirms for s in stages):
            raise _fail(path, "'objects.confirm_px' and a stage's 'confirms' go together: the "
                        "size of the second look, and the labels it confirms")
        locate = _locate(preset.get("locate"), path)
        return Card(path, name, kind, None, None, (), "", settings, stages, data, locate)
    if objects.get("confirm_px"):
        raise _fail(path, "'objects.confirm_px' is for cascade cards (stages that 'confirms')")
    if "locate" in preset:
        raise _fail(path, "'locate' is for cascade cards")
    file = data.get("file")
    if not isinstance(file, str) or not file:
        raise _fail(path, "no 'file' naming the model")
    labels = _str_list(data.get("labels"), path, "labels")
    labels_file = preset.get("labels_file")
    sha = data.get("sha256")
    if not isinstance(sha, str) or len(sha) != 64:
        raise _fail(path, "'sha256' is not a sha256 hex digest")
    real = data.get("input", {}).get("real_range") if isinstance(data.get("input"), dict) else None
    if "input_range" not in settings and isinstance(real, list) and len(real) == 2:
        settings["input_range"] = real
    return Card(
        path=path,
        name=name,
        kind=kind,
        model_file=(path.parent / file).resolve(),
        labels_file=(path.parent / labels_file).resolve() if isinstance(labels_file, str) else None,
        labels=labels,
        sha256=sha,
        settings=settings,
        raw=data,
    )


def check_card_against_model(
    card: Card, content: bytes, input_shape: tuple[int, ...], outputs: int
) -> None:
    """Raise CardError when the card describes another model than the one loaded.

    ``outputs`` is the number of classes the model reports (score-vector length for a
    classifier; for a segmenter the card's label count is trusted, as class ids carry no
    count). Checked: sha256, input shape, label count.
    """
    digest = hashlib.sha256(content).hexdigest()
    if digest != card.sha256:
        raise CardError(
            f"{card.path}: the card is for sha256 {card.sha256[:12]}… but "
            f"{card.model_file} is {digest[:12]}…; put the card exported with this model beside it"
        )
    shape = card.raw.get("input", {}).get("shape") if isinstance(card.raw.get("input"), dict) else None
    if isinstance(shape, list) and tuple(shape) != tuple(input_shape):
        raise CardError(
            f"{card.path}: the card says input {shape} but the model takes {list(input_shape)}; "
            "use the card exported with this model"
        )
    if card.kind == "classifier" and len(card.labels) != outputs:
        raise CardError(
            f"{card.path}: the card lists {len(card.labels)} labels but the model has {outputs} "
            "outputs; use the card exported with this model"
        )
