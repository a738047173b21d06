"""Benchmark: where a replay's time goes, stage by stage, per frame (in one process).

Usage: ``python bench/replay_stages.py CLIP [CLIP ...] [--config TOML] [--json FILE]``

Each clip is decoded by the file source's own decoder (:class:`VideoDecoder`) on the calling
thread and every frame goes through the pipeline ``replay`` builds (``build_pipeline`` with
the config, deterministic ids, a memory sink and a JSON-lines sink writing to a null
stream, i.e. what ``replay`` without ``--quiet`` does minus the terminal). Thread CPU time
(``time.thread_time_ns``) is summed around each stage:

- ``decode``: the decoder's next frame (FFmpeg, on this thread here; ``replay`` runs it
  one frame ahead on a second thread, so there it overlaps the rest);
- ``plane``: the motion plane from the decoder's luma (``to_motion_plane``);
- ``gate``: ``gate.process``;
- ``bgr``: the BGR conversion of the frames someone looked at (classifier crops);
- ``classifier``: every ``classify`` (and cascade ``classify_object``) call (crop, resize,
  invoke, rank), BGR excluded;
- ``objects``: the object stage (tracker, object events) minus the classifier it calls;
- ``sinks``: ``publish``/``state`` of every sink (event JSON included);
- ``pipeline``: the rest of ``Pipeline.step`` (event tracker, budget, trace);
- ``loop``: the frame object and the loop itself (the rest of the total).

``--json FILE`` also writes the rows (clip, frames, crops, µs per frame per stage) for
``bench/replay_cost.py``, which computes the floor of a busy replay from them.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from visionedge.config import SourceConfig, load_config
from visionedge.frame import Frame
from visionedge.gate.plane import to_motion_plane
from visionedge.pipeline import build_pipeline, load_configured_classifier
from visionedge.sinks.jsonl import JsonLinesSink
from visionedge.sinks.memory import MemorySink
from visionedge.sources import replay_ts_ms
from visionedge.sources.av_video import VideoDecoder
from visionedge.sources.replay import _NO_METADATA

STAGES = ("decode", "plane", "gate", "bgr", "classifier", "objects", "sinks", "pipeline", "loop")


class Clock:
    """Sums thread CPU ns per stage; nested stages are charged to the innermost only."""

    def __init__(self) -> None:
        self.ns: dict[str, int] = defaultdict(int)
        self._stack: list[tuple[str, int]] = []

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """``fn`` timed as ``name``."""

        def timed(*a: Any, **k: Any) -> Any:
            self.enter(name)
            try:
                return fn(*a, **k)
            finally:
                self.leave()

        return timed

    def enter(self, name: str) -> None:
        now = time.thread_time_ns()
        if self._stack:
            outer, since = self._stack[-1]
            self.ns[outer] += now - since
        self._stack.append((name, now))

    def leave(self) -> None:
        now = time.thread_time_ns()
        name, since = self._stack.pop()
        self.ns[name] += now - since
        if self._stack:
            outer, _ = self._stack[-1]
            self._stack[-1] = (outer, now)


class _TimedClassifier:
    """A classifier proxy: ``classify`` (and ``classify_object``) timed, every other attribute
    the real one's."""

    def __init__(self, inner: Any, clock: Clock) -> None:
        self._inner = inner
        timed = clock.wrap("classifier", inner.classify)
        self.calls = 0

        def classify(*a: Any, **k: Any) -> Any:
            self.calls += 1
            return timed(*a, **k)

        self.classify = classify
        # The object stage asks a cascade's classify_object (a crop, then a second look at
        # the object's tight crop for the labels the card confirms) when it has one.
        if callable(getattr(inner, "classify_object", None)):
            timed_object = clock.wrap("classifier", inner.classify_object)

            def classify_object(*a: Any, **k: Any) -> Any:
                self.calls += 1
                return timed_object(*a, **k)

            self.classify_object = classify_object

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def breakdown(clip: Path, config_path: Path | None) -> tuple[int, dict[str, int], int]:
    """Frames, thread CPU ns per stage and classifier calls (crops) for one replay of ``clip``."""
    config = load_config(config_path)
    config = config.model_copy(
        update={"source": SourceConfig(kind="file", path=str(clip), fps=config.source.fps)}
    )
    clock = Clock()
    real = load_configured_classifier(config)
    classifier = _TimedClassifier(real, clock) if real is not None else None
    sinks: list[Any] = [MemorySink(), JsonLinesSink(io.StringIO())]
    for sink in sinks:
        sink.publish = clock.wrap("sinks", sink.publish)
        sink.state = clock.wrap("sinks", sink.state)
    decoder = VideoDecoder(clip, "re-encode the clip")

    class _Src:  # what the pipeline reads of a source: its rate
        fps = decoder.fps or 15.0

    pipeline = build_pipeline(
        config, source=_Src(), sinks=sinks, classifier=classifier, deterministic_ids=True  # type: ignore[arg-type]
    )
    pipeline.gate.process = clock.wrap("gate", pipeline.gate.process)  # type: ignore[method-assign]
    if pipeline.objects is not None:
        pipeline.objects.on_frame = clock.wrap("objects", pipeline.objects.on_frame)  # type: ignore[method-assign]
    step = clock.wrap("pipeline", pipeline.step)
    width = config.gate.width
    frames = decoder.frames()
    n = 0
    t0 = time.thread_time_ns()
    while True:
        clock.enter("decode")
        decoded = next(frames, None)
        clock.leave()
        if decoded is None:
            break
        clock.enter("plane")
        plane = to_motion_plane(decoded.luma, width, full_range=decoded.full_range)
        clock.leave()
        # Built as VideoFileSource builds it (positional, the shared empty metadata).
        frame = Frame(
            n, replay_ts_ms(n, _Src.fps), plane, clock.wrap("bgr", decoded.image),
            _NO_METADATA, clip.stem,
        )
        step(frame)
        n += 1
    pipeline.finish("end_of_clip")
    total = time.thread_time_ns() - t0
    decoder.close()
    clock.ns["loop"] = total - sum(v for k, v in clock.ns.items() if k != "loop")
    return n, dict(clock.ns), classifier.calls if classifier is not None else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clips", nargs="+", type=Path)
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None, help="also write the rows here")
    args = ap.parse_args(argv)
    rows = []
    print(f"thread CPU µs per frame ({args.config or 'default config'})")
    print(f"  {'clip':28} {'frames':>6} {'crops':>6} " + " ".join(f"{s:>10}" for s in STAGES)
          + "      total")
    for clip in args.clips:
        n, ns, crops = breakdown(clip, args.config)
        row = " ".join(f"{ns.get(s, 0) / 1e3 / max(n, 1):10.1f}" for s in STAGES)
        print(f"  {clip.name[:28]:28} {n:6d} {crops:6d} {row} "
              f"{sum(ns.values()) / 1e3 / max(n, 1):10.1f}")
        rows.append({"clip": str(clip), "frames": n, "crops": crops,
                     "us_per_frame": {s: ns.get(s, 0) / 1e3 / max(n, 1) for s in STAGES}})
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
