"""Choosing the gate's compiled core (``visionedge.gate._native``) or its numpy/OpenCV path.

The extension is the firmware core's fused pass (firmware/core/include/ve/gate_pass.h) built
with the package; both paths give the same bytes (tests/gate/test_native.py checks them against
the spec's reference). ``VISIONEDGE_GATE_NATIVE`` selects:

- ``auto`` (default): the extension when it is importable, else the numpy path;
- ``off``: always the numpy path (to compare, or to rule the extension out);
- ``on``: the extension, and an error when it is missing (CI, benchmarks).

The choice is made when a gate is built (``FrameDifferenceGate(native=...)`` overrides it).
"""

from __future__ import annotations

import os
from types import ModuleType

from visionedge.errors import ConfigError

__all__ = ["ENV", "load_native", "native_module", "want_native"]

ENV = "VISIONEDGE_GATE_NATIVE"
"""The environment variable that selects the gate's core: auto, on or off."""

_MODULE: ModuleType | None = None
_TRIED = False


def native_module() -> ModuleType | None:
    """The compiled module, or None when it was not built (no compiler at install)."""
    global _MODULE, _TRIED
    if not _TRIED:
        _TRIED = True
        try:
            from visionedge.gate import _native  # type: ignore[attr-defined]
        except ImportError:
            _MODULE = None
        else:
            _MODULE = _native
    return _MODULE


def want_native() -> bool | None:
    """What the environment asks for: True (on), False (off) or None (auto)."""
    value = os.environ.get(ENV, "auto").strip().lower()
    if value in ("", "auto"):
        return None
    if value in ("1", "on", "yes", "true"):
        return True
    if value in ("0", "off", "no", "false"):
        return False
    raise ConfigError(f"{ENV}={value!r} is not a choice; set it to auto, on or off")


def load_native(native: bool | None = None) -> ModuleType | None:
    """The module the gate should use, or None for the numpy path.

    ``native`` (a caller's explicit choice) wins over the environment; None means "as the
    environment says" (default auto). Asking for the extension when it is missing raises.
    """
    choice = want_native() if native is None else native
    if choice is False:
        return None
    module = native_module()
    if module is None and choice is True:
        raise ConfigError(
            "the native gate (visionedge.gate._native) is not built; reinstall visionedge "
            f"with g++ and the Python headers (scripts/setup.sh), or set {ENV}=auto"
        )
    return module
