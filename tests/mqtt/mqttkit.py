"""Shared MQTT test kit. A real Mosquitto broker per test on a free loopback port: plain, with a password, or TLS.

The TLS variant generates a throwaway CA and a server certificate for 127.0.0.1 with the
``openssl`` command at test time (plus a second, unrelated CA for the "untrusted" case).
:class:`Broker` can be stopped and restarted on the same port mid-test, which is how the
outage tests cut the connection. :class:`Subscriber` is an independent paho client that
records what arrives.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from visionedge.config import Config, parse_config

MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)

USER = "visionedge"
PASSWORD = "pa55-Wörd-never-log-me"

def free_port() -> int:
    """A TCP port nothing listens on right now (loopback)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``predicate`` until true; fail the test naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@dataclass
class Certs:
    """PEM files for the TLS broker."""

    ca: Path
    server_cert: Path
    server_key: Path
    other_ca: Path
    client_cert: Path
    client_key: Path


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_certs(d: Path) -> Certs:
    """A CA, a server cert for 127.0.0.1/localhost signed by it, and an unrelated CA."""
    d.mkdir(parents=True, exist_ok=True)
    for name in ("ca", "other"):
        _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                 "-keyout", f"{name}.key", "-out", f"{name}.pem", "-subj", f"/CN=test {name} CA",
                 cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out",
             "server.csr", "-subj", "/CN=localhost", cwd=d)
    (d / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "san.ext", cwd=d)
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "client.key", "-out",
             "client.csr", "-subj", "/CN=visionedge-cam1", cwd=d)
    _openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "client.pem", "-days", "2", cwd=d)
    return Certs(d / "ca.pem", d / "server.pem", d / "server.key", d / "other.pem",
                 d / "client.pem", d / "client.key")


class Broker:
    """One mosquitto process with a throwaway config; start/stop/restart keep the port."""

    def __init__(self, workdir: Path, *, password: bool = False, certs: Certs | None = None,
                 extra: tuple[str, ...] = ()) -> None:
        assert MOSQUITTO is not None
        self.workdir = workdir
        self.port = free_port()
        self.host = "127.0.0.1"
        self.log = workdir / "mosquitto.log"
        self.proc: subprocess.Popen[bytes] | None = None
        lines = [
            f"listener {self.port} 127.0.0.1",
            "persistence true",
            f"persistence_location {workdir}/",
            f"log_dest file {self.log}",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "max_queued_messages 100000",
        ]
        if os.geteuid() == 0:
            # Started as root, mosquitto switches to the "mosquitto" user, which cannot read
            # the test's temporary files; keep it as the test's user instead.
            lines.append("user root")
        if password:
            pw = workdir / "passwd"
            pw.write_text("")
            subprocess.run(["mosquitto_passwd", "-b", str(pw), USER, PASSWORD], check=True,
                           capture_output=True, timeout=30)
            pw.chmod(0o600)
            lines += ["allow_anonymous false", f"password_file {pw}"]
        else:
            lines.append("allow_anonymous true")
        if certs is not None:
            lines += [f"cafile {certs.ca}", f"certfile {certs.server_cert}",
                      f"keyfile {certs.server_key}"]
        lines += list(extra)
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        """Start mosquitto and wait until it accepts TCP connections."""
        self.proc = subprocess.Popen(
            [MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                log = self.log.read_text() if self.log.exists() else ""
                raise RuntimeError(f"mosquitto exited: {err} {log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening within 10 s")

    def stop(self) -> None:
        """Stop mosquitto (SIGTERM, then SIGKILL after 5 s)."""
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        if self.proc.stderr:
            self.proc.stderr.close()
        self.proc = None

    def restart(self, down_s: float = 0.0) -> None:
        """Stop, stay down ``down_s`` seconds, start again on the same port."""
        self.stop()
        time.sleep(down_s)
        self.start()


@dataclass
class Received:
    """One message as the subscriber saw it."""

    topic: str
    payload: bytes
    retain: bool
    t: float = field(default_factory=time.monotonic)

    def json(self) -> Any:
        return json.loads(self.payload)


class Subscriber:
    """An independent paho client recording everything on its topic filters."""

    def __init__(self, broker: Broker, filters: list[str], *, client_id: str = "test-sub",
                 username: str | None = None, password: str | None = None,
                 certs: Certs | None = None, tls_client: bool = False) -> None:
        self.messages: list[Received] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        # A persistent session on a persistent broker: messages published while this
        # subscriber reconnects after a broker restart are queued for it, not lost.
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5)
        self.client.reconnect_delay_set(0.1, 0.5)
        if username:
            self.client.username_pw_set(username, password)
        if certs is not None:
            if tls_client:
                self.client.tls_set(ca_certs=str(certs.ca), certfile=str(certs.client_cert),
                                    keyfile=str(certs.client_key))
            else:
                self.client.tls_set(ca_certs=str(certs.ca))
        self.filters = filters
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self._subscribed.set()
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = 300
        self.client.connect(broker.host, broker.port, keepalive=30, clean_start=False,
                            properties=props)
        self.client.loop_start()
        assert self._subscribed.wait(10), "test subscriber could not subscribe"

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, rc: Any,
                    props: Any) -> None:
        for f in self.filters:
            client.subscribe(f, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(Received(msg.topic, bytes(msg.payload), bool(msg.retain)))

    def on(self, topic: str) -> list[Received]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(self, topic: str, count: int = 1, timeout: float = 15.0) -> list[Received]:
        wait_until(lambda: len(self.on(topic)) >= count, timeout,
                   f"{count} message(s) on {topic} (have {len(self.on(topic))})")
        return self.on(topic)

    def publish(self, topic: str, payload: bytes | str, **kw: Any) -> None:
        info = self.client.publish(topic, payload, qos=1, **kw)
        info.wait_for_publish(5)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def sink_config(port: int, tmp: Path, *, device: str = "cam1", **mqtt: Any) -> Config:
    """A config with MQTT on a loopback broker, fast reconnects and a spool under ``tmp``."""
    section: dict[str, Any] = {
        "enabled": True,
        "host": "127.0.0.1",
        "port": port,
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 1.0,
        "keepalive_s": 5,
    }
    tls = mqtt.pop("tls", None)
    section.update(mqtt)
    if tls:
        section["tls"] = tls
    return parse_config(
        {
            "device": {"name": device},
            "mqtt": section,
            "spool": {"path": str(tmp / "spool.sqlite3")},
            "output": {"stdout": False},
        }
    )


def fake_event(n: int, *, event_id: str = "", seq: int | None = None) -> dict[str, Any]:
    """A small event-shaped payload with a unique (event_id, seq)."""
    return {
        "type": "update",
        "event_id": event_id or f"00000000-0000-4000-8000-{n:012d}",
        "seq": n if seq is None else seq,
        "n": n,
    }


# -- fixtures (imported into each conftest.py that needs a broker) --

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
        kw.setdefault("client_id", f"test-sub-{len(made)}")
        s = Subscriber(broker, filters, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
