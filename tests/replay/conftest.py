"""Generated clips (real MJPG files written by visionedge.synth) shared by the replay tests."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from replaykit import clip  # noqa: F401  (session fixture: generated clips)
