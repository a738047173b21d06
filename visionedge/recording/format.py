"""The on-disk layout of one recording, and reading it back with every check replay needs.

A recording is a folder (docs/recordings.md)::

    manifest.json   format name + version, config, ids, window, counts, complete flag
    state.pkl       gate/event state before the first frame (restricted pickle, state.py)
    frames.jsonl    one line per frame: index, ts, source, camera metadata, plane slice,
                    lossless image file (classified frames only), video frame number
    planes.bin      the exact motion planes, each zlib-compressed, back to back
    images/         full frames the classifier saw, lossless PNG
    video.mp4|.avi  the viewing copy (lossy, never used by replay)
    events.jsonl    the event lines published live for this window
    snapshots/      one JPEG per event that ended here

``manifest.json`` is written first with ``complete: false`` and rewritten on close, so a
recording cut short (crash, full disk) is recognisable as truncated.

Format versions (``version`` in the manifest; replay reads every one up to
:data:`FORMAT_VERSION` and refuses a newer one with RecordingVersionError, exit 17):

1. The first format. ``state.pkl`` may or may not carry the object stage's state (object
   mode wrote it without a version bump); a recording made before the config had an
   ``objects`` section ran motion events only.
2. ``state.pkl`` always carries ``objects``: the object stage's state in object/both mode
   once the stage has seen a frame, else None (checked on load, state.py).
"""

from __future__ import annotations

import json
import os
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from visionedge.errors import RecordingFormatError, RecordingVersionError
from visionedge.frame import Plane

__all__ = [
    "FORMAT_NAME",
    "FORMAT_VERSION",
    "FrameRecord",
    "Manifest",
    "is_recording",
    "read_frames",
    "read_manifest",
    "read_plane",
    "write_json_atomic",
]

FORMAT_NAME = "visionedge-recording"
FORMAT_VERSION = 2
"""The version this visionedge writes; bumped when a file changes meaning (history above)."""

MANIFEST = "manifest.json"
STATE = "state.pkl"
FRAMES = "frames.jsonl"
PLANES = "planes.bin"
EVENTS = "events.jsonl"
IMAGES = "images"
SNAPSHOTS = "snapshots"


def is_recording(path: Path) -> bool:
    """Whether ``path`` is a folder with a recording manifest."""
    return path.is_dir() and (path / MANIFEST).is_file()


def write_json_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON through a temporary file and rename, so readers never see half a file."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1, sort_keys=True)
            fh.write("\n")
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)  # a full disk must not leave half files behind
        raise


@dataclass(frozen=True, slots=True)
class Manifest:
    """The parsed ``manifest.json`` of a recording (``data`` keeps every key)."""

    path: Path
    data: Mapping[str, Any]

    @property
    def live_path(self) -> str:
        """The recording's path as the live run named it in ``end`` payloads."""
        return str(self.data["path"])

    @property
    def version(self) -> int:
        """The format version it was written in (1 .. FORMAT_VERSION, checked on reading)."""
        return int(self.data["version"])

    @property
    def complete(self) -> bool:
        """Closed normally (not cut short by a crash or a full disk)."""
        return bool(self.data.get("complete"))

    @property
    def frames(self) -> int:
        """Frames written."""
        return int(self.data.get("frames", 0))

    @property
    def dropped(self) -> int:
        """Frames the writer dropped because the disk could not keep up."""
        return int(self.data.get("dropped_frames", 0))

    def status(self) -> str:
        """complete, lossy (frames dropped), failed (write error) or truncated."""
        if self.data.get("error"):
            return "failed"
        if not self.complete:
            return "truncated"
        return "lossy" if self.dropped else "complete"


def read_manifest(path: Path) -> Manifest:
    """Load and check a recording's manifest; RecordingFormatError says what is wrong."""
    if not path.exists():
        raise RecordingFormatError(f"{path}: no such recording; list them with `visionedge recordings list`")
    mf = path / MANIFEST
    if not mf.is_file():
        raise RecordingFormatError(
            f"{path}: not a recording (no {MANIFEST}); pass a folder from `visionedge recordings list`"
        )
    try:
        data = json.loads(mf.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordingFormatError(
            f"{mf}: unreadable manifest ({exc}); the recording is damaged, delete it"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT_NAME:
        raise RecordingFormatError(f"{mf}: not a visionedge recording manifest; pass a recording folder")
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise RecordingVersionError(
            f"{path}: recording format version {version} is newer than this visionedge reads "
            f"(1 to {FORMAT_VERSION}); upgrade visionedge (pip install -U visionedge) to replay it"
        )
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise RecordingFormatError(
            f"{mf}: recording format version {version!r} is not a version visionedge ever wrote "
            "(1, 2, ...); the manifest is damaged, delete the recording"
        )
    return Manifest(path, data)


@dataclass(frozen=True, slots=True)
class FrameRecord:
    """One line of ``frames.jsonl``."""

    index: int
    ts_ms: int
    source: str
    metadata: Mapping[str, float]
    plane: tuple[int, int, int, int]
    """Offset and length in planes.bin, height and width."""
    image: str | None
    """Lossless full frame under images/ (frames the classifier saw), else None."""
    classified: bool

    def to_json(self) -> str:
        """The JSON line (no newline)."""
        return json.dumps(
            {
                "i": self.index,
                "ts": self.ts_ms,
                "src": self.source,
                "meta": dict(self.metadata),
                "plane": list(self.plane),
                "image": self.image,
                "classified": self.classified,
            },
            separators=(",", ":"),
        )


def read_frames(manifest: Manifest) -> Iterator[FrameRecord]:
    """The frame records in order; a damaged line or a short planes.bin raises RecordingFormatError."""
    path = manifest.path / FRAMES
    try:
        fh = path.open("r", encoding="utf-8")
    except OSError as exc:
        raise RecordingFormatError(f"{path}: cannot read ({exc.strerror}); the recording is incomplete") from exc
    with fh:
        for n, line in enumerate(fh):
            try:
                d = json.loads(line)
                yield FrameRecord(
                    index=int(d["i"]),
                    ts_ms=int(d["ts"]),
                    source=str(d["src"]),
                    metadata={str(k): float(v) for k, v in d["meta"].items()},
                    plane=(int(d["plane"][0]), int(d["plane"][1]), int(d["plane"][2]), int(d["plane"][3])),
                    image=d["image"],
                    classified=bool(d["classified"]),
                )
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                raise RecordingFormatError(
                    f"{path}: line {n + 1} is damaged ({type(exc).__name__}); the recording is "
                    f"truncated after {n} frames"
                ) from exc


def encode_plane(plane: Plane) -> bytes:
    """The stored form of one motion plane (zlib level 1: fast, lossless)."""
    return zlib.compress(np.ascontiguousarray(plane).tobytes(), 1)


def read_plane(data: bytes, record: FrameRecord, where: Path) -> Plane:
    """Decode a record's plane from the bytes of planes.bin."""
    off, length, h, w = record.plane
    chunk = data[off : off + length]
    try:
        raw = zlib.decompress(chunk) if len(chunk) == length else b""
    except zlib.error:
        raw = b""
    if len(raw) != h * w:
        raise RecordingFormatError(
            f"{where}: the motion plane of frame {record.index} is missing or damaged (truncated "
            "recording); the frames before it were replayed"
        )
    return np.frombuffer(raw, dtype=np.uint8).reshape(h, w).copy()
