"""The latest-frame buffer between the frame path and the web page.

The daemon calls :meth:`LiveTap.offer` once per analysed frame. It only swaps references
and appends one tuple to a bounded deque, so the gate never waits for the page: the web
thread reads :attr:`LiveTap.latest` whenever it wants a picture. The one copy made on the
frame path (the gate's background plane, ~60 kB at the default plane size) happens only
while a page is actually streaming (:meth:`want` called within the last few seconds), so
the "changed pixels" overlay can be recomputed in the web thread exactly as the gate saw it.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from visionedge.frame import Frame, Plane
from visionedge.protocols import FrameTrace, GateResult

__all__ = ["LiveFrame", "LiveTap"]

WANT_FOR_S = 3.0
"""A page that asked for a picture this recently counts as streaming."""


@dataclass(frozen=True, slots=True)
class LiveFrame:
    """One analysed frame as the page shows it."""

    frame: Frame
    previous: Plane | None
    background: Plane | None
    result: GateResult | None
    label: str
    score: float | None
    event_id: str
    wall: float


class LiveTap:
    """Latest frame plus a short changed-% history; written by the frame path only."""

    def __init__(self, history: int) -> None:
        self.latest: LiveFrame | None = None
        # deque.append is atomic in CPython: the web thread may copy it at any time.
        self.history: collections.deque[tuple[int, float, bool]] = collections.deque(
            maxlen=history
        )
        self.offered = 0
        self._wanted_until = 0.0

    def want(self) -> None:
        """Called by the web thread when a page asks for a picture."""
        self._wanted_until = time.monotonic() + WANT_FOR_S

    @property
    def streaming(self) -> bool:
        """Whether a page asked for pictures in the last few seconds."""
        return time.monotonic() < self._wanted_until

    def offer(self, frame: Frame, trace: FrameTrace, gate: Any = None) -> None:
        """Publish one analysed frame (frame path; cheap: reference swaps, one append)."""
        self.offered += 1
        result = trace.extra.get("result")
        self.history.append((trace.ts_ms, trace.changed_pct, trace.motion))
        prev = self.latest
        background: npt.NDArray[np.uint8] | None = None
        if gate is not None and self.streaming:
            background = getattr(gate, "background", None)
        self.latest = LiveFrame(
            frame=frame,
            previous=prev.frame.plane if prev is not None else None,
            background=background,
            result=result if isinstance(result, GateResult) else None,
            label=trace.label,
            score=trace.score,
            event_id=trace.event_id,
            wall=time.time(),
        )
