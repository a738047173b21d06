"""Makes the shared helpers in objkit.py importable (pytest runs with --import-mode=importlib),
and the real-broker fixtures of tests/mqtt (mqttkit.py) and the daemon kit of tests/daemon."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "mqtt"))
sys.path.insert(0, str(Path(__file__).parents[1] / "daemon"))

from mqttkit import broker, subscriber_factory  # noqa: F401  (fixtures are found by name)
