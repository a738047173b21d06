"""Dataset review API: counts per class, crops, moving a crop between class folders."""

from __future__ import annotations

import json

import pytest
from webkit import TOKEN, WebDaemon


def move(web: WebDaemon, body: dict[str, str]) -> tuple[int, dict[str, object]]:
    cookie, csrf = web.login()
    r = web.call("POST", "/api/dataset/move", cookie=cookie, body=json.dumps(body).encode(),
                 headers={"Content-Type": "application/json", "X-CSRF-Token": csrf})
    return r.status, r.json() if r.body.startswith(b"{") else {}


def test_counts_crops_and_images(web: WebDaemon) -> None:
    d = web.call("GET", "/api/dataset", token=TOKEN).json()
    assert d["classes"] == {"person": 4, "unsure": 2, "vehicle": 3}  # _context is not a class
    names = web.call("GET", "/api/dataset/person", token=TOKEN).json()["crops"]
    assert len(names) == 4 and names == sorted(names)
    img = web.call("GET", f"/crops/person/{names[0]}", token=TOKEN)
    assert img.status == 200 and img.body[:8] == b"\x89PNG\r\n\x1a\n"
    ctx = web.call("GET", f"/crops/person/{names[0]}?context=1", token=TOKEN)
    assert ctx.status == 200 and len(ctx.body) > len(img.body)
    assert web.call("GET", "/api/dataset/_context", token=TOKEN).json()["crops"] == []
    assert web.call("GET", "/api/dataset", cookie="forged").status == 401


def test_moving_a_crop_relabels_it(web: WebDaemon) -> None:
    root = web.config.parent / "dataset"
    name = sorted(p.name for p in (root / "vehicle").iterdir())[0]
    status, body = move(web, {"name": name, "from": "vehicle", "to": "unsure"})
    assert status == 200 and body["classes"] == {"person": 4, "unsure": 3, "vehicle": 2}
    assert (root / "unsure" / name).is_file() and not (root / "vehicle" / name).exists()
    status, _ = move(web, {"name": name, "from": "unsure", "to": "vehicle"})
    assert status == 200 and (root / "vehicle" / name).is_file()


@pytest.mark.parametrize("body", [
    {"name": "../../web.token", "from": "person", "to": "vehicle"},
    {"name": "web.token", "from": "..", "to": "vehicle"},
    {"name": "person_clip0_f00100.png", "from": "person", "to": "_context"},
    {"name": "person_clip0_f00100.png", "from": "person", "to": "../.."},
    {"name": "person_clip0_f00100.png", "from": "person", "to": "cat"},
    {"name": "absent.png", "from": "person", "to": "vehicle"},
])
def test_bad_moves_change_nothing(web: WebDaemon, body: dict[str, str]) -> None:
    root = web.config.parent / "dataset"
    before = sorted(str(p.relative_to(root.parent)) for p in root.parent.rglob("*"))
    status, reply = move(web, body)
    assert status == 409 and reply["error"]
    assert sorted(str(p.relative_to(root.parent)) for p in root.parent.rglob("*")) == before


@pytest.mark.parametrize("path", ["/crops/person/..%2F..%2Fweb.token", "/crops/..%2F/web.token",
                                  "/crops/_context/person_clip0_f00100.png",
                                  "/crops/person/../../web.token"])
def test_crop_urls_refuse_traversal(web: WebDaemon, path: str) -> None:
    r = web.call("GET", path, token=TOKEN)
    assert r.status == 404 and b"web-T0ken" not in r.body


def test_moves_need_csrf(web: WebDaemon) -> None:
    cookie, _ = web.login()
    r = web.call("POST", "/api/dataset/move", cookie=cookie, headers={"Content-Type": "application/json"},
                 body=b'{"name": "x.png", "from": "person", "to": "vehicle"}')
    assert r.status == 403
