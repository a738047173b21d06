"""The TFLite image classifier: crop what moved, run the model, rank the labels.

:func:`visionedge.classify.loader.load_classifier` builds it after every check at load
time. :class:`TfliteClassifier` is not thread-safe: one interpreter,
one caller at a time (the pipeline classifies from one thread).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from visionedge.classify.card import Card
from visionedge.classify.labelmap import LabelMap
from visionedge.classify.model import (
    LoadedModel,
)
from visionedge.classify.normalization import (
    ResolvedNormalization,
)
from visionedge.classify.preprocess import (
    InputQuantizer,
    crop_rect,
    dequantize,
    model_pixels,
)
from visionedge.classify.ranking import rank, softmax
from visionedge.classify.settings import apply_card, check_label_names
from visionedge.config import ClassifierConfig
from visionedge.errors import FrameError, ModelError
from visionedge.frame import Frame, Image
from visionedge.protocols import Box, Classification, Prediction

__all__ = [
    "DEFAULT_LABELS_PATH",
    "DEFAULT_MODEL_PATH",
    "InputSpec",
    "TfliteClassifier",
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


def timed_classification(
    t0_ns: int, frame_index: int, top: tuple[Prediction, ...], box: Box | None, raw: Prediction | None
) -> Classification:
    """The Classification of a crop whose work started at ``perf_counter_ns`` ``t0_ns``."""
    us = (time.perf_counter_ns() - t0_ns) / 1000.0
    return Classification(
        frame_index=frame_index,
        top=top,
        box=box,
        classify_us=round(us, 1),
        raw_label=raw.label if raw else "",
        raw_score=raw.score if raw else None,
    )


class _Freed:
    """Stands in for a freed interpreter (:meth:`TfliteClassifier.free_interpreter`)."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        raise ModelError(
            f"{self._name}: this stage's interpreter was freed (a head answers it); "
            "this is a bug in visionedge, please report it"
        )


def _check_image(image: Image) -> None:
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise FrameError(
            f"image is {image.dtype} {image.shape}; the classifier reads H x W x 3 BGR uint8"
        )


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
        self.exact_resize = card is None or card.for_mcu
        """The board's exact integer resize (a model a board runs, or one without a card);
        OpenCV's for the Pi-only presets (:func:`~visionedge.classify.preprocess.crop_resize`)."""
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

    def check_config(self, cfg: ClassifierConfig) -> None:
        """ConfigError if ``cfg`` names labels this model does not have (nothing changes)."""
        check_label_names(apply_card(cfg, self.card), self.labels, self.path)

    def reconfigure(self, cfg: ClassifierConfig) -> None:
        """Apply new thresholds, ignore list, top-k and margin at runtime.

        Label names are checked first (ConfigError, nothing changed). Settings that need a
        different interpreter (model, labels, backend, threads, XNNPACK, input range,
        output, label map) are kept as loaded, with a warning: they take effect on restart.
        The model card's settings apply as at load time (config keys override them).
        """
        cfg = apply_card(cfg, self.card)
        check_label_names(cfg, self.labels, self.path)
        changed = [f for f in RELOAD_FIELDS if getattr(cfg, f) != getattr(self._cfg, f)]
        if changed:
            log.warning(
                "classifier.%s: changes need a restart; the loaded model keeps running",
                ", classifier.".join(changed),
            )
        self._cfg = cfg.model_copy(update={f: getattr(self._cfg, f) for f in changed})
        self._ignore = frozenset(self._cfg.ignore)

    @property
    def min_agree(self) -> int:
        """Classifications an event's voted label must top (the card's ``vote.min_agree``)."""
        return self.card.min_agree if self.card is not None else 1

    @property
    def min_share(self) -> float:
        """Share of its classifications an event's label must top (the card's ``vote.min_share``)."""
        return self.card.min_share if self.card is not None else 0.0

    @property
    def object_min_crop_px(self) -> int:
        """Smallest crop side for a tracked object, full-frame pixels (the card's
        ``objects.min_crop_px``; 0: the object's box)."""
        return self.card.object_min_crop_px if self.card is not None else 0

    @property
    def object_min_fill_pct(self) -> int:
        """Share of its grown crop an object's box must cover to be classified, percent (the
        card's ``objects.min_fill_pct``; 0: always)."""
        return self.card.object_min_fill_pct if self.card is not None else 0

    @property
    def object_classify_per_frame(self) -> int:
        """Objects classified per frame the card asks (``objects.classify_per_frame``; 0: none)."""
        return self.card.object_classify_per_frame if self.card is not None else 0

    @property
    def object_still_min_score(self) -> dict[str, float]:
        """Per label, the mean score at which an object that has not travelled counts (the
        card's ``objects.still_min_score``; empty: the config's bar)."""
        return self.card.object_still_min_score if self.card is not None else {}

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
        _check_image(image)
        m = self._model
        rect = crop_rect(box, image.shape[1], image.shape[0], m.width / m.height, self._cfg.margin)
        pixels = model_pixels(
            image, rect, m.width, m.height, m.channels, exact=self.exact_resize
        )
        return self._quantize(pixels)

    def tile_tensors(self, image: Image, box: Box | None, n: int) -> list[npt.NDArray[np.generic]]:
        """The crop of :meth:`input_tensor`, resized to ``n`` times the model's size and cut
        into ``n`` x ``n`` model inputs, row by row (one resize for all the tiles).

        Resized with OpenCV, not the board's exact resize: no board runs tiles (the cascades
        that use them are Pi presets), and the exact resize costs 4x more at this size.
        """
        _check_image(image)
        m = self._model
        rect = crop_rect(box, image.shape[1], image.shape[0], m.width / m.height, self._cfg.margin)
        pixels = model_pixels(image, rect, m.width * n, m.height * n, m.channels, exact=False)
        return [
            self._quantize(np.ascontiguousarray(
                pixels[j * m.height : (j + 1) * m.height, i * m.width : (i + 1) * m.width]
            ))
            for j in range(n)
            for i in range(n)
        ]

    def tiled_user_scores(
        self, image: Image, box: Box | None, n: int
    ) -> tuple[npt.NDArray[np.float32], Prediction | None]:
        """Per label the best score over the ``n`` x ``n`` tiles of the crop, with the raw
        label of the tile that gave the best label its score (label maps only)."""
        answers = [self._user_scores_of(self._run(t)) for t in self.tile_tensors(image, box, n)]
        best: npt.NDArray[np.float32] = np.max(np.stack([a[0] for a in answers]), axis=0)
        top = int(np.argmax(best))
        return best, max(answers, key=lambda a: float(a[0][top]))[1]

    def scores(self, image: Image, box: Box | None = None) -> npt.NDArray[np.float32]:
        """Every label's score (dequantized; softmaxed for logit models), in output order."""
        return self._run(self.input_tensor(image, box))

    def _run(self, tensor: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
        self._interp.set_tensor(self._model.input.index, tensor)
        self._interp.invoke()
        raw = self._interp.get_tensor(self._model.output.index)
        out = self._model.output
        values = dequantize(raw, out.scale, out.zero_point, out.quantized)
        if self._logits:
            values = softmax(values)
        clipped: npt.NDArray[np.float32] = np.clip(values, 0.0, 1.0)
        return clipped

    def free_interpreter(self) -> None:
        """Free the interpreter and the model's bytes of a stage that never runs its own model.

        A cascade whose learned head reads the same backbone answers this stage from the
        head's run (:func:`visionedge.classify.cascade._shared_runs`), so its own interpreter
        (~3 MB of arena and model bytes for ``mobilenet_v1_075``) would only hold memory; the
        labels, label map and thresholds stay. Running the model afterwards is a bug and
        raises ModelError.
        """
        self._interp = _Freed(self.name)
        self._model.interpreter = self._interp
        self._model.content = b""

    def user_scores(
        self, image: Image, box: Box | None = None
    ) -> tuple[npt.NDArray[np.float32], Prediction | None]:
        """Scores in :attr:`labels` order, and the model's own top label (label maps only)."""
        return self._user_scores_of(self.scores(image, box))

    def _user_scores_of(
        self, scores: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float32], Prediction | None]:
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
        return timed_classification(t0, frame_index, self.rank(scores), box, raw)

    def classify(self, frame: Frame, box: Box | None) -> Classification:
        """Classify what moved: ``box`` of the frame's full-resolution image (None: all of it)."""
        return self.classify_image(frame.image(), box, frame_index=frame.index)
