"""systemd's notify protocol, written directly: one datagram per message to ``$NOTIFY_SOCKET``.

Without ``$NOTIFY_SOCKET`` (not under systemd, or ``Type=simple``) every call is a no-op.
An address starting with ``@`` is in the Linux abstract namespace (a leading NUL byte).
Send failures are logged once and never raised: losing a status line must not stop the
camera. ``WATCHDOG_USEC`` (with ``WATCHDOG_PID``, when set, naming this process) gives the
watchdog period; :meth:`Notifier.watchdog_interval` is half of it, as sd_watchdog_enabled(3)
recommends.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping

__all__ = ["Notifier"]

log = logging.getLogger(__name__)


class Notifier:
    """Sends ``READY=1``, ``WATCHDOG=1``, ``STATUS=...``, ``RELOADING=1``, ``STOPPING=1``."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        environ = os.environ if env is None else env
        raw = environ.get("NOTIFY_SOCKET", "")
        self._address: str | bytes | None = None
        if raw.startswith("@"):
            self._address = b"\0" + raw[1:].encode()
        elif raw.startswith("/"):
            self._address = raw
        self._sock: socket.socket | None = None
        self._warned = False
        self._watchdog_s: float | None = None
        usec = environ.get("WATCHDOG_USEC", "")
        pid = environ.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not pid or pid == str(os.getpid())):
            self._watchdog_s = int(usec) / 1e6

    @property
    def enabled(self) -> bool:
        """Whether a notify socket was given."""
        return self._address is not None

    def watchdog_interval(self) -> float | None:
        """Seconds between ``WATCHDOG=1`` pings (half the configured timeout), or None."""
        return self._watchdog_s / 2 if self._watchdog_s else None

    def send(self, **fields: str | int) -> bool:
        """Send ``KEY=value`` lines in one datagram; True if it was sent."""
        if self._address is None:
            return False
        msg = "\n".join(f"{k.upper()}={v}" for k, v in fields.items()).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                self._sock.settimeout(1.0)
            self._sock.sendto(msg, self._address)
            return True
        except OSError as exc:
            if not self._warned:
                log.warning("sd_notify: cannot send to $NOTIFY_SOCKET (%s)", exc.strerror or exc)
                self._warned = True
            return False

    def ready(self, status: str = "") -> bool:
        """The service is up."""
        return self.send(ready=1, status=status) if status else self.send(ready=1)

    def watchdog(self) -> bool:
        """Keep-alive ping."""
        return self.send(watchdog=1)

    def status(self, text: str) -> bool:
        """A one-line status for ``systemctl status``."""
        return self.send(status=" ".join(text.split()))

    def reloading(self) -> bool:
        """A configuration reload started (READY=1 ends it)."""
        return self.send(reloading=1, monotonic_usec=time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000)

    def stopping(self) -> bool:
        """Shutdown started."""
        return self.send(stopping=1)

    def close(self) -> None:
        """Close the socket."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None
