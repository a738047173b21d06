"""Train the fp32 model on a folder-per-class dataset, seeded, and record what was done.

A dataset collected with ``visionedge dataset collect`` (it has a ``manifest.csv``) is split
by clip (:func:`visionedge.dataset.split_by_clip`); a plain folder-per-class dataset is split
per class by file. ``distil`` > 0 trains on a blend of the folder label and the teacher's
soft labels from the manifest (a crop relabelled by hand keeps its hard label), ``balance``
weights every class equally, and ``arch = "mobilenet"`` starts from a pretrained backbone
(:mod:`visionedge.train.transfer`) instead of the small DS-CNN.

A training run writes into its work directory: ``split.json`` (the seeded split),
``labels.txt``, ``fp32.h5`` (the tf-keras model), ``fp32.tflite`` and ``train.json``
(the input spec every later step and the model card read: size, colour, real input range
[0, 1] = pixel / 255, alpha, seed, epochs, history).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from visionedge.errors import TrainingError
from visionedge.train import load_tf, seed_everything
from visionedge.train.architecture import build_model
from visionedge.train.dataset import Colour, Split, augment, label_list, make_split, to_float

__all__ = ["TrainConfig", "WorkDir", "balance_weights", "build_for", "fit", "load_keras",
           "soft_targets", "train"]


@dataclass
class TrainConfig:
    """Hyper-parameters of a training run (all recorded in ``train.json``)."""

    size: int = 96
    colour: Colour = "gray"
    alpha: float = 1.0
    dropout: float = 0.2
    epochs: int = 20
    batch_size: int = 64
    learning_rate: float = 3e-3
    seed: int = 0
    augment_copies: int = 1
    arch: str = "dscnn"
    """"dscnn" (:mod:`.architecture`, from scratch) or "mobilenet" (pretrained ``backbone``)."""
    backbone: str = ""
    drop_blocks: int = 0
    """mobilenet: leave out the backbone's last N blocks (smaller model)."""
    fine_tune_epochs: int = 0
    """mobilenet: epochs with the whole backbone trainable (learning rate / 10), after
    ``epochs`` with it frozen."""
    distil: float = 0.0
    balance: bool = False
    test_clips: list[str] = field(default_factory=list)
    input_range: tuple[float, float] = (0.0, 1.0)
    history: dict[str, list[float]] = field(default_factory=dict)
    train_seconds: float = 0.0


class WorkDir:
    """The files of one pipeline run (``--out`` of ``visionedge model train``)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def split(self) -> Path:
        return self.path / "split.json"

    @property
    def labels(self) -> Path:
        return self.path / "labels.txt"

    @property
    def config(self) -> Path:
        return self.path / "train.json"

    def keras(self, stage: str) -> Path:
        return self.path / f"{stage}.h5"

    def tflite(self, stage: str) -> Path:
        return self.path / f"{stage}.tflite"

    def load_config(self) -> TrainConfig:
        """Read ``train.json``; TrainingError if the directory is not a training run."""
        try:
            data = json.loads(self.config.read_text())
        except FileNotFoundError:
            raise TrainingError(
                f"{self.path}: no train.json; run `visionedge model train DATA --out "
                f"{self.path}` first"
            ) from None
        except ValueError as exc:
            raise TrainingError(f"{self.config}: not valid JSON ({exc})") from exc
        data["input_range"] = tuple(data.get("input_range", (0.0, 1.0)))
        known = TrainConfig.__dataclass_fields__
        return TrainConfig(**{k: v for k, v in data.items() if k in known})

    def save_config(self, cfg: TrainConfig) -> None:
        self.config.write_text(json.dumps(asdict(cfg), indent=1) + "\n")


def load_keras(path: Path) -> Any:
    """Load a tf-keras model saved by this pipeline."""
    _, keras = load_tf()
    if not path.is_file():
        raise TrainingError(f"{path}: model not found; run the step that writes it first")
    return keras.models.load_model(path, compile=False)


def fit(
    model: Any,
    train: tuple[npt.NDArray[np.uint8], npt.NDArray[Any]],
    val: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]],
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    callbacks: list[Any] | None = None,
    weights: npt.NDArray[np.float32] | None = None,
) -> dict[str, list[float]]:
    """Compile and fit with Adam and a cosine-decayed learning rate; returns the history.

    ``train``'s targets are class indices, or N x classes soft targets (distillation; the
    loss is then categorical cross-entropy and val targets are made one-hot to match).
    ``weights`` are per-sample loss weights.
    """
    _, keras = load_tf()
    x, y = train
    soft = y.ndim == 2
    steps = max(1, int(np.ceil(len(x) / batch_size))) * max(1, epochs)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="categorical_crossentropy" if soft else "sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # Shuffle once per epoch with a seeded generator, outside TF, so the order is the same
    # on every run regardless of tf.data's threading.
    rng = np.random.default_rng([seed, 31])
    history: dict[str, list[float]] = {}
    xv = to_float(val[0])
    yv: npt.NDArray[Any] = val[1]
    if soft and yv.ndim == 1:
        yv = np.eye(y.shape[1], dtype=np.float32)[yv]
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        h = model.fit(
            to_float(x[order]),
            y[order],
            sample_weight=weights[order] if weights is not None else None,
            batch_size=batch_size,
            epochs=epoch + 1,
            initial_epoch=epoch,
            shuffle=False,
            validation_data=(xv, yv) if len(xv) else None,
            callbacks=callbacks or [],
            verbose=0,
        )
        for k, v in h.history.items():
            history.setdefault(k, []).extend(float(a) for a in v)
    return history


def _split(data: Path, cfg: TrainConfig) -> Split:
    from visionedge.dataset import load_dataset, split_by_clip

    ds = load_dataset(data)
    if ds.has_manifest or cfg.test_clips:
        return split_by_clip(ds, seed=cfg.seed, test_clips=cfg.test_clips or None)
    return make_split(data, cfg.seed)


def soft_targets(split: Split, part: str, y: npt.NDArray[np.int64],
                 distil: float) -> npt.NDArray[np.float32]:
    """N x classes targets: (1 - distil) * one-hot(folder) + distil * teacher's soft labels.

    Crops the teacher labelled differently from their folder (relabelled by hand), or
    without soft labels, keep the one-hot target: the person who moved them is the truth.
    """
    from visionedge.dataset.manifest import MANIFEST, read_manifest

    rows = {r.file: r for r in read_manifest(split.root / MANIFEST)}
    k = len(split.labels)
    out = np.eye(k, dtype=np.float32)[y]
    for i, rel in enumerate(split.files[part]):
        folder, name = rel.split("/", 1)
        r = rows.get(name)
        if r is None or not r.soft or r.teacher_label != folder:
            continue
        t = np.array([r.soft.get(lab, 0.0) for lab in split.labels], np.float32)
        if t.sum() <= 0:
            continue
        out[i] = (1 - distil) * out[i] + distil * t / t.sum()
    return out


def balance_weights(y: npt.NDArray[np.int64], k: int) -> npt.NDArray[np.float32]:
    """Per-sample weights that give every class the same total weight (mean weight 1)."""
    counts = np.bincount(y, minlength=k).astype(np.float32)
    w = len(y) / (np.count_nonzero(counts) * np.maximum(counts, 1))
    out: npt.NDArray[np.float32] = w[y].astype(np.float32)
    return out


def build_for(cfg: TrainConfig, num_classes: int) -> Any:
    """The untrained model ``cfg.arch`` names."""
    channels = 1 if cfg.colour == "gray" else 3
    if cfg.arch == "mobilenet":
        from visionedge.train.transfer import mobilenet_from_tflite

        if not cfg.backbone:
            raise TrainingError("--arch mobilenet needs --backbone MODEL.tflite (a MobileNet v1 "
                                "such as mobilenet_v1_0.25_128_quant.tflite)")
        return mobilenet_from_tflite(Path(cfg.backbone), (cfg.size, cfg.size, channels),
                                     num_classes, dropout=cfg.dropout,
                                     drop_blocks=cfg.drop_blocks)
    return build_model((cfg.size, cfg.size, channels), num_classes, alpha=cfg.alpha,
                       dropout=cfg.dropout)


def train(data: Path, out: Path, cfg: TrainConfig, *, log: Any = print) -> WorkDir:
    """Split ``data``, train the fp32 model, convert it to fp32 TFLite; returns the work dir."""
    from visionedge.train.quantize import to_tflite_fp32

    work = WorkDir(out)
    split = _split(data, cfg)
    # A by-clip split may leave validation empty (one passage per class): curves only.
    needed = ("train", "test") if split.by == "clip" else ("train", "val", "test")
    if min(len(split.files[p]) for p in needed) == 0:
        raise TrainingError(
            f"{data}: too few images to split into train/val/test; give every class at "
            "least 3 images"
        )
    if cfg.distil and split.by != "clip":
        raise TrainingError(f"{data}: --distil needs the teacher's soft labels: a dataset made "
                            "by `visionedge dataset collect --teacher` (manifest.csv)")
    out.mkdir(parents=True, exist_ok=True)
    split.save(work.split)
    work.labels.write_text(label_list(split.labels))
    if split.by == "clip":
        log(f"train: split by clip; test clips {', '.join(split.test_groups)}")
    seed_everything(cfg.seed)
    xtr, ytr = split.arrays("train", cfg.size, cfg.colour)
    xva, yva = split.arrays("val", cfg.size, cfg.colour)
    k = len(split.labels)
    target: npt.NDArray[Any] = (soft_targets(split, "train", ytr, cfg.distil)
                                if cfg.distil else ytr)
    weights = balance_weights(ytr, k) if cfg.balance else None
    if cfg.augment_copies:
        xtr, ytr_aug = augment(xtr, ytr, cfg.seed, cfg.augment_copies)
        reps = len(xtr) // len(target)
        target = np.concatenate([target] * reps)
        weights = np.concatenate([weights] * reps) if weights is not None else None
        del ytr_aug
    model = build_for(cfg, k)
    log(f"train: {len(xtr)} images ({k} classes), {model.count_params()} "
        f"parameters, {cfg.epochs} epochs")
    t0 = time.perf_counter()
    cfg.history = fit(model, (xtr, target), (xva, yva), epochs=cfg.epochs,
                      batch_size=cfg.batch_size, learning_rate=cfg.learning_rate, seed=cfg.seed,
                      weights=weights)
    if cfg.arch == "mobilenet" and cfg.fine_tune_epochs:
        for layer in model.layers:
            layer.trainable = True
        more = fit(model, (xtr, target), (xva, yva), epochs=cfg.fine_tune_epochs,
                   batch_size=cfg.batch_size, learning_rate=cfg.learning_rate / 10,
                   seed=cfg.seed + 1, weights=weights)
        for key, v in more.items():
            cfg.history.setdefault(key, []).extend(v)
    cfg.train_seconds = round(time.perf_counter() - t0, 1)
    model.save(work.keras("fp32"), include_optimizer=False)
    work.tflite("fp32").write_bytes(to_tflite_fp32(model))
    work.save_config(cfg)
    acc = cfg.history.get("val_accuracy", [float("nan")])[-1]
    log(f"train: done in {cfg.train_seconds} s, val accuracy {acc:.3f} -> {work.keras('fp32')}")
    return work


def load_split_for(work: WorkDir) -> Split:
    """The split recorded by the training run in ``work``."""
    from visionedge.train.dataset import load_split

    return load_split(work.split)
