"""The pipeline end to end on a tiny generated dataset: formats, backends, round trips."""

from __future__ import annotations

import json

import numpy as np
import pytest
from models_helpers import TinyRun, raw_outputs, run_cli

from visionedge.train.dataset import SYNTH_LABELS, load_split
from visionedge.train.evaluate import TfliteRunner, installed_backends
from visionedge.train.export import c_array_bytes
from visionedge.train.flatbuffer import parse_tflite
from visionedge.train.tflm_ops import TFLM_RESOLVER

BACKENDS = [b for b in installed_backends() if b != "tensorflow"]


def test_split_is_recorded_stratified_and_disjoint(tiny_run: TinyRun) -> None:
    split = load_split(tiny_run.work / "split.json")
    assert split.labels == sorted(SYNTH_LABELS)
    parts = [set(split.files[p]) for p in ("train", "val", "test")]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])
    assert sum(len(p) for p in parts) == 8 * len(SYNTH_LABELS)
    for label in split.labels:  # every class is in every part
        for p in parts:
            assert any(f.startswith(label + "/") for f in p)
    assert (tiny_run.work / "labels.txt").read_text().split() == split.labels


def test_int8_model_is_full_integer(tiny_run: TinyRun) -> None:
    info = parse_tflite((tiny_run.work / "int8_ptq.tflite").read_bytes())
    tin = info.tensors[info.inputs[0]]
    tout = info.tensors[info.outputs[0]]
    assert (tin.dtype, tout.dtype) == ("int8", "int8")
    assert tin.shape == (1, 32, 32, 1)
    # Trained on pixel / 255: the input range [0, 1] maps onto the full int8 range.
    assert tin.scale[0] == pytest.approx(1 / 255, rel=1e-3)
    assert tin.zero_point[0] == -128
    assert "QUANTIZE" not in info.op_names and "DEQUANTIZE" not in info.op_names
    assert all(op in TFLM_RESOLVER for op in info.op_names)


@pytest.mark.skipif(len(BACKENDS) < 1, reason="no TFLite runtime installed")
def test_int8_model_gives_identical_outputs_on_every_backend(tiny_run: TinyRun) -> None:
    split = load_split(tiny_run.work / "split.json")
    x, _ = split.arrays("test", 32, "gray")
    outs = {}
    for backend in BACKENDS:
        outs[backend] = raw_outputs(backend, tiny_run.work / "int8_ptq.tflite", x)
        assert outs[backend].dtype == np.int8 and outs[backend].shape == (len(x), 4)
    first = next(iter(outs.values()))
    for backend, out_arr in outs.items():
        np.testing.assert_array_equal(out_arr, first, err_msg=backend)


def test_ptq_round_trip_tracks_the_float_model(tiny_run: TinyRun) -> None:
    split = load_split(tiny_run.work / "split.json")
    x, _ = split.arrays("test", 32, "gray")
    fp32 = TfliteRunner((tiny_run.work / "fp32.tflite").read_bytes())
    int8 = TfliteRunner((tiny_run.work / "int8_ptq.tflite").read_bytes())
    pf, pq = fp32.predict(x), int8.predict(x)
    # Dequantized int8 scores stay within a few output quantization steps of fp32.
    step = int8.output["quantization"][0]
    assert np.max(np.abs(pf - pq)) < 12 * step + 0.05
    np.testing.assert_allclose(pq.sum(axis=1), 1.0, atol=0.05)
    # Input quantization: pixel p becomes q = p - 128 (scale 1/255, zero point -128).
    q = int8._quantize(np.arange(256, dtype=np.uint8).reshape(16, 16, 1))
    np.testing.assert_array_equal(q.ravel(), np.arange(256) - 128)


def test_per_tensor_ptq_has_one_scale_per_weight_tensor(tiny_run: TinyRun) -> None:
    per_channel = parse_tflite((tiny_run.work / "int8_ptq.tflite").read_bytes())
    per_tensor_bytes = (tiny_run.work / "int8_ptq_pt.tflite").read_bytes()
    per_tensor = parse_tflite(per_tensor_bytes)
    assert max(len(t.scale) for t in per_channel.tensors) > 1
    assert max(len(t.scale) for t in per_tensor.tensors) == 1
    assert len(per_tensor_bytes) < (tiny_run.work / "int8_ptq.tflite").stat().st_size
    tin = per_tensor.tensors[per_tensor.inputs[0]]
    assert (tin.dtype, tin.zero_point) == ("int8", (-128,))


def test_pruned_models_have_the_target_sparsity(tiny_run: TinyRun) -> None:
    from visionedge.train.prune import sparsity
    from visionedge.train.train import load_keras

    assert sparsity(load_keras(tiny_run.work / "pruned.h5")) == pytest.approx(0.5, abs=0.02)
    assert sparsity(load_keras(tiny_run.work / "fp32.h5")) < 0.01
    pqat = parse_tflite((tiny_run.work / "pruned_int8_pqat.tflite").read_bytes())
    assert pqat.tensors[pqat.inputs[0]].dtype == "int8"


def test_export_writes_card_and_c_array_that_round_trips(tiny_run: TinyRun) -> None:
    out = tiny_run.export
    content = (out / "tiny.tflite").read_bytes()
    assert content == (tiny_run.work / "int8_ptq.tflite").read_bytes()
    assert c_array_bytes((out / "model_data.cc").read_text()) == content
    card = json.loads((out / "card.json").read_text())
    import hashlib

    assert card["sha256"] == hashlib.sha256(content).hexdigest()
    assert card["labels"] == (out / "labels.txt").read_text().split()
    assert card["input"]["real_range"] == [0.0, 1.0]
    assert card["input"]["colour"] == "gray"
    assert card["operators"] == sorted(card["tflm"]["resolver"])
    header = (out / "model_data.h").read_text()
    assert f"kModelArenaBytes = {card['tflm']['arena_bytes']};" in header
    assert f"kModelInputZeroPoint = {card['input']['zero_point']};" in header
    assert "alignas(16) const unsigned char g_model_data[]" in (out / "model_data.cc").read_text()
    ops = (out / "model_ops.h").read_text()
    assert f"#define VISIONEDGE_MODEL_OP_COUNT {len(card['operators'])}" in ops
    for op in card["operators"]:
        assert f"resolver.{TFLM_RESOLVER[op]}()" in ops


def test_arena_estimate_covers_the_largest_activation_pair(tiny_run: TinyRun) -> None:
    from visionedge.train.export import arena_estimate

    info = parse_tflite((tiny_run.work / "int8_ptq.tflite").read_bytes())
    est = arena_estimate(info)
    biggest = max(
        sum(info.tensors[t].nbytes for t in (*op.inputs, *op.outputs)
            if t >= 0 and not info.tensors[t].has_data)
        for op in info.operators
    )
    assert biggest <= est.planned_bytes <= sum(
        t.nbytes + 16 for t in info.tensors if not t.has_data)
    assert est.recommended_bytes >= est.planned_bytes + est.overhead_bytes
    assert est.recommended_bytes % 1024 == 0


def test_evaluate_writes_report_and_chart(tiny_run: TinyRun, tmp_path) -> None:  # type: ignore[no-untyped-def]
    assert run_cli("model", "evaluate", str(tiny_run.work), "--out", str(tmp_path),
                   "--runs", "3") == 0
    report = (tmp_path / "report.md").read_text()
    for name in ("fp32", "int8_ptq", "pruned_fp32", "pruned_int8_pqat"):
        assert f"| {name} |" in report
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    fp32 = next(m for m in metrics if m["name"] == "fp32")
    assert fp32["agreement"] == 1.0
    assert sum(map(sum, fp32["confusion"])) == len(load_split(tiny_run.work / "split.json")
                                                   .files["test"])
