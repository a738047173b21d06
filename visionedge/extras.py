"""Optional dependencies: imported only by the feature that needs them, with a clear error.

``visionedge run`` and ``replay`` import nothing they do not use; plotting (matplotlib) is
the ``plot`` extra. :func:`require` imports a module of an extra or raises
:class:`~visionedge.errors.MissingExtraError` naming the extra to install.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from visionedge.errors import MissingExtraError

__all__ = ["require"]


def require(module: str, extra: str, feature: str) -> ModuleType:
    """Import ``module`` for ``feature``; MissingExtraError naming ``visionedge[extra]``."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        raise MissingExtraError(
            f"{feature} needs {top}, which is not installed ({exc}); install it with "
            f"pip install 'visionedge[{extra}]'"
        ) from None
