"""Read the broker password from a file or a systemd credential, without ever showing it.

``mqtt.password_file`` is either a path (absolute, or containing a ``/``) or a bare name
that systemd's ``LoadCredential=NAME:/etc/...`` placed in ``$CREDENTIALS_DIRECTORY``.
The secret is wrapped in :class:`Secret`, whose ``repr``/``str`` are masked, so a stray
log line or an exception message cannot leak it; callers use :meth:`Secret.reveal` at the
one place paho needs the plain text.
"""

from __future__ import annotations

import os
from pathlib import Path

from visionedge.errors import ConfigError

__all__ = ["MAX_SECRET_BYTES", "Secret", "read_password", "resolve_credential_path"]

MAX_SECRET_BYTES = 4096
"""A password file larger than this is certainly the wrong file."""


class Secret:
    """A string that does not print itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the plain text; call only where the protocol needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def resolve_credential_path(name: str, env: dict[str, str] | None = None) -> Path:
    """Map ``mqtt.password_file`` to a path: bare names live in ``$CREDENTIALS_DIRECTORY``."""
    environ = os.environ if env is None else env
    if os.sep in name or name.startswith("."):
        return Path(name)
    cred_dir = environ.get("CREDENTIALS_DIRECTORY", "")
    if cred_dir:
        return Path(cred_dir) / name
    return Path(name)


def read_password(name: str, env: dict[str, str] | None = None) -> Secret | None:
    """Read the password named by ``mqtt.password_file``; ``""`` means no password.

    An empty systemd credential (a bare name found in ``$CREDENTIALS_DIRECTORY``) also means
    no password: the shipped units fall back to one when the password file does not exist.

    Raises ConfigError (exit 3: a restart cannot fix it) naming the file and the fix; the
    message never contains any of the file's content. One trailing newline is stripped
    (``echo secret > file`` writes one); other whitespace is kept as part of the password.
    """
    if not name:
        return None
    path = resolve_credential_path(name, env)
    hint = (
        "create it (chmod 600) or point mqtt.password_file at it; under systemd use "
        "LoadCredential=<name>:<path> and set mqtt.password_file to <name>"
    )
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"mqtt.password_file: {path} does not exist; {hint}") from None
    except PermissionError:
        raise ConfigError(
            f"mqtt.password_file: {path} is not readable by this user; fix its owner or "
            "mode, or use LoadCredential= under systemd"
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"mqtt.password_file: {path} is a directory; {hint}") from None
    except OSError as exc:
        raise ConfigError(f"mqtt.password_file: cannot read {path} ({exc.strerror})") from None
    if len(raw) > MAX_SECRET_BYTES:
        raise ConfigError(
            f"mqtt.password_file: {path} is {len(raw)} bytes, too large for a password; "
            "the file must contain only the password"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"mqtt.password_file: {path} is not UTF-8 text") from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        if _from_credentials_dir(name, env):
            # The shipped units default the credential to a lone newline (SetCredential=)
            # when /etc/visionedge/mqtt-password does not exist: an anonymous broker.
            return None
        raise ConfigError(f"mqtt.password_file: {path} is empty; write the password into it")
    return Secret(text)


def _from_credentials_dir(name: str, env: dict[str, str] | None) -> bool:
    environ = os.environ if env is None else env
    return bool(environ.get("CREDENTIALS_DIRECTORY")) and not (
        os.sep in name or name.startswith(".")
    )
