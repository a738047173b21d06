"""The open event, kept on disk so a crash cannot leave it without an ``end``.

:class:`OpenEventStore` writes the last ``start``/``update`` message of the event in
progress to ``open-event.json`` in the state directory (beside the MQTT spool) and removes
it once the ``end`` went to the sinks. That is one small atomic write per message sent, not
per frame (updates go out every ``events.update_every`` frames). The next start of the
daemon finds the file if the process died with the event open, and :meth:`recover` turns
it into the missing ``end`` (``end_reason: "restarted"``), which the daemon publishes
through the same sinks (the MQTT spool), so it is delivered like any other event.

The file is written *before* the sinks see the message: a crash between the two then
yields an ``end`` for a start a subscriber may not have seen, never a start without an end.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from visionedge.config import Config
from visionedge.events.payload import EVENT_FIELDS

__all__ = ["OPEN_EVENT_FILE", "OpenEventStore", "state_dir", "write_json_durably"]

log = logging.getLogger(__name__)

OPEN_EVENT_FILE = "open-event.json"


def state_dir(config: Config) -> Path | None:
    """Where the daemon keeps state: beside an explicit ``spool.path``, else
    ``daemon.state_dir``, else ``$STATE_DIRECTORY`` (systemd), else ``state`` when MQTT (and
    so the spool) is on; None when nothing asks for a state directory."""
    if config.mqtt.enabled and config.spool.path:
        return Path(config.spool.path).parent
    chosen = config.daemon.state_dir or os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if chosen:
        return Path(chosen)
    return Path("state") if config.mqtt.enabled else None


def write_json_durably(path: Path, body: Any) -> None:
    """Replace ``path`` with ``body`` as compact JSON: temp file, fsync, rename (atomic).

    A crash leaves the old file or the new one, never half of one. Raises ``OSError``.
    """
    tmp = path.with_suffix(".tmp")
    path.parent.mkdir(parents=True, exist_ok=True)
    with tmp.open("w", encoding="utf-8") as f:
        f.write(json.dumps(body, separators=(",", ":")))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class OpenEventStore:
    """Keeps the open event's last message in ``<directory>/open-event.json``."""

    def __init__(self, directory: Path, *, min_frames: int = 1) -> None:
        self.path = directory / OPEN_EVENT_FILE
        self._min_frames = min_frames
        self._open = False
        self._warned = False

    def record(self, payload: Mapping[str, Any]) -> None:
        """Note a message about to be published: starts/updates are kept, an end clears."""
        if payload.get("type") == "end":
            return  # cleared by :meth:`published` once the sinks have it
        self._write(payload)
        self._open = True

    def published(self, payload: Mapping[str, Any]) -> None:
        """The sinks took ``payload``; an ``end`` now clears the kept event."""
        if payload.get("type") == "end" and self._open:
            self._open = False
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def recover(self) -> dict[str, Any] | None:
        """The ``end`` of an event a previous run left open (the file is cleared by
        :meth:`published` once it went out), or None. An unreadable file is logged and
        removed: it cannot be turned into a valid end."""
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.error("cannot read %s (%s); the event a crash left open stays without an end",
                      self.path, exc.strerror)
            return None
        try:
            last = json.loads(text)
            if not isinstance(last, dict) or set(last) != set(EVENT_FIELDS):
                raise ValueError("not an event payload")
        except ValueError as exc:
            log.error("%s is damaged (%s); removed, the event it held gets no end", self.path, exc)
            with contextlib.suppress(OSError):
                self.path.unlink()
            return None
        end = dict(last)
        end.update(
            type="end",
            seq=int(last["seq"]) + 1,
            end_frame=last["frame"],
            end_ts_ms=last["ts_ms"],
            end_reason="restarted",
            short=int(last["frames"]) < self._min_frames,
        )
        self._open = True  # so that publishing this end clears the file
        return end

    def _write(self, payload: Mapping[str, Any]) -> None:
        try:
            write_json_durably(self.path, dict(payload))
            self._warned = False
        except OSError as exc:
            # Losing crash recovery must not stop the events themselves; say so once.
            if not self._warned:
                self._warned = True
                log.warning("cannot keep the open event in %s (%s); a crash now would leave "
                            "it without an end", self.path, exc.strerror)
