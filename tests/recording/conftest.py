"""Fixtures of the recording tests (reckit.py): the generated clip and one live run."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from reckit import copy_rec, live, rec_clip  # noqa: F401  (fixtures)
