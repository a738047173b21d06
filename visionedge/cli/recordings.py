"""``visionedge recordings list|show|prune|to-test``: the recordings the daemon wrote.

``list`` and ``prune`` read the folder from ``--dir`` or the config's ``recording.path``
(default ``<daemon.state_dir>/recordings``). ``to-test RECORDING --into DIR`` copies a
recording to DIR and replays it there; the replayed events must equal the lines the live
run published for the window (else exit 12), and are written as ``DIR/<name>.golden.jsonl``
so ``visionedge replay DIR/<name> --expect DIR/<name>.golden.jsonl`` is a regression test.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
from pathlib import Path
from typing import Any

from visionedge.errors import RecordingError, RecordingFormatError

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``recordings`` sub-command and its actions."""
    p: argparse.ArgumentParser = sub.add_parser(
        "recordings",
        help="list, show, prune recordings, or turn one into a regression test",
        description="Manage the per-event recordings written with recording.enabled "
        "(docs/recordings.md).",
    )
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    acts.required = True

    def common(q: argparse.ArgumentParser) -> None:
        q.add_argument("--config", metavar="FILE", help="TOML config naming recording.path")
        q.add_argument("--dir", metavar="DIR", help="recordings folder (overrides the config)")

    q = acts.add_parser("list", help="one line per recording, oldest first")
    common(q)
    q.set_defaults(func=_list)
    q = acts.add_parser("show", help="a recording's manifest summary and its events")
    q.add_argument("recording", help="recording folder")
    q.set_defaults(func=_show)
    q = acts.add_parser("prune", help="apply retention now (size, age, free-space floor)")
    common(q)
    q.set_defaults(func=_prune)
    q = acts.add_parser(
        "to-test", help="copy a recording into DIR with its golden events (a regression case)"
    )
    q.add_argument("recording", help="recording folder")
    q.add_argument("--into", required=True, metavar="DIR", help="where the test case goes")
    q.set_defaults(func=_to_test)


def _root(args: argparse.Namespace) -> tuple[Path, Any]:
    from visionedge.config import load_config
    from visionedge.recording import recordings_root

    config = load_config(args.config)
    return (Path(args.dir) if args.dir else recordings_root(config)), config


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def _list(args: argparse.Namespace) -> int:
    from visionedge.recording import list_recordings, read_manifest

    root, _ = _root(args)
    if not root.is_dir():
        raise RecordingError(f"{root}: no recordings folder; check recording.path or pass --dir")
    entries = list_recordings(root)
    for e in entries:
        try:
            m = read_manifest(e.path)
            d = m.data
            span = f"frames {d.get('first_frame')}-{d.get('last_frame')}"
            status, events = m.status(), d.get("events", "?")
        except RecordingFormatError as exc:
            span, status, events = "-", f"unreadable ({exc})", "?"
        when = dt.datetime.fromtimestamp(e.created, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        print(f"{e.path}\t{when}Z\t{span}\t{events} event lines\t{_mb(e.bytes)}\t{status}")
    total = sum(e.bytes for e in entries)
    print(f"{len(entries)} recordings, {_mb(total)}", file=sys.stderr)
    return 0


def _show(args: argparse.Namespace) -> int:
    from visionedge.recording import read_manifest

    m = read_manifest(Path(args.recording))
    d = m.data
    for key in ("path", "created_utc", "device", "camera", "fps", "first_frame", "last_frame",
                "frames", "dropped_frames", "images", "video", "end", "end_reason", "error"):
        print(f"{key}: {d.get(key)}")
    print(f"status: {m.status()}")
    events = m.path / "events.jsonl"
    if events.is_file():
        sys.stdout.write(events.read_text(encoding="utf-8"))
    return 0


def _prune(args: argparse.Namespace) -> int:
    from visionedge.recording import prune

    root, config = _root(args)
    if not root.is_dir():
        raise RecordingError(f"{root}: no recordings folder; check recording.path or pass --dir")
    removed = prune(root, config.recording)
    for path in removed:
        print(f"removed {path}")
    print(f"{len(removed)} recordings removed", file=sys.stderr)
    return 0


def _to_test(args: argparse.Namespace) -> int:
    from visionedge.events import encode_event
    from visionedge.recording import open_recording, replay_recording
    from visionedge.sinks.memory import MemorySink

    src = open_recording(args.recording)  # refuses truncated/lossy/foreign ones first
    into = Path(args.into)
    dst = into / src.path.name
    golden = into / f"{src.path.name}.golden.jsonl"
    if dst.exists():
        raise RecordingError(f"{dst} already exists; choose another --into or remove it")
    try:
        into.mkdir(parents=True, exist_ok=True)
        # The video and snapshots are for people; the test needs the exact data only.
        shutil.copytree(
            src.path, dst, ignore=shutil.ignore_patterns("video.*", "snapshots", "*.tmp")
        )
    except OSError as exc:
        shutil.rmtree(dst, ignore_errors=True)
        raise RecordingError(
            f"cannot copy {src.path} into {into} ({exc.strerror}); choose a writable --into"
        ) from exc
    rec = open_recording(dst)
    memory = MemorySink()
    replay_recording(rec, [memory])
    lines = [encode_event(e) for e in memory.events]
    live = (dst / "events.jsonl").read_text(encoding="utf-8").splitlines()
    if lines != live:
        shutil.rmtree(dst, ignore_errors=True)
        raise RecordingFormatError(
            f"{src.path}: replaying it gives {len(lines)} event lines that differ from the "
            f"{len(live)} the live run published (another model file or visionedge version?); "
            "no test case written"
        )
    golden.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    print(f"visionedge replay {dst} --expect {golden}")
    return 0
