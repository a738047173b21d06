"""The web page served by the daemon (``[web]``): live view, masks and zones, events.

Imported only when ``web.enabled`` is true, so ``visionedge run`` without the page never
loads aiohttp. See docs/web.md.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from visionedge.config import Config
from visionedge.errors import WebError
from visionedge.web.tap import LiveTap

if TYPE_CHECKING:
    from visionedge.web.app import DaemonView
    from visionedge.web.server import WebServer

__all__ = ["LiveTap", "start_web"]


def start_web(config: Config, daemon: DaemonView, tap: LiveTap,
              camera_state: Callable[[], str], recordings: Path) -> WebServer:
    """Start the page; WebError (exit 14) if aiohttp is missing or the port is taken."""
    try:
        from visionedge.web.server import WebServer
    except ImportError as exc:
        raise WebError(
            f"web.enabled needs the web extra ({exc.name} is not installed); "
            "pip install 'visionedge[web]' or set web.enabled = false"
        ) from None
    return WebServer(config, daemon, tap, camera_state, recordings).start()
