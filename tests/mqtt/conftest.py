"""Fixtures: a real Mosquitto broker (plain, password, TLS) per test; see mqttkit.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from mqttkit import (  # noqa: F401  (fixtures are found by name)
    broker,
    certs,
    password_broker,
    subscriber_factory,
    tls_broker,
)
