"""The SQLite store-and-forward spool and its group-commit writer.

Events wait in :class:`Spool` until the broker acknowledged them;
:class:`~visionedge.spool.writer.GroupCommitter` stores messages handed in together in one
transaction (one fsync).
"""

from visionedge.spool.store import ROW_OVERHEAD_BYTES, Spool

__all__ = ["ROW_OVERHEAD_BYTES", "Spool"]
