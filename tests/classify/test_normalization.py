"""Where the input range comes from: CLI, metadata, config, default; metadata read by hand."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest

from visionedge.classify import load_classifier
from visionedge.classify.metadata import read_normalization
from visionedge.classify.normalization import Normalization
from visionedge.config import ClassifierConfig


def test_metadata_normalisation_is_read(models: dict[str, Path]) -> None:
    norm, note = read_normalization(models["meta_pm1_int8"].read_bytes())
    assert norm == Normalization(mean=(127.5,), std=(127.5,)) and note == "metadata"
    assert read_normalization(models["colour_int8"].read_bytes()) == (None, "no metadata")


def test_unreadable_metadata_is_ignored_with_a_reason(models: dict[str, Path]) -> None:
    norm, note = read_normalization(models["meta_garbage_int8"].read_bytes())
    assert norm is None and note.startswith("metadata unreadable")


def test_metadata_wins_over_config_and_the_cli_over_both(
    make_cfg: Callable[..., ClassifierConfig], caplog: pytest.LogCaptureFixture
) -> None:
    clf = load_classifier(make_cfg("meta_pm1_int8"))
    assert clf.input_spec.range_source == "metadata"
    assert clf.input_spec.real_range == (-1.0, 1.0)
    with caplog.at_level(logging.WARNING):
        configured = load_classifier(make_cfg("meta_pm1_int8", input_range=(0.0, 1.0)))
    assert configured.input_spec.range_source == "metadata"
    assert "are ignored" in caplog.text
    cli = load_classifier(make_cfg("meta_pm1_int8"), input_range_override=(0.0, 1.0))
    assert cli.input_spec.range_source == "cli" and cli.input_spec.real_range == (0.0, 1.0)


def test_quantized_metadata_mean0_std1_means_pixels_as_they_are(
    make_cfg: Callable[..., ClassifierConfig],
) -> None:
    import numpy as np

    clf = load_classifier(make_cfg("meta_identity_uint8"))
    assert clf.input_spec.range_source == "metadata"
    # An image of the model's own size (24 x 32) is fed without resizing.
    pixels = (np.arange(24 * 32) % 256).astype(np.uint8).reshape(24, 32, 1).repeat(3, axis=2)
    # The uint8 input (scale 1/255, zero point 0) then holds each pixel unchanged.
    fed = clf.input_tensor(pixels)
    np.testing.assert_array_equal(fed[0, ..., 0], pixels[..., 0])


def test_config_mean_std_per_channel(make_cfg: Callable[..., ClassifierConfig]) -> None:
    clf = load_classifier(make_cfg("colour_float32", mean=[0.0, 127.5, 255.0], std=[255.0, 127.5, 255.0]))
    spec = clf.input_spec
    assert spec.range_source == "config" and spec.mean == (0.0, 127.5, 255.0)
    import numpy as np

    t = clf.input_tensor(np.zeros((24, 32, 3), np.uint8))
    # BGR black → RGB channel 0 uses mean 0: 0; channel 1: -1; channel 2: -1.
    assert [float(t[0, 0, 0, c]) for c in range(3)] == [0.0, -1.0, -1.0]


def test_default_range_warns_when_the_quantization_suggests_another(
    make_cfg: Callable[..., ClassifierConfig], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        clf = load_classifier(make_cfg("colour_pm1_uint8"))
    assert clf.input_spec.range_source == "default"
    assert "set classifier.input_range = [-0.996, 1]" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        load_classifier(make_cfg("colour_int8"))
    assert caplog.text == ""
