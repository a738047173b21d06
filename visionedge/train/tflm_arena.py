"""TFLM's own arena need for a model, measured with the ``tflite-micro`` wheel when installed.

The estimate of :func:`visionedge.train.export.arena_estimate` replays the memory planner
from the flatbuffer; kernels can ask for scratch buffers it does not see (a MobileNet v1
student needed 9 KB more than planned). When the pinned ``tflite-micro`` wheel (the ``tflm``
extra) is installed, export asks TFLM itself: the smallest arena, to 256 bytes, in which the
interpreter allocates and runs once. Measured on the host (64-bit pointers), so it bounds
what a 32-bit MCU needs from above (the shipped demo model: 124,064 B on x86-64 against
122,292 B on a Cortex-M4).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

import numpy as np

__all__ = ["measure_arena"]

_STEP = 256


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """TFLM's C++ reports each failed allocation on fd 2; the search expects most to fail."""
    saved = os.dup(2)
    try:
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _fits(content: bytes, arena: int) -> bool:
    from tflite_micro.python.tflite_micro import runtime

    try:
        interp = runtime.Interpreter.from_bytes(content, arena_size=arena)
        spec = interp.get_input_details(0)
        interp.set_input(np.zeros(spec["shape"], spec["dtype"]), 0)
        interp.invoke()
    except RuntimeError:
        return False
    return True


def measure_arena(content: bytes, limit: int = 4 * 1024 * 1024) -> int | None:
    """The smallest arena (a multiple of 256 B) TFLM runs ``content`` in; None without the wheel.

    None too when it does not run even in ``limit`` bytes (the estimate then stands).
    """
    try:
        import tflite_micro.python.tflite_micro.runtime  # noqa: F401
    except ImportError:
        return None
    with _quiet_stderr():
        if not _fits(content, limit):
            return None
        lo, hi = 0, limit // _STEP  # in steps: lo does not fit (or is 0), hi fits
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if _fits(content, mid * _STEP):
                hi = mid
            else:
                lo = mid
    return hi * _STEP
