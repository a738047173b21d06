"""The input normalisation a model states in its TFLite metadata, read without TensorFlow.

Models made with TFLite Model Maker / the metadata writers carry a ``TFLITE_METADATA``
buffer: a ``ModelMetadata`` FlatBuffer (identifier ``M001``, schema
tensorflow_lite_support/metadata/metadata_schema.fbs) whose first input tensor may hold a
``NormalizationOptions`` process unit: ``real = (pixel - mean) / std`` per channel. That is
the only thing visionedge reads from it. Unreadable metadata is ignored (with a reason), as
the TFLite runtimes do: it never stops a model that otherwise loads.
"""

from __future__ import annotations

from visionedge.classify import flatbuf
from visionedge.classify.flatbuf import Malformed, Table
from visionedge.classify.normalization import Normalization

__all__ = ["read_normalization"]

METADATA_NAME = "TFLITE_METADATA"
# Slots in metadata_schema.fbs. A union field takes two slots: its type, then its value.
_MODEL_SUBGRAPH_METADATA = 3
_SUBGRAPH_INPUT_TENSOR_METADATA = 2
_TENSOR_PROCESS_UNITS = 4
_PROCESS_UNIT_OPTIONS_TYPE = 0
_PROCESS_UNIT_OPTIONS = 1
_NORMALIZATION_OPTIONS = 1  # ProcessUnitOptions.NormalizationOptions
_NORM_MEAN = 0
_NORM_STD = 1


def _metadata_buffer(model: Table) -> bytes | None:
    buffers = model.tables(flatbuf.MODEL_BUFFERS)
    for entry in model.tables(flatbuf.MODEL_METADATA):
        if entry.string(flatbuf.METADATA_NAME) != METADATA_NAME:
            continue
        index = entry.u32(flatbuf.METADATA_BUFFER)
        if index >= len(buffers):
            raise Malformed(f"metadata names buffer {index} of {len(buffers)}")
        buf = buffers[index]
        data = buf.bytes_(flatbuf.BUFFER_DATA)
        offset, size = buf.u64(flatbuf.BUFFER_OFFSET), buf.u64(flatbuf.BUFFER_SIZE)
        if not data and offset > 1:
            if offset + size > len(model.buf):
                raise Malformed("metadata buffer lies outside the file")
            data = model.buf[offset : offset + size]
        return data
    return None


def read_normalization(model_bytes: bytes) -> tuple[Normalization | None, str]:
    """Return the first input's normalisation from the model's metadata, and what was found.

    The second item explains the outcome for logs and the model card: ``"metadata"``,
    ``"no metadata"``, ``"metadata without normalization"`` or why it was unreadable.
    """
    try:
        model = flatbuf.root(model_bytes, b"TFL3")
        meta = _metadata_buffer(model)
        if meta is None:
            return None, "no metadata"
        mm = flatbuf.root(meta, b"M001")
        subgraphs = mm.tables(_MODEL_SUBGRAPH_METADATA)
        if not subgraphs:
            return None, "metadata without normalization"
        inputs = subgraphs[0].tables(_SUBGRAPH_INPUT_TENSOR_METADATA)
        if not inputs:
            return None, "metadata without normalization"
        for unit in inputs[0].tables(_TENSOR_PROCESS_UNITS):
            if unit.u8(_PROCESS_UNIT_OPTIONS_TYPE) != _NORMALIZATION_OPTIONS:
                continue
            opts = unit.table(_PROCESS_UNIT_OPTIONS)
            if opts is None:
                continue
            mean, std = tuple(opts.floats(_NORM_MEAN)), tuple(opts.floats(_NORM_STD))
            if not mean or not std or any(not s > 0 for s in std):
                return None, f"metadata normalization unusable (mean={mean}, std={std})"
            return Normalization(mean, std), "metadata"
        return None, "metadata without normalization"
    except Malformed as exc:
        return None, f"metadata unreadable ({exc})"
