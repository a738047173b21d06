"""The shipped demo model (package data) loads with the defaults and passes every check."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from visionedge.classify import DEFAULT_LABELS_PATH, DEFAULT_MODEL_PATH, load_classifier
from visionedge.cli import main
from visionedge.config import ClassifierConfig
from visionedge.synth import render_object


def test_demo_preset_loads_the_shipped_demo_model() -> None:
    assert DEFAULT_MODEL_PATH.is_file() and DEFAULT_LABELS_PATH.is_file()
    clf = load_classifier(ClassifierConfig(model="demo"))
    spec = clf.input_spec
    assert clf.name == "demo_int8" and clf.path == DEFAULT_MODEL_PATH
    assert spec.dtype == "int8" and spec.output_dtype == "int8"
    assert spec.output_mode == "probabilities"
    assert set(clf.labels) >= {"person", "vehicle", "animal", "background"}
    img, _ = render_object("vehicle", 128, np.random.default_rng(0))
    result = clf.classify_image(img)
    assert all(p.label != "background" for p in result.top)  # the default ignore list


def test_classify_cli_runs_the_demo_preset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    img, _ = render_object("person", 128, np.random.default_rng(1))
    p = tmp_path / "person.png"
    cv2.imwrite(str(p), img)
    n = len(DEFAULT_LABELS_PATH.read_text().split())
    assert main(["classify", str(p), "--model", "demo", "--json", "--top-k", str(n)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["top"]) == n  # no ignore list, no threshold: every label
    assert sum(t["score"] for t in out["top"]) == pytest.approx(1.0, abs=0.02)
