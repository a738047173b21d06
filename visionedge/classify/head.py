"""The head kind: a pretrained backbone's pooled features, labelled by a small trained head.

A head is a softmax regression (one dense layer) over the embedding a shipped backbone
computes (``MobilenetV1/Logits/AvgPool_1a/AvgPool`` of ``mobilenet_v1_075``, read through
:func:`~visionedge.classify.embedding.cut_at`), trained on a few hundred hand-checked crops
by ``visionedge model train-head`` (:mod:`visionedge.train.head`). Its classes include
``background``, so a tree, a shadow or a ghost can say "no label" (``ignore``). Inference is
numpy float64 on the dequantized embedding: the backbone's builtin int8 kernels give the same
bytes on every runtime, so the scores are the same everywhere.

``head.json`` (format ``visionedge-head/1``) holds the backbone (preset name, sha256 of its
file, tensor name), the labels, the per-feature mean and scale the features are
standardised with, the weights (features x labels) and bias, and how it was trained. A
card (``kind = "head"``, ``file = "head.json"``) beside it makes it a preset or a
``classifier.model`` path. Anything wrong with the file is a :class:`HeadError` (exit 17).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from visionedge.classify.card import Card
from visionedge.classify.classifier import TfliteClassifier
from visionedge.classify.model import LoadedModel
from visionedge.classify.normalization import ResolvedNormalization
from visionedge.classify.preprocess import dequantize
from visionedge.classify.presets import Resolved
from visionedge.config import ClassifierConfig
from visionedge.errors import CardError, HeadError, PresetError
from visionedge.protocols import Prediction

__all__ = ["HEAD_FORMAT", "Head", "HeadClassifier", "load_head", "open_backbone", "read_head", "write_head"]

HEAD_FORMAT = "visionedge-head/1"
F64 = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Head:
    """A trained head: ``softmax(((x - mean) / scale) @ weights + bias)`` over ``labels``."""

    backbone: str
    """The backbone preset whose embedding the head reads (e.g. ``mobilenet_v1_075``)."""
    backbone_sha256: str
    tensor: str
    """The backbone tensor read as the embedding (its pooled features)."""
    labels: tuple[str, ...]
    mean: F64
    scale: F64
    weights: F64
    bias: F64
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def features(self) -> int:
        """Length of the embedding the head reads."""
        return int(self.mean.size)

    def probabilities(self, embedding: npt.NDArray[np.floating[Any]]) -> F64:
        """Class probabilities (float64, ``labels`` order) of one or more embeddings."""
        x = np.asarray(embedding, np.float64)
        logits = ((x - self.mean) / self.scale) @ self.weights + self.bias
        logits = logits - np.max(logits, axis=-1, keepdims=True)
        e = np.exp(logits)
        out: F64 = e / np.sum(e, axis=-1, keepdims=True)
        return out

    def to_json(self) -> dict[str, Any]:
        """The ``head.json`` content (floats as Python reprs: exact float64 round trip)."""
        return {
            "format": HEAD_FORMAT,
            "backbone": {"preset": self.backbone, "sha256": self.backbone_sha256,
                         "tensor": self.tensor},
            "labels": list(self.labels),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias.tolist(),
            "training": self.training,
        }


def write_head(head: Head, path: Path) -> str:
    """Write ``head.json`` atomically (temp file, then rename); return its sha256."""
    text = json.dumps(head.to_json(), indent=None, separators=(",", ":")) + "\n"
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, "utf-8")
    tmp.replace(path)
    return hashlib.sha256(text.encode()).hexdigest()


def _bad(path: Path, what: str) -> HeadError:
    return HeadError(f"{path}: {what}; train the head again with `visionedge model train-head`")


def _array(data: dict[str, Any], key: str, shape: tuple[int, ...], path: Path) -> F64:
    try:
        arr = np.asarray(data[key], np.float64)
    except KeyError:
        raise _bad(path, f"no '{key}'") from None
    except (TypeError, ValueError):
        raise _bad(path, f"'{key}' is not an array of numbers") from None
    if arr.shape != shape:
        raise _bad(path, f"'{key}' has shape {list(arr.shape)}, expected {list(shape)}")
    if not np.all(np.isfinite(arr)):
        raise _bad(path, f"'{key}' holds values that are not finite")
    return arr


def read_head(path: Path) -> Head:
    """Read and check ``head.json``; HeadError when it is unusable."""
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise HeadError(f"{path}: head file not found; train one with `visionedge model "
                        "train-head DATASET --out DIR`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"not readable JSON ({str(exc)[:120]})") from None
    if not isinstance(data, dict) or data.get("format") != HEAD_FORMAT:
        got = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise _bad(path, f"format is {got!r}, expected {HEAD_FORMAT!r}")
    backbone = data.get("backbone")
    if not isinstance(backbone, dict) or not all(
        isinstance(backbone.get(k), str) and backbone.get(k) for k in ("preset", "sha256", "tensor")
    ):
        raise _bad(path, "'backbone' must name preset, sha256 and tensor")
    labels = data.get("labels")
    if (not isinstance(labels, list) or len(labels) < 2
            or not all(isinstance(x, str) and x for x in labels) or len(set(labels)) != len(labels)):
        raise _bad(path, "'labels' must be two or more distinct names")
    mean = np.asarray(data.get("mean", []), dtype=object)
    n = int(mean.size) if mean.ndim == 1 else 0
    if n < 1:
        raise _bad(path, "'mean' is not a list of numbers")
    k = len(labels)
    scale = _array(data, "scale", (n,), path)
    if np.any(scale <= 0):
        raise _bad(path, "'scale' holds values that are not positive")
    training = data.get("training", {})
    return Head(
        backbone=str(backbone["preset"]),
        backbone_sha256=str(backbone["sha256"]),
        tensor=str(backbone["tensor"]),
        labels=tuple(labels),
        mean=_array(data, "mean", (n,), path),
        scale=scale,
        weights=_array(data, "weights", (n, k), path),
        bias=_array(data, "bias", (k,), path),
        training=training if isinstance(training, dict) else {},
    )


class HeadClassifier(TfliteClassifier):
    """A :class:`TfliteClassifier` whose model is the backbone cut at its embedding, and whose
    scores are the head's probabilities (crops, tiles, thresholds, ranking as for any model)."""

    def __init__(
        self,
        model: LoadedModel,
        head: Head,
        normalization: ResolvedNormalization,
        cfg: ClassifierConfig,
        **kwargs: Any,
    ) -> None:
        super().__init__(model, head.labels, normalization, cfg, "probabilities", **kwargs)
        self.head = head
        self.head_sha256 = str(kwargs["card"].sha256) if kwargs.get("card") is not None else ""
        # One identity for the payload: backbone and head together.
        self.sha256 = hashlib.sha256((model.sha256 + self.head_sha256).encode()).hexdigest()

    @property
    def reports_raw_labels(self) -> bool:
        """Events carry the head's own top label (``background`` included) as the raw label."""
        return True

    def embedding(self, tensor: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
        """The backbone's dequantized embedding of one input tensor."""
        self._interp.set_tensor(self._model.input.index, tensor)
        self._interp.invoke()
        raw = self._interp.get_tensor(self._model.output.index)
        out = self._model.output
        return dequantize(raw, out.scale, out.zero_point, out.quantized)

    def _run(self, tensor: npt.NDArray[np.generic]) -> npt.NDArray[np.float32]:
        probs = self.head.probabilities(self.embedding(tensor))
        return probs.astype(np.float32)

    def run_both(
        self, tensor: npt.NDArray[np.generic]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """One backbone run: the head's probabilities and the backbone's own scores
        (dequantized and clipped to [0, 1] as :class:`TfliteClassifier` reads them)."""
        head = self._run(tensor)
        spec = self._model.second
        assert spec is not None
        raw = self._interp.get_tensor(spec.index)
        own = np.clip(dequantize(raw, spec.scale, spec.zero_point, spec.quantized), 0.0, 1.0)
        return head, own.astype(np.float32)

    def _user_scores_of(
        self, scores: npt.NDArray[np.float32]
    ) -> tuple[npt.NDArray[np.float32], Prediction | None]:
        i = int(np.argmax(scores))
        return scores, Prediction(self.labels[i], i, round(float(scores[i]), 6))


def open_backbone(
    backbone: Resolved, tensor: str, cfg: ClassifierConfig, *, origin: str,
    head: Head | None = None, card: Card | None = None,
) -> HeadClassifier:
    """The backbone preset cut at ``tensor``, as a HeadClassifier of ``head`` (None: a neutral
    one, for reading embeddings while training). HeadError when the tensor is missing."""
    from visionedge.classify.backends import resolve_backend
    from visionedge.classify.embedding import tensor_names
    from visionedge.classify.metadata import read_normalization
    from visionedge.classify.model import open_model, read_model_file
    from visionedge.classify.normalization import resolve_normalization
    from visionedge.classify.settings import apply_card

    if backbone.card is None or backbone.model is None or backbone.card.kind != "classifier":
        raise HeadError(f"{origin}: backbone '{backbone.name}' is not a single-model preset; "
                        "use a classifier preset (e.g. mobilenet_v1_075)")
    model_bytes = read_model_file(backbone.model)
    if head is not None and hashlib.sha256(model_bytes).hexdigest() != head.backbone_sha256:
        raise HeadError(
            f"{origin}: trained on backbone sha256 {head.backbone_sha256[:12]}…, but preset "
            f"'{backbone.name}' is another model; train the head again on this one"
        )
    if tensor not in tensor_names(model_bytes):
        raise HeadError(f"{origin}: backbone '{backbone.name}' has no tensor '{tensor}'; "
                        "train the head again on this backbone")
    backend, factory = resolve_backend(cfg.backend, xnnpack=cfg.xnnpack)
    model = open_model(model_bytes, backbone.model, backend=backend, factory=factory,
                       num_threads=cfg.num_threads, kind="embedding", output_tensor=tensor)
    if head is not None and model.num_outputs != head.features:
        raise HeadError(f"{origin}: the head reads {head.features} features but '{tensor}' "
                        f"holds {model.num_outputs}; train the head again on this backbone")
    # Pixels are normalised as the backbone was trained (its metadata or card).
    bcfg = apply_card(ClassifierConfig(), backbone.card)
    meta, note = read_normalization(model_bytes)
    norm = resolve_normalization(
        bcfg if meta is None else bcfg.model_copy(update={"input_range": None}),
        metadata=meta, metadata_note=note, input_dtype=model.input.dtype,
        input_scale=model.input.scale, input_zero_point=model.input.zero_point,
        channels=model.channels, override=None, origin=str(backbone.model),
    )
    if head is None:
        n = model.num_outputs
        head = Head(backbone.name, "", tensor, ("feature", "other"), np.zeros(n), np.ones(n),
                    np.zeros((n, 2)), np.zeros(2))
        cfg = apply_card(cfg, backbone.card).model_copy(update={"label_map": {}})
        return HeadClassifier(model, head, norm, cfg, card=backbone.card, name=backbone.name)
    return HeadClassifier(model, head, norm, cfg, card=card, name=card.name if card else None)


def load_head(cfg: ClassifierConfig, resolved: Resolved) -> HeadClassifier:
    """Load a head card: its ``head.json``, and the backbone preset it names cut at its tensor.

    Checked: the card's sha256 and labels against the head file, the backbone's sha256 and
    tensor against the installed backbone (HeadError), the config's label names (ConfigError).
    """
    from visionedge.classify.presets import resolve_model
    from visionedge.classify.settings import apply_card, check_label_names

    card = resolved.card
    assert card is not None and resolved.model is not None
    path = resolved.model
    head = read_head(path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != card.sha256:
        raise CardError(
            f"{card.path}: the card is for sha256 {card.sha256[:12]}… but {path} is "
            f"{digest[:12]}…; put the card written with this head beside it"
        )
    if tuple(card.labels) != head.labels:
        raise CardError(f"{card.path}: the card's labels {list(card.labels)} are not the head's "
                        f"{list(head.labels)}; put the card written with this head beside it")
    cfg = apply_card(cfg, card)
    check_label_names(cfg, head.labels, card.path)
    try:
        backbone = resolve_model(head.backbone)
    except PresetError as exc:
        raise HeadError(f"{path}: its backbone is not installed ({exc})") from None
    return open_backbone(backbone, head.tensor, cfg, origin=str(path), head=head, card=card)
