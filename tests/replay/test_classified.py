"""Replay with a real int8 TFLite classifier: labels reach events and the trace, deterministically.

The model is made here with TensorFlow in seconds (hand-set weights, no training): it
answers which colour channel dominates the crop (labels red, green, blue). What is under
test is the pipeline around it — budget, vote, model fields, trace columns — with the real
interpreter; the shipped model's own golden file is in tests/golden when it exists.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from replaykit import run_inproc

from visionedge.events import load_schema

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@pytest.fixture(scope="module")
def colour_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tf = pytest.importorskip("tensorflow", reason="TensorFlow (the train extra) builds the test model")
    inp = tf.keras.Input((24, 24, 3), batch_size=1)
    x = tf.keras.layers.GlobalAveragePooling2D()(inp)
    dense = tf.keras.layers.Dense(3)
    out = tf.keras.layers.Softmax()(dense(x))
    model = tf.keras.Model(inp, out)
    dense.set_weights([np.eye(3, dtype=np.float32) * 8.0, np.zeros(3, np.float32)])
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    rng = np.random.default_rng(0)

    def rep() -> Iterator[list[np.ndarray]]:
        for _ in range(16):
            yield [rng.uniform(0, 1, (1, 24, 24, 3)).astype(np.float32)]

    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    root = tmp_path_factory.mktemp("model")
    path = root / "colour_int8.tflite"
    path.write_bytes(bytes(conv.convert()))
    # TFLite takes RGB; the labels follow the model's channel order.
    (root / "colour_int8_labels.txt").write_text("red\ngreen\nblue\n")
    return path


def test_labels_reach_events_and_trace_and_replay_is_byte_identical(
    colour_model: Path, clip: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[classifier]\n"
        f'model = "{colour_model}"\nlabels = "{colour_model.with_name("colour_int8_labels.txt")}"\n'
        "threshold = 0.0\nevery_n_frames = 3\nmax_per_event = 6\n"
        '[objects]\nmode = "motion"\n'
    )
    trace = tmp_path / "t.csv"
    args = ["replay", str(clip("small")), "--config", str(cfg)]
    first = run_inproc(capsys, *args, "--trace", str(trace))
    second = run_inproc(capsys, *args)
    assert first.code == 0, first.err
    assert first.out == second.out
    events = [json.loads(line) for line in first.out.splitlines()]
    validator = jsonschema.Draft202012Validator(load_schema())
    for e in events:
        validator.validate(e)
    sha = hashlib.sha256(colour_model.read_bytes()).hexdigest()
    assert all(e["model"] == {"name": "colour_int8", "sha256": sha} for e in events)
    ends = [e for e in events if e["type"] == "end"]
    assert ends and all(e["label"] in ("red", "green", "blue") for e in ends)
    assert all(1 <= e["classified_frames"] <= 6 for e in ends)
    with trace.open(newline="") as f:
        rows = list(csv.DictReader(f))
    classified = [r for r in rows if r["classified"] == "1"]
    assert sum(e["classified_frames"] for e in ends) == len(classified)
    assert all(r["motion"] == "1" and r["label"] and r["score"] and r["classify_us"] for r in classified)
    # Every N frames within an event, starting on its first frame.
    for e in ends:
        frames = [int(r["frame"]) for r in classified if r["event_id"] == e["event_id"]]
        assert frames[0] == e["start_frame"]
        assert all(b - a >= 3 for a, b in itertools.pairwise(frames))


def test_input_range_flag_reaches_the_classifier(
    colour_model: Path, clip: Callable[[str], Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        "[classifier]\n"
        f'model = "{colour_model}"\nlabels = "{colour_model.with_name("colour_int8_labels.txt")}"\n'
        "threshold = 0.0\n"
    )
    args = ["replay", str(clip("small")), "--config", str(cfg)]
    plain = run_inproc(capsys, *args)
    shifted = run_inproc(capsys, *args, "--input-range=-1,1")
    assert plain.code == shifted.code == 0, shifted.err
    # Pixels scaled to [-1, 1] instead of [0, 1] change the scores the events carry.
    assert plain.out != shifted.out
