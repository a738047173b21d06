"""Replay clips through the daemon's pipeline with a model; count the label of each event.

    python models/student/event_labels.py MODEL.tflite LABELS.txt CLIP... [--expect CLASS...]

For each clip: events (by their ``end`` message), how many carry each label, and with
``--expect`` (one class per clip) the share carrying the right one. The figures in
models/student/README.md come from this on the test clips.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path


def main() -> int:
    """Replay each clip; print one line per clip."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", type=Path)
    ap.add_argument("labels", type=Path)
    ap.add_argument("clips", type=Path, nargs="+")
    ap.add_argument("--expect", nargs="*", default=[])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cfg = Path(tmp) / "c.toml"
        cfg.write_text(f'[classifier]\nmodel = "{args.model.resolve()}"\n'
                       f'labels = "{args.labels.resolve()}"\n')
        for i, clip in enumerate(args.clips):
            out = subprocess.run(
                [sys.executable, "-m", "visionedge", "replay", str(clip), "--config", str(cfg)],
                capture_output=True, text=True, check=True, timeout=1800).stdout
            ends = [json.loads(line) for line in out.splitlines() if '"type":"end"' in line]
            labels = Counter(e["label"] or "-" for e in ends)
            line = f"{clip.name}: {len(ends)} events {dict(sorted(labels.items()))}"
            if i < len(args.expect):
                right = labels[args.expect[i]] / max(1, len(ends))
                line += f" right ({args.expect[i]}) {right * 100:.0f} %"
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
