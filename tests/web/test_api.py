"""The page's HTTP API against the real daemon: auth, CSRF, traversal, saving masks/zones."""

from __future__ import annotations

import json
import logging
import tomllib
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from webkit import TOKEN, WebDaemon, free_port, start_web_daemon, stop_web_daemon, wait_until

from visionedge.config import Config, parse_config
from visionedge.errors import ConfigError, WebError
from visionedge.service.daemon import Daemon


def jpeg(body: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR)
    assert img is not None, "not a JPEG"
    return img


def red_pixels(img: np.ndarray) -> int:
    b, g, r = (img[..., i].astype(int) for i in range(3))
    return int(((r > 150) & (g < 90) & (b < 90)).sum())


@pytest.mark.parametrize("path", ["/api/status", "/api/live.jpg", "/api/history", "/api/geometry",
                                  "/api/events", "/api/session", "/media/x/video.avi"])
def test_no_credentials_is_401(web: WebDaemon, path: str) -> None:
    assert web.call("GET", path).status == 401
    assert web.call("GET", path, token="wrong").status == 401
    assert web.call("GET", path, cookie="forged-session").status == 401


def test_index_without_credentials_shows_the_sign_in_form(web: WebDaemon) -> None:
    r = web.call("GET", "/")
    assert r.status == 401 and b'name="token"' in r.body
    assert web.call("PUT", "/api/geometry", body=b"{}").status == 401


def test_status_and_history(web: WebDaemon) -> None:
    st = web.call("GET", "/api/status", token=TOKEN).json()
    assert st["camera"] == "ok" and st["gate"] in ("open", "closed")
    assert st["stats"]["frames"] > 0 and "fps" in st["stats"] and "dropped_frames" in st["stats"]
    assert st["versions"]["visionedge"] and st["config_path"] == str(web.config)
    h = web.call("GET", "/api/history", token=TOKEN).json()
    assert h["points"] and h["start_pct"] == 0.5 and h["global_pct"] > h["start_pct"]


def test_live_jpeg_overlay_marks_changed_pixels(web: WebDaemon) -> None:
    # Wait for a frame with motion, then the overlay must paint it red; without it, nothing red.
    def moving() -> bool:
        return (web.call("GET", "/api/status", token=TOKEN).json()["changed_pct"] or 0) > 1.0

    wait_until(moving, 20, "a passage in front of the camera")
    for _ in range(3):  # the first request starts streaming (background plane kept from then on)
        with_overlay = web.call("GET", "/api/live.jpg?overlays=changed", token=TOKEN)
    plain = web.call("GET", "/api/live.jpg?overlays=", token=TOKEN)
    a, b = jpeg(with_overlay.body), jpeg(plain.body)
    assert a.shape == b.shape == (180, 320, 3)
    assert red_pixels(a) > 50, red_pixels(a)
    assert red_pixels(b) < red_pixels(a) / 5
    assert with_overlay.headers["content-type"] == "image/jpeg"


def test_sign_in_sets_a_strict_httponly_cookie(web: WebDaemon) -> None:
    bad = web.call("POST", "/login", body=b"token=nope",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert bad.status == 401 and "set-cookie" not in bad.headers
    good = web.call("POST", "/login", body=f"token={TOKEN}".encode(),
                    headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert good.status == 303
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie


def test_csrf_is_required_for_changes_made_with_a_cookie(web: WebDaemon) -> None:
    cookie, csrf = web.login()
    body = json.dumps({"masks": [], "zones": []}).encode()
    ctype = {"Content-Type": "application/json"}
    before = web.config.read_text()
    assert web.call("PUT", "/api/geometry", cookie=cookie, body=body, headers=ctype).status == 403
    wrong = {**ctype, "X-CSRF-Token": "guess"}
    assert web.call("PUT", "/api/geometry", cookie=cookie, body=body, headers=wrong).status == 403
    cross = {**ctype, "X-CSRF-Token": csrf, "Origin": "http://evil.example"}
    assert web.call("PUT", "/api/geometry", cookie=cookie, body=body, headers=cross).status == 403
    assert web.config.read_text() == before
    ok = {**ctype, "X-CSRF-Token": csrf, "Origin": web.base}
    assert web.call("PUT", "/api/geometry", cookie=cookie, body=body, headers=ok).status == 200


@pytest.mark.parametrize("path", [
    "/media/../visionedge.toml",
    "/media/..%2Fvisionedge.toml/video.avi",
    "/media/%2E%2E/web.token",
    "/media/rec/../../web.token",
    "/media/rec/snapshots/..%2F..%2F..%2Fweb.token",
    "/media/rec/snapshots/../../../web.token",
    "/media/rec/events.jsonl",
    "/media/rec/state.pkl",
    "/media/rec/%2Fetc%2Fpasswd",
    "/media/outside/video.avi",
])
def test_media_refuses_path_traversal(web: WebDaemon, path: str) -> None:
    rec = web.recordings / "rec"
    (rec / "snapshots").mkdir(parents=True, exist_ok=True)
    (rec / "events.jsonl").write_text("")
    (rec / "state.pkl").write_bytes(b"x")
    outside = web.config.parent / "outside-target"
    outside.mkdir(exist_ok=True)
    (outside / "video.avi").write_bytes(b"secret")
    link = web.recordings / "outside"
    if not link.exists():
        link.symlink_to(outside, target_is_directory=True)
    r = web.call("GET", path, token=TOKEN)
    assert r.status in (400, 404), (path, r.status)
    assert TOKEN.encode() not in r.body and b"secret" not in r.body and b"[web]" not in r.body


def test_events_list_real_recordings_and_serve_their_snapshots(web: WebDaemon) -> None:
    def events() -> list[dict[str, object]]:
        return list(web.call("GET", "/api/events", token=TOKEN).json()["events"])

    wait_until(lambda: any(e["snapshot"] for e in events()), 40, "a recorded event with a snapshot")
    ev = next(e for e in events() if e["snapshot"])
    times = [p[0] for p in ev["timeline"]]  # type: ignore[union-attr]
    # A reload (the CSRF test saves) cuts the recording: the start may be in the previous one.
    assert len(times) >= 2 and times[0] >= 0 and times == sorted(times)
    assert all(isinstance(p[1], (int, float)) for p in ev["timeline"])  # type: ignore[union-attr]
    snap = web.call("GET", f"/media/{ev['recording']}/{ev['snapshot']}", token=TOKEN)
    assert snap.status == 200 and jpeg(snap.body).size > 0
    if ev["video"]:
        assert web.call("GET", f"/media/{ev['recording']}/{ev['video']}", token=TOKEN).status == 200
    assert web.call("GET", "/api/events?label=no-such-label", token=TOKEN).json()["events"] == []
    assert web.call("GET", "/api/events?zone=no-such-zone", token=TOKEN).json()["events"] == []
    future = web.call("GET", "/api/events?since_ms=99999999999999", token=TOKEN).json()
    assert future["events"] == []
    assert web.call("GET", "/api/events?since_ms=yesterday", token=TOKEN).status == 400


def test_saving_geometry_validates_keeps_comments_backs_up_and_reloads(web: WebDaemon) -> None:
    cookie, csrf = web.login()
    hdr = {"Content-Type": "application/json", "X-CSRF-Token": csrf}
    reloads = web.daemon.reloads
    before = web.config.read_text()

    bad = {"masks": [], "zones": [{"name": "<b>x</b>", "polygon": [[0, 0], [1, 0], [1, 1]]}]}
    r = web.call("PUT", "/api/geometry", cookie=cookie, headers=hdr, body=json.dumps(bad).encode())
    assert r.status == 400 and "gate.zones.0.name" in r.json()["error"]
    assert web.config.read_text() == before
    for junk in (b"not json", b'{"masks": 3, "zones": []}', b'{"masks": [[1, 2]], "zones": []}'):
        r = web.call("PUT", "/api/geometry", cookie=cookie, headers=hdr, body=junk)
        assert r.status == 400, junk
    assert web.config.read_text() == before

    good = {"masks": [[[0.0, 0.0], [0.25, 0.0], [0.25, 0.25]]],
            "zones": [{"name": "driveway", "polygon": [[0.5, 0.5], [1.0, 0.5], [1.0, 1.0]]}]}
    r = web.call("PUT", "/api/geometry", cookie=cookie, headers=hdr, body=json.dumps(good).encode())
    assert r.status == 200, r.body
    text = web.config.read_text()
    assert "this comment must survive a save from the page" in text
    assert "# thresholds tuned by hand" in text and "# paced like a camera" in text
    assert Path(str(web.config) + ".bak").read_text() == before
    saved = parse_config(tomllib.loads(text))
    assert saved.gate.zones[0].name == "driveway" and len(saved.gate.masks) == 1
    wait_until(lambda: web.daemon.reloads > reloads, 10, "the daemon to reload")
    wait_until(lambda: web.call("GET", "/api/geometry", token=TOKEN).json() == good, 10,
               "the reloaded geometry")
    assert web.daemon.config.gate.zones[0].name == "driveway"


def test_token_never_reaches_the_log(web: WebDaemon, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    web.call("POST", "/login", body=f"token={TOKEN}".encode(),
             headers={"Content-Type": "application/x-www-form-urlencoded"})
    web.call("GET", "/api/status", token=TOKEN)
    web.call("GET", "/api/status", token=TOKEN + "x")
    assert TOKEN not in caplog.text
    assert TOKEN not in json.dumps(web.call("GET", "/api/status", token=TOKEN).json())


def test_read_only_page_refuses_changes(web_clip: Path, tmp_path: Path) -> None:
    wd = start_web_daemon(tmp_path, web_clip, read_only=True)
    try:
        cookie, csrf = wd.login()
        assert wd.call("GET", "/api/session", cookie=cookie).json()["read_only"] is True
        before = wd.config.read_text()
        r = wd.call("PUT", "/api/geometry", cookie=cookie, body=b'{"masks": [], "zones": []}',
                    headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
        assert r.status == 403 and wd.config.read_text() == before
        assert wd.call("GET", "/api/status", token=TOKEN).status == 200
    finally:
        stop_web_daemon(wd)


def test_config_needs_a_token_file() -> None:
    with pytest.raises(ConfigError, match=r"web\.token_file"):
        parse_config({"web": {"enabled": True}})
    assert Config().web.enabled is False and Config().web.host == "127.0.0.1"


def test_missing_token_file_names_the_web_key(web_clip: Path, tmp_path: Path) -> None:
    cfg = parse_config({"source": {"kind": "file", "path": str(web_clip)},
                        "classifier": {"enabled": False}, "output": {"stdout": False},
                        "web": {"enabled": True, "port": free_port(),
                                "token_file": str(tmp_path / "absent")}})
    with pytest.raises(ConfigError, match=r"web.token_file: .*absent does not exist"):
        Daemon(cfg, env={}).run()


def test_port_taken_is_a_web_error(web: WebDaemon, web_clip: Path, tmp_path: Path) -> None:
    token = tmp_path / "t"
    token.write_text("x")
    cfg = parse_config({"source": {"kind": "file", "path": str(web_clip)},
                        "classifier": {"enabled": False}, "output": {"stdout": False},
                        "web": {"enabled": True, "port": web.port, "token_file": str(token)}})
    with pytest.raises(WebError, match=r"choose a free web\.port") as exc:
        Daemon(cfg, env={}).run()
    assert exc.value.exit_code == 14


def test_status_reports_the_broker_and_spool(web_clip: Path, tmp_path: Path, broker: Any) -> None:
    extra = (f'\n[mqtt]\nenabled = true\nhost = "127.0.0.1"\nport = {broker.port}\n'
             f'\n[spool]\npath = "{tmp_path / "spool.db"}"\n')
    wd = start_web_daemon(tmp_path, web_clip, extra=extra)
    try:
        def connected() -> bool:
            return bool(wd.call("GET", "/api/status", token=TOKEN).json()["stats"].get("mqtt_connected"))

        wait_until(connected, 20, "the daemon to connect to the broker")
        stats = wd.call("GET", "/api/status", token=TOKEN).json()["stats"]
        assert "spool_depth" in stats
        broker.stop()
        wait_until(lambda: not connected(), 20, "the page to show the broker down")
    finally:
        stop_web_daemon(wd)
