"""The spool's SQLite file: schema, row type, size accounting, opening it, the reserve file.

:mod:`visionedge.spool.store` builds the bounded FIFO on these; the store re-exports the
public names.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from visionedge.errors import SpoolError

__all__ = [
    "RESERVE_BYTES",
    "ROW_OVERHEAD_BYTES",
    "TOTALS_SQL",
    "WAL_CHECKPOINT_PAGES",
    "Message",
    "SpoolRow",
    "is_full",
    "make_reserve",
    "open_db",
    "row_size",
]

# Same logger as the store: the spool logs under one name.
log = logging.getLogger("visionedge.spool.store")

ROW_OVERHEAD_BYTES = 48
"""Bytes charged per row on top of topic and payload (id, timestamps, b-tree cell)."""

WAL_CHECKPOINT_PAGES = 128
"""Checkpoint the WAL after this many pages (512 KiB). The checkpoint runs off the writing
thread (:mod:`visionedge.spool.checkpoint`), but every checkpoint lets the WAL restart, and
with ``synchronous=full`` the commit that restarts it fsyncs the new WAL header too (strace:
an event and its delete append ~3 pages, so at 16 pages one event in four paid a second
fsync; at 128, one in ~40). Still far below SQLite's default 4 MB, which could fill a small
disk on its own; the WAL is cut back to twice this after a checkpoint."""

RESERVE_BYTES = 64 * 1024
"""Size of ``<spool>.reserve``, a file kept beside the spool and given up on a full disk:
SQLite needs free space to shrink its WAL and to delete rows, so without it a full disk
could not be recovered from."""

Message = tuple[str, bytes, int]
"""``(topic, payload, qos)``."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL    NOT NULL,
    topic   TEXT    NOT NULL,
    qos     INTEGER NOT NULL,
    payload BLOB    NOT NULL
)
"""


@dataclass(frozen=True, slots=True)
class SpoolRow:
    """One stored message, in the order it was accepted."""

    id: int
    created: float
    topic: str
    qos: int
    payload: bytes

    @property
    def size(self) -> int:
        """Bytes this row counts against ``max_bytes``."""
        return len(self.payload) + len(self.topic.encode()) + ROW_OVERHEAD_BYTES


TOTALS_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload) + LENGTH(CAST(topic AS BLOB))), 0) FROM spool"
)
"""Rows and payload+topic bytes; ``WHERE`` may follow."""


def is_full(exc: sqlite3.Error) -> bool:
    """Whether a SQLite error means the disk (or the file system quota) is full."""
    return getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "full" in str(exc).lower()


def row_size(topic: str, payload: bytes) -> int:
    """Bytes a message counts against ``max_bytes`` (as :attr:`SpoolRow.size`)."""
    return len(payload) + len(topic.encode()) + ROW_OVERHEAD_BYTES


def open_db(path: Path, synchronous: str) -> sqlite3.Connection:
    """Open (or create) the spool database in WAL mode; a corrupt file is moved aside."""
    if synchronous not in ("full", "normal"):
        raise SpoolError(f"spool.synchronous must be 'full' or 'normal', got {synchronous!r}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SpoolError(
            f"spool {path}: cannot create its directory ({exc.strerror}); set "
            "daemon.state_dir to a writable directory (systemd: StateDirectory=)"
        ) from None
    for attempt in (1, 2):
        try:
            db = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(f"PRAGMA synchronous={synchronous.upper()}")
            # Checkpoints run on their own thread (visionedge.spool.checkpoint), not inside
            # the commit that crosses the threshold: that commit is an event on its way out.
            db.execute("PRAGMA wal_autocheckpoint=0")
            # After a checkpoint the WAL file is cut back to this size (bytes), so a
            # burst that grew it does not keep the disk space.
            db.execute(f"PRAGMA journal_size_limit={WAL_CHECKPOINT_PAGES * 4096 * 2}")
            db.execute(SCHEMA)
            return db
        except sqlite3.DatabaseError as exc:
            if "not a database" in str(exc) and attempt == 1:
                # A corrupt spool must not stop the camera: keep the file for forensics
                # and start an empty one.
                aside = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
                log.error("spool %s is not a SQLite database; moved it to %s", path, aside)
                path.rename(aside)
                continue
            raise SpoolError(
                f"spool {path}: cannot open ({exc}); check that daemon.state_dir is "
                "writable and not full"
            ) from None
    raise AssertionError("unreachable")


def make_reserve(reserve: Path) -> None:
    """Create the reserve file (see :data:`RESERVE_BYTES`) unless it exists or the disk is full."""
    if reserve.exists():
        return
    try:
        with open(reserve, "wb") as f:
            f.write(bytes(RESERVE_BYTES))
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        with contextlib.suppress(OSError):
            reserve.unlink()
        log.debug("spool: no room for the reserve file (%s)", exc)
