"""The registry of source kinds: ``source.kind`` in the config names a factory here.

Like Frigate's detector plugins, each kind's module registers its factory with
:func:`register_source`; :func:`open_source` looks the kind up. A new kind is one module
with one decorated function, and nothing else changes. The shipped live kinds are
imported only when a config names them (:data:`_MODULES`): a replay of a file never loads
the camera code (issue 11, start-up).
"""

from __future__ import annotations

from collections.abc import Callable

from visionedge.config import SourceConfig
from visionedge.errors import SourceError
from visionedge.protocols import FrameSource

__all__ = ["SourceFactory", "open_source", "register_source", "source_kinds"]

SourceFactory = Callable[[SourceConfig, int], FrameSource]
"""Builds a source from its config section and the motion plane's target width."""

_REGISTRY: dict[str, SourceFactory] = {}

_MODULES = {
    "file": "replay",
    "images": "replay",
    "synth": "replay",
    "opencv": "opencv_live",
    "picamera2": "picamera2_source",
}
"""The shipped kinds and the module (in this package) that registers each."""


def register_source(kind: str) -> Callable[[SourceFactory], SourceFactory]:
    """Class/function decorator: make ``kind`` (a ``source.kind`` value) build with it."""

    def deco(factory: SourceFactory) -> SourceFactory:
        if kind in _REGISTRY and _REGISTRY[kind] is not factory:
            raise ValueError(f"source kind {kind!r} is registered twice")
        _REGISTRY[kind] = factory
        return factory

    return deco


def source_kinds() -> tuple[str, ...]:
    """The registered kinds and the shipped ones (registered on first use), sorted."""
    return tuple(sorted(set(_REGISTRY) | set(_MODULES)))


def open_source(cfg: SourceConfig, gate_width: int) -> FrameSource:
    """Build the source ``cfg.kind`` names; use it as a context manager so it is released.

    Building does not touch the clip or camera yet; entering the context (or the first
    ``frames()``) opens it and raises :class:`~visionedge.errors.SourceError` on bad input.
    """
    if cfg.kind not in _REGISTRY and cfg.kind in _MODULES:
        # __import__ rather than importlib: -X importtime lists it (tests/cli/test_light_imports.py)
        __import__(f"visionedge.sources.{_MODULES[cfg.kind]}")
    factory = _REGISTRY.get(cfg.kind)
    if factory is None:
        raise SourceError(
            f"source.kind = {cfg.kind!r} is not a known source; use one of "
            f"{', '.join(source_kinds())}"
        )
    return factory(cfg, gate_width)
