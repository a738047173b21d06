"""Run the web app in its own thread with its own event loop, beside the frame path."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from visionedge.config import Config
from visionedge.errors import WebError
from visionedge.web.app import DaemonView, build_app
from visionedge.web.auth import Sessions, read_token
from visionedge.web.tap import LiveTap

__all__ = ["WebServer"]

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
SWITCH_INTERVAL_S = 0.0005
"""GIL hand-over interval while the page is served (CPython's default is 5 ms).

A thread that wants the GIL while another runs Python code waits up to this long; the
page's request handling is Python, so with the default the gate could wait up to 5 ms per
request. 0.5 ms bounds that wait; the extra switches cost nothing measurable here.
"""


class WebServer:
    """The page's HTTP server; :meth:`start` binds (or raises WebError), :meth:`close` stops."""

    def __init__(self, config: Config, daemon: DaemonView, tap: LiveTap,
                 camera_state: Callable[[], str], recordings: Path) -> None:
        self.config = config.web
        self._sessions = Sessions(read_token(config.web.token_file))
        self._app = build_app(daemon, tap, self._sessions, camera_state, recordings)
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._serve, name="web", daemon=True)
        self._started = threading.Event()
        self._error: BaseException | None = None
        self.port = self.config.port

    def start(self) -> WebServer:
        """Bind and serve; WebError (exit 14) when the address cannot be bound."""
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_S):
            raise WebError(f"web: the page did not start within {START_TIMEOUT_S:.0f} s")
        if self._error is not None:
            raise WebError(
                f"web: cannot listen on {self.config.host}:{self.config.port} ({self._error}); "
                "choose a free web.port or a local web.host"
            )
        log.info("web: page on http://%s:%d/ (read-only: %s)", self.config.host, self.port,
                 self.config.read_only)
        return self

    def _serve(self) -> None:
        loop = self._loop
        asyncio.set_event_loop(loop)
        try:
            self._runner = web.AppRunner(self._app, access_log=None, handle_signals=False)
            loop.run_until_complete(self._runner.setup())
            site = web.TCPSite(self._runner, self.config.host, self.config.port)
            loop.run_until_complete(site.start())
            server = site._server  # the bound socket tells the real port when port was 0
            sockets = getattr(server, "sockets", None) or []
            if sockets:
                self.port = int(sockets[0].getsockname()[1])
        except OSError as exc:
            self._error = exc
            self._started.set()
            loop.close()
            return
        self._started.set()
        try:
            loop.run_forever()
        finally:
            loop.run_until_complete(self._runner.cleanup())
            loop.close()

    def close(self, timeout: float = 5.0) -> None:
        """Stop serving and wait for the thread (at most ``timeout`` seconds)."""
        if self._thread.is_alive() and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
