"""Teachers: a segmenter scored inside the motion box, a classifier folded into the classes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from datasetkit import TEACHER, TEACHER_LABELS

from visionedge.dataset.teacher import CLASSES, PASCAL_VOC, load_teacher
from visionedge.errors import ModelError
from visionedge.protocols import Box


def _red_segmenter(path: Path) -> None:
    """A real .tflite segmenter: PASCAL id 15 (person) where a pixel is red, else 0."""
    pytest.importorskip("tensorflow", reason="building the test segmenter needs TensorFlow")
    from visionedge.train import load_tf

    tf, keras = load_tf()
    inp = keras.Input((32, 32, 3), batch_size=1)
    red = inp[..., 0] - 0.5 * (inp[..., 1] + inp[..., 2])  # inputs are in [-1, 1]
    ids = keras.layers.Lambda(lambda r: tf.where(r > 0.5, 15, 0))(red)
    model = keras.Model(inp, ids)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    path.write_bytes(conv.convert())


def test_segmenter_scores_the_share_of_the_box(tmp_path: Path) -> None:
    model = tmp_path / "seg.tflite"
    _red_segmenter(model)
    teacher = load_teacher(str(model))  # no labels file: PASCAL VOC ids
    frame = np.full((120, 160, 3), 90, np.uint8)
    frame[40:80, 60:100] = (0, 0, 230)  # BGR red square
    soft = teacher.soft(frame, Box(60 / 160, 40 / 120, 100 / 160, 80 / 120))
    assert set(soft) == set(CLASSES)
    assert soft["person"] == pytest.approx(1.0, abs=0.02)
    # A box of mostly gray with a sliver of red: some presence, mostly background.
    soft = teacher.soft(frame, Box(0.0, 0.0, 65 / 160, 80 / 120))
    assert 0.0 < soft["person"] < 0.5 and soft["background"] > 0.5
    assert sum(soft.values()) == pytest.approx(1.0)
    assert PASCAL_VOC[15] == "person"


def test_classifier_teacher_folds_labels_into_classes() -> None:
    teacher = load_teacher(str(TEACHER), labels=str(TEACHER_LABELS))
    soft = teacher.soft(np.full((96, 96, 3), 128, np.uint8), Box(0.2, 0.2, 0.8, 0.8))
    assert set(soft) == set(CLASSES) and sum(soft.values()) == pytest.approx(1.0, abs=1e-4)


def test_a_bad_label_map_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "map.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ModelError, match="not a label map"):
        load_teacher(str(TEACHER), labels=str(TEACHER_LABELS), label_map=bad)
