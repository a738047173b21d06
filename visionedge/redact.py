"""Credentials out of text: ``scheme://user:password@host`` becomes ``scheme://user:***@host``.

Applied to every :class:`~visionedge.errors.VisionEdgeError` message and to source names,
so a camera URL with a password can appear in an error, a log line or ``systemctl status``
without the password. It also matches the single-slash form ``rtsp:/user:pw@host`` that
``pathlib`` makes of a URL given where a file path was expected.
"""

from __future__ import annotations

import re

__all__ = ["redact_urls"]

_USERINFO = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*:/{1,2})(?P<user>[^/\s:@]*):(?P<password>[^/\s]*)@"
)


def redact_urls(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``***``."""
    if "@" not in text:
        return text
    return _USERINFO.sub(r"\g<scheme>\g<user>:***@", text)
