"""Every way a model or labels file can be unusable ends in its own clear one-line error."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from visionedge.classify import load_classifier
from visionedge.classify import model as model_mod
from visionedge.config import ClassifierConfig
from visionedge.errors import ConfigError, LabelsError, ModelError


def _load(model: Path, labels: Path | None = None, **kw: Any) -> None:
    cfg = ClassifierConfig(model=str(model), labels=str(labels) if labels else "", **kw)
    load_classifier(cfg)


def _copy_with_labels(models: dict[str, Path], name: str, dest: Path) -> Path:
    """The model ``name`` copied to ``dest`` with its labels beside it."""
    dest.mkdir(parents=True, exist_ok=True)
    target = dest / f"{name}.tflite"
    shutil.copy(models[name], target)
    shutil.copy(models[name].with_name(f"{name}_labels.txt"), dest / f"{name}_labels.txt")
    return target


def _write_model(tmp_path: Path, content: bytes, labels: str = "red\ngreen\nblue\n") -> Path:
    p = tmp_path / "m.tflite"
    p.write_bytes(content)
    (tmp_path / "m_labels.txt").write_text(labels)
    return p


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"model file is empty"),
        (b"hello, I am a text file\nnot a model\n", r"not a TFLite model .*looks like text"),
        (b"PK\x03\x04" + b"\0" * 60, r"not a TFLite model .*zip archive"),
        (b"\x89HDF\r\n\x1a\n" + b"\0" * 60, r"not a TFLite model .*Keras \.h5"),
        (b"\x01\x02\x03", r"not a TFLite model \(only 3 bytes\)"),
    ],
)
def test_not_a_model(tmp_path: Path, content: bytes, message: str) -> None:
    with pytest.raises(ModelError, match=message) as err:
        _load(_write_model(tmp_path, content))
    assert str(tmp_path / "m.tflite") in str(err.value)
    assert type(err.value) is ModelError


@pytest.mark.parametrize("keep", [0.3, 0.6, 0.95])
def test_truncated_model(tmp_path: Path, models: dict[str, Path], backend: str, keep: float) -> None:
    content = models["colour_int8"].read_bytes()
    path = _write_model(tmp_path, content[: int(len(content) * keep)])
    with pytest.raises(ModelError, match=r"truncated or corrupt|cannot load|corrupt") as err:
        _load(path, backend=backend)
    assert "\n" not in str(err.value)


def test_missing_model_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"model file not found; set classifier.model"):
        _load(tmp_path / "nope.tflite", tmp_path / "labels.txt")


def test_model_path_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="is a directory"):
        _load(tmp_path, tmp_path / "labels.txt")


def test_unreadable_model_file(
    tmp_path: Path, models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    p = _copy_with_labels(models, "colour_int8", tmp_path)

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    # chmod 0 would not stop root (CI containers), so the refusal is simulated.
    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(ModelError, match=r"cannot read model file \(Permission denied\); check"):
        _load(p)


def test_oversized_model_file(tmp_path: Path, models: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_mod, "MAX_MODEL_BYTES", 1000)
    with pytest.raises(ModelError, match=r"over the 1000-byte limit"):
        _load(_copy_with_labels(models, "colour_int8", tmp_path))


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("vector_input", r"input shape \[1, 10\] is not one image"),
        ("two_channels", r"input has 2 channels; visionedge feeds gray \(1\) or RGB \(3\)"),
        ("two_inputs", r"has 2 inputs"),
        ("two_outputs", r"has 2 outputs"),
        ("map_output", r"output shape \[1, 8, 8, 3\] is not the output of a classifier"),
        ("dynamic_size", r"input size \[1, -1, -1, 3\] is not fixed"),
    ],
)
def test_wrong_input_or_output_spec(
    tmp_path: Path, models: dict[str, Path], backend: str, name: str, message: str
) -> None:
    path = _write_model(tmp_path, models[name].read_bytes(), labels="a\nb\nc\n")
    with pytest.raises(ModelError, match=message) as err:
        _load(path, backend=backend)
    assert type(err.value) is ModelError


def test_int8_input_without_a_scale(tmp_path: Path, models: dict[str, Path]) -> None:
    path = _write_model(tmp_path, models["no_input_scale"].read_bytes())
    with pytest.raises(ModelError, match=r"int8 input has no quantization scale"):
        _load(path)


def test_int16_input_is_refused(tmp_path: Path, models: dict[str, Path]) -> None:
    with pytest.raises(ModelError, match=r"input|int16"):
        _load(_write_model(tmp_path, models["int16_input"].read_bytes()))


def test_labels_count_mismatch(tmp_path: Path, models: dict[str, Path]) -> None:
    path = _write_model(tmp_path, models["colour_int8"].read_bytes(), labels="red\ngreen\n")
    with pytest.raises(LabelsError, match=r"has 2 labels but the model has 3 outputs"):
        _load(path)


def test_missing_labels_file(tmp_path: Path, models: dict[str, Path]) -> None:
    p = tmp_path / "x.tflite"
    shutil.copy(models["colour_int8"], p)
    with pytest.raises(LabelsError, match=r"no labels file next to the model .*set classifier.labels"):
        _load(p)
    with pytest.raises(LabelsError, match=r"labels file not found"):
        _load(p, tmp_path / "missing.txt")


def test_labels_found_next_to_the_model(tmp_path: Path, models: dict[str, Path]) -> None:
    p = tmp_path / "x.tflite"
    shutil.copy(models["colour_int8"], p)
    (tmp_path / "labels.txt").write_text("r\ng\nb\n")
    clf = load_classifier(ClassifierConfig(model=str(p)))
    assert clf.labels == ("r", "g", "b")


def test_threshold_for_an_unknown_label(tmp_path: Path, models: dict[str, Path]) -> None:
    p = _copy_with_labels(models, "colour_int8", tmp_path)
    with pytest.raises(ConfigError, match=r"classifier.thresholds names 'purple'"):
        _load(p, thresholds={"purple": 0.5})


def test_ignore_list_checked_only_when_set(tmp_path: Path, models: dict[str, Path]) -> None:
    p = _copy_with_labels(models, "colour_int8", tmp_path)
    _load(p)  # the default ignore list names "background", which this model lacks: fine
    with pytest.raises(ConfigError, match=r"classifier.ignore names 'backgrnd'"):
        _load(p, ignore=["backgrnd"])


def test_mean_std_with_the_wrong_channel_count(tmp_path: Path, models: dict[str, Path]) -> None:
    p = _copy_with_labels(models, "colour_int8", tmp_path)
    with pytest.raises(ConfigError, match=r"classifier.mean/std: 2 mean values for a 3-channel"):
        _load(p, mean=[1.0, 2.0], std=[1.0, 2.0])


def test_shipped_model_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from visionedge.classify import presets

    shipped = presets.PRESETS_DIR / "demo" / "card.json"
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "card.json").write_text(shipped.read_text())  # names ../../demo_int8.tflite
    monkeypatch.setattr(presets, "PRESETS_DIR", tmp_path)
    with pytest.raises(ModelError, match=r"demo_int8.tflite: model file not found"):
        load_classifier(ClassifierConfig(model="demo"))


def test_buffer_pointing_outside_the_file_is_refused(tmp_path: Path, models: dict[str, Path]) -> None:
    # A Buffer may keep its bytes after the FlatBuffer (offset/size); the verifier does not
    # check those extents, so we do.
    with pytest.raises(ModelError, match=r"buffer 1 points at 64 bytes at offset 10000000"):
        _load(_write_model(tmp_path, models["far_buffer"].read_bytes()))
