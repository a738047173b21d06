"""Event id factories: random live, derived from clip and frame in replay."""

from __future__ import annotations

import uuid
from collections.abc import Callable

__all__ = ["NAMESPACE", "IdFactory", "deterministic_ids", "random_ids"]

IdFactory = Callable[[str, int], str]
"""``factory(source_id, start_frame) -> event_id``."""

NAMESPACE = uuid.UUID("5b0f7c1e-8a53-4d2b-9a57-3f1e6c0d9b42")
"""Fixed namespace of replay ids: changing it changes every golden file."""


def random_ids() -> IdFactory:
    """UUIDv4 per event: what a live camera uses (restarts must never reuse an id)."""

    def make(source_id: str, start_frame: int) -> str:
        return str(uuid.uuid4())

    return make


def deterministic_ids() -> IdFactory:
    """UUIDv5 of ``"<clip id>:<start frame>"``: the same clip gives the same ids every run."""

    def make(source_id: str, start_frame: int) -> str:
        return str(uuid.uuid5(NAMESPACE, f"{source_id}:{start_frame}"))

    return make
