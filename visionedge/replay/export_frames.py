"""``replay --export-frames DIR``: every motion plane as binary PGM plus a manifest.

The firmware host build reads these, so its parity tests start from the very bytes the
Python gate saw: ``DIR/frame_000000.pgm`` ... (named by frame index) and
``DIR/manifest.json`` with the clip id, rate, plane size, the gate config used, and per
frame its index, timestamp, file and camera metadata.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from visionedge.config import GateConfig
from visionedge.errors import FrameError, SinkError
from visionedge.frame import Frame, Plane

__all__ = ["FrameExporter", "read_pgm", "write_pgm"]


def write_pgm(path: Path, plane: Plane) -> None:
    """Binary PGM (P5, maxval 255) of a 2-D uint8 plane."""
    if plane.ndim != 2 or plane.dtype != np.uint8:
        raise FrameError(f"a motion plane must be 2-D uint8, got {plane.shape} {plane.dtype}")
    h, w = plane.shape
    path.write_bytes(f"P5\n{w} {h}\n255\n".encode("ascii") + np.ascontiguousarray(plane).tobytes())


def read_pgm(path: Path) -> Plane:
    """Read a P5 file written by :func:`write_pgm` (no comments, maxval 255)."""
    data = path.read_bytes()
    parts = data.split(b"\n", 3)
    if len(parts) != 4 or parts[0] != b"P5" or parts[2] != b"255":
        raise FrameError(f"{path}: not a binary PGM written by visionedge")
    w, h = (int(v) for v in parts[1].split())
    pixels = np.frombuffer(parts[3], dtype=np.uint8)
    if pixels.size != w * h:
        raise FrameError(f"{path}: {pixels.size} pixels, expected {w}x{h}")
    return pixels.reshape(h, w)


class FrameExporter:
    """Writes one PGM per frame as frames pass, and the manifest on :meth:`close`."""

    def __init__(self, directory: str | Path, *, clip_id: str, fps: float, gate: GateConfig) -> None:
        self.dir = Path(directory)
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SinkError(
                f"cannot create --export-frames directory {self.dir} ({exc.strerror})"
            ) from exc
        self._clip_id = clip_id
        self._fps = fps
        self._gate = gate
        self._frames: list[dict[str, Any]] = []
        self._shape: tuple[int, int] | None = None

    def write(self, frame: Frame) -> None:
        """Write this frame's plane as ``frame_<index:06d>.pgm``."""
        shape = (int(frame.plane.shape[0]), int(frame.plane.shape[1]))
        if self._shape is None:
            self._shape = shape
        elif shape != self._shape:
            raise FrameError(f"frame {frame.index}: plane size changed from {self._shape} to {shape}")
        name = f"frame_{frame.index:06d}.pgm"
        try:
            write_pgm(self.dir / name, frame.plane)
        except OSError as exc:
            raise SinkError(f"cannot write {self.dir / name} ({exc.strerror})") from exc
        self._frames.append(
            {
                "index": frame.index,
                "ts_ms": frame.ts_ms,
                "file": name,
                "metadata": {k: float(v) for k, v in sorted(frame.metadata.items())},
            }
        )

    def close(self) -> Path:
        """Write ``manifest.json`` and return its path."""
        h, w = self._shape or (0, 0)
        manifest = {
            "format": "pgm",
            "clip_id": self._clip_id,
            "fps": self._fps,
            "width": w,
            "height": h,
            "count": len(self._frames),
            "gate": self._gate.model_dump(mode="json"),
            "frames": self._frames,
        }
        path = self.dir / "manifest.json"
        try:
            path.write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        except OSError as exc:
            raise SinkError(f"cannot write {path} ({exc.strerror})") from exc
        return path
