"""A minimal, bounds-checked reader for the few FlatBuffer fields visionedge looks at.

The TFLite interpreters verify a model buffer before building on it, but we read two things
ourselves: the file identifier and buffer extents (checked before any interpreter sees the
bytes, see :func:`check_tflite_structure`) and the TFLite metadata (normalisation mean/std,
:mod:`visionedge.classify.metadata`), without TensorFlow or ``tflite_support``. Every read
is bounds-checked and raises :class:`Malformed`, never IndexError or struct.error.

Layout (flatbuffers.dev "internals"): a buffer starts with a uint32 offset to the root table;
a table starts with an int32 back-offset to its vtable; the vtable holds uint16 sizes and
then one uint16 offset per field (0 = absent); reference fields hold a uint32 offset
relative to where it is stored; vectors and strings are a uint32 length then the elements.
"""

from __future__ import annotations

import struct

__all__ = ["Malformed", "Table", "check_tflite_structure", "root"]

# Field slots of tflite::Model / Buffer / Metadata in tensorflow/lite/schema/schema.fbs.
MODEL_SUBGRAPHS = 2
MODEL_BUFFERS = 4
MODEL_METADATA = 6
BUFFER_DATA = 0
BUFFER_OFFSET = 1
BUFFER_SIZE = 2
METADATA_NAME = 0
METADATA_BUFFER = 1

_MAX_VECTOR = 1 << 24  # far more entries than any real model; stops absurd loops


class Malformed(Exception):
    """The bytes are not a well-formed FlatBuffer where we looked."""


class Table:
    """One table inside a FlatBuffer: field access by slot number, bounds-checked."""

    __slots__ = ("_vt", "_vt_len", "buf", "pos")

    def __init__(self, buf: bytes, pos: int) -> None:
        self.buf = buf
        self.pos = pos
        vt = pos - _i32(buf, pos)
        vt_len = _u16(buf, vt)
        if vt_len < 4 or vt_len % 2:
            raise Malformed(f"bad vtable size {vt_len} at {vt}")
        _need(buf, vt, vt_len)
        self._vt = vt
        self._vt_len = vt_len

    def _field(self, slot: int) -> int:
        """Absolute position of a field, or 0 when it is absent."""
        entry = 4 + 2 * slot
        if entry + 2 > self._vt_len:
            return 0
        off = _u16(self.buf, self._vt + entry)
        return self.pos + off if off else 0

    def has(self, slot: int) -> bool:
        """Whether the field is present."""
        return self._field(slot) != 0

    def u8(self, slot: int, default: int = 0) -> int:
        p = self._field(slot)
        return _u8(self.buf, p) if p else default

    def u32(self, slot: int, default: int = 0) -> int:
        p = self._field(slot)
        return _u32(self.buf, p) if p else default

    def u64(self, slot: int, default: int = 0) -> int:
        p = self._field(slot)
        if not p:
            return default
        _need(self.buf, p, 8)
        return int(struct.unpack_from("<Q", self.buf, p)[0])

    def _ref(self, slot: int) -> int:
        p = self._field(slot)
        return p + _u32(self.buf, p) if p else 0

    def table(self, slot: int) -> Table | None:
        target = self._ref(slot)
        return Table(self.buf, target) if target else None

    def _vector(self, slot: int) -> tuple[int, int]:
        """(position of the first element, length) of a vector field; (0, 0) if absent."""
        v = self._ref(slot)
        if not v:
            return 0, 0
        n = _u32(self.buf, v)
        if n > _MAX_VECTOR:
            raise Malformed(f"vector of {n} entries at {v}")
        return v + 4, n

    def vector_len(self, slot: int) -> int:
        return self._vector(slot)[1]

    def tables(self, slot: int) -> list[Table]:
        start, n = self._vector(slot)
        _need(self.buf, start, 4 * n)
        return [Table(self.buf, start + 4 * i + _u32(self.buf, start + 4 * i)) for i in range(n)]

    def bytes_(self, slot: int) -> bytes:
        start, n = self._vector(slot)
        if not start:
            return b""
        _need(self.buf, start, n)
        return self.buf[start : start + n]

    def string(self, slot: int) -> str:
        return self.bytes_(slot).decode("utf-8", errors="replace")

    def floats(self, slot: int) -> list[float]:
        start, n = self._vector(slot)
        if not start:
            return []
        _need(self.buf, start, 4 * n)
        return list(struct.unpack_from(f"<{n}f", self.buf, start))


def _need(buf: bytes, pos: int, size: int) -> None:
    if pos < 0 or size < 0 or pos + size > len(buf):
        raise Malformed(f"read of {size} bytes at {pos} is outside the {len(buf)}-byte buffer")


def _u8(buf: bytes, pos: int) -> int:
    _need(buf, pos, 1)
    return buf[pos]


def _u16(buf: bytes, pos: int) -> int:
    _need(buf, pos, 2)
    return int(struct.unpack_from("<H", buf, pos)[0])


def _u32(buf: bytes, pos: int) -> int:
    _need(buf, pos, 4)
    return int(struct.unpack_from("<I", buf, pos)[0])


def _i32(buf: bytes, pos: int) -> int:
    _need(buf, pos, 4)
    return int(struct.unpack_from("<i", buf, pos)[0])


def root(buf: bytes, identifier: bytes | None = None) -> Table:
    """The root table of ``buf``; with ``identifier``, check the 4-byte file identifier too."""
    if len(buf) < 8:
        raise Malformed(f"{len(buf)} bytes is too short for a FlatBuffer")
    if identifier is not None and buf[4:8] != identifier:
        raise Malformed(f"file identifier is {buf[4:8]!r}, expected {identifier!r}")
    return Table(buf, _u32(buf, 0))


def check_tflite_structure(buf: bytes) -> Table:
    """Check what the interpreters trust without verifying; return the Model table.

    The FlatBuffer verifier run by ``model_content=`` checks offsets inside the FlatBuffer,
    but a ``Buffer`` may also point at data stored *after* it (``offset``/``size``, used
    for models over 2 GB), and those extents are only checked when used. A flipped bit
    there must not send the runtime reading past the end of our bytes.
    """
    model = root(buf, b"TFL3")
    if model.vector_len(MODEL_SUBGRAPHS) < 1:
        raise Malformed("the model has no subgraph")
    for i, b in enumerate(model.tables(MODEL_BUFFERS)):
        offset, size = b.u64(BUFFER_OFFSET), b.u64(BUFFER_SIZE)
        # The runtime treats offset 0/1 as "data inline" (1 is the writer's placeholder).
        if offset > 1 and offset + size > len(buf):
            raise Malformed(
                f"buffer {i} points at {size} bytes at offset {offset}, outside the file"
            )
    return model
