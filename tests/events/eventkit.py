"""Builders for frames and gate results, and the schema check every test's events go through."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import jsonschema
import numpy as np

from visionedge.events import load_schema
from visionedge.frame import Frame
from visionedge.protocols import Box, GateResult

_PLANE = np.zeros((4, 4), np.uint8)
_IMAGE = np.zeros((8, 8, 3), np.uint8)


def make_frame(index: int, fps: float = 10.0, source: str = "clip.avi") -> Frame:
    """A tiny frame with a replay-style timestamp."""
    return Frame(index, round(index * 1000 / fps), _PLANE, lambda: _IMAGE, {}, source)


def gate(
    index: int,
    motion: bool,
    pct: float = 0.0,
    *,
    opened: bool = False,
    closed: bool = False,
    box: Box | None = None,
    regions: tuple[Box, ...] = (),
    zones: tuple[str, ...] = (),
) -> GateResult:
    """A gate result as the real gate reports it."""
    return GateResult(
        index=index,
        changed_pct=pct,
        motion=motion,
        frame_motion=pct >= 0.5,
        opened=opened,
        closed=closed,
        reason="motion" if opened else "",
        box=box,
        regions=regions or ((box,) if box else ()),
        zones=zones,
    )


def script(open_at: int, close_at: int, total: int, pct: float = 2.0) -> list[GateResult]:
    """The gate opens at ``open_at`` and closes at ``close_at`` (the frame it reports closed)."""
    out = []
    for i in range(total):
        if i < open_at or i > close_at:
            out.append(gate(i, False, 0.01))
        elif i == open_at:
            out.append(gate(i, True, pct, opened=True, box=Box(0.1, 0.2, 0.3, 0.4)))
        elif i == close_at:
            out.append(gate(i, False, 0.02, closed=True))
        else:
            out.append(gate(i, True, pct + i % 3, box=Box(0.1 + i / 1000, 0.2, 0.35, 0.5)))
    return out


_VALIDATOR = jsonschema.Draft202012Validator(load_schema())


def validate(events: Iterable[Mapping[str, Any]]) -> None:
    """Every event must satisfy the shipped JSON Schema."""
    for e in events:
        _VALIDATOR.validate(dict(e))
