#!/usr/bin/env bash
# Re-record the golden event files of tests/golden/ (see tests/golden/README.md).
# Run after an intended change of gate defaults, the shipped model or the event payload,
# then review `git diff tests/golden` before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$PY" - "$tmp" <<'PYEOF'
import json
import subprocess
import sys
from pathlib import Path

from visionedge.synth import default_scene, small_scene, write_clip

tmp = Path(sys.argv[1])
golden = Path("tests/golden")
scenes = {"small": small_scene, "default": default_scene}
for case in json.loads((golden / "cases.json").read_text()):
    clip = tmp / f"{case['scene']}.avi"
    if not clip.exists():
        write_clip(scenes[case["scene"]](), clip)
    out = golden / case["golden"]
    subprocess.run(
        [sys.executable, "-m", "visionedge", "replay", str(clip), "--config",
         str(golden / case["config"]), "--record", str(out), "--quiet"],
        check=True,
    )
    print(f"recorded {out} ({len(out.read_text().splitlines())} events)")
PYEOF
