"""The aiohttp application: pages, JSON API, live JPEGs, recording media.

Every route except ``/login`` and ``/static/`` needs a session cookie or a bearer token
(401 otherwise). State-changing requests with a cookie need the CSRF header and, when the
browser sends one, a same-origin ``Origin``. Rendering runs in a worker thread so the
event loop keeps answering; nothing here ever calls into the frame path, it only reads the
:class:`~visionedge.web.tap.LiveTap` and the daemon's stats.
"""

from __future__ import annotations

import asyncio
import platform
import time
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

import cv2
from aiohttp import web

import visionedge
from visionedge.config import Config
from visionedge.errors import ConfigError
from visionedge.web.auth import COOKIE, Sessions
from visionedge.web.events import list_events, media_path
from visionedge.web.render import OVERLAYS, render_live
from visionedge.web.tap import LiveTap

__all__ = ["DaemonView", "build_app"]

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
PUBLIC = ("/login", "/static/")
MAX_BODY = 256 * 1024
"""Largest accepted request body (a few hundred polygons)."""


class DaemonView(Protocol):
    """What the page needs from the running daemon."""

    config_path: str | None

    def stats(self) -> dict[str, Any]: ...

    def current_config(self) -> Config: ...

    def request_reload(self) -> None: ...


def _static(name: str) -> bytes:
    return resources.files("visionedge.web").joinpath("static", name).read_bytes()


STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


class WebApp:
    """Route handlers sharing the daemon view, the tap and the sessions."""

    def __init__(self, daemon: DaemonView, tap: LiveTap, sessions: Sessions,
                 camera_state: Callable[[], str], recordings: Path) -> None:
        self.daemon = daemon
        self.tap = tap
        self.sessions = sessions
        self.camera_state = camera_state
        self.recordings = recordings
        self._jpeg_key: tuple[int, float, str] | None = None
        self._jpeg = b""

    @property
    def cfg(self) -> Config:
        return self.daemon.current_config()

    # -- middleware ----------------------------------------------------------------------
    @web.middleware
    async def guard(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Authentication, CSRF and security headers for every request."""
        if not request.path.startswith(PUBLIC):
            ok, sid = self.sessions.identify(request.cookies, request.headers.get("Authorization", ""))
            if not ok:
                if request.path.startswith(("/api/", "/media/")):
                    raise web.HTTPUnauthorized(
                        text='{"error": "sign in first"}', content_type="application/json",
                        headers={"WWW-Authenticate": 'Bearer realm="visionedge"'})
                return web.Response(status=401, body=_static("login.html"), content_type="text/html")
            if request.method not in ("GET", "HEAD") and sid is not None:
                self._check_csrf(request, sid)
            request["sid"] = sid
        response = await handler(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' blob: data:; media-src 'self'; "
            "style-src 'self'; script-src 'self'; frame-ancestors 'none'")
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    def _check_csrf(self, request: web.Request, sid: str) -> None:
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            raise web.HTTPForbidden(text="cross-origin request refused")
        expected = self.sessions.csrf(sid) or ""
        given = request.headers.get("X-CSRF-Token", "")
        if not expected or not given or not self.sessions.same(given, expected):
            raise web.HTTPForbidden(text="missing or wrong X-CSRF-Token; reload the page")

    # -- sign in / pages -----------------------------------------------------------------
    async def login_page(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=_static("login.html"), content_type="text/html")

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        token = form.get("token")
        if not isinstance(token, str) or not self.sessions.check_token(token):
            await asyncio.sleep(0.5)  # slows down guessing
            return web.Response(status=401, body=_static("login.html"), content_type="text/html")
        response = web.HTTPSeeOther("/")
        response.set_cookie(COOKIE, self.sessions.create(), httponly=True, samesite="Strict",
                            path="/")
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        if request.get("sid"):
            self.sessions.drop(request["sid"])
        response = web.HTTPSeeOther("/login")
        response.del_cookie(COOKIE, path="/")
        raise response

    async def index(self, request: web.Request) -> web.StreamResponse:
        return web.Response(body=_static("index.html"), content_type="text/html")

    async def static(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        if name not in ("app.js", "style.css", "login.css"):
            raise web.HTTPNotFound()
        return web.Response(body=_static(name), content_type=STATIC_TYPES[Path(name).suffix])

    # -- API ----------------------------------------------------------------------------
    async def session(self, request: web.Request) -> web.StreamResponse:
        sid = request.get("sid")
        return web.json_response({
            "csrf": self.sessions.csrf(sid) if sid else None,
            "read_only": self.cfg.web.read_only,
            "overlays": list(OVERLAYS),
        })

    async def status(self, request: web.Request) -> web.StreamResponse:
        cfg = self.cfg
        latest = self.tap.latest
        result = latest.result if latest else None
        metrics = (f"http://{request.url.host}:{cfg.metrics.port}/metrics"
                   if cfg.metrics.enabled else None)
        return web.json_response({
            "stats": self.daemon.stats(),
            "camera": self.camera_state(),
            "gate": "open" if result is not None and result.motion else "closed",
            "tamper": str(result.tamper) if result is not None else "ok",
            "changed_pct": result.changed_pct if result is not None else None,
            "frame_age_s": round(time.time() - latest.wall, 2) if latest else None,
            "model": Path(cfg.classifier.model).name if cfg.classifier.enabled else None,
            "device": cfg.device.name,
            "versions": {"visionedge": visionedge.__version__, "python": platform.python_version(),
                         "opencv": cv2.__version__},
            "metrics_url": metrics,
            "config_path": self.daemon.config_path,
        })

    async def history(self, request: web.Request) -> web.StreamResponse:
        gate = self.cfg.gate
        points = list(self.tap.history)
        return web.json_response({
            "points": points,
            "start_pct": gate.start_pct, "stop_pct": gate.stop_pct, "global_pct": gate.global_pct,
        })

    async def live(self, request: web.Request) -> web.StreamResponse:
        self.tap.want()
        latest = self.tap.latest
        if latest is None:
            raise web.HTTPServiceUnavailable(text="no frame analysed yet")
        wanted = [o for o in request.query.get("overlays", "").split(",") if o in OVERLAYS]
        key = (latest.frame.index, latest.wall, ",".join(sorted(wanted)))
        if key != self._jpeg_key:
            gate = self.cfg.gate
            quality = self.cfg.web.jpeg_quality

            def encode() -> bytes:
                ok, buf = cv2.imencode(".jpg", render_live(latest, gate, wanted),
                                       [cv2.IMWRITE_JPEG_QUALITY, quality])
                return bytes(buf) if ok else b""

            self._jpeg = await asyncio.get_running_loop().run_in_executor(None, encode)
            self._jpeg_key = key
        return web.Response(body=self._jpeg, content_type="image/jpeg",
                            headers={"X-Frame-Index": str(latest.frame.index)})

    async def geometry(self, request: web.Request) -> web.StreamResponse:
        gate = self.cfg.gate
        return web.json_response({
            "masks": [[list(p) for p in poly] for poly in gate.masks],
            "zones": [{"name": z.name, "polygon": [list(p) for p in z.polygon]}
                      for z in gate.zones],
        })

    async def save_geometry(self, request: web.Request) -> web.StreamResponse:
        from visionedge.web.configfile import save_geometry

        if self.cfg.web.read_only:
            raise web.HTTPForbidden(text="the page is read-only (web.read_only = true)")
        if self.daemon.config_path is None:
            raise web.HTTPConflict(text="the daemon runs without --config; nothing to save into")
        try:
            body = await request.json()
            masks, zones = body["masks"], body["zones"]
            if not isinstance(masks, list) or not isinstance(zones, list):
                raise TypeError
            cfg = await asyncio.get_running_loop().run_in_executor(
                None, save_geometry, Path(self.daemon.config_path), masks, zones)
        except ConfigError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except (ValueError, TypeError, KeyError):
            return web.json_response(
                {"error": 'send {"masks": [[[x, y], ...]], "zones": [{"name", "polygon"}]}'},
                status=400)
        self.daemon.request_reload()
        return web.json_response({"saved": self.daemon.config_path,
                                  "masks": len(cfg.gate.masks), "zones": len(cfg.gate.zones)})

    async def events(self, request: web.Request) -> web.StreamResponse:
        q = request.query
        try:
            since = int(q["since_ms"]) if q.get("since_ms") else None
        except ValueError:
            raise web.HTTPBadRequest(text="since_ms must be milliseconds since 1970") from None
        found = await asyncio.get_running_loop().run_in_executor(
            None, lambda: list_events(self.recordings, label=q.get("label", ""),
                                      zone=q.get("zone", ""), since_ms=since))
        return web.json_response({"events": found, "recordings": self.cfg.recording.enabled})

    async def media(self, request: web.Request) -> web.StreamResponse:
        path = media_path(self.recordings, request.match_info["recording"],
                          request.match_info["name"])
        if path is None:
            raise web.HTTPNotFound(text="no such recording file")
        return web.FileResponse(path)


class DatasetRoutes:
    """The Dataset tab: counts per class, crops of a class, moving a crop (relabelling)."""

    def __init__(self, web: WebApp) -> None:
        self.web = web

    def root(self) -> Path:
        folder = self.web.cfg.web.dataset
        if not folder:
            raise web.HTTPNotFound(text="no dataset configured (web.dataset)")
        return Path(folder)

    async def summary(self, request: web.Request) -> web.StreamResponse:
        from visionedge.web.dataset import classes

        folder = self.web.cfg.web.dataset
        return web.json_response({"dataset": folder or None,
                                  "classes": classes(Path(folder)) if folder else {}})

    async def listing(self, request: web.Request) -> web.StreamResponse:
        from visionedge.web.dataset import crops

        try:
            offset = int(request.query.get("offset", "0"))
        except ValueError:
            raise web.HTTPBadRequest(text="offset must be a number") from None
        return web.json_response(
            {"crops": crops(self.root(), request.match_info["cls"], max(0, offset))})

    async def image(self, request: web.Request) -> web.StreamResponse:
        from visionedge.web.dataset import crop_file

        path = crop_file(self.root(), request.match_info["cls"], request.match_info["name"],
                         context=request.query.get("context") == "1")
        if path is None:
            raise web.HTTPNotFound(text="no such crop")
        return web.FileResponse(path)

    async def move(self, request: web.Request) -> web.StreamResponse:
        from visionedge.web.dataset import classes, move_crop

        if self.web.cfg.web.read_only:
            raise web.HTTPForbidden(text="the page is read-only (web.read_only = true)")
        root = self.root()
        try:
            body = await request.json()
            name, src, dst = (str(body[k]) for k in ("name", "from", "to"))
        except (ValueError, TypeError, KeyError):
            return web.json_response({"error": 'send {"name", "from", "to"}'}, status=400)
        problem = move_crop(root, name, src, dst)
        if problem is not None:
            return web.json_response({"error": problem}, status=409)
        return web.json_response({"moved": name, "to": dst, "classes": classes(root)})


def build_app(daemon: DaemonView, tap: LiveTap, sessions: Sessions,
              camera_state: Callable[[], str], recordings: Path) -> web.Application:
    """The application with every route; served by :mod:`visionedge.web.server`."""
    h = WebApp(daemon, tap, sessions, camera_state, recordings)
    app = web.Application(middlewares=[h.guard], client_max_size=MAX_BODY)
    app.router.add_get("/login", h.login_page)
    app.router.add_post("/login", h.login)
    app.router.add_post("/logout", h.logout)
    app.router.add_get("/", h.index)
    app.router.add_get("/static/{name}", h.static)
    app.router.add_get("/api/session", h.session)
    app.router.add_get("/api/status", h.status)
    app.router.add_get("/api/history", h.history)
    app.router.add_get("/api/live.jpg", h.live)
    app.router.add_get("/api/geometry", h.geometry)
    app.router.add_put("/api/geometry", h.save_geometry)
    app.router.add_get("/api/events", h.events)
    app.router.add_get("/media/{recording}/{name:.+}", h.media)
    d = DatasetRoutes(h)
    app.router.add_get("/api/dataset", d.summary)
    app.router.add_get("/api/dataset/{cls}", d.listing)
    app.router.add_post("/api/dataset/move", d.move)
    app.router.add_get("/crops/{cls}/{name}", d.image)
    return app
