"""The SQLite store-and-forward spool: events wait here until the broker acknowledged them.

A row is written (and committed) *before* the event is handed to the MQTT client and is
deleted only when the PUBACK for that publish arrives, so a broker outage, a restart or a
``kill -9`` loses nothing that :meth:`Spool.put` accepted. Rows come back in insertion
order (``id`` is ``INTEGER PRIMARY KEY AUTOINCREMENT``, never reused).

Durability: the database runs in WAL mode. ``synchronous=FULL`` (the default) fsyncs the
WAL on every commit, so an accepted event also survives a power cut — the usual way an
edge board "restarts". Events are rare (a few per minute), so one fsync each is cheap even
on an SD card. ``synchronous=NORMAL`` survives process crashes and ``kill -9`` (the WAL is
in the OS page cache) but may lose the last commits on power loss; choose it only for very
high event rates on slow storage (``spool.synchronous = "normal"``).

Bounds: the total payload size is kept under ``max_bytes`` and rows older than
``max_age_s`` are dropped, oldest first (the ``drop_oldest`` policy); every dropped row is
counted in :attr:`Spool.dropped`. A full disk (``SQLITE_FULL``) first drops the oldest
rows to make room and, if that does not help, counts the new event as dropped: the daemon
degrades, it never crashes. Acknowledgements may lag (they are batched): a row whose
delete was lost is sent again after a restart, with the same ``event_id``/``seq``, which
subscribers use to drop the duplicate.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from visionedge.errors import SpoolError

__all__ = ["ROW_OVERHEAD_BYTES", "Spool", "SpoolRow"]

log = logging.getLogger(__name__)

ROW_OVERHEAD_BYTES = 48
"""Bytes charged per row on top of topic and payload (id, timestamps, b-tree cell)."""

_SCHEMA = """
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


_TOTALS_SQL = (
    "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload) + LENGTH(CAST(topic AS BLOB))), 0) FROM spool"
)
"""Rows and payload+topic bytes; ``WHERE`` may follow."""


def _is_full(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "full" in str(exc).lower()


class Spool:
    """A bounded, durable FIFO of MQTT messages in one SQLite file; safe across threads."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_bytes: int = 64 * 1024 * 1024,
        max_age_s: float = 7 * 24 * 3600.0,
        synchronous: str = "full",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self._clock = clock
        self._synchronous = synchronous
        self._lock = threading.Lock()
        self.dropped = 0
        """Rows dropped by the bounds or refused because the disk was full (this process)."""
        self.write_errors = 0
        """Failed writes other than a full disk (I/O errors); the event is counted as dropped."""
        self._db = self._open(synchronous)
        self._count = 0
        self._bytes = 0
        self._resync_locked()

    def _open(self, synchronous: str) -> sqlite3.Connection:
        if synchronous not in ("full", "normal"):
            raise SpoolError(f"spool.synchronous must be 'full' or 'normal', got {synchronous!r}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SpoolError(
                f"spool {self.path}: cannot create its directory ({exc.strerror}); set "
                "daemon.state_dir to a writable directory (systemd: StateDirectory=)"
            ) from None
        for attempt in (1, 2):
            try:
                db = sqlite3.connect(
                    self.path, timeout=5.0, isolation_level=None, check_same_thread=False
                )
                db.execute("PRAGMA journal_mode=WAL")
                db.execute(f"PRAGMA synchronous={synchronous.upper()}")
                db.execute(_SCHEMA)
                return db
            except sqlite3.DatabaseError as exc:
                if "not a database" in str(exc) and attempt == 1:
                    # A corrupt spool must not stop the camera: keep the file for forensics
                    # and start an empty one.
                    aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
                    log.error("spool %s is not a SQLite database; moved it to %s", self.path, aside)
                    self.path.rename(aside)
                    continue
                raise SpoolError(
                    f"spool {self.path}: cannot open ({exc}); check that daemon.state_dir is "
                    "writable and not full"
                ) from None
        raise AssertionError("unreachable")

    # -- writing -------------------------------------------------------------------------

    def put(self, topic: str, payload: bytes, qos: int = 1) -> int | None:
        """Store a message durably and return its row id; ``None`` if it had to be dropped."""
        size = len(payload) + len(topic.encode()) + ROW_OVERHEAD_BYTES
        with self._lock:
            if size > self.max_bytes:
                self.dropped += 1
                log.warning(
                    "spool: a %d-byte message exceeds spool.max_bytes (%d); dropped",
                    size,
                    self.max_bytes,
                )
                return None
            self._expire_locked()
            self._make_room_locked(size)
            for attempt in (1, 2):
                try:
                    cur = self._db.execute(
                        "INSERT INTO spool (created, topic, qos, payload) VALUES (?, ?, ?, ?)",
                        (self._clock(), topic, qos, payload),
                    )
                    self._count += 1
                    self._bytes += size
                    return int(cur.lastrowid or 0)
                except sqlite3.OperationalError as exc:
                    if _is_full(exc) and attempt == 1 and self._count:
                        # Full disk: give up the oldest quarter to keep the newest events.
                        n = self._drop_oldest_locked(max(1, self._count // 4))
                        log.warning("spool: disk full; dropped the %d oldest event(s)", n)
                        continue
                    self.dropped += 1
                    if not _is_full(exc):
                        self.write_errors += 1
                    log.error("spool: cannot store an event (%s); dropped it", exc)
                    return None
                except sqlite3.Error as exc:
                    self.dropped += 1
                    self.write_errors += 1
                    log.error("spool: cannot store an event (%s); dropped it", exc)
                    return None
        return None

    def ack(self, ids: Iterable[int]) -> int:
        """Delete acknowledged rows; return how many were still there."""
        id_list = list(ids)
        if not id_list:
            return 0
        with self._lock:
            try:
                # A lost delete only means a duplicate after a power cut (same event_id and
                # seq), so deletes skip the fsync; the next FULL insert syncs them anyway.
                if self._synchronous == "full":
                    self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("BEGIN IMMEDIATE")
                removed = self._delete_locked(id_list)
                self._db.execute("COMMIT")
                return removed
            except sqlite3.Error as exc:
                # The rows stay and are sent again later: a duplicate, never a loss.
                self._rollback()
                with contextlib.suppress(sqlite3.Error):
                    self._resync_locked()
                log.warning("spool: cannot delete acknowledged rows (%s); will retry", exc)
                return 0
            finally:
                if self._synchronous == "full":
                    with contextlib.suppress(sqlite3.Error):
                        self._db.execute("PRAGMA synchronous=FULL")

    def expire(self) -> int:
        """Drop rows older than ``max_age_s``; return how many."""
        with self._lock:
            return self._expire_locked()

    # -- reading -------------------------------------------------------------------------

    def fetch(self, after_id: int = 0, limit: int = 100) -> list[SpoolRow]:
        """Return up to ``limit`` rows with ``id > after_id``, oldest first."""
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT id, created, topic, qos, payload FROM spool WHERE id > ? "
                    "ORDER BY id LIMIT ?",
                    (after_id, limit),
                ).fetchall()
            except sqlite3.Error as exc:
                log.warning("spool: cannot read (%s); will retry", exc)
                return []
        return [SpoolRow(int(r[0]), float(r[1]), str(r[2]), int(r[3]), bytes(r[4])) for r in rows]

    @property
    def depth(self) -> int:
        """Rows waiting for an acknowledgement."""
        return self._count

    @property
    def size_bytes(self) -> int:
        """Bytes counted against ``max_bytes``."""
        return self._bytes

    def close(self) -> None:
        """Checkpoint the WAL and close the database."""
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()

    # -- internals (lock held) -----------------------------------------------------------

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")

    def _expire_locked(self) -> int:
        if not self._count:
            return 0
        cutoff = self._clock() - self.max_age_s
        try:
            row = self._db.execute(
                "SELECT COUNT(*), COALESCE(SUM(LENGTH(payload) + LENGTH(CAST(topic AS BLOB))), 0) "
                "FROM spool WHERE created < ?",
                (cutoff,),
            ).fetchone()
            n = int(row[0])
            if n:
                self._db.execute("DELETE FROM spool WHERE created < ?", (cutoff,))
                self._count -= n
                self._bytes -= int(row[1]) + n * ROW_OVERHEAD_BYTES
                self.dropped += n
                log.warning("spool: dropped %d event(s) older than spool.max_age_s", n)
            return n
        except sqlite3.Error as exc:
            log.warning("spool: cannot expire old rows (%s)", exc)
            return 0

    def _make_room_locked(self, size: int) -> None:
        excess = self._bytes + size - self.max_bytes
        if excess <= 0:
            return
        # Find how many of the oldest rows cover the excess (rows are small: a page of ids
        # at a time is plenty).
        freed = 0
        victims: list[int] = []
        last = 0
        while freed < excess:
            rows = self._db.execute(
                "SELECT id, LENGTH(payload) + LENGTH(CAST(topic AS BLOB)) FROM spool "
                "WHERE id > ? ORDER BY id LIMIT 256",
                (last,),
            ).fetchall()
            if not rows:
                break
            for rid, n in rows:
                victims.append(int(rid))
                freed += int(n) + ROW_OVERHEAD_BYTES
                last = int(rid)
                if freed >= excess:
                    break
        if victims:
            self._delete_locked(victims)
            self.dropped += len(victims)
            log.warning("spool: full (spool.max_bytes); dropped the %d oldest event(s)", len(victims))

    def _drop_oldest_locked(self, n: int) -> int:
        rows = self._db.execute("SELECT id FROM spool ORDER BY id LIMIT ?", (n,)).fetchall()
        ids = [int(r[0]) for r in rows]
        self._delete_locked(ids)
        self.dropped += len(ids)
        return len(ids)

    def _resync_locked(self) -> None:
        """Recount rows and bytes from the database (at open, and after a failed delete)."""
        row = self._db.execute(_TOTALS_SQL).fetchone()
        self._count = int(row[0])
        self._bytes = int(row[1]) + self._count * ROW_OVERHEAD_BYTES

    def _delete_locked(self, ids: list[int]) -> int:
        """Delete rows by id, keep the counters in step, return how many existed."""
        removed = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            row = self._db.execute(f"{_TOTALS_SQL} WHERE id IN ({marks})", chunk).fetchone()
            self._db.execute(f"DELETE FROM spool WHERE id IN ({marks})", chunk)
            removed += int(row[0])
            self._count -= int(row[0])
            self._bytes -= int(row[1]) + int(row[0]) * ROW_OVERHEAD_BYTES
        return removed
