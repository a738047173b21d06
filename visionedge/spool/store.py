"""The SQLite store-and-forward spool: events wait here until the broker acknowledged them.

A row is committed *before* the event is handed to the MQTT client and is deleted only when
the PUBACK for that publish arrives, so a broker outage, a restart or a ``kill -9`` loses
nothing the spool committed. Rows come back in insertion order (``id`` is ``INTEGER PRIMARY
KEY AUTOINCREMENT``, never reused). :meth:`Spool.put_many` commits several messages in one
transaction (one fsync): the group commit :mod:`visionedge.spool.writer` builds on.

Durability: the database runs in WAL mode. ``synchronous=FULL`` (the default) fsyncs the
WAL on every commit, so a committed event also survives a power cut. ``synchronous=NORMAL``
survives process crashes and ``kill -9`` (the WAL is in the OS page cache) but may lose the
last commits on power loss. The WAL is checkpointed every :data:`WAL_CHECKPOINT_PAGES`
pages so it stays small next to the data on a small disk, by a thread of its own
(:mod:`visionedge.spool.checkpoint`): a commit pays its own fsync, never a checkpoint.

Bounds: the total payload size is kept under ``max_bytes`` and rows older than
``max_age_s`` are dropped, oldest first (the ``drop_oldest`` policy); every dropped row is
counted in :attr:`Spool.dropped`. Rows handed to the MQTT client and not yet acknowledged
(:meth:`Spool.hold`) are never dropped: they are as good as delivered, so counting them
would over-count; the byte bound may therefore be exceeded by the rows in flight. A full
disk (``SQLITE_FULL``) checkpoints the WAL and drops the oldest rows to make room and, if
that does not help, counts the new event as dropped: the daemon degrades, it never
crashes. Drops are logged once per burst with their count, not once per event.
Acknowledgements may lag (they are batched): a row whose delete was lost is sent again
after a restart, with the same ``event_id``/``seq``, which subscribers use to drop it.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from visionedge.burstlog import BurstLog
from visionedge.spool.checkpoint import PAGE_BYTES, Checkpointer
from visionedge.spool.db import (
    RESERVE_BYTES,
    ROW_OVERHEAD_BYTES,
    TOTALS_SQL,
    WAL_CHECKPOINT_PAGES,
    Message,
    SpoolRow,
    is_full,
    make_reserve,
    open_db,
    row_size,
)

__all__ = [
    "DROP_LOG_INTERVAL_S",
    "RESERVE_BYTES",
    "ROW_OVERHEAD_BYTES",
    "WAL_CHECKPOINT_PAGES",
    "Message",
    "Spool",
    "SpoolRow",
]
# The file itself (schema, rows, opening, the reserve) is in visionedge.spool.db; its
# public names are re-exported here for existing users.

log = logging.getLogger(__name__)

DROP_LOG_INTERVAL_S = 30.0
"""While drops continue, at most one log line per this many seconds (with the count)."""


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
        self.commits = 0
        """Transactions that stored messages (one fsync each with ``synchronous=full``)."""
        self.commit_seconds: deque[float] = deque(maxlen=1000)
        """Wall time of the latest commits (BEGIN to COMMIT, fsync included)."""
        self.drop_report = BurstLog(log, "spool: dropped %d event(s) (%s)", DROP_LOG_INTERVAL_S)
        self._held: dict[int, int] = {}  # row id -> bytes, rows handed to the client
        self._db = open_db(self.path, synchronous)
        self._checkpointer = Checkpointer(self.path, synchronous)
        self._reserve = self.path.with_name(self.path.name + ".reserve")
        make_reserve(self._reserve)
        self._tx_drops: list[tuple[int, str]] = []
        self._count = 0
        self._bytes = 0
        self._resync_locked()

    # -- writing -------------------------------------------------------------------------

    def put(self, topic: str, payload: bytes, qos: int = 1) -> int | None:
        """Store a message durably and return its row id; ``None`` if it had to be dropped."""
        return self.put_many([(topic, payload, qos)])[0]

    def put_many(self, messages: Sequence[Message]) -> list[int | None]:
        """Store messages in one transaction (one fsync); their row ids, ``None`` where dropped.

        Never raises: a message that cannot be stored (larger than the spool, full disk,
        I/O error) is counted in :attr:`dropped` and its id is ``None``.
        """
        out: list[int | None] = [None] * len(messages)
        with self._lock:
            keep: list[int] = []
            for i, (topic, payload, _qos) in enumerate(messages):
                if row_size(topic, payload) > self.max_bytes:
                    self._count_drop(1, "a message larger than spool.max_bytes")
                else:
                    keep.append(i)
            if not keep:
                return out
            need = sum(row_size(messages[i][0], messages[i][1]) for i in keep)
            for attempt in (1, 2):
                t0 = time.perf_counter()
                try:
                    self._db.execute("BEGIN IMMEDIATE")
                    self._expire_locked()
                    left = self._make_room_locked(need)
                    # Nothing older left to give up: the batch's own oldest go (drop oldest).
                    while left > 0 and len(keep) > 1:
                        i = keep.pop(0)
                        size = row_size(messages[i][0], messages[i][1])
                        left -= size
                        need -= size
                        self._tx_drop(1, "spool.max_bytes reached; oldest first")
                    ids = self._insert_locked([messages[i] for i in keep])
                    self._db.execute("COMMIT")
                    self._settle_tx(True)
                except sqlite3.Error as exc:
                    self._settle_tx(False)
                    self._rollback()
                    with contextlib.suppress(sqlite3.Error):
                        self._resync_locked()
                    if is_full(exc) and attempt == 1:
                        self._recover_full_locked()
                        continue
                    if not is_full(exc):
                        self.write_errors += len(keep)
                    self._count_drop(len(keep), f"cannot store: {exc}")
                    return out
                self.commits += 1
                self.commit_seconds.append(time.perf_counter() - t0)
                if self._checkpointer.wrote(need + 2 * PAGE_BYTES):
                    self._checkpointer.checkpoint(self._db)
                self._count += len(keep)
                self._bytes += need
                for i, rid in zip(keep, ids, strict=True):
                    out[i] = rid
                self.drop_report.tick()
                return out
        return out

    def hold(self, rows: Iterable[SpoolRow]) -> None:
        """Mark rows as handed to the client: the bounds never drop them until :meth:`ack`.

        ``max_bytes`` then bounds the rows not in flight, so the file may exceed it by the
        client's in-flight window.
        """
        with self._lock:
            self._held.update((r.id, r.size) for r in rows)

    def ack(self, ids: Iterable[int]) -> int:
        """Delete acknowledged rows; return how many were still there."""
        id_list = list(ids)
        if not id_list:
            return 0
        with self._lock:
            for rid in id_list:
                self._held.pop(rid, None)
            try:
                # A lost delete only means a duplicate after a power cut (same event_id and
                # seq), so deletes skip the fsync; the next FULL insert syncs them anyway.
                if self._synchronous == "full":
                    self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("BEGIN IMMEDIATE")
                removed = self._delete_locked(id_list)
                self._db.execute("COMMIT")
                if self._checkpointer.wrote(2 * PAGE_BYTES * (1 + len(id_list) // 64)):
                    self._checkpointer.checkpoint(self._db)
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
            try:
                self._db.execute("BEGIN IMMEDIATE")
                n = self._expire_locked()
                self._db.execute("COMMIT")
                self._settle_tx(True)
                if n and self._checkpointer.wrote(2 * PAGE_BYTES * (1 + n // 64)):
                    self._checkpointer.checkpoint(self._db)
                return n
            except sqlite3.Error as exc:
                self._settle_tx(False)
                self._rollback()
                with contextlib.suppress(sqlite3.Error):
                    self._resync_locked()
                log.warning("spool: cannot expire old rows (%s)", exc)
                return 0

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
        """Report drops not logged yet, checkpoint the WAL and close the database."""
        self._checkpointer.close()
        with self._lock:
            self.drop_report.flush()
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
        with contextlib.suppress(OSError):
            self._reserve.unlink()

    # -- internals (lock held; the ones that write run inside the caller's transaction) ---

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("ROLLBACK")

    def _count_drop(self, n: int, why: str) -> None:
        self.dropped += n
        self.drop_report.dropped(n, why)

    def _tx_drop(self, n: int, why: str) -> None:
        """A drop inside a transaction: counted once it commits, forgotten on rollback."""
        self._tx_drops.append((n, why))

    def _settle_tx(self, committed: bool) -> None:
        drops, self._tx_drops = self._tx_drops, []
        if committed:
            for n, why in drops:
                self._count_drop(n, why)

    def _insert_locked(self, messages: list[Message]) -> list[int]:
        now = self._clock()
        ids: list[int] = []
        for topic, payload, qos in messages:
            cur = self._db.execute(
                "INSERT INTO spool (created, topic, qos, payload) VALUES (?, ?, ?, ?)",
                (now, topic, qos, payload),
            )
            ids.append(int(cur.lastrowid or 0))
        return ids

    def _held_clause(self) -> tuple[str, list[int]]:
        if not self._held:
            return "", []
        held = sorted(self._held)
        return f" AND id NOT IN ({','.join('?' * len(held))})", held

    def _expire_locked(self) -> int:
        if not self._count:
            return 0
        cutoff = self._clock() - self.max_age_s
        # Rows are inserted in time order: one look at the oldest row avoids a scan per write.
        oldest = self._db.execute("SELECT MIN(created) FROM spool").fetchone()[0]
        if oldest is None or float(oldest) >= cutoff:
            return 0
        held_sql, held = self._held_clause()
        rows = self._db.execute(
            f"SELECT id FROM spool WHERE created < ?{held_sql}", (cutoff, *held)
        ).fetchall()
        n = self._delete_locked([int(r[0]) for r in rows])
        if n:
            self._tx_drop(n, "older than spool.max_age_s")
        return n

    def _make_room_locked(self, size: int) -> int:
        """Drop the oldest rows not in flight to fit ``size`` more bytes; return the excess left."""
        excess = self._bytes - sum(self._held.values()) + size - self.max_bytes
        if excess <= 0:
            return 0
        # The oldest rows that cover the excess, skipping rows in flight (a page of ids at a
        # time is plenty: rows are small).
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
                last = int(rid)
                if last in self._held:
                    continue
                victims.append(last)
                freed += int(n) + ROW_OVERHEAD_BYTES
                if freed >= excess:
                    break
        if victims:
            self._delete_locked(victims)
            self._tx_drop(len(victims), "spool.max_bytes reached; oldest first")
        return excess - freed

    def _recover_full_locked(self) -> None:
        """After SQLITE_FULL: free the reserve, shrink the WAL, drop the oldest quarter."""
        with contextlib.suppress(OSError):
            self._reserve.unlink()
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        held_sql, held = self._held_clause()
        n = max(1, (self._count - len(self._held)) // 4)
        try:
            self._db.execute("BEGIN IMMEDIATE")
            rows = self._db.execute(
                f"SELECT id FROM spool WHERE 1{held_sql} ORDER BY id LIMIT ?", (*held, n)
            ).fetchall()
            removed = self._delete_locked([int(r[0]) for r in rows])
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            self._rollback()
            with contextlib.suppress(sqlite3.Error):
                self._resync_locked()
            log.debug("spool: cannot make room on a full disk (%s)", exc)
            removed = 0
        if removed:
            self._count_drop(removed, "disk full; oldest first")
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        make_reserve(self._reserve)

    def _resync_locked(self) -> None:
        """Recount rows and bytes from the database (at open, and after a failed write)."""
        row = self._db.execute(TOTALS_SQL).fetchone()
        self._count = int(row[0])
        self._bytes = int(row[1]) + self._count * ROW_OVERHEAD_BYTES

    def _delete_locked(self, ids: list[int]) -> int:
        """Delete rows by id, keep the counters in step, return how many existed."""
        removed = 0
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            row = self._db.execute(f"{TOTALS_SQL} WHERE id IN ({marks})", chunk).fetchone()
            self._db.execute(f"DELETE FROM spool WHERE id IN ({marks})", chunk)
            removed += int(row[0])
            self._count -= int(row[0])
            self._bytes -= int(row[1]) + int(row[0]) * ROW_OVERHEAD_BYTES
        return removed
