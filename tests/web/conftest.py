"""Fixtures for the web page tests (webkit.py: the daemon with ``[web]`` on a free port)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "mqtt"))

from mqttkit import broker  # noqa: F401  (fixtures are found by name)
from webkit import web, web_clip  # noqa: F401
