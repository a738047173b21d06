"""Who may use the page: one token from a file, sessions in cookies, CSRF tokens.

The token is read like the MQTT password (:mod:`visionedge.service.credentials`: a path, or a
systemd credential name in ``$CREDENTIALS_DIRECTORY``) and kept in a
:class:`~visionedge.service.credentials.Secret`, so it never reaches a log line. A browser signs in
once (``POST /login``) and gets an HttpOnly, SameSite=Strict session cookie; scripts send
``Authorization: Bearer <token>`` instead. Every state-changing request made with a
cookie must also carry the session's CSRF token in ``X-CSRF-Token`` (the page reads it from
``/api/session``); a cross-site form cannot set that header, and SameSite keeps the cookie
off cross-site requests anyway (two independent defences).
"""

from __future__ import annotations

import collections
import hmac
import secrets
from collections.abc import Mapping

from visionedge.errors import ConfigError
from visionedge.service.credentials import Secret, read_password

__all__ = ["COOKIE", "Sessions", "read_token"]

COOKIE = "visionedge_session"
MAX_SESSIONS = 64
"""Oldest sessions are forgotten beyond this (a page signs in again)."""


def read_token(name: str, env: dict[str, str] | None = None) -> Secret:
    """Read ``web.token_file``; ConfigError (exit 3) naming the file and the fix."""
    try:
        secret = read_password(name, env)
    except ConfigError as exc:
        raise ConfigError(str(exc).replace("mqtt.password_file", "web.token_file")) from None
    if secret is None:
        raise ConfigError("web.token_file is empty; point it at a file holding the page's token")
    return secret


class Sessions:
    """Signed-in browsers: session id -> CSRF token, bounded, in memory only."""

    def __init__(self, token: Secret) -> None:
        self._token = token
        self._csrf: collections.OrderedDict[str, str] = collections.OrderedDict()

    def check_token(self, given: str) -> bool:
        """Constant-time comparison with the configured token."""
        return hmac.compare_digest(given.encode(), self._token.reveal().encode())

    @staticmethod
    def same(a: str, b: str) -> bool:
        """Constant-time string comparison."""
        return hmac.compare_digest(a.encode(), b.encode())

    def create(self) -> str:
        """A new session id (after a correct token)."""
        sid = secrets.token_urlsafe(32)
        self._csrf[sid] = secrets.token_urlsafe(32)
        while len(self._csrf) > MAX_SESSIONS:
            self._csrf.popitem(last=False)
        return sid

    def csrf(self, sid: str) -> str | None:
        """The CSRF token of a live session, or None."""
        return self._csrf.get(sid)

    def drop(self, sid: str) -> None:
        """Sign out."""
        self._csrf.pop(sid, None)

    def identify(self, cookies: Mapping[str, str], authorization: str) -> tuple[bool, str | None]:
        """``(authenticated, session id or None for a bearer token)``."""
        if authorization.startswith("Bearer "):
            return self.check_token(authorization[7:].strip()), None
        sid = cookies.get(COOKIE, "")
        if sid and sid in self._csrf:
            return True, sid
        return False, None
