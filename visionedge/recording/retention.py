"""Retention: total size, age and a free-space floor, so recordings never fill the disk.

:func:`prune` deletes whole recordings, oldest first (by the creation time in their
manifest, else the folder's mtime), until all three limits hold; the recordings named in
``keep`` (those being written) are never touched. It runs on the writer thread after every
recording and from ``visionedge recordings prune``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import time
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from visionedge.config import RecordingConfig
from visionedge.recording import format as fmt

__all__ = ["Entry", "free_mb", "list_recordings", "prune"]

MB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Entry:
    """One recording folder as retention sees it."""

    path: Path
    created: float
    """Seconds since the epoch."""
    bytes: int


def free_mb(path: Path) -> float:
    """Free space (for unprivileged users) on the file system holding ``path``."""
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize / MB


def _size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(root, name)).st_size
    return total


def _created(path: Path) -> float:
    try:
        man = fmt.read_manifest(path)
        return dt.datetime.fromisoformat(str(man.data["created_utc"])).timestamp()
    except Exception:  # a damaged manifest still ages out, by its folder time
        return path.stat().st_mtime


def list_recordings(root: Path) -> list[Entry]:
    """The recording folders under ``root``, oldest first."""
    if not root.is_dir():
        return []
    out = [
        Entry(p, _created(p), _size(p))
        for p in root.iterdir()
        if p.is_dir() and (p / fmt.MANIFEST).exists()
    ]
    return sorted(out, key=lambda e: (e.created, e.path.name))


def prune(
    root: Path, cfg: RecordingConfig, *, keep: Collection[Path] = (), now: float | None = None
) -> list[Path]:
    """Delete the oldest recordings until size, age and free-space limits hold; return them."""
    now = time.time() if now is None else now
    entries = [e for e in list_recordings(root) if e.path not in keep]
    removed: list[Path] = []
    total = sum(e.bytes for e in list_recordings(root))
    for e in entries:
        too_old = now - e.created > cfg.max_age_h * 3600.0
        too_big = total > cfg.max_total_mb * MB
        too_full = root.is_dir() and free_mb(root) < cfg.min_free_mb
        if not (too_old or too_big or too_full):
            continue
        shutil.rmtree(e.path, ignore_errors=True)
        if not e.path.exists():
            removed.append(e.path)
            total -= e.bytes
    return removed
