"""Training a learned head: softmax regression over a shipped backbone's embedding.

The transfer-learning path for a user with ~50 crops per class: no TensorFlow, no GPU, a
few seconds. Each crop (and its mirror image) goes through the backbone preset as the
classifier would cut it (:class:`~visionedge.classify.head.HeadClassifier`); the pooled
embedding is standardised and a one-layer softmax regression is fitted in numpy float64 by
full-batch accelerated gradient descent (FISTA, step 1/L from a power iteration of the
data's Gram matrix, fixed iteration count): no randomness, so the same crops give the
same head, bit for bit, on the same machine.

Weights: every class counts the same in the loss, and inside a class every clip (the
dataset's ``group``) counts the same, so a long clip does not outvote the others. The L2
strength is chosen by a by-clip cross-validation inside the dataset (whole clips held out,
never frames of one passage on both sides) when there are at least three clips, and the
report gives per-class precision and recall and a confusion matrix of those held-out
predictions.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.classify.head import Head, HeadClassifier, open_backbone, write_head
from visionedge.classify.presets import resolve_model
from visionedge.config import ClassifierConfig
from visionedge.errors import TrainingError
from visionedge.protocols import Box

__all__ = [
    "DEFAULT_BACKBONE",
    "DEFAULT_TENSOR",
    "L2_GRID",
    "Sample",
    "embed",
    "embed_view",
    "fit",
    "sample_rows",
    "train_head",
]

F64 = npt.NDArray[np.float64]
DEFAULT_BACKBONE = "mobilenet_v1_075"
DEFAULT_TENSOR = "MobilenetV1/Logits/AvgPool_1a/AvgPool"
L2_GRID = (0.01, 0.03, 0.1, 0.3)
"""L2 strengths the by-clip cross-validation chooses from (standardised features)."""
ITERATIONS = 400
MIN_SCALE = 0.01
"""Floor of a feature's scale: features (nearly) constant in training stay near zero."""


@dataclass(frozen=True)
class Sample:
    """One training crop: its image file, class and group (clip)."""

    path: Path
    label: str
    group: str


def _weights(y: npt.NDArray[np.int64], groups: Sequence[str], k: int) -> F64:
    """Per sample: each class the same total, each (clip, class) the same within its class."""
    keys = [f"{g}\x00{c}" for g, c in zip(groups, y, strict=True)]
    _, inv, counts = np.unique(np.array(keys), return_inverse=True, return_counts=True)
    w: F64 = 1.0 / counts[inv].astype(np.float64)
    for c in range(k):
        m = y == c
        if m.any():
            w[m] /= w[m].sum()
    w *= len(y) / w.sum()
    return w


def fit(x: F64, y: npt.NDArray[np.int64], groups: Sequence[str], k: int, l2: float
        ) -> tuple[F64, F64, F64, F64]:
    """(mean, scale, weights, bias) of a softmax regression of ``y`` on ``x``."""
    mean = x.mean(axis=0)
    scale = np.maximum(x.std(axis=0), MIN_SCALE)
    z = (x - mean) / scale
    n, d = z.shape
    onehot = np.eye(k)[y]
    w = _weights(y, groups, k)
    # Step 1/L: L <= 0.5 * largest eigenvalue of Z^T diag(w) Z / n, plus the L2 term.
    a = z * np.sqrt(w / n)[:, None]
    v = np.full(d, 1.0 / np.sqrt(d))
    lam = 1.0
    for _ in range(50):
        v = a.T @ (a @ v)
        lam = float(np.linalg.norm(v)) or 1.0
        v /= lam
    step = 1.0 / (0.5 * lam + l2)
    wt, bt = np.zeros((d, k)), np.zeros(k)
    wm, bm, t = wt.copy(), bt.copy(), 1.0
    for _ in range(ITERATIONS):
        logits = z @ wm + bm
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * (w / n)[:, None]
        wn = wm - step * (z.T @ g + l2 * wm)
        bn = bm - step * g.sum(axis=0)
        tn = (1 + np.sqrt(1 + 4 * t * t)) / 2
        wm = wn + (t - 1) / tn * (wn - wt)
        bm = bn + (t - 1) / tn * (bn - bt)
        wt, bt, t = wn, bn, tn
    return mean, scale, wt, bt


def _predict(params: tuple[F64, F64, F64, F64], x: F64) -> F64:
    mean, scale, w, b = params
    logits = ((x - mean) / scale) @ w + b
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    out: F64 = p / p.sum(axis=1, keepdims=True)
    return out


def _folds(groups: Sequence[str], n_folds: int = 5) -> list[set[str]]:
    """Whole clips per fold, dealt round-robin in sorted order (deterministic)."""
    names = sorted(set(groups))
    n = min(n_folds, len(names))
    return [set(names[i::n]) for i in range(n)]


def _balanced(pred: npt.NDArray[np.int64], y: npt.NDArray[np.int64], k: int) -> float:
    recalls = [float(np.mean(pred[y == c] == c)) for c in range(k) if np.any(y == c)]
    return float(np.mean(recalls)) if recalls else 0.0


U8 = npt.NDArray[np.uint8]
View = tuple[int, U8, Box]
"""An extra training view of sample ``i``: an image and the box to cut from it."""


def embed_view(clf: HeadClassifier, image: U8, box: Box) -> list[F64]:
    """The embedding of ``box`` of ``image`` cut as the classifier cuts it, and of its mirror."""
    mirrored = Box(1.0 - box.x1, box.y0, 1.0 - box.x0, box.y1)
    return [clf.embedding(clf.input_tensor(img, b)).astype(np.float64)
            for img, b in ((image, box), (np.ascontiguousarray(image[:, ::-1]), mirrored))]


def embed(clf: HeadClassifier, images: Sequence[U8]) -> F64:
    """The backbone embedding of each image (whole image as the crop), and of its mirror."""
    whole = Box(0.0, 0.0, 1.0, 1.0)
    return np.asarray([e for img in images for e in embed_view(clf, img, whole)], np.float64)


def sample_rows(
    clf: HeadClassifier,
    samples: Sequence[Sample],
    views: Callable[[Sequence[Sample]], Iterator[View]] | None = None,
) -> tuple[F64, list[int]]:
    """The training rows of ``samples``: each crop's embedding and its mirror's, then each
    extra view's (``views``) and its mirror's; and the sample each row belongs to."""
    images: list[U8] = []
    for s in samples:
        img = cv2.imread(str(s.path), cv2.IMREAD_COLOR)
        if img is None:
            raise TrainingError(f"{s.path}: not a readable image; move it out of the dataset")
        images.append(np.asarray(img, np.uint8))
    rows = list(embed(clf, images))
    index = [i for i in range(len(samples)) for _ in (0, 1)]
    if views is not None:
        for i, image, box in views(samples):
            rows += embed_view(clf, image, box)
            index += [i, i]
    return np.asarray(rows, np.float64).reshape(len(rows), -1), index


def train_head(
    samples: Sequence[Sample],
    *,
    backbone: str = DEFAULT_BACKBONE,
    tensor: str = DEFAULT_TENSOR,
    l2: float | None = None,
    backend: str = "auto",
    progress: Callable[[str], None] | None = None,
    views: Callable[[Sequence[Sample]], Iterator[View]] | None = None,
    views_note: str = "",
) -> tuple[Head, dict[str, Any]]:
    """Train a head on ``samples``; return it and its report (choice of L2, by-clip CV).

    Each crop is used as it is and mirrored. ``views`` may yield more views of the samples
    (e.g. the crop's box cut from the clip's frame as the pipeline cuts an object: wider
    context, another scale), each also mirrored; ``views_note`` describes them in the report.

    ``l2`` None: chosen from :data:`L2_GRID` by by-clip cross-validation (balanced accuracy)
    when the samples come from at least three clips, else 0.1.
    """
    if l2 is not None and not (np.isfinite(l2) and l2 >= 0):
        raise TrainingError(f"--l2 {l2} is not a strength >= 0; give e.g. 0.1, or leave it out")
    labels = sorted({s.label for s in samples})
    if len(labels) < 2:
        raise TrainingError("a head needs at least two classes of crops; add a class folder")
    resolved = resolve_model(backbone)
    cfg = ClassifierConfig.model_validate({"backend": backend})
    clf = open_backbone(resolved, tensor, cfg, origin=backbone)
    if progress:
        progress(f"embedding {len(samples)} crops (and their mirror images) with {backbone}")
    x, index = sample_rows(clf, samples, views)
    y = np.array([labels.index(samples[i].label) for i in index], np.int64)
    groups = [samples[i].group for i in index]
    k = len(labels)
    folds = _folds(groups)
    report: dict[str, Any] = {"labels": labels, "crops": len(samples),
                              "clips": len(set(groups)),
                              "views": "crop + mirror" + (f"; {views_note}" if views_note else ""),
                              "vectors": len(y),
                              "clips_per_label": {lab: len({s.group for s in samples if s.label == lab})
                                                  for lab in labels}}
    cv: dict[str, Any] = {}
    if len(folds) >= 3:
        best: tuple[float, float] | None = None
        for cand in (L2_GRID if l2 is None else (l2,)):
            pred = np.zeros(len(y), np.int64)
            for fold in folds:
                held = np.array([g in fold for g in groups])
                if len(set(y[~held].tolist())) < 2:
                    continue
                params = fit(x[~held], y[~held], [g for g, h in zip(groups, held, strict=True)
                                                  if not h], k, cand)
                pred[held] = np.argmax(_predict(params, x[held]), axis=1)
            score = _balanced(pred, y, k)
            cv[f"{cand:g}"] = round(score, 4)
            if best is None or score > best[0]:
                best = (score, cand)
                report["cv_confusion"] = _confusion(pred, y, k)
        assert best is not None
        chosen = best[1]
        report["cv_balanced_accuracy"] = cv
        report["cv"] = f"{len(folds)} folds by clip"
    else:
        chosen = 0.1 if l2 is None else l2
        report["cv"] = "not run: fewer than three clips"
    report["l2"] = chosen
    params = fit(x, y, groups, k, chosen)
    sha = hashlib.sha256(clf._model.content).hexdigest()
    head = Head(backbone=backbone, backbone_sha256=sha, tensor=tensor, labels=tuple(labels),
                mean=params[0], scale=params[1], weights=params[2], bias=params[3],
                training={k_: v for k_, v in report.items() if k_ != "cv_confusion"})
    return head, report


def _confusion(pred: npt.NDArray[np.int64], y: npt.NDArray[np.int64], k: int) -> list[list[int]]:
    m = np.zeros((k, k), np.int64)
    for t, p in zip(y.tolist(), pred.tolist(), strict=True):
        m[t, p] += 1
    return [[int(v) for v in row] for row in m]


def report_text(report: dict[str, Any]) -> str:
    """Per-class precision and recall and the confusion matrix of the by-clip CV."""
    labels = report["labels"]
    lines = [f"{report['crops']} crops of {report['clips']} clips, L2 {report['l2']:g} "
             f"({report['cv']})"]
    conf = report.get("cv_confusion")
    if conf:
        m = np.asarray(conf)
        lines.append("held-out clips (by-clip cross-validation), rows = truth:")
        width = max(len(x) for x in labels) + 2
        lines.append(" " * width + "".join(f"{x:>{width}}" for x in labels)
                     + f"{'recall':>9}{'precision':>11}")
        for i, name in enumerate(labels):
            rec = m[i, i] / max(m[i].sum(), 1)
            prec = m[i, i] / max(m[:, i].sum(), 1)
            lines.append(f"{name:<{width}}" + "".join(f"{v:>{width}}" for v in m[i])
                         + f"{rec:>9.2f}{prec:>11.2f}")
        # A class from one clip only is held out with its clip: its row above is a model
        # that never saw the class, not what the head does on it.
        alone = [lab for lab, n in report.get("clips_per_label", {}).items() if n == 1]
        lines += [f"note: '{lab}' comes from one clip only, so its held-out figures are of a "
                  f"model that never saw it; add crops of it from another clip" for lab in alone]
    return "\n".join(lines)


def write_head_preset(head: Head, report: dict[str, Any], out: Path, name: str,
                      extra: dict[str, Any] | None = None) -> Path:
    """Write ``head.json`` and its ``card.json`` (kind ``head``) into ``out``; return the card."""
    out.mkdir(parents=True, exist_ok=True)
    sha = write_head(head, out / "head.json")
    preset: dict[str, Any] = {
        "kind": "head",
        "backbone": head.backbone,
        "margin": 0.5,
        "threshold": 0.5,
        "ignore": ["background"] if "background" in head.labels else [],
        **(extra or {}),
    }
    card = {
        "format": "visionedge-model-card/1",
        "name": name,
        "description": (f"learned head over {head.backbone}'s embedding ({head.tensor}): "
                        f"{', '.join(head.labels)}; {report['crops']} crops of "
                        f"{report['clips']} clips"),
        "file": "head.json",
        "sha256": sha,
        "bytes": (out / "head.json").stat().st_size,
        "labels": list(head.labels),
        "preset": preset,
    }
    path = out / "card.json"
    path.write_text(json.dumps(card, indent=1) + "\n")
    return path


def write_cascade_preset(head_card: Path, name: str) -> Path:
    """Write ``cascade.json`` beside ``head_card``: the default preset's cascade with this head
    answering in place of ``pva_head``; return its path.

    The default's person and ImageNet claims, vote and object settings are kept, so the
    user's head only answers what they leave (and, with ``yields``/``confirms``, vetoes and
    confirms as the shipped head does). A ``yields`` or ``confirms`` naming a label this head
    does not report is dropped (a head trained without people cannot be sure of a person),
    and a stage's ``holds`` with its last ``yields``.
    Use it with ``[classifier] model = "<out>/cascade.json"``.
    """
    from visionedge.classify.presets import DEFAULT_PRESET, PRESETS_DIR

    default = json.loads((PRESETS_DIR / DEFAULT_PRESET / "card.json").read_text("utf-8"))
    labels = set(json.loads(head_card.read_text("utf-8"))["labels"])
    preset = copy.deepcopy(default["preset"])
    stages = preset["stages"]
    stages[-1]["preset"] = head_card.with_name("head.json").name
    for stage in stages:
        for key in ("yields", "confirms"):
            if key in stage:
                keep = {k: v for k, v in stage[key].items()
                        if k in labels or (key == "confirms" and stage is not stages[-1])}
                if keep:
                    stage[key] = keep
                else:
                    del stage[key]
        if "yields" not in stage:
            # What a claim holds on whatever it yields to: nothing to hold against now.
            stage.pop("holds", None)
    if not any(s.get("confirms") for s in stages):
        preset.get("objects", {}).pop("confirm_px", None)
    preset.pop("measured", None)
    card = {
        "format": "visionedge-model-card/1",
        "name": name,
        "description": (f"the default preset ({DEFAULT_PRESET}) with the learned head "
                        f"'{head_card.parent.name}' ({', '.join(sorted(labels))}) answering "
                        "what its person and ImageNet stages do not claim"),
        "preset": preset,
    }
    path = head_card.with_name("cascade.json")
    path.write_text(json.dumps(card, indent=1) + "\n")
    return path
