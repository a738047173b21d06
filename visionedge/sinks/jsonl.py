"""Events as JSON lines, to a stream (stdout) or appended to a file."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from visionedge.errors import SinkError
from visionedge.events.payload import encode_event

__all__ = ["JsonLinesSink"]


class JsonLinesSink:
    """Writes each event as one line of :func:`~visionedge.events.encode_event` output.

    Every line is flushed as it is written, so ``visionedge run | jq`` and a process killed
    mid-clip both see each finished line. State changes are not written: the event stream
    is the contract of this sink (and of replay golden files). A path is opened in append
    mode and fsync'd on close; a stream passed in is flushed but never closed. After a
    failed write (a full disk) the sink reports that error once and closes quietly.
    """

    def __init__(self, stream_or_path: IO[str] | str | os.PathLike[str]) -> None:
        self._owned = False
        self._failed = False
        if isinstance(stream_or_path, (str, os.PathLike)):
            path = Path(stream_or_path)
            self.name = str(path)
            try:
                self._stream: IO[str] = open(path, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
            except OSError as exc:
                raise SinkError(
                    f"cannot open event file {path} ({exc.strerror}); "
                    "check that its directory exists and is writable, or change output.file"
                ) from exc
            self._owned = True
        else:
            self._stream = stream_or_path
            self.name = getattr(stream_or_path, "name", "<stream>")

    def publish(self, event: Mapping[str, Any]) -> None:
        """Write one event line and flush it."""
        line = encode_event(event) + "\n"
        try:
            self._stream.write(line)
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            self._failed = True
            raise SinkError(f"cannot write events to {self.name} ({exc.strerror})") from exc

    def state(self, name: str, value: str, detail: Mapping[str, Any] | None = None) -> None:
        """States are not part of the JSON-lines event stream."""

    def close(self, timeout: float = 5.0) -> None:
        """Flush; close and fsync a file this sink opened (stdout stays open)."""
        if self._stream.closed:
            return
        if self._failed:
            # Already reported by publish (the error the run stopped on): the buffered
            # rest cannot be written either; close without a second error.
            if self._owned:
                with contextlib.suppress(OSError):
                    self._stream.close()
            return
        try:
            self._stream.flush()
            if self._owned:
                os.fsync(self._stream.fileno())
                self._stream.close()
        except BrokenPipeError:
            raise
        except OSError as exc:
            if self._owned:
                # Close the file even though its buffer cannot be written: otherwise the
                # interpreter retries the flush at exit and prints a second, raw error.
                with contextlib.suppress(OSError):
                    self._stream.close()
            raise SinkError(f"cannot flush events to {self.name} ({exc.strerror})") from exc
