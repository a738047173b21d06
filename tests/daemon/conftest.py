"""Fixtures for the daemon tests: brokers from tests/mqtt/mqttkit.py, clip/daemon from daemonkit.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "mqtt"))
sys.path.insert(0, str(Path(__file__).parents[1] / "sources"))  # camkit

from daemonkit import clip, run_daemon  # noqa: F401  (fixtures are found by name)
from mqttkit import broker, certs, password_broker, subscriber_factory  # noqa: F401
