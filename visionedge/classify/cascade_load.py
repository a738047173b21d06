"""Loading a cascade card: each stage's preset with the config's runtime keys, checked
against what the stages report (:mod:`.cascade` runs them)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from visionedge.classify.card import Card
from visionedge.classify.cascade import CascadeClassifier, Step
from visionedge.classify.classifier import TfliteClassifier
from visionedge.classify.detector import TfliteDetector
from visionedge.classify.loader import load_single
from visionedge.classify.locate import load_locator
from visionedge.classify.presets import Resolved, resolve_model
from visionedge.classify.settings import apply_card
from visionedge.config import ClassifierConfig
from visionedge.errors import CardError

__all__ = ["load_cascade"]

_RUNTIME_KEYS = ("backend", "num_threads", "xnnpack", "margin")
"""Config keys a cascade passes to its stages (the stages' own cards give the rest)."""


def _short(label: str) -> str:
    """A model label's short name: ImageNet's "water buffalo, water ox, ..." -> "water buffalo"."""
    return label.split(",")[0].strip()


def _without(
    resolved: Resolved, exclude: tuple[str, ...], where: Path, i: int
) -> dict[str, list[str]]:
    """The stage preset's label map without the ``exclude`` model labels (full or short name)."""
    base = resolved.card.settings.get("label_map") if resolved.card is not None else None
    if not isinstance(base, dict) or not base:
        raise CardError(f"{where}: stage {i} excludes labels, but its preset has no label map")
    gone = set(exclude)
    out = {
        user: [m for m in names if m not in gone and _short(m) not in gone]
        for user, names in base.items()
    }
    mapped = {m for names in base.values() for m in names}
    mapped |= {_short(m) for m in mapped}
    missing = sorted(gone - mapped)
    if missing:
        raise CardError(
            f"{where}: stage {i} excludes {', '.join(repr(m) for m in missing)}, which "
            f"'{resolved.name}' does not map; name labels of its label map"
        )
    return out


def load_cascade(
    cfg: ClassifierConfig,
    card: Card,
    name: str,
    *,
    input_range_override: tuple[float, float] | None = None,
) -> CascadeClassifier:
    """Load every stage of a cascade card (each a preset) with the config's runtime keys."""
    if input_range_override is not None:
        raise CardError(
            f"{card.path}: a cascade runs several models, each with its own input range; "
            "drop --input-range"
        )
    cfg = apply_card(cfg, card)
    steps = []
    loaded: dict[str, TfliteClassifier] = {}
    runtime = {k: getattr(cfg, k) for k in _RUNTIME_KEYS if k in cfg.model_fields_set}
    for i, stage in enumerate(card.stages):
        # A stage named by a relative path (a user's cascade card beside its head.json) is
        # relative to the card, not to the working directory.
        ref = stage.preset
        if ("/" in ref or ref.endswith((".json", ".tflite"))) and not Path(ref).expanduser().is_absolute():
            ref = str(card.path.parent / ref)
        if ("/" in ref or ref.endswith((".json", ".tflite"))) and not Path(ref).expanduser().is_file():
            raise CardError(f"{card.path}: stage {i} names {ref}, which does not exist; keep the "
                            "card beside the files its stages name, or name them by absolute path")
        resolved = resolve_model(ref)
        if resolved.card is not None and resolved.card.kind == "cascade":
            raise CardError(f"{card.path}: stage {i} is itself a cascade; name single models")
        last = i == len(card.stages) - 1
        # The answering stage takes the user's thresholds; a claiming stage its min_score.
        keys = {**stage.settings, **runtime}
        if stage.exclude:
            keys["label_map"] = _without(resolved, stage.exclude, card.path, i)
        if last:
            keys.update({k: getattr(cfg, k) for k in cfg.model_fields_set
                         if k in ("threshold", "thresholds", "top_k")})
        stage_cfg = ClassifierConfig.model_validate({"model": ref, **keys})
        # Two stages of one preset with the same settings (whole crop, then its tiles) share
        # one interpreter: the model is loaded and counted once.
        key = stage_cfg.model_dump_json()
        clf = loaded.get(key) or load_single(stage_cfg, resolved)
        loaded[key] = clf
        if isinstance(clf, TfliteDetector) and stage.tiles > 1:
            raise CardError(f"{card.path}: stage {i} cuts detector '{stage.preset}' into tiles; "
                            "a detector looks at the whole crop: drop 'tiles'")
        if stage.claims and stage.claims not in clf.labels:
            raise CardError(
                f"{card.path}: stage {i} claims '{stage.claims}', which preset "
                f"'{stage.preset}' does not report ({', '.join(clf.labels)})"
            )
        steps.append(Step(stage, clf))
    answering = steps[-1].classifier
    for i, step in enumerate(steps):
        unknown = [lab for lab in step.stage.confirms if lab not in step.classifier.labels]
        if unknown:
            raise CardError(
                f"{card.path}: stage {i} confirms '{unknown[0]}', which preset "
                f"'{step.stage.preset}' does not report ({', '.join(step.classifier.labels)})"
            )
        missing = [lab for lab in step.stage.yields if lab not in answering.labels]
        if missing:
            raise CardError(
                f"{card.path}: stage {i} yields to '{missing[0]}', which the last stage "
                f"('{card.stages[-1].preset}') does not report ({', '.join(answering.labels)})"
            )
    steps = [replace(step, holds=_holds(step, card.path, i)) if step.stage.holds else step
             for i, step in enumerate(steps)]
    labels = {lab for step in steps for lab in step.classifier.labels}
    return CascadeClassifier(card, name, steps, cfg, load_locator(card, runtime, labels))


def _holds(step: Step, where: Path, i: int) -> dict[int, float]:
    """Stage ``i``'s ``holds`` as {model label index: score} of its own model (a class named
    by its full or short name, as ``exclude`` does)."""
    names: tuple[str, ...] = tuple(getattr(step.classifier, "model_labels", ()))
    out = {}
    for cls, need in step.stage.holds.items():
        hits = [j for j, m in enumerate(names) if cls in (m, _short(m))]
        if not hits:
            raise CardError(
                f"{where}: stage {i} holds on class '{cls}', which preset '{step.stage.preset}' "
                "does not have; name a class of its model (full or short name)"
            )
        out[hits[0]] = need
    return out
