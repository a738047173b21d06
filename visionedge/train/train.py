"""Train the fp32 model on a folder-per-class dataset, seeded, and record what was done.

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

__all__ = ["TrainConfig", "WorkDir", "fit", "load_keras", "train"]


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
    train: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]],
    val: tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]],
    *,
    epochs: int,
    batch_size: int,
    learning_rate: float,
    seed: int,
    callbacks: list[Any] | None = None,
) -> dict[str, list[float]]:
    """Compile and fit with Adam and a cosine-decayed learning rate; returns the history."""
    _, keras = load_tf()
    x, y = train
    steps = max(1, int(np.ceil(len(x) / batch_size))) * max(1, epochs)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, steps, alpha=0.05)
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # Shuffle once per epoch with a seeded generator, outside TF, so the order is the same
    # on every run regardless of tf.data's threading.
    rng = np.random.default_rng([seed, 31])
    history: dict[str, list[float]] = {}
    xv, yv = to_float(val[0]), val[1]
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        h = model.fit(
            to_float(x[order]),
            y[order],
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


def train(data: Path, out: Path, cfg: TrainConfig, *, log: Any = print) -> WorkDir:
    """Split ``data``, train the fp32 model, convert it to fp32 TFLite; returns the work dir."""
    from visionedge.train.quantize import to_tflite_fp32

    work = WorkDir(out)
    split = make_split(data, cfg.seed)
    if min(len(v) for v in split.files.values()) == 0:
        raise TrainingError(
            f"{data}: too few images to split into train/val/test; give every class at "
            "least 3 images"
        )
    out.mkdir(parents=True, exist_ok=True)
    split.save(work.split)
    work.labels.write_text(label_list(split.labels))
    seed_everything(cfg.seed)
    xtr, ytr = split.arrays("train", cfg.size, cfg.colour)
    xva, yva = split.arrays("val", cfg.size, cfg.colour)
    if cfg.augment_copies:
        xtr, ytr = augment(xtr, ytr, cfg.seed, cfg.augment_copies)
    channels = 1 if cfg.colour == "gray" else 3
    model = build_model((cfg.size, cfg.size, channels), len(split.labels), alpha=cfg.alpha,
                        dropout=cfg.dropout)
    log(f"train: {len(xtr)} images ({len(split.labels)} classes), {model.count_params()} "
        f"parameters, {cfg.epochs} epochs")
    t0 = time.perf_counter()
    cfg.history = fit(model, (xtr, ytr), (xva, yva), epochs=cfg.epochs,
                      batch_size=cfg.batch_size, learning_rate=cfg.learning_rate, seed=cfg.seed)
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
