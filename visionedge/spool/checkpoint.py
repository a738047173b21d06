"""WAL checkpoints off the writing thread: a spool commit pays its own fsync and little more.

SQLite's automatic checkpoint runs inside the COMMIT that crosses ``wal_autocheckpoint``, so
that commit (an event on its way to the broker) also paid the checkpoint: with
``synchronous=full`` two more fsyncs (the WAL, then the database) and the page copies, and
the next commit, which restarts the WAL, one more (the new WAL header). An event and its
delete append ~3 WAL pages, so with the former 16-page threshold about one event in six paid
two extra fsyncs and another one in six paid one (strace, 200 events: 318 fsyncs). The
spool therefore turns the automatic checkpoint off (:func:`visionedge.spool.db.open_db`) and
:class:`Checkpointer` runs a PASSIVE checkpoint on its own thread and connection once about
:data:`~visionedge.spool.db.WAL_CHECKPOINT_PAGES` pages were written; only the WAL restart's
header fsync stays with a commit, one event in ~40 (229 fsyncs, 6 events with a second).

A PASSIVE checkpoint never blocks the writer (in WAL mode the writer appends while the
checkpoint copies older frames). Durability is unchanged: the checkpoint connection uses the
spool's ``synchronous`` setting, so the database file is fsync'd before SQLite reuses the
WAL, and every commit is still fsync'd with ``synchronous=full``.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from pathlib import Path

from visionedge.spool.db import WAL_CHECKPOINT_PAGES

__all__ = ["OVERDUE_FACTOR", "PAGE_BYTES", "Checkpointer"]

log = logging.getLogger("visionedge.spool.store")  # the spool logs under one name

PAGE_BYTES = 4096
"""SQLite's default page size: what one commit appends to the WAL at least."""

IDLE_WAKE_S = 1.0
"""The thread re-checks this often even without a notification (bounds every wait)."""

CHECKPOINT_WAIT_S = 10.0
"""Longest wait for the checkpoint in progress before one in place (then skipped)."""

OVERDUE_FACTOR = 2
"""A commit checkpoints in place (RESTART) once this many thresholds were written since the
WAL was last fully checkpointed. The WAL restarts from its beginning only when every frame
was copied; a checkpoint beside a writer that keeps appending never gets there, so under a
sustained write rate (a burst, a backlog) the thread alone would let the WAL grow. At event
rates the thread's checkpoint runs between two commits and completes."""


class Checkpointer:
    """Checkpoints the spool's WAL on its own thread once enough was written; see the module doc."""

    def __init__(self, path: Path, synchronous: str) -> None:
        self.threshold = WAL_CHECKPOINT_PAGES * PAGE_BYTES
        self.checkpoints = 0
        """PASSIVE checkpoints run by the thread (this process)."""
        self.inline = 0
        """Checkpoints a commit ran in place because the thread had not caught up."""
        self._db = sqlite3.connect(path, timeout=5.0, isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.execute(f"PRAGMA journal_size_limit={WAL_CHECKPOINT_PAGES * PAGE_BYTES * 2}")
        self._cond = threading.Condition()
        self._running = threading.Lock()  # one checkpoint at a time (thread or in place)
        self._pending = 0  # bytes written since the thread last started a checkpoint
        self._unsettled = 0  # bytes written since the WAL was last fully checkpointed
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="spool-checkpoint", daemon=True)
        self._thread.start()

    def wrote(self, nbytes: int) -> bool:
        """A commit appended about ``nbytes`` to the WAL; True if it must checkpoint in place.

        Past the threshold the thread is woken; past :data:`OVERDUE_FACTOR` thresholds
        without a complete checkpoint the caller runs :meth:`checkpoint` on its connection.
        """
        with self._cond:
            self._pending += nbytes
            self._unsettled += nbytes
            if self._pending >= self.threshold:
                self._cond.notify()
            return self._unsettled >= OVERDUE_FACTOR * self.threshold

    def checkpoint(self, db: sqlite3.Connection) -> None:
        """Checkpoint on ``db``, the caller's connection (no transaction open) or the thread's.

        The caller's (an overdue WAL, see :data:`OVERDUE_FACTOR`) runs a RESTART checkpoint
        after the thread's checkpoint in progress (SQLite answers busy at once, without
        waiting, to a second checkpointer), and the caller's lock keeps its own commits out,
        so every frame is copied and the next commit restarts the WAL. The thread's is
        PASSIVE: it never waits for the writer.
        """
        mode = "PASSIVE" if db is self._db else "RESTART"
        if not self._running.acquire(timeout=CHECKPOINT_WAIT_S):
            log.debug("spool: a checkpoint is still running after %.0f s", CHECKPOINT_WAIT_S)
            return
        try:
            with self._cond:
                before = self._unsettled
            # fetchall: a statement left unfinished would keep holding the checkpoint lock.
            rows = db.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
        except sqlite3.Error as exc:
            # Busy or a full disk: the next commit retries; the store handles a full disk.
            log.debug("spool: checkpoint failed (%s)", exc)
            return
        finally:
            self._running.release()
        if db is not self._db:
            self.inline += 1
        # (busy, WAL frames, frames copied): all copied, and no commit since it began, means
        # the next commit restarts the WAL. A commit during it appended frames it never saw.
        if rows and rows[0][0] == 0 and rows[0][1] == rows[0][2]:
            with self._cond:
                if self._unsettled == before:
                    self._unsettled = 0

    def close(self, timeout: float = 5.0) -> None:
        """Stop the thread (a checkpoint in progress finishes) and close its connection."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout)
        if not self._thread.is_alive():
            with contextlib.suppress(sqlite3.Error):
                self._db.close()

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: self._stop or self._pending >= self.threshold, IDLE_WAKE_S
                )
                if self._stop:
                    return
                if self._pending < self.threshold:
                    continue
                self._pending = 0
            self.checkpoint(self._db)
            self.checkpoints += 1
