"""``replay --trace``: one CSV row per frame, columns exactly :data:`~visionedge.protocols.TRACE_COLUMNS`."""

from __future__ import annotations

import csv
from pathlib import Path
from types import TracebackType
from typing import IO

from visionedge.errors import SinkError
from visionedge.protocols import TRACE_COLUMNS, FrameTrace

__all__ = ["TraceWriter", "trace_row"]


def trace_row(t: FrameTrace) -> list[str]:
    """The CSV cells of one frame: booleans as 0/1, fields that do not apply empty.

    ``changed_pct`` has 3 decimals (as the gate reports it), ``score`` 4, the timings 1.
    """
    return [
        str(t.frame),
        str(t.ts_ms),
        f"{t.changed_pct:.3f}",
        "1" if t.motion else "0",
        t.event_id,
        "1" if t.classified else "0",
        t.label,
        "" if t.score is None else f"{t.score:.4f}",
        f"{t.gate_us:.1f}",
        "" if t.classify_us is None else f"{t.classify_us:.1f}",
    ]


class TraceWriter:
    """Writes the header, then one row per :meth:`write`; a context manager that closes the file."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._file: IO[str] = open(self.path, "w", encoding="utf-8", newline="")  # noqa: SIM115
        except OSError as exc:
            raise SinkError(
                f"cannot write trace {self.path} ({exc.strerror}); choose a writable --trace path"
            ) from exc
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow(TRACE_COLUMNS)

    def write(self, trace: FrameTrace) -> None:
        """Append one frame's row."""
        self._csv.writerow(trace_row(trace))

    def close(self) -> None:
        """Flush and close the file."""
        self._file.close()

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
