"""Argument helpers shared by several sub-commands (not a sub-command itself)."""

from __future__ import annotations

import argparse
import math
import re

from visionedge.errors import ConfigError

__all__ = ["accept_negative_ranges", "input_range_type", "parse_input_range"]

# argparse treats "-1,1" as an option unless it looks like a negative number to the parser.
_NEGATIVE_OR_RANGE = re.compile(r"^-\d+$|^-\d*\.\d+$|^-?[\d.]+(e-?\d+)?,-?[\d.]+(e-?\d+)?$")


def parse_input_range(text: str) -> tuple[float, float]:
    """``"MIN,MAX"`` → (min, max); ConfigError unless two finite numbers with min < max."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise ConfigError(
            f"--input-range '{text}': expected two numbers MIN,MAX, e.g. 0,1 or -1,1"
        ) from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ConfigError(f"--input-range '{text}': MIN must be below MAX and both finite, e.g. 0,1")
    return lo, hi


def input_range_type(text: str) -> tuple[float, float]:
    """:func:`parse_input_range` as an argparse ``type=`` (a usage error, exit 2)."""
    try:
        return parse_input_range(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def accept_negative_ranges(parser: argparse.ArgumentParser) -> None:
    """Let ``--input-range -1,1`` through instead of reading ``-1,1`` as an option."""
    parser._negative_number_matcher = _NEGATIVE_OR_RANGE
