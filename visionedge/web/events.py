"""The events list: ``end`` payloads read back from the recordings folder.

Each recording's ``events.jsonl`` holds the lines published live; the page lists the
``end`` lines (one per event, with ``label``, ``zones``, ``snapshot`` and ``recording``).
Files are served only through :func:`media_path`, which resolves a name inside the
recordings root and refuses anything that escapes it (``..``, absolute paths, symlinks
pointing out).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["MEDIA_FILES", "list_events", "media_path"]

MEDIA_FILES = ("video.avi", "video.mp4")
"""Files of a recording the page may fetch, besides ``snapshots/<event>.jpg``."""

MAX_RECORDINGS = 500
"""Newest recordings scanned per request (older ones stay on disk, unlisted)."""


def list_events(
    root: Path,
    *,
    label: str = "",
    zone: str = "",
    since_ms: int | None = None,
    limit: int = 200,
) -> list[dict[str, Any]]:
    """End events, newest first, filtered by label, zone and wall time of the recording."""
    if not root.is_dir():
        return []
    dirs = sorted((d for d in root.iterdir() if d.is_dir()), key=lambda d: d.name, reverse=True)
    out: list[dict[str, Any]] = []
    for rec in dirs[:MAX_RECORDINGS]:
        mtime_ms = int(rec.stat().st_mtime * 1000)
        if since_ms is not None and mtime_ms < since_ms:
            continue
        try:
            lines = (rec / "events.jsonl").read_text(encoding="utf-8").splitlines()
        except OSError:
            continue
        video = next((name for name in MEDIA_FILES if (rec / name).is_file()), None)
        parsed = [ev for ev in (_parse(line) for line in lines) if ev is not None]
        for ev in reversed(parsed):
            if ev.get("type") != "end":
                continue
            if label and ev.get("label") != label:
                continue
            if zone and zone not in (ev.get("zones") or ()):
                continue
            event_id = str(ev.get("event_id", ""))
            snap = rec / "snapshots" / f"{event_id}.jpg"
            out.append({
                "event_id": event_id,
                "recording": rec.name,
                "label": ev.get("label"),
                "score": ev.get("score"),
                "zones": ev.get("zones") or [],
                "duration_ms": ev.get("duration_ms"),
                "peak_changed_pct": ev.get("peak_changed_pct"),
                "end_reason": ev.get("end_reason"),
                "recorded_ms": mtime_ms,
                "snapshot": f"snapshots/{event_id}.jpg" if snap.is_file() else None,
                "video": video,
                "timeline": _timeline(parsed, event_id),
            })
            if len(out) >= limit:
                return out
    return out


def _parse(line: str) -> dict[str, Any] | None:
    try:
        ev = json.loads(line)
    except json.JSONDecodeError:
        return None
    return ev if isinstance(ev, dict) else None


def _timeline(lines: list[dict[str, Any]], event_id: str) -> list[list[Any]]:
    """``[ms since start, changed %, label, score]`` per published line of the event.

    Lines are what was published (start, every ``events.update_every`` frames, label/zone
    changes, end), so this is the event's timeline at that resolution.
    """
    out: list[list[Any]] = []
    for ev in lines:
        if ev.get("event_id") != event_id:
            continue
        start, ts = ev.get("start_ts_ms"), ev.get("ts_ms")
        t = ts - start if isinstance(ts, int) and isinstance(start, int) else None
        out.append([t, ev.get("changed_pct"), ev.get("label"), ev.get("score")])
    return out


def media_path(root: Path, recording: str, name: str) -> Path | None:
    """The file ``root/recording/name`` if it is a recording's video or snapshot, else None."""
    if "/" in recording or "\\" in recording or recording in ("", ".", ".."):
        return None
    parts = name.split("/")
    allowed = name in MEDIA_FILES or (
        len(parts) == 2 and parts[0] == "snapshots" and parts[1].endswith(".jpg")
        and parts[1] not in (".jpg",) and ".." not in parts[1] and "\\" not in parts[1]
    )
    if not allowed:
        return None
    base = root.resolve()
    path = (base / recording / name).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    return path
