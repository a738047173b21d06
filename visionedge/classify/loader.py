"""Loading the configured model: preset name, path (with or without a card), or default.

:func:`load_classifier` does every check at load time (backend, model file, input/output
spec, labels, card, normalisation, config labels), so a daemon that got a classifier back
will not fail on its first motion. It dispatches on the card's kind: a classifier,
segmenter or detector (:func:`load_tflite`), a learned head (:mod:`.head`), or a cascade of presets (:mod:`.cascade`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from visionedge.classify.backends import resolve_backend
from visionedge.classify.card import check_card_against_model
from visionedge.classify.classifier import TfliteClassifier
from visionedge.classify.labelmap import LabelMap
from visionedge.classify.labels import find_labels_next_to, load_labels
from visionedge.classify.metadata import read_normalization
from visionedge.classify.model import (
    OUTPUT_KIND_MISMATCH,
    LoadedModel,
    open_model,
    read_model_file,
)
from visionedge.classify.normalization import quantized_range, resolve_normalization
from visionedge.classify.preprocess import InputQuantizer
from visionedge.classify.presets import DEFAULT_PRESET, Resolved, resolve_model
from visionedge.classify.settings import apply_card, check_label_names
from visionedge.config import ClassifierConfig
from visionedge.errors import CardError, ConfigError, ModelError

if TYPE_CHECKING:
    from visionedge.classify.cascade import CascadeClassifier

__all__ = ["load_classifier", "load_single", "load_tflite"]

log = logging.getLogger(__name__)


def _paths(cfg: ClassifierConfig, resolved: Resolved) -> tuple[Path, Path | None]:
    """The model file and its labels file (None: the card's label list)."""
    assert resolved.model is not None
    model = resolved.model
    if cfg.labels:
        return model, Path(cfg.labels).expanduser()
    card = resolved.card
    if card is not None:
        return model, card.labels_file
    if not model.is_file():
        return model, model.with_name("labels.txt")
    return model, find_labels_next_to(model)


def _output_mode(cfg: ClassifierConfig, model: LoadedModel, quantizer: InputQuantizer) -> str:
    """Whether the output holds probabilities (as they are) or logits (softmax them)."""
    if cfg.output != "auto":
        return cfg.output
    out = model.output
    step = out.scale
    if out.quantized:
        lo, hi = quantized_range(out.dtype, out.scale, out.zero_point)
        return "probabilities" if lo >= -step and hi <= 1.0 + step else "logits"
    # Float output: look at one answer, for a mid-gray image.
    gray = np.full((model.height, model.width, model.channels), 128, np.uint8)
    model.interpreter.set_tensor(model.input.index, quantizer(gray))
    model.interpreter.invoke()
    values = np.asarray(model.interpreter.get_tensor(out.index), np.float32).reshape(-1)
    in_unit = bool(np.all(values >= -1e-6) and np.all(values <= 1 + 1e-6))
    return "probabilities" if in_unit else "logits"


def load_classifier(
    cfg: ClassifierConfig,
    *,
    input_range_override: tuple[float, float] | None = None,
    default_preset: str = DEFAULT_PRESET,
) -> TfliteClassifier | CascadeClassifier:
    """Load and check the configured model (a preset name, a path, or empty: the default).

    Dispatches on the card's kind: classifier, segmenter, head or cascade (all but the
    cascade are :class:`TfliteClassifier`). Raises ModelError (PresetError, CardError, LabelsError,
    BackendError) at load time.
    """
    resolved = resolve_model(cfg.model, default=default_preset)
    card = resolved.card
    clf: TfliteClassifier | CascadeClassifier
    if card is not None and card.kind == "cascade":
        from visionedge.classify.cascade_load import load_cascade

        clf = load_cascade(cfg, card, resolved.name, input_range_override=input_range_override)
    else:
        clf = load_single(cfg, resolved, input_range_override=input_range_override)
    if card is not None:
        unknown = sorted(set(card.object_still_min_score) - set(clf.labels))
        if unknown:
            # A bar for a label the model never reports would silently do nothing.
            raise CardError(
                f"{card.path}: 'objects.still_min_score' names '{unknown[0]}', which the model "
                f"does not report (its labels: {', '.join(clf.labels)}); fix the card"
            )
    return clf


def load_single(
    cfg: ClassifierConfig,
    resolved: Resolved,
    *,
    input_range_override: tuple[float, float] | None = None,
) -> TfliteClassifier:
    """One model (not a cascade): a learned head over a backbone, or a TFLite model."""
    if resolved.card is not None and resolved.card.kind == "head":
        if input_range_override is not None:
            raise CardError(
                f"{resolved.card.path}: a head reads its backbone's input range; drop --input-range"
            )
        from visionedge.classify.head import load_head

        return load_head(cfg, resolved)
    return load_tflite(cfg, resolved, input_range_override=input_range_override)


def load_tflite(
    cfg: ClassifierConfig,
    resolved: Resolved,
    *,
    input_range_override: tuple[float, float] | None = None,
) -> TfliteClassifier:
    """Load one TFLite model (classifier, segmenter or detector) with its card's settings."""
    card = resolved.card
    cfg = apply_card(cfg, card)
    kind = card.kind if card is not None else "classifier"
    backend, factory = resolve_backend(cfg.backend, xnnpack=cfg.xnnpack)
    model_path, labels_path = _paths(cfg, resolved)
    content = read_model_file(model_path)
    try:
        model = open_model(
            content,
            model_path,
            backend=backend,
            factory=factory,
            num_threads=cfg.num_threads,
            kind=kind,
        )
    except ModelError as exc:
        # An output of the wrong kind under a card is the card's mistake, not the model's.
        if card is not None and type(exc) is ModelError and OUTPUT_KIND_MISMATCH in str(exc):
            raise CardError(f"{card.path}: the card says kind '{kind}', but {exc}") from None
        raise
    expected = model.num_outputs if kind == "classifier" else None
    if labels_path is not None:
        labels = load_labels(labels_path, expected=expected)
        where = labels_path
    else:
        assert card is not None
        labels, where = card.labels, card.path
        if expected is not None and len(labels) != expected:
            raise CardError(
                f"{card.path}: lists {len(labels)} labels but the model has {expected} outputs; "
                "use the card exported with this model"
            )
    if card is not None:
        check_card_against_model(card, content, model.input.shape, model.num_outputs)
    label_map = None
    if cfg.label_map:
        label_map = LabelMap(labels, cfg.label_map, str(card.path if card else "classifier.label_map"))
    check_label_names(cfg, label_map.user_labels if label_map else labels, where)
    if input_range_override is not None and not input_range_override[0] < input_range_override[1]:
        raise ConfigError(
            f"input range {list(input_range_override)} is empty; give MIN,MAX with MIN < MAX"
        )
    meta, meta_note = read_normalization(content)
    if meta is not None and "input_range" not in cfg.model_fields_set and card is not None:
        # The model states its own normalisation; the card's copy of it is no user setting.
        cfg = cfg.model_copy(update={"input_range": None})
    norm = resolve_normalization(
        cfg,
        metadata=meta,
        metadata_note=meta_note,
        input_dtype=model.input.dtype,
        input_scale=model.input.scale,
        input_zero_point=model.input.zero_point,
        channels=model.channels,
        override=input_range_override,
        origin=str(model_path),
    )
    try:
        quantizer = InputQuantizer(
            norm.norm,
            model.channels,
            model.input.dtype,
            model.input.scale,
            model.input.zero_point,
        )
    except ValueError as exc:
        raise ConfigError(
            f"classifier.mean/std: {exc}; give one value or one per channel ({model.channels})"
        ) from None
    # A segmenter's class ids and a detector's box scores are read as such.
    mode = "probabilities" if kind in ("segmenter", "detector") else _output_mode(cfg, model, quantizer)
    if mode == "logits" and cfg.output == "auto":
        log.info(
            "%s: the output is not a probability vector; scores are softmax(output)", model_path
        )
    log.info(
        "classifier %s (%s, sha256 %s…): input %dx%dx%d %s, range %s from %s, %d labels",
        model_path.name,
        backend,
        model.sha256[:12],
        model.width,
        model.height,
        model.channels,
        model.input.dtype,
        norm.norm.real_range,
        norm.source,
        len(labels),
    )
    name = card.name if card is not None else None
    if kind == "segmenter":
        from visionedge.classify.segmenter import TfliteSegmenter

        return TfliteSegmenter(
            model, labels, norm, cfg, mode, label_map=label_map, card=card, name=name
        )
    if kind == "detector":
        from visionedge.classify.detector import TfliteDetector

        return TfliteDetector(
            model, labels, norm, cfg, mode, label_map=label_map, card=card, name=name
        )
    return TfliteClassifier(
        model, labels, norm, cfg, mode, label_map=label_map, card=card, name=name
    )
