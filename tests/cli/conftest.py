"""Reuses the replay helpers: generated clips and the command runners."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "replay"))

from replaykit import clip  # noqa: F401  (session fixture: generated clips)
