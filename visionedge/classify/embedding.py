"""An embedding out of a shipped classifier: its output swapped, in memory, to an inner tensor.

A learned head (:mod:`visionedge.classify.head`) reads the pooled features a pretrained
backbone computes before its own classifier layer (MobileNet v1's 768 average-pooled
values, ``MobilenetV1/Logits/AvgPool_1a/AvgPool``). Rather than ship a second copy of the
backbone cut at that layer (2.5 MB more), that tensor is made a model output, in the bytes
handed to the interpreter, before the model's own output. The operators are untouched and
the arena planner keeps outputs alive, so one run gives both the features and the
backbone's own scores (a cascade's ImageNet stage reads those instead of running the same
model again), read with the ordinary ``get_tensor`` on every runtime and computed by the
same builtin kernels (identical across runtimes). The file on
disk and its sha256 stay the upstream ones, as with :mod:`visionedge.classify.repair`.
"""

from __future__ import annotations

import struct

from visionedge.classify import flatbuf
from visionedge.classify.flatbuf import Malformed
from visionedge.errors import ModelError

__all__ = ["cut_at", "tensor_names"]

# Slots in tensorflow/lite/schema/schema.fbs.
_SUBGRAPH_TENSORS = 0
_SUBGRAPH_OUTPUTS = 2
_TENSOR_NAME = 3


def tensor_names(content: bytes) -> list[str]:
    """The names of the first subgraph's tensors, in index order."""
    try:
        model = flatbuf.root(content, b"TFL3")
        subgraph = model.tables(flatbuf.MODEL_SUBGRAPHS)[0]
        return [t.string(_TENSOR_NAME) for t in subgraph.tables(_SUBGRAPH_TENSORS)]
    except (Malformed, IndexError, struct.error) as exc:
        raise ModelError(f"not a readable TFLite model ({exc}); copy it again") from None


def cut_at(content: bytes, tensor: str, origin: str) -> bytes:
    """``content`` with two outputs: the tensor named ``tensor`` first, the model's own
    output second (one run gives the embedding and the backbone's own scores).

    FlatBuffer offsets to vectors point forward, so a new two-entry outputs vector is appended
    after the last byte (4-byte aligned) and the subgraph's ``outputs`` field pointed at it;
    nothing else moves. Raises ModelError when the model has not exactly one output or no
    tensor of that name.
    """
    names = tensor_names(content)
    if tensor not in names:
        raise ModelError(
            f"{origin}: the model has no tensor named '{tensor}'; the head was trained on "
            "another backbone: train it again on this one"
        )
    index = names.index(tensor)
    subgraph = flatbuf.root(content, b"TFL3").tables(flatbuf.MODEL_SUBGRAPHS)[0]
    start, count = subgraph._vector(_SUBGRAPH_OUTPUTS)
    if count != 1:
        raise ModelError(f"{origin}: the model has {count} outputs; a backbone has exactly one")
    own = struct.unpack_from("<i", content, start)[0]
    field = subgraph._field(_SUBGRAPH_OUTPUTS)
    out = bytearray(content)
    out += b"\0" * (-len(out) % 4)
    vector = len(out)
    out += struct.pack("<Iii", 2, index, own)
    struct.pack_into("<I", out, field, vector - field)
    return bytes(out)
