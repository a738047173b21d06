"""Fixtures for the web page tests (webkit.py: the daemon with ``[web]`` on a free port)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from webkit import web, web_clip  # noqa: F401  (fixtures are found by name)
