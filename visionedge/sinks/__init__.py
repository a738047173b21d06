"""Event sinks and the registry :func:`build_sinks` builds them from.

A sink implements :class:`visionedge.protocols.EventSink`. Built-in kinds: ``stdout`` and
``file`` (JSON lines, :mod:`visionedge.sinks.jsonl`). Other kinds plug in with
:func:`register_sink`; :data:`PLUGINS` names modules imported on first use so that their
import registers them (``visionedge.sinks.mqtt`` registers ``"mqtt"``). A factory returns
None when its section of the config leaves it off.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable

from visionedge.config import Config
from visionedge.errors import SinkError
from visionedge.protocols import EventSink

__all__ = ["PLUGINS", "SinkFactory", "build_sinks", "close_sinks", "register_sink"]

SinkFactory = Callable[[Config], EventSink | None]

_REGISTRY: dict[str, SinkFactory] = {}

PLUGINS: dict[str, str] = {"mqtt": "visionedge.sinks.mqtt"}
"""Sink kinds that live in their own module, imported lazily (heavy client libraries)."""


def register_sink(name: str, factory: SinkFactory) -> None:
    """Add (or replace) the factory for sink kind ``name``; sinks are built in registration order."""
    _REGISTRY[name] = factory


def _stdout(config: Config) -> EventSink | None:
    from visionedge.sinks.jsonl import JsonLinesSink

    return JsonLinesSink(sys.stdout) if config.output.stdout else None


def _file(config: Config) -> EventSink | None:
    from visionedge.sinks.jsonl import JsonLinesSink

    return JsonLinesSink(config.output.file) if config.output.file else None


register_sink("stdout", _stdout)
register_sink("file", _file)


def _load_plugins(config: Config) -> None:
    for name, module in PLUGINS.items():
        if name in _REGISTRY or (name == "mqtt" and not config.mqtt.enabled):
            continue  # paho is not imported by a daemon that does not use it
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
        if name == "mqtt" and config.mqtt.enabled and name not in _REGISTRY:
            raise SinkError(
                "mqtt.enabled is true but this installation has no MQTT sink "
                f"({module}); reinstall visionedge or set mqtt.enabled = false"
            )


def build_sinks(config: Config) -> list[EventSink]:
    """Every sink the config turns on, in registry order; a sink that cannot open raises SinkError.

    If one sink fails to open, the ones already opened are closed before the error leaves.
    """
    _load_plugins(config)
    sinks: list[EventSink] = []
    try:
        for factory in list(_REGISTRY.values()):
            sink = factory(config)
            if sink is not None:
                sinks.append(sink)
    except BaseException:
        close_sinks(sinks)
        raise
    return sinks


def close_sinks(sinks: list[EventSink], timeout: float = 5.0) -> None:
    """Close every sink, each within ``timeout``; the first SinkError is raised after all closed."""
    first: SinkError | None = None
    for sink in sinks:
        try:
            sink.close(timeout)
        except SinkError as exc:
            first = first or exc
    if first is not None:
        raise first
