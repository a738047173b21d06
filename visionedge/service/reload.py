"""What a SIGHUP reload may change in a running daemon, and what needs a restart.

Gate, event and classifier-threshold settings apply at once; the sections that build
long-lived things (source, device, output, MQTT, spool, daemon, metrics, recording, web,
and objects: the tracker's table and the open object events follow its settings), the plane
width and the classifier's interpreter settings are kept as running and named in a warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from visionedge.config import Config

__all__ = ["RESTART_ONLY_CLASSIFIER", "RESTART_ONLY_SECTIONS", "changed_keys", "merge_reloadable"]

RESTART_ONLY_SECTIONS = (
    "device", "source", "output", "mqtt", "spool", "daemon", "metrics", "recording", "web",
    "objects",
)
RESTART_ONLY_CLASSIFIER = ("model", "labels", "backend", "num_threads", "input_range", "mean", "std")


def changed_keys(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """``key=value`` for every leaf of ``new`` that differs from ``old`` (dotted keys)."""
    out: list[str] = []
    for key in new:
        a, b = old.get(key), new[key]
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            out += changed_keys(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key}={b!r}")
    return out


def merge_reloadable(current: Config, new: Config) -> tuple[Config, list[str]]:
    """Take from ``new`` what can change at runtime; return it and what needs a restart."""
    restart: list[str] = []
    for section in RESTART_ONLY_SECTIONS:
        if getattr(current, section) != getattr(new, section):
            restart.append(section)
    if current.gate.width != new.gate.width:
        restart.append("gate.width")
    clf_keep = {}
    for key in RESTART_ONLY_CLASSIFIER:
        if getattr(current.classifier, key) != getattr(new.classifier, key):
            restart.append(f"classifier.{key}")
        clf_keep[key] = getattr(current.classifier, key)
    merged = current.model_copy(
        update={
            "gate": new.gate.model_copy(update={"width": current.gate.width}),
            "events": new.events,
            "classifier": new.classifier.model_copy(update=clf_keep),
        }
    )
    return merged, restart
