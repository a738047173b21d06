"""``visionedge replay``: run a recorded clip through the pipeline, deterministically.

Same clip + same config ⇒ byte-identical event lines, so a golden file recorded once
(``--record``) catches any change in behaviour later (``--expect`` exits 7 with a unified
diff). Without CLIP the generated demo clip is replayed. Event ids are UUIDv5 of the clip
name and start frame; timestamps come from frame indices and the clip's rate. CLIP may also
be a recording folder (docs/recordings.md): then the recorded frames, state, config, ids and
timestamps are used, and the output is the event lines the live run published for it.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from visionedge.cli._args import accept_negative_ranges, parse_input_range
from visionedge.errors import ReplayMismatchError, SinkError, SourceError

if TYPE_CHECKING:
    from visionedge.replay.export_frames import FrameExporter

__all__ = ["compare_events", "register"]


def register(sub: Any) -> None:
    """Add the ``replay`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "replay",
        help="replay a clip through the pipeline (deterministic; golden-file regression checks)",
        description="Replay a video file or a folder of images (default: the generated demo "
        "clip) through gate, classifier and event tracker; events go to stdout as JSON lines.",
    )
    accept_negative_ranges(p)
    p.add_argument(
        "clip",
        nargs="?",
        help="video file, image folder or recording folder (default: the demo clip)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="TOML config file; CLIP replaces its [source] (source.fps still sets the rate of "
        "image folders) and events go only to stdout and the files named here",
    )
    golden = p.add_mutually_exclusive_group()
    golden.add_argument(
        "--expect", metavar="GOLDEN", help="compare events with this file; exit 7 with a diff if they differ"
    )
    golden.add_argument("--record", metavar="GOLDEN", help="write the events to this golden file")
    p.add_argument("--trace", metavar="CSV", help="write one CSV row per frame")
    p.add_argument("--plot", metavar="PNG", help="draw the changed-%% timeline with events shaded")
    p.add_argument(
        "--export-frames", metavar="DIR", help="write every motion plane as PGM plus manifest.json"
    )
    p.add_argument("--realtime", action="store_true", help="pace frames at the clip's rate")
    p.add_argument(
        "--input-range",
        metavar="MIN,MAX",
        help="real-value range the model expects (overrides model metadata and config), e.g. -1,1",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="do not print events on stdout")
    p.set_defaults(func=_replay)


def compare_events(actual: list[str], golden_path: Path) -> None:
    """Raise ReplayMismatchError (after printing a unified diff to stderr) if lines differ."""
    try:
        expected = golden_path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ReplayMismatchError(
            f"golden file {golden_path} not found; record it with --record {golden_path}"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ReplayMismatchError(f"cannot read golden file {golden_path} ({exc})") from exc
    if actual == expected:
        return
    import difflib  # only a mismatch needs it (difflib and heapq: ~2 ms of every replay start)

    diff = difflib.unified_diff(
        expected, actual, fromfile=str(golden_path), tofile="replay", lineterm="", n=1
    )
    for line in diff:
        print(line, file=sys.stderr)
    changed = sum(1 for a, b in zip(expected, actual, strict=False) if a != b)
    changed += abs(len(expected) - len(actual))
    raise ReplayMismatchError(
        f"{changed} event line(s) differ from {golden_path} ({len(expected)} expected, "
        f"{len(actual)} replayed); if the change is intended, re-record with --record {golden_path}"
    )


def _replay_config(args: argparse.Namespace) -> Any:
    from visionedge.config import SourceConfig, load_config

    config = load_config(args.config)
    if args.clip is None:
        source = SourceConfig(kind="synth", realtime=args.realtime)
    else:
        clip = Path(args.clip)
        if not clip.exists():
            raise SourceError(f"{clip}: no such clip; pass a video file or a folder of images")
        kind: Literal["images", "file"] = "images" if clip.is_dir() else "file"
        source = SourceConfig(
            kind=kind, path=str(clip), realtime=args.realtime, fps=config.source.fps
        )
    return config.model_copy(update={"source": source})


def _clip_id(source: Any) -> str:
    return str(getattr(source, "clip_id", "") or source.name)


def _replay(args: argparse.Namespace) -> int:
    if args.plot:
        from visionedge.extras import require

        require("matplotlib", "plot", "replay --plot")  # before a long replay, not after
    from visionedge.events import encode_event
    from visionedge.frame import Frame
    from visionedge.pipeline import build_pipeline, load_configured_classifier
    from visionedge.protocols import EventSink, FrameTrace
    from visionedge.sinks.jsonl import JsonLinesSink
    from visionedge.sinks.memory import MemorySink
    from visionedge.sources import open_source

    input_range = parse_input_range(args.input_range) if args.input_range else None
    if args.clip is not None and Path(args.clip).is_dir():
        # Only a folder can be a recording: a clip does not import the recording package.
        from visionedge.recording import is_recording

        if is_recording(Path(args.clip)):
            return _replay_recording(args, input_range)
    config = _replay_config(args)
    classifier = load_configured_classifier(config, input_range_override=input_range)
    memory = MemorySink()
    sinks: list[EventSink] = [memory]
    if not args.quiet:
        sinks.append(JsonLinesSink(sys.stdout))
    source = open_source(config.source, config.gate.width)
    pipeline = build_pipeline(
        config, source=source, sinks=sinks, classifier=classifier, deterministic_ids=True
    )
    trace = None
    if args.trace:
        from visionedge.replay.trace import TraceWriter

        trace = TraceWriter(args.trace)
    exporters: list[FrameExporter] = []
    timeline: tuple[list[int], list[float]] = ([], [])

    def on_frame(frame: Frame, t: FrameTrace) -> None:
        if trace is not None:
            trace.write(t)
        if args.export_frames:
            if not exporters:
                from visionedge.replay.export_frames import FrameExporter

                # Made on the first frame: the source knows its clip id and rate once open.
                exporters.append(
                    FrameExporter(
                        args.export_frames,
                        clip_id=_clip_id(source),
                        fps=float(getattr(source, "fps", config.source.fps)),
                        gate=config.gate,
                    )
                )
            exporters[0].write(frame)
        if args.plot:
            timeline[0].append(t.ts_ms)
            timeline[1].append(t.changed_pct)

    # A plain replay needs nothing per frame beyond the pipeline: no call at all then.
    wanted = trace is not None or args.export_frames or args.plot
    try:
        pipeline.run(on_frame=on_frame if wanted else None)
    finally:
        if trace is not None:
            trace.close()
        pipeline.close()
    for exporter in exporters:
        exporter.close()
    if args.plot:
        from visionedge.replay.plot import plot_timeline

        plot_timeline(
            args.plot,
            timeline[0],
            timeline[1],
            memory.events,
            config.gate,
            title=f"{_clip_id(source)}: changed % per frame",
        )
    return _record_or_expect(args, [encode_event(e) for e in memory.events])


def _record_or_expect(args: argparse.Namespace, lines: list[str]) -> int:
    """``--record``: write the encoded events as the golden file; ``--expect``: compare."""
    if args.record:
        golden = Path(args.record)
        try:
            golden.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
        except OSError as exc:
            raise SinkError(
                f"cannot write golden file {golden} ({exc.strerror}); choose a writable --record path"
            ) from exc
    if args.expect:
        compare_events(lines, Path(args.expect))
    return 0


def _replay_recording(args: argparse.Namespace, input_range: tuple[float, float] | None) -> int:
    """``replay RECORDING``: the recorded config unless --config replaces it (then events may differ)."""
    from visionedge.config import load_config
    from visionedge.events import encode_event
    from visionedge.frame import Frame
    from visionedge.pipeline import load_configured_classifier
    from visionedge.protocols import EventSink, FrameTrace
    from visionedge.recording import open_recording, replay_recording
    from visionedge.replay.trace import TraceWriter
    from visionedge.sinks.jsonl import JsonLinesSink
    from visionedge.sinks.memory import MemorySink

    if args.export_frames or args.plot or args.realtime:
        raise SourceError(
            "--export-frames, --plot and --realtime work on clips; a recording already holds "
            "its planes (planes.bin) and video; drop these options"
        )
    rec = open_recording(args.clip)
    if args.config:
        rec = type(rec)(rec.manifest, load_config(args.config), rec.state)
    classifier = load_configured_classifier(rec.config, input_range_override=input_range)
    memory = MemorySink()
    sinks: list[EventSink] = [memory]
    if not args.quiet:
        sinks.append(JsonLinesSink(sys.stdout))
    trace = None
    if args.trace:
        from visionedge.replay.trace import TraceWriter

        trace = TraceWriter(args.trace)

    def on_frame(frame: Frame, t: FrameTrace) -> None:
        if trace is not None:
            trace.write(t)

    try:
        pipeline = replay_recording(
            rec, sinks, classifier=classifier, load_classifier=False, on_frame=on_frame
        )
        pipeline.close()
    finally:
        if trace is not None:
            trace.close()
    return _record_or_expect(args, [encode_event(e) for e in memory.events])
