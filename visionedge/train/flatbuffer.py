"""Read what the export needs from a ``.tflite`` flatbuffer, without TensorFlow.

A minimal reader of the TFLite schema (``tensorflow/lite/schema/schema.fbs``): operator codes,
the main subgraph's tensors (shape, type, buffer, quantization), operators (opcode, inputs,
outputs) and metadata names. It is pure Python so ``visionedge model export`` works on a
model from anywhere with only the base install, and every offset is bounds-checked: a
truncated or foreign file ends in :class:`~visionedge.errors.ModelError`, never an
IndexError or a struct error.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from visionedge.errors import ModelError
from visionedge.train.tflm_ops import op_name

__all__ = ["TENSOR_TYPES", "ModelInfo", "OperatorInfo", "TensorInfo", "parse_tflite"]

TENSOR_TYPES: dict[int, tuple[str, int]] = {
    0: ("float32", 4),
    1: ("float16", 2),
    2: ("int32", 4),
    3: ("uint8", 1),
    4: ("int64", 8),
    5: ("string", 1),
    6: ("bool", 1),
    7: ("int16", 2),
    8: ("complex64", 8),
    9: ("int8", 1),
    10: ("float64", 8),
    11: ("complex128", 16),
    12: ("uint64", 8),
    15: ("uint32", 4),
    16: ("uint16", 2),
}
"""TFLite ``TensorType`` -> (numpy dtype name, bytes per element)."""


@dataclass(frozen=True)
class TensorInfo:
    """One tensor of the main subgraph."""

    index: int
    name: str
    shape: tuple[int, ...]
    dtype: str
    itemsize: int
    buffer: int
    has_data: bool
    scale: tuple[float, ...]
    zero_point: tuple[int, ...]
    is_variable: bool

    @property
    def nbytes(self) -> int:
        """Size of the tensor's data (unknown dimensions count as 1)."""
        n = self.itemsize
        for d in self.shape:
            n *= max(1, d)
        return n


@dataclass(frozen=True)
class OperatorInfo:
    """One operator of the main subgraph, in execution order."""

    name: str
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]


@dataclass
class ModelInfo:
    """What the export reads from a TFLite model."""

    version: int
    operators: list[OperatorInfo]
    tensors: list[TensorInfo]
    inputs: tuple[int, ...]
    outputs: tuple[int, ...]
    metadata: dict[str, bytes] = field(default_factory=dict)
    subgraphs: int = 1

    @property
    def op_names(self) -> list[str]:
        """Distinct operator names, sorted."""
        return sorted({op.name for op in self.operators})


class _Reader:
    """Bounds-checked access to flatbuffer tables, vectors and strings."""

    def __init__(self, buf: bytes, what: str) -> None:
        self.buf = buf
        self.what = what

    def _fail(self, why: str) -> ModelError:
        return ModelError(
            f"{self.what}: not a valid TFLite flatbuffer ({why}); re-export the model "
            "with the TFLite converter"
        )

    def u8(self, pos: int) -> int:
        return self._unpack("<B", pos)

    def u16(self, pos: int) -> int:
        return self._unpack("<H", pos)

    def i32(self, pos: int) -> int:
        return self._unpack("<i", pos)

    def u32(self, pos: int) -> int:
        return self._unpack("<I", pos)

    def _unpack(self, fmt: str, pos: int) -> int:
        size = struct.calcsize(fmt)
        if pos < 0 or pos + size > len(self.buf):
            raise self._fail(f"offset {pos} beyond the end of the file, truncated?")
        return int(struct.unpack_from(fmt, self.buf, pos)[0])

    def deref(self, pos: int) -> int:
        return pos + self.u32(pos)

    def field_pos(self, table: int, index: int) -> int | None:
        """Absolute position of field ``index`` of the table at ``table``, or None if absent."""
        vtable = table - self.i32(table)
        vsize = self.u16(vtable)
        slot = 4 + 2 * index
        if slot + 2 > vsize:
            return None
        off = self.u16(vtable + slot)
        return table + off if off else None

    def scalar(self, table: int, index: int, fmt: str, default: int | float = 0) -> int | float:
        pos = self.field_pos(table, index)
        if pos is None:
            return default
        size = struct.calcsize(fmt)
        if pos + size > len(self.buf):
            raise self._fail("scalar beyond the end of the file, truncated?")
        value: int | float = struct.unpack_from(fmt, self.buf, pos)[0]
        return value

    def table(self, table: int, index: int) -> int | None:
        pos = self.field_pos(table, index)
        return None if pos is None else self.deref(pos)

    def vector(self, table: int, index: int) -> tuple[int, int] | None:
        """(start of elements, length) of a vector field, or None."""
        pos = self.field_pos(table, index)
        if pos is None:
            return None
        vec = self.deref(pos)
        return vec + 4, self.u32(vec)

    def tables(self, table: int, index: int) -> list[int]:
        v = self.vector(table, index)
        if v is None:
            return []
        start, n = v
        if start + 4 * n > len(self.buf):
            raise self._fail("table vector beyond the end of the file, truncated?")
        return [self.deref(start + 4 * i) for i in range(n)]

    def numbers(self, table: int, index: int, fmt: str) -> tuple[int | float, ...]:
        v = self.vector(table, index)
        if v is None:
            return ()
        start, n = v
        size = struct.calcsize(fmt)
        if start + size * n > len(self.buf):
            raise self._fail("vector beyond the end of the file, truncated?")
        return tuple(struct.unpack_from(f"<{n}{fmt}", self.buf, start))

    def string(self, table: int, index: int) -> str:
        v = self.vector(table, index)
        if v is None:
            return ""
        start, n = v
        if start + n > len(self.buf):
            raise self._fail("string beyond the end of the file, truncated?")
        return self.buf[start : start + n].decode("utf-8", "replace")

    def blob(self, table: int, index: int) -> bytes:
        v = self.vector(table, index)
        if v is None:
            return b""
        start, n = v
        if start + n > len(self.buf):
            raise self._fail("buffer beyond the end of the file, truncated?")
        return self.buf[start : start + n]


def parse_tflite(buf: bytes, what: str = "model") -> ModelInfo:
    """Parse the main subgraph of a TFLite model; ModelError if ``buf`` is not one."""
    if len(buf) < 8 or buf[4:8] != b"TFL3":
        raise ModelError(
            f"{what}: not a TFLite model (no 'TFL3' file identifier); pass a .tflite file "
            "written by the TFLite converter"
        )
    r = _Reader(buf, what)
    root = r.deref(0)
    version = int(r.scalar(root, 0, "<I"))
    # OperatorCode: deprecated_builtin_code (byte, 0), custom_code (1), version (2),
    # builtin_code (int32, 3). Codes above 127 only fit the new field; take the larger.
    opcodes: list[str] = []
    for oc in r.tables(root, 1):
        dep = int(r.scalar(oc, 0, "<b"))
        new = int(r.scalar(oc, 3, "<i"))
        opcodes.append(op_name(max(dep, new), r.string(oc, 1)))
    subgraphs = r.tables(root, 2)
    if not subgraphs:
        raise r._fail("no subgraph")
    buffers = r.tables(root, 4)
    sg = subgraphs[0]
    tensors: list[TensorInfo] = []
    for i, t in enumerate(r.tables(sg, 0)):
        ttype = int(r.scalar(t, 1, "<b"))
        dtype, itemsize = TENSOR_TYPES.get(ttype, (f"type{ttype}", 1))
        buf_index = int(r.scalar(t, 2, "<I"))
        has_data = False
        if 0 < buf_index < len(buffers):
            b = buffers[buf_index]
            # Data inline (field 0) or, for models over 2 GB, at an offset (field 1/2).
            data = r.vector(b, 0)
            has_data = (data is not None and data[1] > 0) or int(r.scalar(b, 2, "<Q")) > 0
        scale: tuple[float, ...] = ()
        zp: tuple[int, ...] = ()
        q = r.table(t, 4)
        if q is not None:
            scale = tuple(float(x) for x in r.numbers(q, 2, "f"))
            zp = tuple(int(x) for x in r.numbers(q, 3, "q"))
        tensors.append(
            TensorInfo(
                index=i,
                name=r.string(t, 3),
                shape=tuple(int(x) for x in r.numbers(t, 0, "i")),
                dtype=dtype,
                itemsize=itemsize,
                buffer=buf_index,
                has_data=has_data,
                scale=scale,
                zero_point=zp,
                is_variable=bool(r.scalar(t, 5, "<B")),
            )
        )
    operators: list[OperatorInfo] = []
    for op in r.tables(sg, 3):
        idx = int(r.scalar(op, 0, "<I"))
        if idx >= len(opcodes):
            raise r._fail(f"operator code index {idx} out of range")
        operators.append(
            OperatorInfo(
                name=opcodes[idx],
                inputs=tuple(int(x) for x in r.numbers(op, 1, "i")),
                outputs=tuple(int(x) for x in r.numbers(op, 2, "i")),
            )
        )
    metadata: dict[str, bytes] = {}
    for m in r.tables(root, 6):
        name = r.string(m, 0)
        bi = int(r.scalar(m, 1, "<I"))
        metadata[name] = r.blob(buffers[bi], 0) if bi < len(buffers) else b""
    return ModelInfo(
        version=version,
        operators=operators,
        tensors=tensors,
        inputs=tuple(int(x) for x in r.numbers(sg, 1, "i")),
        outputs=tuple(int(x) for x in r.numbers(sg, 2, "i")),
        metadata=metadata,
        subgraphs=len(subgraphs),
    )
