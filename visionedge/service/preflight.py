"""What ``config check`` verifies beyond the schema: everything ``run`` needs, without connecting.

:func:`preflight` raises the first problem as the error ``run`` would raise for it (so
``config check`` exits with the same status: 3 config, 4 source, 5 model, 6 output), and
returns notes about what it could not check here. It never opens a network connection or
a camera: the broker, an RTSP stream and a V4L2 device are checked when ``run`` starts.

Checked: the source file or folder exists (file and images kinds); the model and labels
load in the configured runtime; the event file's directory is writable; with MQTT on, the
password file is readable (a bare credential name only when ``$CREDENTIALS_DIRECTORY`` is
set, i.e. under systemd), the TLS files load, and the spool's directory is writable.
Host, topic prefixes and every value are already checked by the config model.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path

from visionedge.config import Config
from visionedge.errors import ConfigError, SinkError, SourceError, SpoolError
from visionedge.service.credentials import read_password

__all__ = ["check_tls_files", "preflight"]


def _writable_dir(path: Path) -> bool:
    """``path`` is (or can be created as) a directory this user can write in."""
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            return False
        probe = probe.parent
    return probe.is_dir() and os.access(probe, os.W_OK | os.X_OK)


def check_tls_files(config: Config) -> None:
    """The TLS CA and client certificate files exist and load (ConfigError otherwise)."""
    tls = config.mqtt.tls
    for key in ("ca_file", "certfile", "keyfile"):
        path = getattr(tls, key)
        if path and not Path(path).is_file():
            raise ConfigError(f"mqtt.tls.{key}: {path} does not exist; point it at a PEM file")
    if bool(tls.certfile) != bool(tls.keyfile):
        raise ConfigError("mqtt.tls.certfile and mqtt.tls.keyfile go together (mutual TLS)")
    try:
        ctx = ssl.create_default_context(cafile=tls.ca_file or None)
        if tls.certfile:
            ctx.load_cert_chain(tls.certfile, tls.keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise ConfigError(
            f"mqtt.tls: cannot load the CA/client certificate ({exc}); check that "
            "ca_file, certfile and keyfile are PEM files (and the key matches the certificate)"
        ) from None


def _check_source(config: Config) -> None:
    src = config.source
    if src.kind == "file":
        from visionedge.sources.diagnose import clip_problem

        problem = clip_problem(Path(src.path))
        if problem:
            raise SourceError(problem)
    elif src.kind == "images":
        p = Path(src.path)
        if not p.is_dir():
            raise SourceError(f"{p}: image folder not found; check source.path")


def _check_mqtt(config: Config, env: dict[str, str], notes: list[str]) -> None:
    mc = config.mqtt
    if mc.password_file:
        bare = os.sep not in mc.password_file and not mc.password_file.startswith(".")
        if bare and not env.get("CREDENTIALS_DIRECTORY"):
            notes.append(
                f"mqtt.password_file '{mc.password_file}' is a systemd credential name; it is "
                "read from $CREDENTIALS_DIRECTORY when the service runs, not checked here"
            )
        else:
            read_password(mc.password_file, env)
    if mc.tls.enabled:
        check_tls_files(config)
    from visionedge.sinks.mqtt import spool_path

    spool = spool_path(config)
    if not _writable_dir(spool.parent):
        raise SpoolError(
            f"spool {spool}: its directory is not writable; set daemon.state_dir (or "
            "spool.path) to a writable directory (systemd: StateDirectory=)"
        )
    notes.append(f"the broker at {mc.host}:{mc.port} is not contacted by this check")


def preflight(config: Config, env: dict[str, str] | None = None) -> list[str]:
    """Check what ``run`` needs without connecting; raise its error, return notes."""
    environ = dict(os.environ if env is None else env)
    notes: list[str] = []
    _check_source(config)
    if config.classifier.enabled:
        from visionedge.pipeline import load_configured_classifier

        clf = load_configured_classifier(config)
        close = getattr(clf, "close", None)
        if callable(close):
            close()
    if config.output.file:
        out = Path(config.output.file)
        parent = out.parent
        if (
            out.is_dir()
            or not (parent.is_dir() and os.access(parent, os.W_OK | os.X_OK))
            or (out.exists() and not os.access(out, os.W_OK))
        ):
            raise SinkError(
                f"cannot open event file {out} (not a writable file in a writable directory); "
                "check that its directory exists and is writable, or change output.file"
            )
    if config.mqtt.enabled:
        _check_mqtt(config, environ, notes)
    return notes
