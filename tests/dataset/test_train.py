"""Training on a collected dataset: by-clip split, distillation, report; transfer weights."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from datasetkit import Collected, run_cli

# find_spec, not importorskip: importing TensorFlow while the suite is being collected puts
# it in the process before tests/classify's tflite-runtime cases, which then cannot load.
if importlib.util.find_spec("tensorflow") is None:
    pytest.skip("the model pipeline needs the train extra: pip install -e '.[train]'",
                allow_module_level=True)


def test_student_trains_by_clip_with_distillation(collected: Collected, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from visionedge.train.dataset import load_split

    work = tmp_path / "work"
    assert run_cli("model", "train", str(collected.data), "--out", str(work), "--size", "32",
                   "--alpha", "0.25", "--epochs", "1", "--batch-size", "8", "--distil", "0.5",
                   "--balance", "--test-clips", "person1.avi,vehicle1.avi") == 0
    split = load_split(work / "split.json")
    assert split.by == "clip" and split.test_groups == ["person1.avi", "vehicle1.avi"]
    assert {split.groups[f] for f in split.files["test"]} == {"person1.avi", "vehicle1.avi"}
    assert not {split.groups[f] for f in split.files["train"] + split.files["val"]} & {
        "person1.avi", "vehicle1.avi"}
    cfg = json.loads((work / "train.json").read_text())
    assert cfg["distil"] == 0.5 and cfg["balance"] is True
    capsys.readouterr()
    assert run_cli("model", "quantize", str(work), "--method", "ptq") == 0
    assert "--representative train" in capsys.readouterr().out  # the generated-shapes default says so
    # A model of real footage calibrates on its own training crops, not on generated shapes.
    assert run_cli("model", "quantize", str(work), "--method", "ptq", "--representative", "train") == 0
    out = capsys.readouterr().out
    assert f"calibrating on {len(split.files['train'])} training crops" in out, out
    assert (work / "int8_ptq.tflite").stat().st_size > 0
    assert run_cli("model", "evaluate", str(work), "--runs", "2") == 0
    report = (work / "report.md").read_text()
    assert "precision" in report and "recall" in report and "confusion.png" in report
    assert "teacher_agreement" in report
    assert (work / "confusion.png").stat().st_size > 1000
    capsys.readouterr()


def test_soft_targets_blend_teacher_and_folder(collected: Collected, tmp_path: Path) -> None:
    from visionedge.dataset import load_dataset, split_by_clip
    from visionedge.train.train import soft_targets

    split = split_by_clip(load_dataset(collected.data), seed=0)
    _, y = split.arrays("train", 8, "gray")
    t = soft_targets(split, "train", y, 0.5)
    assert t.shape == (len(y), len(split.labels))
    np.testing.assert_allclose(t.sum(axis=1), 1.0, atol=1e-5)
    assert np.all(np.argmax(t, axis=1) == y)  # the folder label always wins at 0.5
    assert np.all(t[np.arange(len(y)), y] >= 0.5)


def test_backbone_weights_read_back_from_tflite(tmp_path: Path) -> None:
    """A small MobileNet-style model -> .tflite -> Keras again: same weights, same features."""
    from visionedge.train import load_tf, seed_everything
    from visionedge.train.quantize import to_tflite_fp32
    from visionedge.train.transfer import backbone_layers, mobilenet_from_tflite

    _, keras = load_tf()
    seed_everything(3)
    layers = keras.layers
    inp = keras.Input((33, 33, 3))
    x = layers.ReLU(6.0)(layers.Conv2D(8, 3, strides=2, padding="same", name="c0")(inp))
    x = layers.ReLU(6.0)(layers.DepthwiseConv2D(3, strides=2, padding="same", name="d1")(x))
    x = layers.ReLU(6.0)(layers.Conv2D(16, 1, name="c2")(x))
    out = layers.Dense(5, activation="softmax")(layers.GlobalAveragePooling2D()(x))
    ref = keras.Model(inp, out)
    for layer in ref.layers:  # non-zero biases, so a lost bias would show
        if layer.weights:
            k, b = layer.get_weights()
            layer.set_weights([k, np.linspace(-0.2, 0.2, b.size).astype(np.float32)])
    path = tmp_path / "mini.tflite"
    path.write_bytes(to_tflite_fp32(ref))

    got = backbone_layers(path)
    assert [(k, s) for k, s, _, _ in got] == [("conv", 2), ("dw", 2), ("conv", 1)]
    for (_, _, kernel, bias), name in zip(got, ("c0", "d1", "c2"), strict=True):
        k, b = ref.get_layer(name).get_weights()
        np.testing.assert_allclose(kernel, k, atol=1e-6)
        np.testing.assert_allclose(bias, b, atol=1e-6)

    model = mobilenet_from_tflite(path, (33, 33, 3), 2, dropout=0.0)
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (2, 33, 33, 3)).astype(np.float32)
    sub_new = keras.Model(model.input, model.get_layer("bb0_relu").output)
    sub_ref = keras.Model(ref.input, ref.layers[2].output)
    a = sub_new(pixels / 255.0).numpy()
    b = sub_ref(pixels / 128.0 - 1.0).numpy()
    # The first convolution absorbed pixel/255 -> [-1, 1]: identical away from the padding.
    np.testing.assert_allclose(a[:, 1:-1, 1:-1], b[:, 1:-1, 1:-1], atol=1e-4)


def test_gray_backbone_sees_a_gray_image_as_the_rgb_one_does(tmp_path: Path) -> None:
    """--colour gray with a pretrained backbone: one input channel whose first convolution is
    the RGB one summed over its channels, so a gray crop gives the RGB backbone's features."""
    from visionedge.errors import TrainingError
    from visionedge.train import load_tf, seed_everything
    from visionedge.train.quantize import to_tflite_fp32
    from visionedge.train.transfer import mobilenet_from_tflite

    _, keras = load_tf()
    seed_everything(4)
    layers = keras.layers
    inp = keras.Input((24, 24, 3))
    x = layers.ReLU(6.0)(layers.Conv2D(6, 3, strides=2, padding="same")(inp))
    x = layers.ReLU(6.0)(layers.DepthwiseConv2D(3, padding="same")(x))
    out = layers.Dense(3, activation="softmax")(layers.GlobalAveragePooling2D()(x))
    path = tmp_path / "mini.tflite"
    path.write_bytes(to_tflite_fp32(keras.Model(inp, out)))

    rgb = mobilenet_from_tflite(path, (24, 24, 3), 2, dropout=0.0)
    gray = mobilenet_from_tflite(path, (24, 24, 1), 2, dropout=0.0)
    assert gray.input_shape == (None, 24, 24, 1)
    assert gray.get_layer("bb0_conv").get_weights()[0].shape[2] == 1
    pixels = np.random.default_rng(1).integers(0, 256, (3, 24, 24, 1)).astype(np.float32) / 255.0
    feats = [keras.Model(m.input, m.get_layer("pool").output) for m in (rgb, gray)]
    np.testing.assert_allclose(feats[1](pixels).numpy(), feats[0](np.repeat(pixels, 3, axis=3)).numpy(),
                               rtol=1e-5, atol=1e-5)
    with pytest.raises(TrainingError, match="RGB or gray"):
        mobilenet_from_tflite(path, (24, 24, 2), 2)
