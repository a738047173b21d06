"""Fixtures: a real Mosquitto broker (plain, password, TLS) per test; see mqttkit.py."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from mqttkit import MOSQUITTO, Broker, Certs, Subscriber, make_certs


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (scripts/setup.sh test installs it)")
    d = tmp_path / "broker"
    d.mkdir()
    b = Broker(d)
    b.start()
    yield b
    b.stop()


@pytest.fixture
def password_broker(tmp_path: Path) -> Iterator[Broker]:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (scripts/setup.sh test installs it)")
    d = tmp_path / "pwbroker"
    d.mkdir()
    b = Broker(d, password=True)
    b.start()
    yield b
    b.stop()


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (scripts/setup.sh test installs it)")
    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def tls_broker(tmp_path: Path, certs: Certs) -> Iterator[Broker]:
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (scripts/setup.sh test installs it)")
    d = tmp_path / "tlsbroker"
    d.mkdir()
    b = Broker(d, certs=certs)
    b.start()
    yield b
    b.stop()


@pytest.fixture
def subscriber_factory() -> Iterator[Callable[..., Subscriber]]:
    made: list[Subscriber] = []

    def make(broker: Broker, filters: list[str], **kw: Any) -> Subscriber:
        s = Subscriber(broker, filters, client_id=f"test-sub-{len(made)}", **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
