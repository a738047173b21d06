"""Object mode on real footage: object events per clip, their durations, against motion mode.

Usage: ``python bench/object_footage.py CLIP [CLIP ...] [--mask POLYGON] [--set KEY=VALUE] [--classifier]``

Each clip is replayed through the real pipeline (``build_pipeline`` + the file source, the
same path as ``visionedge replay``) twice: ``objects.mode = "motion"`` and ``"object"``,
default settings otherwise, classifier off unless ``--classifier`` (counts and durations do
not depend on it while ``objects.labels`` is empty). Printed per clip: motion events and
their durations; object events (``start`` messages), median / p90 / max duration, how
they ended, and how many tracks were confirmed (ids given) without ever counting. No
target: these are the figures docs/objects.md reports. Real clips are never in the repo
(bench/footage.md says where they are).
"""

from __future__ import annotations

import argparse
import collections
import json
import statistics
import sys
from pathlib import Path
from typing import Any

from visionedge.config import Config
from visionedge.pipeline import build_pipeline
from visionedge.sinks.memory import MemorySink


def run(clip: Path, mode: str, classifier: bool, extra: dict[str, Any]) -> list[dict[str, Any]]:
    """The payloads of one replay of ``clip`` in ``mode``."""
    data: dict[str, Any] = {
        "source": {"kind": "file", "path": str(clip)},
        "classifier": {"enabled": classifier},
        "objects": {"mode": mode, **extra.get("objects", {})},
    }
    if "gate" in extra:
        data["gate"] = extra["gate"]
    cfg = Config.model_validate(data)
    sink = MemorySink()
    pipe = build_pipeline(cfg, sinks=[sink], deterministic_ids=True)
    pipe.run()
    return sink.events


def summary(events: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts and durations (seconds) of the ``end`` messages."""
    ends = [e for e in events if e["type"] == "end"]
    dur = sorted(e["duration_ms"] / 1000 for e in ends)
    out: dict[str, Any] = {"events": len(ends)}
    if dur:
        out.update(
            median=statistics.median(dur),
            p90=dur[min(len(dur) - 1, int(0.9 * len(dur)))],
            max=dur[-1],
            reasons=dict(collections.Counter(e["end_reason"] for e in ends)),
        )
        labels = collections.Counter(e.get("label") for e in ends)
        out["labels"] = dict(labels)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("clips", nargs="+", type=Path)
    ap.add_argument("--classifier", action="store_true", help="classify (the default preset)")
    ap.add_argument("--mask", default="",
                    help='a gate.masks polygon as JSON, e.g. "[[0,0],[0.62,0],[0,0.66]]" (foliage)')
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="an [objects] setting, e.g. --set lost_s=2.0 (repeatable)")
    args = ap.parse_args(argv)
    extra: dict[str, Any] = {"objects": {}}
    for kv in args.set:
        k, v = kv.split("=", 1)
        extra["objects"][k] = float(v) if "." in v else int(v)
    if args.mask:
        extra["gate"] = {"masks": [json.loads(args.mask)]}
    for clip in args.clips:
        motion = summary(run(clip, "motion", args.classifier, extra))
        obj = summary(run(clip, "object", args.classifier, extra))
        print(f"{clip.name}: motion {motion}")
        print(f"{clip.name}: object {obj}")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
