"""In-memory repair of a legacy TFLite quirk the full runtimes refuse (TFLM accepts it).

Old TFLite converters (the TFLM ``person_detect`` model among them) copied the weights'
``quantized_dimension = 3`` onto the per-channel bias tensors, which have one axis. TFLite
Micro never reads the field for a bias; TFLite (ai_edge_litert, tflite_runtime, tensorflow)
checks it and refuses the model: "quantized_dimension must be in range [0, 1)". A rank-1
tensor has only axis 0, so setting the field to 0 there (and on any single-scale tensor,
where it is meaningless) states what the converter meant and changes no arithmetic.
The file on disk (and its sha256) stays the upstream one; only the bytes handed to the
interpreter are patched.
"""

from __future__ import annotations

import struct

from visionedge.classify import flatbuf
from visionedge.classify.flatbuf import Malformed, Table

__all__ = ["repair_quantized_dimension"]

# Slots in tensorflow/lite/schema/schema.fbs.
_SUBGRAPH_TENSORS = 0
_TENSOR_SHAPE = 0
_TENSOR_QUANTIZATION = 4
_QUANT_SCALE = 2
_QUANT_DIMENSION = 6


def _dimension_position(quant: Table) -> int:
    """Absolute position of the stored ``quantized_dimension`` int32 (0: not stored)."""
    return quant._field(_QUANT_DIMENSION)


def repair_quantized_dimension(content: bytes) -> tuple[bytes, int]:
    """Return ``content`` with out-of-range quantized_dimension set to 0 where 0 is the only meaning.

    The second item counts the tensors changed (0: ``content`` is returned unchanged). A
    buffer that is not a readable TFLite FlatBuffer is returned unchanged too: the loader's
    own checks report it.
    """
    try:
        model = flatbuf.root(content, b"TFL3")
        patches: list[int] = []
        for subgraph in model.tables(flatbuf.MODEL_SUBGRAPHS):
            for tensor in subgraph.tables(_SUBGRAPH_TENSORS):
                quant = tensor.table(_TENSOR_QUANTIZATION)
                if quant is None:
                    continue
                pos = _dimension_position(quant)
                if not pos:
                    continue
                dim = struct.unpack_from("<i", content, pos)[0]
                rank = tensor.vector_len(_TENSOR_SHAPE)
                single = quant.vector_len(_QUANT_SCALE) <= 1
                if dim != 0 and not 0 <= dim < rank and (rank <= 1 or single):
                    patches.append(pos)
    except (Malformed, struct.error):
        return content, 0
    if not patches:
        return content, 0
    out = bytearray(content)
    for pos in patches:
        struct.pack_into("<i", out, pos, 0)
    return bytes(out), len(patches)
