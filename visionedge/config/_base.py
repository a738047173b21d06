"""Shared pieces of the config sections: the strict base model, limits, point and polygon checks."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
)

MAX_CONFIG_BYTES = 1024 * 1024
"""A config file larger than this is refused (a real one is a few KiB)."""

MAX_NESTING = 16
"""Arrays and tables nest at most this deep (a polygon list is 3 deep)."""


def _array_as_tuple(value: Any) -> Any:
    # TOML and JSON have arrays, not tuples; the items are still validated strictly.
    return tuple(value) if isinstance(value, list) else value


Point = Annotated[tuple[float, float], BeforeValidator(_array_as_tuple)]
Range = Annotated[tuple[float, float], BeforeValidator(_array_as_tuple)]

_TOPIC_PREFIX = r"^[^#+\x00]{1,128}$"
"""A topic prefix: no MQTT wildcards (they are valid in filters, never in topic names)."""

_HOST = r"^[A-Za-z0-9._:\[\]%-]{1,253}$"
"""A host name, an IPv4 address or an IPv6 address (optionally in brackets)."""


class _Model(BaseModel):
    # defer_build: a model's validator is built when first used, not at import, so
    # parse_config builds only the sections a file sets (issue 11, start-up).
    model_config = ConfigDict(
        extra="forbid",
        validate_assignment=True,
        frozen=False,
        strict=True,
        allow_inf_nan=False,
        defer_build=True,
    )


def _check_polygon(poly: list[Point], what: str) -> list[Point]:
    if len(poly) < 3:
        raise ValueError(f"{what} needs at least 3 [x, y] points, got {len(poly)}")
    for x, y in poly:
        if not (0.0 <= x <= 1.0 and 0.0 <= y <= 1.0) or math.isnan(x) or math.isnan(y):
            raise ValueError(
                f"{what} point [{x}, {y}] is outside the frame; use normalised coordinates 0..1"
            )
    # Shoelace area: a degenerate polygon (all points on a line) masks nothing.
    area = 0.0
    for (x1, y1), (x2, y2) in zip(poly, poly[1:] + poly[:1], strict=True):
        area += x1 * y2 - x2 * y1
    if abs(area) < 1e-9:
        raise ValueError(f"{what} has zero area; its points must not all lie on one line")
    return poly


CLOSE_AFTER_S = 0.15
"""Default ``gate.close_after_s``: chosen on real clips (docs/gate.md, "Closing")."""


def _refuse_renamed(data: Any, section: str, renamed: dict[str, tuple[str, float]]) -> Any:
    """Name the new key when a config still uses a frame-count key that became seconds."""
    if isinstance(data, dict):
        for old, (new, example) in renamed.items():
            if old in data:
                raise ValueError(
                    f"{section}.{old} (frames) was replaced by {section}.{new} (seconds, "
                    f"converted with the source's frame rate); write e.g. {new} = {example}"
                )
    return data
