"""Web test kit: the real daemon (in a thread) serving the page on a free loopback port.

The daemon replays a generated clip in real time (a camera stand-in: people, a vehicle and
an animal crossing), records events, and serves ``[web]`` with a token file. ``call`` is a
raw HTTP client (http.client, so paths like ``/media/../x`` reach the server unnormalised).
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from mqttkit import free_port, wait_until  # tests/mqtt is on sys.path (conftest)

from visionedge.config import load_config
from visionedge.service.daemon import Daemon
from visionedge.synth import ObjectPass, SceneSpec, write_clip

TOKEN = "web-T0ken-never-log-me"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class WebDaemon:
    port: int
    config: Path
    recordings: Path
    daemon: Daemon
    stop: threading.Event
    thread: threading.Thread
    cookies: dict[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def call(self, method: str, path: str, *, token: str | None = None, cookie: str | None = None,
             headers: dict[str, str] | None = None, body: bytes | None = None) -> Reply:
        """One request; ``token`` as bearer, ``cookie`` as the session cookie."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = f"Bearer {token}"
        if cookie is not None:
            h["Cookie"] = f"visionedge_session={cookie}"
        try:
            conn.request(method, path, body=body, headers=h)
            r = conn.getresponse()
            return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def login(self) -> tuple[str, str]:
        """Sign in with the form; return (session cookie, CSRF token)."""
        r = self.call("POST", "/login", body=f"token={TOKEN}".encode(),
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 303, r
        cookie = r.headers["set-cookie"].split(";")[0].split("=", 1)[1]
        csrf = self.call("GET", "/api/session", cookie=cookie).json()["csrf"]
        return cookie, csrf


CONFIG = """\
# visionedge test config: this comment must survive a save from the page
[source]
kind = "file"
path = "{clip}"
realtime = true  # paced like a camera

[classifier]
enabled = false

[objects]
mode = "motion"  # the event list of recorded motion events (object snapshots: docs/recordings.md)

[output]
stdout = false

[gate]
# thresholds tuned by hand
start_pct = 0.5

[recording]
enabled = true
path = "{rec}"
pre_roll_s = 0.5
post_roll_s = 0.5

[web]
enabled = true
port = {port}
token_file = "{token}"
read_only = {read_only}
dataset = "{dataset}"
"""


def make_dataset(root: Path) -> Path:
    """A small crop dataset in the collect layout: person/, vehicle/, unsure/, _context/."""
    rng = np.random.default_rng(3)
    for cls, n, color in (("person", 4, (40, 40, 220)), ("vehicle", 3, (220, 120, 40)),
                          ("unsure", 2, (128, 128, 128))):
        (root / cls).mkdir(parents=True)
        (root / "_context").mkdir(exist_ok=True)
        for i in range(n):
            img = rng.integers(0, 60, (96, 96, 3), dtype=np.uint8)
            cv2.rectangle(img, (30, 15), (66, 85), color, -1)
            name = f"{cls}_clip{i % 2}_f{100 + i:05d}.png"
            cv2.imwrite(str(root / cls / name), img)
            cv2.imwrite(str(root / "_context" / name), cv2.resize(img, (192, 192)))
    (root / "manifest.csv").write_text("file,clip\n")
    return root


@pytest.fixture(scope="session")
def web_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 90 s, 10 fps, 320x180 clip with a passage every few seconds."""
    passes = []
    for i in range(18):
        cls = ("person", "vehicle", "animal")[i % 3]
        passes.append(ObjectPass(cls, 0.3 + 5.0 * i, 2.5, direction=1 if i % 2 == 0 else -1,
                                 height_frac=0.45, ground_frac=0.92))
    spec = SceneSpec(width=320, height=180, fps=10.0, seed=11, duration_s=90.0, events=passes)
    path = tmp_path_factory.mktemp("webclip") / "passages.avi"
    write_clip(spec, path)
    return path


def start_web_daemon(tmp: Path, clip: Path, *, read_only: bool = False, extra: str = "") -> WebDaemon:
    """Write the config and token, start the daemon thread, wait for the page and a frame."""
    token = tmp / "web.token"
    token.write_text(TOKEN + "\n")
    token.chmod(0o600)
    port = free_port()
    cfg = tmp / "visionedge.toml"
    rec = tmp / "recordings"
    cfg.write_text(CONFIG.format(clip=clip, rec=rec, port=port, token=token,
                                 read_only="true" if read_only else "false",
                                 dataset=make_dataset(tmp / "dataset")) + extra)
    stop = threading.Event()
    daemon = Daemon(load_config(cfg), str(cfg), env={}, stop=stop)
    thread = threading.Thread(target=daemon.run, name="test-daemon", daemon=True)
    thread.start()
    wd = WebDaemon(port, cfg, rec, daemon, stop, thread)

    def up() -> bool:
        try:
            return wd.call("GET", "/api/live.jpg", token=TOKEN).status == 200
        except OSError:
            return False

    wait_until(up, 30, "the page to serve a live frame")
    return wd


def stop_web_daemon(wd: WebDaemon) -> None:
    wd.stop.set()
    wd.thread.join(30)
    assert not wd.thread.is_alive(), "the daemon did not stop within 30 s"


@pytest.fixture(scope="module")
def web(web_clip: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDaemon]:
    """A daemon with the page enabled (read-write)."""
    wd = start_web_daemon(tmp_path_factory.mktemp("web"), web_clip)
    yield wd
    stop_web_daemon(wd)
