"""The seams between the pipeline stages, and the small records that cross them.

source → gate → classifier → event tracker → sinks. Each stage depends only on these
protocols, so any one can be swapped (a picamera2 source for a file, a fake sink in a test)
without touching the others; :mod:`visionedge.pipeline` is the one place they are wired.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol, runtime_checkable

from visionedge.frame import Frame


@dataclass(frozen=True, slots=True)
class Box:
    """An axis-aligned box in normalised coordinates: 0 ≤ x0 < x1 ≤ 1, 0 ≤ y0 < y1 ≤ 1."""

    x0: float
    y0: float
    x1: float
    y1: float

    def union(self, other: Box) -> Box:
        """Return the smallest box holding both."""
        return Box(
            min(self.x0, other.x0),
            min(self.y0, other.y0),
            max(self.x1, other.x1),
            max(self.y1, other.y1),
        )

    @property
    def area(self) -> float:
        """Area as a fraction of the frame."""
        return max(0.0, self.x1 - self.x0) * max(0.0, self.y1 - self.y0)


class TamperState(StrEnum):
    """Whether the camera still sees its scene."""

    OK = "ok"
    TAMPER = "tamper"


@dataclass(frozen=True, slots=True)
class GateResult:
    """What the motion gate decided about one frame.

    ``motion`` is the gate's state after this frame (open = True), not whether this single
    frame changed. ``frame_motion`` is whether this frame alone counted as moving.
    ``opened``/``closed`` mark the transitions. ``reason`` says why the gate opened
    (``"motion"``) or, on a rejected frame, why it was ignored (``"global_change"``,
    ``"exposure_change"``); empty otherwise. ``regions`` are the boxes of what moved
    (largest first), ``box`` their union (or None). ``zones`` names the zones that moved.
    """

    index: int
    changed_pct: float
    motion: bool
    frame_motion: bool
    opened: bool
    closed: bool
    reason: str = ""
    box: Box | None = None
    regions: tuple[Box, ...] = ()
    zones: tuple[str, ...] = ()
    tamper: TamperState = TamperState.OK
    tamper_reason: str = ""
    gate_us: float = 0.0


@dataclass(frozen=True, slots=True)
class Prediction:
    """One label with its dequantized score in [0, 1]."""

    label: str
    index: int
    score: float


@dataclass(frozen=True, slots=True)
class Classification:
    """The classifier's answer for one crop: top-k predictions, best first, after thresholds.

    With a label map (presets), ``top`` holds user labels (person, vehicle, animal) and
    ``raw_label``/``raw_score`` the model's own top label and its score ("tabby", 0.62);
    without one they stay empty/None.
    """

    frame_index: int
    top: tuple[Prediction, ...]
    box: Box | None
    classify_us: float = 0.0
    raw_label: str = ""
    raw_score: float | None = None

    @property
    def best(self) -> Prediction | None:
        """The highest-scoring prediction that passed the thresholds, if any."""
        return self.top[0] if self.top else None


@runtime_checkable
class FrameSource(Protocol):
    """Yields frames; a context manager so a camera is always released."""

    name: str

    def __enter__(self) -> FrameSource: ...

    def __exit__(self, *exc: object) -> None: ...

    def frames(self) -> Iterator[Frame]:
        """Yield frames until the source ends; live sources reconnect instead of ending."""
        ...

    @property
    def state(self) -> str:
        """``"ok"``, ``"reconnecting"`` or ``"lost"``: live sources report loss as state."""
        ...


@runtime_checkable
class MotionGate(Protocol):
    """Decides per frame whether the scene moved enough to look closer."""

    def process(self, frame: Frame) -> GateResult: ...

    def reset(self) -> None:
        """Forget all history (the next frame becomes the new baseline)."""
        ...


@runtime_checkable
class Classifier(Protocol):
    """Looks at a region of a frame and says what it is."""

    name: str
    sha256: str

    def classify(self, frame: Frame, box: Box | None) -> Classification: ...


@runtime_checkable
class EventSink(Protocol):
    """Receives finished event payloads (start/update/end) and state changes.

    ``publish`` must not lose an accepted event: a sink that can fail (MQTT) stores it
    first. ``state`` receives retained-style states: ``motion`` (``ON``/``OFF``),
    ``tamper``, ``availability``; sinks ignore the ones they have no use for.
    """

    def publish(self, event: Mapping[str, Any]) -> None: ...

    def state(self, name: str, value: str, detail: Mapping[str, Any] | None = None) -> None: ...

    def close(self, timeout: float = 5.0) -> None: ...


@runtime_checkable
class SnapshotSink(Protocol):
    """A sink that also takes a JPEG of an event's best frame (MQTT's retained snapshot).

    Optional: the daemon calls ``snapshot`` only on sinks that have it, when an event's
    best classified frame improves (and once at the end of an event).
    """

    def snapshot(self, event_id: str, jpeg: bytes) -> None: ...


@dataclass(slots=True)
class ObjectOutput:
    """What the object stage made of one frame.

    ``payloads`` are object events (schema 2) to publish in order; ``counts`` are
    ``(label, objects in view)`` changes for sinks' ``state("count", n, {"label": ...})``;
    ``classifications`` maps object ids to the classification made on this frame.
    """

    payloads: list[dict[str, Any]] = field(default_factory=list)
    counts: list[tuple[str, int]] = field(default_factory=list)
    classifications: dict[int, Classification] = field(default_factory=dict)


@runtime_checkable
class ObjectStage(Protocol):
    """Tracks what moved across frames and emits per-object events (``objects.mode``)."""

    def on_frame(self, frame: Frame, result: GateResult) -> ObjectOutput: ...

    def finish(self, frame_index: int, ts_ms: int, reason: str) -> ObjectOutput:
        """End every tracked object (``reason`` = stopped / end_of_clip)."""
        ...


TRACE_COLUMNS: Sequence[str] = (
    "frame",
    "ts_ms",
    "changed_pct",
    "motion",
    "event_id",
    "classified",
    "label",
    "score",
    "gate_us",
    "classify_us",
)
"""Columns of ``replay --trace`` CSV, in this order; tools outside the project read them."""


@dataclass(slots=True)
class FrameTrace:
    """Per-frame facts, one row of ``replay --trace`` (see :data:`TRACE_COLUMNS`)."""

    frame: int
    ts_ms: int
    changed_pct: float
    motion: bool
    event_id: str = ""
    classified: bool = False
    label: str = ""
    score: float | None = None
    gate_us: float = 0.0
    classify_us: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)
