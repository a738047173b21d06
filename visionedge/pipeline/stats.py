"""The pipeline's counters since it was built (the daemon publishes them as stats)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["PipelineStats"]


@dataclass(slots=True)
class PipelineStats:
    """Counters since the pipeline was built (the daemon publishes them as stats)."""

    frames: int = 0
    gate_open_frames: int = 0
    events: int = 0
    messages: int = 0
    classifications: int = 0
    dropped_frames: int = 0
    last_gate_us: float = 0.0
    last_classify_us: float = 0.0
    last_frame: int = -1
    last_ts_ms: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The counters as a JSON-friendly dict."""
        return {name: getattr(self, name) for name in self.__slots__}
