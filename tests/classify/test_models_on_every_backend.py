"""The tiny models load and answer correctly on every installed runtime, identically."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from visionedge.classify import installed_backends, load_classifier
from visionedge.config import ClassifierConfig

BACKENDS = installed_backends()  # every runtime of the venv, for the cross-runtime test
QUANT = ["colour_int8", "colour_uint8", "colour_float32", "colour_logits_int8", "gray_int8"]


def _bgr(b: int, g: int, r: int, h: int = 48, w: int = 64) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[...] = (b, g, r)
    return img


def test_every_runtime_of_the_venv_is_tested() -> None:
    # The venv of `make test` installs all three; fewer means the matrix silently shrank.
    assert BACKENDS == ["ai_edge_litert", "tflite_runtime", "tensorflow"], (
        "install the test venv with scripts/setup.sh test (extras dev, train, tflite-runtime)"
    )


@pytest.mark.parametrize("name", ["colour_int8", "colour_uint8", "colour_float32", "colour_logits_int8"])
def test_colour_model_sees_rgb_in_the_right_order(
    name: str, backend: str, make_cfg: Callable[..., ClassifierConfig]
) -> None:
    clf = load_classifier(make_cfg(name, backend=backend))
    assert clf.backend == backend
    # OpenCV images are BGR: (0, 0, 200) is red, and the model must be told "red".
    for bgr, want in [((0, 0, 200), "red"), ((0, 180, 0), "green"), ((150, 0, 0), "blue")]:
        best = clf.classify_image(_bgr(*bgr)).best
        assert best is not None and best.label == want, (bgr, best)
        assert best.score > 0.9


def test_gray_model_reads_brightness(backend: str, make_cfg: Callable[..., ClassifierConfig]) -> None:
    clf = load_classifier(make_cfg("gray_int8", backend=backend))
    assert clf.input_spec.colour == "gray" and clf.input_spec.channels == 1
    dark, bright = clf.classify_image(_bgr(20, 30, 25)).best, clf.classify_image(_bgr(220, 230, 240)).best
    assert dark is not None and dark.label == "dark"
    assert bright is not None and bright.label == "bright"


def test_minus_one_to_one_model_needs_its_range(make_cfg: Callable[..., ClassifierConfig]) -> None:
    right = load_classifier(make_cfg("colour_pm1_uint8", input_range=(-1.0, 1.0)))
    wrong = load_classifier(make_cfg("colour_pm1_uint8"))
    assert right.input_spec.range_source == "config"
    assert wrong.input_spec.range_source == "default"
    good = right.scores(_bgr(20, 20, 160))
    assert int(np.argmax(good)) == 0 and good[0] > 0.95
    # Input scale 2/255, zero point 127: with [-1, 1] black is stored as 0 and white as 254
    # (1.0 / scale = 127.5 rounds down);
    # with the [0, 1] default black would be stored as the zero point, i.e. mid-gray.
    black, white = _bgr(0, 0, 0), _bgr(255, 255, 255)
    assert int(right.input_tensor(black).max()) == 0
    assert int(right.input_tensor(white).min()) == 254
    assert int(wrong.input_tensor(black).min()) == 127


@pytest.mark.parametrize("name", QUANT)
def test_scores_are_identical_across_runtimes(
    name: str, runtimes: list[str], make_cfg: Callable[..., ClassifierConfig]
) -> None:
    if len(runtimes) < 2:
        pytest.skip("needs two TFLite runtimes installed")
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (60, 80, 3), dtype=np.uint8) for _ in range(4)]
    images += [_bgr(0, 0, 255), _bgr(255, 255, 255), _bgr(0, 0, 0)]
    results = {}
    for b in runtimes:
        clf = load_classifier(make_cfg(name, backend=b))
        results[b] = np.stack([clf.scores(img) for img in images])
    first = results[runtimes[0]]
    for b in runtimes[1:]:
        np.testing.assert_array_equal(results[b], first, err_msg=f"{b} differs from {runtimes[0]}")


def test_auto_backend_does_not_import_tensorflow(models: dict[str, Path]) -> None:
    code = (
        "import sys\n"
        "from visionedge.config import ClassifierConfig\n"
        "from visionedge.classify import load_classifier\n"
        f"c = load_classifier(ClassifierConfig(model={str(models['colour_int8'])!r}))\n"
        "print(c.backend, 'tensorflow' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert out.stdout.split() == ["ai_edge_litert", "False"]


def test_input_spec_describes_the_model(make_cfg: Callable[..., ClassifierConfig]) -> None:
    clf = load_classifier(make_cfg("colour_int8"))
    spec = clf.input_spec
    assert (spec.height, spec.width, spec.channels, spec.colour) == (24, 32, 3, "rgb")
    assert spec.dtype == "int8" and spec.zero_point == -128
    assert spec.scale == pytest.approx(1 / 255, rel=1e-3)
    assert spec.real_range == (0.0, 1.0) and spec.range_source == "default"
    assert spec.num_classes == 3 and spec.output_mode == "probabilities"
    assert spec.as_dict()["dtype"] == "int8"
    assert clf.name == "colour_int8" and len(clf.sha256) == 64
    assert clf.labels == ("red", "green", "blue")


def test_logits_are_softmaxed(make_cfg: Callable[..., ClassifierConfig]) -> None:
    clf = load_classifier(make_cfg("colour_logits_int8"))
    assert clf.input_spec.output_mode == "logits"
    s = clf.scores(_bgr(0, 0, 200))
    assert float(s.sum()) == pytest.approx(1.0, abs=1e-4)
    forced = load_classifier(make_cfg("colour_logits_int8", output="probabilities"))
    assert forced.input_spec.output_mode == "probabilities"
    raw = forced.scores(_bgr(0, 0, 200))
    assert float(raw.max()) == 1.0  # clipped to [0, 1]: a raw logit above 1


def test_float_softmax_model_is_read_as_probabilities(make_cfg: Callable[..., ClassifierConfig]) -> None:
    clf = load_classifier(make_cfg("colour_float32"))
    assert clf.input_spec.output_mode == "probabilities"
    assert float(clf.scores(_bgr(10, 200, 10)).sum()) == pytest.approx(1.0, abs=1e-5)
