"""The TFLite runtimes visionedge can use, and choosing one without importing TensorFlow.

Preference order for ``classifier.backend = "auto"``: LiteRT (``ai_edge_litert``, the
maintained successor), then ``tflite_runtime``, then full TensorFlow's ``tf.lite`` only when
neither is installed; importing TensorFlow costs seconds and hundreds of MB, so the daemon
never does it when a small runtime exists. All three expose the same ``Interpreter`` API.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from typing import Any, Protocol

from visionedge.errors import BackendError

__all__ = [
    "BACKENDS",
    "PIP_PACKAGES",
    "Interpreter",
    "InterpreterFactory",
    "installed_backends",
    "resolve_backend",
]

BACKENDS: tuple[str, ...] = ("ai_edge_litert", "tflite_runtime", "tensorflow")
PIP_PACKAGES: dict[str, str] = {
    "ai_edge_litert": "ai-edge-litert",
    "tflite_runtime": "tflite-runtime",
    "tensorflow": "tensorflow",
}


class Interpreter(Protocol):
    """The part of the TFLite ``Interpreter`` API visionedge uses."""

    def allocate_tensors(self) -> None: ...

    def get_input_details(self) -> list[dict[str, Any]]: ...

    def get_output_details(self) -> list[dict[str, Any]]: ...

    def set_tensor(self, tensor_index: int, value: Any) -> None: ...

    def get_tensor(self, tensor_index: int) -> Any: ...

    def invoke(self) -> None: ...


class InterpreterFactory(Protocol):
    """``Interpreter(model_content=..., num_threads=...)`` of one runtime."""

    def __call__(self, *, model_content: bytes, num_threads: int) -> Interpreter: ...


def installed_backends() -> list[str]:
    """Backends whose package is installed (found, not imported), in preference order."""
    return [name for name in BACKENDS if _installed(name)]


def _installed(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


def _import(name: str, xnnpack: bool) -> InterpreterFactory:
    """The runtime's Interpreter, bound to builtin kernels unless ``xnnpack``.

    ``BUILTIN_WITHOUT_DEFAULT_DELEGATES`` keeps the XNNPACK delegate out: its 8-bit kernels
    round differently from the builtin ones (measured: 5 of MobileNet's 1001 uint8 outputs
    differ by one step), and visionedge wants the same scores from every runtime.
    """
    if name == "ai_edge_litert":
        module = importlib.import_module("ai_edge_litert.interpreter")
        cls, resolver = module.Interpreter, module.OpResolverType
    elif name == "tflite_runtime":
        if "tensorflow" in sys.modules:
            # Both bundle their own TFLite with the same C++ symbols; loaded after
            # TensorFlow, tflite-runtime's calls reach TensorFlow's copy and every model
            # "fails to load" (vector::reserve, SIGSEGV). Only training commands import TF.
            raise ImportError(
                "TensorFlow is loaded in this process and its TFLite clashes with tflite-runtime's"
            )
        module = importlib.import_module("tflite_runtime.interpreter")
        cls, resolver = module.Interpreter, module.OpResolverType
    else:
        module = importlib.import_module("tensorflow")
        cls, resolver = module.lite.Interpreter, module.lite.experimental.OpResolverType
    kind = resolver.AUTO if xnnpack else resolver.BUILTIN_WITHOUT_DEFAULT_DELEGATES

    def factory(*, model_content: bytes, num_threads: int) -> Interpreter:
        interp: Interpreter = cls(
            model_content=model_content,
            num_threads=num_threads,
            experimental_op_resolver_type=kind,
        )
        return interp

    return factory


def resolve_backend(
    name: str = "auto", *, xnnpack: bool = False, order: Sequence[str] = BACKENDS
) -> tuple[str, InterpreterFactory]:
    """Return ``(backend name, Interpreter class)`` for a configured backend name.

    ``"auto"`` takes the first of ``order`` that imports; a named backend that is missing or
    broken raises :class:`BackendError` naming the pip package that provides it.
    """
    if name != "auto":
        if name not in PIP_PACKAGES:
            raise BackendError(
                f"classifier.backend '{name}' is unknown; use auto or one of {', '.join(BACKENDS)}"
            )
        try:
            return name, _import(name, xnnpack)
        except ImportError as exc:
            raise BackendError(
                f"classifier.backend '{name}' is not usable ({exc}); install it with "
                f'`pip install {PIP_PACKAGES[name]}` or set classifier.backend = "auto"'
            ) from exc
    problems = []
    for candidate in order:
        if not _installed(candidate):
            continue
        try:
            return candidate, _import(candidate, xnnpack)
        except ImportError as exc:
            problems.append(f"{candidate}: {exc}")
    detail = f" ({'; '.join(problems)})" if problems else ""
    raise BackendError(
        f"no TFLite runtime is usable{detail}; install one with `pip install ai-edge-litert` "
        "(or tflite-runtime on platforms LiteRT does not cover)"
    )
