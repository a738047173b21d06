"""The TFLite image classifier: crop what moved, run the model, rank the labels.

:func:`load_classifier` does every check at load time (backend, model file, input/output
spec, labels, normalisation, config labels), so a daemon that got a classifier back will
not fail on its first motion. :class:`TfliteClassifier` is not thread-safe: one interpreter,
one caller at a time (the pipeline classifies from one thread).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from visionedge.classify.backends import resolve_backend
from visionedge.classify.card import Card, check_card_against_model
from visionedge.classify.labelmap import LabelMap
from visionedge.classify.labels import find_labels_next_to, load_labels
from visionedge.classify.metadata import read_normalization
from visionedge.classify.model import (
    OUTPUT_KIND_MISMATCH,
    LoadedModel,
    open_model,
    read_model_file,
)
from visionedge.classify.normalization import (
    ResolvedNormalization,
    quantized_range,
    resolve_normalization,
)
from visionedge.classify.preprocess import (
    InputQuantizer,
    crop_rect,
    dequantize,
    model_pixels,
)
from visionedge.classify.presets import DEFAULT_PRESET, Resolved, resolve_model
from visionedge.classify.ranking import rank, softmax
from visionedge.config import ClassifierConfig
from visionedge.errors import CardError, ConfigError, FrameError, ModelError
from visionedge.frame import Frame, Image
from visionedge.protocols import Box, Classification, Prediction

if TYPE_CHECKING:
    from visionedge.classify.cascade import CascadeClassifier

__all__ = [
    "DEFAULT_LABELS_PATH",
    "DEFAULT_MODEL_PATH",
    "InputSpec",
    "TfliteClassifier",
    "apply_card",
    "load_classifier",
    "load_tflite",
]

log = logging.getLogger(__name__)

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
DEFAULT_MODEL_PATH = DATA_DIR / "demo_int8.tflite"
"""The shipped demo model (package data): the ``demo`` preset."""
DEFAULT_LABELS_PATH = DATA_DIR / "demo_labels.txt"
"""Labels of the shipped demo model."""

RELOAD_FIELDS = (
    "enabled",
    "model",
    "labels",
    "backend",
    "num_threads",
    "xnnpack",
    "input_range",
    "mean",
    "std",
    "output",
    "label_map",
)
"""ClassifierConfig fields that :meth:`TfliteClassifier.reconfigure` cannot change live."""


@dataclass(frozen=True, slots=True)
class InputSpec:
    """What the model reads and returns, and how pixels become its input (for model cards).

    ``mean``/``std`` are per channel in pixel units: ``real = (pixel - mean) / std``;
    ``real_range`` is what pixels 0 and 255 become; ``range_source`` says where the
    normalisation came from (cli, metadata, config, default). ``output_mode`` is
    ``"probabilities"`` (reported as they are) or ``"logits"`` (softmax applied).
    """

    height: int
    width: int
    channels: int
    colour: str
    dtype: str
    scale: float
    zero_point: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    real_range: tuple[float, float]
    range_source: str
    num_classes: int
    output_dtype: str
    output_scale: float
    output_zero_point: int
    output_mode: str
    backend: str

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "height": self.height,
            "width": self.width,
            "channels": self.channels,
            "colour": self.colour,
            "dtype": self.dtype,
            "scale": self.scale,
            "zero_point": self.zero_point,
            "mean": list(self.mean),
            "std": list(self.std),
            "real_range": list(self.real_range),
            "range_source": self.range_source,
            "num_classes": self.num_classes,
            "output_dtype": self.output_dtype,
            "output_scale": self.output_scale,
            "output_zero_point": self.output_zero_point,
            "output_mode": self.output_mode,
            "backend": self.backend,
        }


class TfliteClassifier:
    """Classifies the motion region of frames (and still images) with one TFLite model."""

    def __init__(
        self,
        model: LoadedModel,
        labels: tuple[str, ...],
        normalization: ResolvedNormalization,
        cfg: ClassifierConfig,
        output_mode: str,
        *,
        label_map: LabelMap | None = None,
        card: Card | None = None,
        name: str | None = None,
    ) -> None:
        self._model = model
        self._interp = model.interpreter
        self._cfg = cfg
        self.name = name or model.path.stem
        self.sha256 = model.sha256
        self.model_labels = labels
        self.label_map = label_map
        self.labels = label_map.user_labels if label_map is not None else labels
        """What the classifier reports: the user labels with a label map, else the model's."""
        self.card = card
        self.backend = model.backend
        self.normalization = normalization
        self._quantize = InputQuantizer(
            normalization.norm,
            model.channels,
            model.input.dtype,
            model.input.scale,
            model.input.zero_point,
        )
        self._logits = output_mode == "logits"
        self._ignore = frozenset(cfg.ignore)
        mean, std = normalization.norm.for_channels(model.channels)
        self.input_spec = InputSpec(
            height=model.height,
            width=model.width,
            channels=model.channels,
            colour="rgb" if model.channels == 3 else "gray",
            dtype=model.input.dtype,
            scale=model.input.scale,
            zero_point=model.input.zero_point,
            mean=mean,
            std=std,
            real_range=normalization.norm.real_range,
            range_source=normalization.source,
            num_classes=model.num_outputs,
            output_dtype=model.output.dtype,
            output_scale=model.output.scale,
            output_zero_point=model.output.zero_point,
            output_mode=output_mode,
            backend=model.backend,
        )

    def reconfigure(self, cfg: ClassifierConfig) -> None:
        """Apply new thresholds, ignore list, top-k and margin at runtime.

        Label names are checked first (ConfigError, nothing changed). Settings that need a
        different interpreter (model, labels, backend, threads, XNNPACK, input range,
        output, label map) are kept as loaded, with a warning: they take effect on restart.
        The model card's settings apply as at load time (config keys override them).
        """
        cfg = apply_card(cfg, self.card)
        _check_label_names(cfg, self.labels, self.path)
        changed = [f for f in RELOAD_FIELDS if getattr(cfg, f) != getattr(self._cfg, f)]
        if changed:
            log.warning(
                "classifier.%s: changes need a restart; the loaded model keeps running",
                ", classifier.".join(changed),
            )
        self._cfg = cfg.model_copy(update={f: getattr(self._cfg, f) for f in changed})
        self._ignore = frozenset(self._cfg.ignore)

    @property
    def reports_raw_labels(self) -> bool:
        """Whether classifications carry the model's own label behind a mapped one."""
        return self.label_map is not None

    @property
    def path(self) -> Path:
        """The model file."""
        return self._model.path

    def input_tensor(self, image: Image, box: Box | None = None) -> npt.NDArray[np.generic]:
        """The exact tensor the model gets for ``image`` (BGR) and ``box`` (normalised)."""
        if (
            image.dtype != np.uint8
            or image.ndim not in (2, 3)
            or (image.ndim == 3 and image.shape[2] != 3)
        ):
            raise FrameError(
                f"image is {image.dtype} {image.shape}; the classifier reads H x W x 3 BGR uint8"
            )
        m = self._model
        rect = crop_rect(box, image.shape[1], image.shape[0], m.width / m.height, self._cfg.margin)
        pixels = model_pixels(image, rect, m.width, m.height, m.channels)
        return self._quantize(pixels)

    def scores(self, image: Image, box: Box | None = None) -> npt.NDArray[np.float32]:
        """Every label's score (dequantized; softmaxed for logit models), in output order."""
        tensor = self.input_tensor(image, box)
        self._interp.set_tensor(self._model.input.index, tensor)
        self._interp.invoke()
        raw = self._interp.get_tensor(self._model.output.index)
        out = self._model.output
        values = dequantize(raw, out.scale, out.zero_point, out.quantized)
        if self._logits:
            values = softmax(values)
        clipped: npt.NDArray[np.float32] = np.clip(values, 0.0, 1.0)
        return clipped

    def user_scores(
        self, image: Image, box: Box | None = None
    ) -> tuple[npt.NDArray[np.float32], Prediction | None]:
        """Scores in :attr:`labels` order, and the model's own top label (label maps only)."""
        scores = self.scores(image, box)
        if self.label_map is None:
            return scores, None
        user = self.label_map(scores)
        # The raw label explains the user label: the best model label mapped to the best
        # user label (the overall top model label when nothing is mapped).
        j = int(np.argmax(user))
        members = self.label_map.members(j)
        pool = members if members.size and user[j] > 0 else np.arange(scores.size)
        i = int(pool[np.argmax(scores[pool])])
        return user, Prediction(self.model_labels[i], i, float(scores[i]))

    def rank(self, scores: npt.NDArray[np.float32]) -> tuple[Prediction, ...]:
        """Top-k of user scores after thresholds and the ignore list."""
        return rank(
            scores,
            self.labels,
            top_k=self._cfg.top_k,
            threshold=self._cfg.threshold,
            thresholds=self._cfg.thresholds,
            ignore=self._ignore,
        )

    def classify_image(
        self, image: Image, box: Box | None = None, *, frame_index: int = 0
    ) -> Classification:
        """Classify a still BGR image (or the ``box`` region of it)."""
        t0 = time.perf_counter_ns()
        scores, raw = self.user_scores(image, box)
        top = self.rank(scores)
        us = (time.perf_counter_ns() - t0) / 1000.0
        return Classification(
            frame_index=frame_index,
            top=top,
            box=box,
            classify_us=round(us, 1),
            raw_label=raw.label if raw else "",
            raw_score=raw.score if raw else None,
        )

    def classify(self, frame: Frame, box: Box | None) -> Classification:
        """Classify what moved: ``box`` of the frame's full-resolution image (None: all of it)."""
        return self.classify_image(frame.image(), box, frame_index=frame.index)


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


def apply_card(cfg: ClassifierConfig, card: Card | None) -> ClassifierConfig:
    """``cfg`` with the card's settings filled in where the config does not set them.

    A key counts as set when the config file (or a caller) gave it a value other than its
    built-in default: ``visionedge config defaults`` writes every key, and a config made
    from it must not silently replace a preset's threshold or margin with the generic ones.
    Raises CardError when the card's settings are invalid as config values.
    """
    if card is None or not card.settings:
        return cfg
    fields = ClassifierConfig.model_fields
    given = {
        k
        for k in cfg.model_fields_set
        if getattr(cfg, k) is not None and getattr(cfg, k) != fields[k].get_default(call_default_factory=True)
    }
    fill = {k: v for k, v in card.settings.items() if k not in given}
    if "input_range" in fill and cfg.mean is not None:
        del fill["input_range"]  # the config's mean/std stand for it
    if not fill:
        return cfg
    data = {k: getattr(cfg, k) for k in given}
    data.update(fill)
    from pydantic import ValidationError

    try:
        merged = ClassifierConfig.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise CardError(
            f"{card.path}: preset setting {where} is invalid ({err['msg']}); fix the card"
        ) from None
    # Card keys are not the user's: only the keys the user really changed count as given.
    object.__setattr__(merged, "__pydantic_fields_set__", given)
    return merged


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


def _check_label_names(cfg: ClassifierConfig, labels: tuple[str, ...], labels_path: Path) -> None:
    known = set(labels)
    for name in cfg.thresholds:
        if name not in known:
            raise ConfigError(
                f"classifier.thresholds names '{name}', which is not a label of {labels_path} "
                f"({', '.join(labels[:8])}{', ...' if len(labels) > 8 else ''}); use one of its labels"
            )
    # The default ignore list (["background"]) is a convention, not a claim about the model.
    if "ignore" in cfg.model_fields_set:
        for name in cfg.ignore:
            if name not in known:
                raise ConfigError(
                    f"classifier.ignore names '{name}', which is not a label of {labels_path}; "
                    "use one of its labels"
                )


def load_classifier(
    cfg: ClassifierConfig,
    *,
    input_range_override: tuple[float, float] | None = None,
    default_preset: str = DEFAULT_PRESET,
) -> TfliteClassifier | CascadeClassifier:
    """Load and check the configured model (a preset name, a path, or empty: the default).

    Dispatches on the card's kind: classifier, segmenter or cascade (both also
    :class:`TfliteClassifier`). Raises ModelError (PresetError, CardError, LabelsError,
    BackendError) at load time.
    """
    resolved = resolve_model(cfg.model, default=default_preset)
    card = resolved.card
    if card is not None and card.kind == "cascade":
        from visionedge.classify.cascade import load_cascade

        return load_cascade(cfg, card, resolved.name, input_range_override=input_range_override)
    return load_tflite(cfg, resolved, input_range_override=input_range_override)


def load_tflite(
    cfg: ClassifierConfig,
    resolved: Resolved,
    *,
    input_range_override: tuple[float, float] | None = None,
) -> TfliteClassifier:
    """Load one TFLite model (classifier or segmenter) with its card's settings."""
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
    _check_label_names(cfg, label_map.user_labels if label_map else labels, where)
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
    # A segmenter's output is class ids, read as such: there is no probability to detect.
    mode = "probabilities" if kind == "segmenter" else _output_mode(cfg, model, quantizer)
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
    return TfliteClassifier(
        model, labels, norm, cfg, mode, label_map=label_map, card=card, name=name
    )
