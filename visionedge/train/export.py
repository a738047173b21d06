"""Export a .tflite model for the daemon and the firmware: model, labels, card, C array.

Needs no TensorFlow: everything is read from the flatbuffer (:mod:`.flatbuffer`).

- ``<name>.tflite`` and ``labels.txt`` (one label per line, line index = output index);
- ``card.json``: name, sha256, size, labels, input spec (shape, dtype, colour, scale, zero
  point, the real-value range the model was trained on and how pixels map to it), output
  spec, operator list, and the TFLM tensor-arena estimate (see :func:`arena_estimate`);
- ``model_data.h`` / ``model_data.cc``: ``alignas(16) const unsigned char g_model_data[]``
  and ``g_model_data_len``, the input/output quantization constants, the labels, and the
  arena size; no TFLM include, so the firmware core can use the constants;
- ``model_ops.h``: the resolver snippet (``VISIONEDGE_MODEL_OP_COUNT`` and
  ``visionedge_register_ops(resolver)``) for ``firmware/tflm/``.

Before anything is written every operator is checked against TFLM's resolver
(:func:`~visionedge.train.tflm_ops.check_tflm_ops`), unless ``firmware=False``.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from visionedge.errors import LabelsError, ModelError, TrainingError
from visionedge.train.flatbuffer import ModelInfo, TensorInfo, parse_tflite
from visionedge.train.tflm_arena import measure_arena
from visionedge.train.tflm_ops import TFLM_COMMIT, TFLM_RESOLVER, check_tflm_ops, resolver_snippet

__all__ = [
    "ArenaEstimate",
    "arena_estimate",
    "c_array_bytes",
    "export_model",
    "model_card",
    "read_labels",
]

ARENA_ALIGN = 16
"""TFLM aligns every planned buffer to 16 bytes (MicroArenaBufferAlignment)."""


@dataclass(frozen=True)
class ArenaEstimate:
    """The TFLM tensor-arena estimate and how it was made."""

    planned_bytes: int
    overhead_bytes: int
    recommended_bytes: int
    method: str


def arena_estimate(info: ModelInfo) -> ArenaEstimate:
    """Estimate TFLM's arena from the tensor lifetimes in the flatbuffer.

    ``planned_bytes`` replays TFLM's GreedyMemoryPlanner: every non-constant tensor lives
    from the operator that writes it (graph inputs: from the start) to the last operator that
    reads it (graph outputs: to the end); buffers are placed largest first at the lowest
    16-byte-aligned offset that does not overlap a buffer alive at the same time.
    ``overhead_bytes`` is an allowance for what TFLM keeps beside the activations (a
    TfLiteEvalTensor per tensor, node and registration records per operator, per-channel
    requantization multipliers and shifts, kernel scratch buffers); it is deliberately
    generous (checked against real TFLM: 126,176 B estimated vs 123,792 B used on x86-64 and
    122,292 B on Cortex-M4 for the shipped model). ``recommended_bytes`` = planned + overhead,
    rounded up to 1 KiB: the size to compile in. The firmware reports ``arena_used_bytes()`` at start-up, which is the
    authority.
    """
    n_ops = len(info.operators)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t in info.inputs:
        first[t] = 0
        last[t] = 0
    for i, op in enumerate(info.operators):
        for t in op.outputs:
            first.setdefault(t, i)
            last[t] = max(last.get(t, i), i)
        for t in op.inputs:
            if t >= 0:
                last[t] = max(last.get(t, i), i)
    for t in info.outputs:
        last[t] = max(n_ops - 1, 0)
        first.setdefault(t, 0)

    def planned(t: TensorInfo) -> bool:
        return not t.has_data and not t.is_variable and t.index in first

    buffers = sorted(
        ((_align(t.nbytes), first[t.index], last[t.index], t.index)
         for t in info.tensors if planned(t)),
        key=lambda b: (-b[0], b[3]),
    )
    placed: list[tuple[int, int, int, int]] = []  # offset, size, first, last
    high = 0
    for size, f, lst, _ in buffers:
        live = sorted((o, s) for o, s, pf, pl in placed if not (pl < f or lst < pf))
        offset = 0
        for o, s in live:
            if offset + size <= o:
                break
            offset = max(offset, _align(o + s))
        placed.append((offset, size, f, lst))
        high = max(high, offset + size)
    channels = 0
    for op in info.operators:
        if op.name in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV"):
            out_shape = info.tensors[op.outputs[0]].shape if op.outputs else ()
            channels += out_shape[-1] if out_shape else 0
    overhead = 2048 + 32 * len(info.tensors) + 192 * n_ops + 8 * channels
    recommended = math.ceil((high + overhead) / 1024.0) * 1024
    return ArenaEstimate(
        planned_bytes=high,
        overhead_bytes=overhead,
        recommended_bytes=recommended,
        method="greedy lifetime plan of non-constant tensors (TFLM GreedyMemoryPlanner "
        "rules, 16-byte aligned) + allowance of 2048 B + 32 B/tensor + 192 B/op + 8 B per "
        "output channel of conv/depthwise/fully-connected, rounded up to 1 KiB",
    )


def _align(n: int) -> int:
    return (n + ARENA_ALIGN - 1) // ARENA_ALIGN * ARENA_ALIGN


def read_labels(path: Path) -> list[str]:
    """Read labels.txt (one per line; blank lines at the end ignored)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LabelsError(f"{path}: labels file not found; pass --labels labels.txt") from None
    except UnicodeDecodeError:
        raise LabelsError(f"{path}: labels file is not UTF-8 text") from None
    labels = [line.strip() for line in text.rstrip("\n").split("\n")]
    if not labels or labels == [""]:
        raise LabelsError(f"{path}: labels file is empty; write one label per line")
    return labels


def _tensor_spec(t: TensorInfo) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": t.name, "shape": list(t.shape), "dtype": t.dtype}
    if t.scale:
        spec["scale"] = t.scale[0]
        spec["zero_point"] = t.zero_point[0] if t.zero_point else 0
    return spec


def model_card(
    content: bytes,
    labels: Sequence[str],
    *,
    name: str,
    input_range: tuple[float, float] = (0.0, 1.0),
    firmware: bool = True,
    extra: dict[str, Any] | None = None,
    what: str = "model",
) -> dict[str, Any]:
    """Build the model card for ``content``; checks labels count and (if firmware) ops."""
    info = parse_tflite(content, what)
    if len(info.inputs) != 1 or len(info.outputs) != 1:
        raise ModelError(
            f"{what}: has {len(info.inputs)} inputs and {len(info.outputs)} outputs; "
            "export handles single-input, single-output classifiers"
        )
    tin = info.tensors[info.inputs[0]]
    tout = info.tensors[info.outputs[0]]
    if len(tin.shape) != 4 or tin.shape[3] not in (1, 3):
        raise ModelError(
            f"{what}: input shape {list(tin.shape)} is not [1, H, W, 1 or 3] (NHWC gray/RGB)"
        )
    classes = tout.shape[-1] if tout.shape else 0
    if classes != len(labels):
        raise LabelsError(
            f"{what}: the model has {classes} outputs but there are {len(labels)} labels; "
            "pass the labels.txt the model was trained with"
        )
    ops = check_tflm_ops(info.op_names, what) if firmware else info.op_names
    input_spec = _tensor_spec(tin)
    lo, hi = input_range
    input_spec.update({
        "layout": "NHWC",
        "colour": "gray" if tin.shape[3] == 1 else "rgb",
        "real_range": [lo, hi],
        "pixel_to_real": f"real = {lo:g} + pixel * {(hi - lo):g} / 255",
        "resize": "integer area resize (docs/gate-algorithm.md §6) of a crop around the largest motion region",
    })
    card: dict[str, Any] = {
        "format": "visionedge-model-card/1",
        "name": name,
        "sha256": hashlib.sha256(content).hexdigest(),
        "bytes": len(content),
        "labels": list(labels),
        "input": input_spec,
        "output": {**_tensor_spec(tout), "activation": "softmax"},
        "operators": ops,
        "tflm": {},
    }
    if firmware:
        est = arena_estimate(info)
        measured = measure_arena(content)
        card["tflm"] = {
            "resolver": {op: TFLM_RESOLVER[op] for op in ops},
            "resolver_source": "tensorflow/tflite-micro "
            f"tensorflow/lite/micro/micro_mutable_op_resolver.h @ {TFLM_COMMIT}",
            "arena_bytes": est.recommended_bytes,
            "arena_planned_bytes": est.planned_bytes,
            "arena_overhead_bytes": est.overhead_bytes,
            "arena_method": est.method,
        }
        if measured is not None:
            # TFLM's own figure wins: the planner replay misses kernels' scratch buffers.
            card["tflm"].update(
                arena_bytes=math.ceil(measured / 1024) * 1024,
                arena_measured_bytes=measured,
                arena_method="measured: the smallest arena the pinned tflite-micro wheel "
                "allocates and runs the model in (x86-64 host, an upper bound for a 32-bit "
                "MCU), rounded up to 1 KiB; estimate: " + est.method,
            )
    if extra:
        card.update(extra)
    return card


def c_identifier(name: str) -> str:
    """A C identifier made from ``name``."""
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return ident if ident and not ident[0].isdigit() else f"m_{ident}"


def c_array_source(content: bytes, card: dict[str, Any]) -> tuple[str, str]:
    """(model_data.h, model_data.cc) for the firmware."""
    tin, tout = card["input"], card["output"]
    labels = card["labels"]
    shape = tin["shape"]
    arena = card.get("tflm", {}).get("arena_bytes", 0)
    header = f"""// Generated by `visionedge model export` from {card['name']} -- do not edit.
// sha256 {card['sha256']}
#ifndef VISIONEDGE_MODEL_DATA_H_
#define VISIONEDGE_MODEL_DATA_H_

#include <cstdint>

// The .tflite flatbuffer, 16-byte aligned as TFLM requires.
extern const unsigned char g_model_data[];
extern const unsigned int g_model_data_len;

// Input tensor: [1, {shape[1]}, {shape[2]}, {shape[3]}] {tin['dtype']} ({tin['colour']}), real = pixel / 255 * \
({tin['real_range'][1]:g} - {tin['real_range'][0]:g}) + {tin['real_range'][0]:g}; q = round(real / scale) + zero_point.
constexpr int kModelInputHeight = {shape[1]};
constexpr int kModelInputWidth = {shape[2]};
constexpr int kModelInputChannels = {shape[3]};
constexpr float kModelInputScale = {tin.get('scale', 0.0)!r}f;
constexpr int32_t kModelInputZeroPoint = {tin.get('zero_point', 0)};
constexpr float kModelInputRealMin = {float(tin['real_range'][0])!r}f;
constexpr float kModelInputRealMax = {float(tin['real_range'][1])!r}f;
// Output tensor: [1, {len(labels)}] {tout['dtype']}, score = (q - zero_point) * scale.
constexpr float kModelOutputScale = {tout.get('scale', 0.0)!r}f;
constexpr int32_t kModelOutputZeroPoint = {tout.get('zero_point', 0)};
constexpr int kModelNumClasses = {len(labels)};
extern const char* const g_model_labels[kModelNumClasses];
// Tensor arena to allocate (estimate from the model card; TFLM reports the real use).
constexpr unsigned int kModelArenaBytes = {arena};

#endif  // VISIONEDGE_MODEL_DATA_H_
"""
    rows = []
    for i in range(0, len(content), 12):
        rows.append("  " + ", ".join(f"0x{b:02x}" for b in content[i : i + 12]) + ",")
    label_items = ", ".join(json.dumps(label) for label in labels)
    source = f"""// Generated by `visionedge model export` from {card['name']} -- do not edit.
// sha256 {card['sha256']}
#include "model_data.h"

alignas(16) const unsigned char g_model_data[] = {{
{chr(10).join(rows)}
}};
const unsigned int g_model_data_len = {len(content)};

const char* const g_model_labels[kModelNumClasses] = {{{label_items}}};
"""
    return header, source


def ops_header(card: dict[str, Any]) -> str:
    """model_ops.h: the resolver snippet for exactly the model's operators."""
    return (
        f"// Generated by `visionedge model export` from {card['name']} -- do not edit.\n"
        f"// Operators: {', '.join(card['operators'])}\n"
        "#ifndef VISIONEDGE_MODEL_OPS_H_\n#define VISIONEDGE_MODEL_OPS_H_\n\n"
        '#include "tensorflow/lite/micro/micro_mutable_op_resolver.h"\n\n'
        + resolver_snippet(card["operators"])
        + "\n#endif  // VISIONEDGE_MODEL_OPS_H_\n"
    )


def c_array_bytes(source: str) -> bytes:
    """Parse ``g_model_data`` back out of a generated model_data.cc (round-trip check)."""
    m = re.search(r"g_model_data\[\]\s*=\s*\{(.*?)\};", source, re.S)
    if m is None:
        raise TrainingError("no g_model_data array in the C source")
    return bytes(int(tok, 16) for tok in re.findall(r"0x([0-9a-fA-F]{2})", m.group(1)))


def export_model(
    model: Path,
    labels_path: Path,
    out: Path,
    *,
    name: str | None = None,
    input_range: tuple[float, float] = (0.0, 1.0),
    firmware: bool = True,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the export files under ``out``; returns the model card."""
    from visionedge.train.evaluate import read_model

    content = read_model(model)
    labels = read_labels(labels_path)
    model_name = name or model.stem
    card = model_card(content, labels, name=model_name, input_range=input_range,
                      firmware=firmware, extra=extra, what=str(model))
    out.mkdir(parents=True, exist_ok=True)
    card["file"] = f"{model_name}.tflite"
    (out / card["file"]).write_bytes(content)
    (out / "labels.txt").write_text("".join(f"{label}\n" for label in labels))
    (out / "card.json").write_text(json.dumps(card, indent=1) + "\n")
    if firmware:
        header, source = c_array_source(content, card)
        (out / "model_data.h").write_text(header)
        (out / "model_data.cc").write_text(source)
        (out / "model_ops.h").write_text(ops_header(card))
    return card
