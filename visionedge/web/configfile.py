"""Save masks and zones drawn on the page into the config file.

The new ``gate.masks`` / ``gate.zones`` are validated through the one config model
(:func:`visionedge.config.parse_config`) on the whole edited document before anything is
written. The file is edited with tomlkit, which keeps comments and the layout of every
other key; the previous file is kept as ``<name>.bak``; the new text is written to a
temporary file and renamed over the old one, so a crash never leaves half a config.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import tomlkit

from visionedge.config import Config, parse_config
from visionedge.errors import ConfigError

__all__ = ["save_geometry"]


def _aot(zones: list[dict[str, Any]]) -> Any:
    aot = tomlkit.aot()
    for zone in zones:
        table = tomlkit.table()
        table["name"] = zone["name"]
        table["polygon"] = [[float(x), float(y)] for x, y in zone["polygon"]]
        aot.append(table)
    return aot


def save_geometry(path: Path, masks: Any, zones: Any) -> Config:
    """Write ``masks`` and ``zones`` into ``path``'s ``[gate]``; return the validated config.

    Raises ConfigError (nothing written) when the file cannot be read or the result does
    not validate; the message names the key, as ``visionedge config check`` would.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror})") from None
    try:
        doc = tomlkit.parse(text)
    except Exception as exc:  # tomlkit raises its own ParseError hierarchy
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    gate = doc.get("gate")
    if gate is None:
        gate = tomlkit.table()
        doc["gate"] = gate
    if masks:
        gate["masks"] = [[[float(x), float(y)] for x, y in poly] for poly in masks]
    elif "masks" in gate:
        del gate["masks"]
    if "zones" in gate:
        del gate["zones"]
    if zones:
        gate["zones"] = _aot(zones)
    new_text = tomlkit.dumps(doc)
    config = parse_config(tomlkit.parse(new_text).unwrap(), str(path))
    shutil.copy2(path, path.with_name(path.name + ".bak"))
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(new_text)
        shutil.copymode(path, tmp)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"{path}: cannot write the config file ({exc.strerror})") from None
    return config
