"""Bad input at the model pipeline's entry points: one clear line and a distinct status."""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from models_helpers import TinyRun, run_cli

from visionedge.errors import ModelError, UnsupportedOpError
from visionedge.train.flatbuffer import parse_tflite
from visionedge.train.tflm_ops import check_tflm_ops

SHIPPED = Path(__file__).resolve().parents[2] / "visionedge" / "data" / "demo_int8.tflite"


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith("visionedge: error: ")
    return err[0]


def test_train_on_a_file_instead_of_a_folder(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "data.txt"
    f.write_text("x")
    assert run_cli("model", "train", str(f), "--out", str(tmp_path / "w")) == 20
    assert "no such dataset folder" in _one_error_line(capsys)


def test_train_on_a_class_folder_without_images(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import cv2

    (tmp_path / "cat").mkdir()
    (tmp_path / "dog").mkdir()
    cv2.imwrite(str(tmp_path / "cat" / "a.png"), np.zeros((8, 8), np.uint8))
    assert run_cli("model", "train", str(tmp_path), "--out", str(tmp_path / "w")) == 21
    line = _one_error_line(capsys)
    assert "dog" in line and "no images" in line


def test_train_with_a_single_class(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "only").mkdir()
    assert run_cli("model", "train", str(tmp_path), "--out", str(tmp_path / "w")) == 21
    assert "at least two" in _one_error_line(capsys)


def test_steps_on_a_folder_that_is_not_a_training_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli("model", "quantize", str(tmp_path)) == 9
    assert "model train" in _one_error_line(capsys)


def test_quantize_with_a_missing_representative_set_names_it_and_the_way_out(
        tiny_run: TinyRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.name for p in tiny_run.work.iterdir())
    assert run_cli("model", "quantize", str(tiny_run.work), "--representative",
                   str(tmp_path / "missing.npz")) == 9
    line = _one_error_line(capsys)
    assert "missing.npz" in line and "--representative train" in line
    assert sorted(p.name for p in tiny_run.work.iterdir()) == before  # nothing written


@pytest.mark.parametrize("content", [b"", b"not a model at all", b"\x00" * 64])
def test_export_and_evaluate_reject_a_file_that_is_not_tflite(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(content)
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\n")
    assert run_cli("model", "export", str(bad), "--labels", str(labels),
                   "--out", str(tmp_path / "o")) == 5
    assert "not a TFLite model" in _one_error_line(capsys)
    assert not (tmp_path / "o").exists()


def test_evaluate_rejects_a_model_that_is_not_tflite(
        tiny_run: TinyRun, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "photo.tflite"
    bad.write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    assert run_cli("model", "evaluate", str(tiny_run.work), str(bad)) == 5
    assert "photo.tflite" in _one_error_line(capsys)


def test_export_rejects_a_truncated_model(tiny_run: TinyRun, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    content = (tiny_run.work / "int8_ptq.tflite").read_bytes()
    cut = tmp_path / "cut.tflite"
    cut.write_bytes(content[: len(content) // 3])
    assert run_cli("model", "export", str(cut), "--labels", str(tiny_run.work / "labels.txt"),
                   "--out", str(tmp_path / "o")) == 5
    assert "cut.tflite" in _one_error_line(capsys)


def test_export_rejects_a_labels_count_mismatch(tiny_run: TinyRun, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    labels = tmp_path / "labels.txt"
    labels.write_text("one\ntwo\n")
    assert run_cli("model", "export", str(tiny_run.work / "int8_ptq.tflite"), "--labels",
                   str(labels), "--out", str(tmp_path / "o")) == 5
    assert "4 outputs but there are 2 labels" in _one_error_line(capsys)


def test_export_rejects_an_operator_tflm_lacks(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tensorflow", reason="building a test model needs the train extra")
    from visionedge.train import load_tf

    tf, _ = load_tf()

    @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 1], tf.float32)])
    def odd(x: object) -> object:
        # ATAN2 is a TFLite builtin that TFLM's MicroMutableOpResolver has no kernel for.
        y = tf.math.atan2(x, x + 1.0)
        return tf.nn.softmax(tf.reshape(y, [1, 64])[:, :2])

    conv = tf.lite.TFLiteConverter.from_concrete_functions([odd.get_concrete_function()], odd)
    model = tmp_path / "odd.tflite"
    model.write_bytes(conv.convert())
    labels = tmp_path / "labels.txt"
    labels.write_text("a\nb\n")
    assert run_cli("model", "export", str(model), "--labels", str(labels),
                   "--out", str(tmp_path / "o")) == 9
    line = _one_error_line(capsys)
    assert "ATAN2" in line and "MicroMutableOpResolver" in line
    assert not (tmp_path / "o" / "model_data.cc").exists()
    # The same model exports for the Linux daemon when the firmware parts are skipped.
    assert run_cli("model", "export", str(model), "--labels", str(labels),
                   "--out", str(tmp_path / "linux"), "--no-firmware") == 0
    assert (tmp_path / "linux" / "card.json").exists()
    assert not (tmp_path / "linux" / "model_data.cc").exists()


def test_op_check_names_every_missing_operator() -> None:
    assert check_tflm_ops(["SOFTMAX", "CONV_2D", "CONV_2D"]) == ["CONV_2D", "SOFTMAX"]
    with pytest.raises(UnsupportedOpError, match="ATAN2, CUSTOM:MyOp"):
        check_tflm_ops(["CONV_2D", "CUSTOM:MyOp", "ATAN2"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_flatbuffer_reader_raises_only_model_error(data: st.DataObject) -> None:
    content = SHIPPED.read_bytes()
    kind = data.draw(st.sampled_from(["truncate", "flip", "random"]))
    if kind == "truncate":
        buf = content[: data.draw(st.integers(0, len(content) - 1))]
    elif kind == "flip":
        b = bytearray(content)
        for _ in range(data.draw(st.integers(1, 8))):
            b[data.draw(st.integers(0, len(b) - 1))] = data.draw(st.integers(0, 255))
        buf = bytes(b)
    else:
        buf = b"\x00\x00\x00\x00TFL3" + data.draw(st.binary(max_size=256))
    with contextlib.suppress(ModelError):
        parse_tflite(buf)
