"""Config section for per-object tracking and events (``[objects]``)."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    Field,
)

from visionedge.config._base import (
    _Model,
)


class ObjectFilter(_Model):
    """Filters for one label (Frigate's ``filters``): an object counts only inside them."""

    min_score: float = Field(
        0.0, ge=0.0, le=1.0, description="Voted label score needed before the object counts."
    )
    min_area_pct: float = Field(
        0.0, ge=0.0, le=100.0, description="Smallest box (percent of the frame) that counts."
    )
    max_area_pct: float = Field(
        100.0, gt=0.0, le=100.0, description="Largest box (percent of the frame) that counts."
    )


class ObjectZoneConfig(_Model):
    """Per-object rules for one of the ``gate.zones`` (looked up by name)."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_-]{1,32}$", description="A gate.zones name.")
    labels: list[str] = Field(
        default_factory=list,
        description="Only objects with one of these voted labels count as in the zone "
        "(empty: every object).",
    )


class ObjectsConfig(_Model):
    """Per-object tracking and events (the default); ``mode = "motion"`` keeps one event per
    motion period.

    The firmware ports the tracker and the object events byte for byte (docs/gate-algorithm.md
    §7); its default mode is this one (``ve::kDefaultObjectMode``, checked by tests/firmware).
    """

    mode: Literal["motion", "object", "both"] = Field(
        "object",
        description="object: one event per tracked object; motion: one event per motion "
        "period; both: the two streams side by side (all three with firmware parity).",
    )
    min_hits: int = Field(
        3, ge=1, le=100, description="Frames an object must be seen before it gets an id."
    )
    coast_frames: int = Field(
        5,
        ge=0,
        le=1000,
        description="Frames an unseen object's position is predicted forward (constant "
        "velocity) before it is held in place.",
    )
    lost_s: float = Field(
        1.5, gt=0, le=3600, description="An unseen moving object ends after this long."
    )
    merge_frames: int = Field(
        30,
        ge=0,
        le=10000,
        description="Frames objects hidden in one merged motion region keep being predicted.",
    )
    stationary_after_s: float = Field(
        10.0,
        gt=0,
        le=86400,
        description="An object that stays in place this long is reported stationary (once).",
    )
    stationary_max_s: float = Field(
        3600.0,
        gt=0,
        le=86400 * 7,
        description="A stationary object no longer seen moving ends after this long.",
    )
    max_objects: int = Field(
        64, ge=1, le=1024, description="Tracked objects at most (the firmware's fixed table)."
    )
    classify_per_frame: int = Field(
        1,
        ge=0,
        le=64,
        description="Objects classified per frame at most (on top of classifier.every_n_frames "
        "and classifier.max_per_event, which count per object).",
    )
    idle_sample_s: float = Field(
        0.0,
        ge=0.0,
        le=86400,
        description="While the gate is closed, classify one frame this often (seconds; 0: "
        "off): tracked objects not seen moving that have classifier.max_per_event "
        "classifications left get one each (up to classify_per_frame, at least one), so an "
        "object that stopped before it was labelled (a parked car, a person standing) gets "
        "its label.",
    )
    settle_after: int = Field(
        3,
        ge=0,
        le=100000,
        description="An object's label has settled once this many classifications in a row "
        "agree (the same top label; a run of no label never settles, see backoff_after) and "
        "its vote says that label: it "
        "is then classified only every recheck_s, so a busy scene costs little more than "
        "its new objects (0: off, every object is classified every classifier.every_n_frames "
        "up to classifier.max_per_event).",
    )
    recheck_s: float = Field(
        2.0,
        gt=0.0,
        le=86400,
        description="A settled object is classified again after this long (seconds of stream "
        "time since its last classification), so a wrong early label can still change; a "
        "re-check that disagrees unsettles it.",
    )
    backoff_after: int = Field(
        2,
        ge=0,
        le=100000,
        description="After this many classifications in a row with no label (nothing passed "
        "the thresholds), an object's gap between classifications doubles with each further "
        "no-label answer (classifier.every_n_frames, then 2x, 4x ... frames, but never longer "
        "than recheck_s), so shapes the model names nothing stop costing a crop every few "
        "frames; a labelled answer resets the gap (0: off).",
    )
    labels: list[str] = Field(
        default_factory=list,
        description="Only objects voted one of these labels count (empty: every object, "
        "labelled or not).",
    )
    filters: dict[str, ObjectFilter] = Field(
        default_factory=dict, description="Per-label filters, keyed by label ('*': any object)."
    )
    zones: list[ObjectZoneConfig] = Field(
        default_factory=list, description="Per-zone label rules for gate.zones."
    )
    required_zones: list[str] = Field(
        default_factory=list,
        description="An object counts once it enters one of these gate.zones (empty: at once).",
    )
    min_travel: float = Field(
        0.5,
        ge=0.0,
        le=100.0,
        description="An object counts once it travelled this many half box sizes ((w + h) / 2), "
        "summing only steady shifts of both box edges: swaying trees, flicker and ghosts "
        "left by the background model do not travel.",
    )
    min_travel_pct: float = Field(
        5.0,
        ge=0.0,
        le=200.0,
        description="...and at least this far as a share of the frame (|dx|/width + "
        "|dy|/height, percent).",
    )
    still_min_score: float = Field(
        0.85,
        ge=0.0,
        le=1.0,
        description="An object that has not travelled still counts once the classifier is "
        "sure of it: its voted label's mean score reaches this and that label topped at least "
        "still_min_votes of its classifications (a person standing, a cat grooming, a bear "
        "lumbering in place; swaying leaves rarely get a sure label). Left at 0.85, the model "
        "card may set its own bar per label (the default card: animal 0.65). 0: off, only "
        "travelled objects count.",
    )
    still_min_votes: int = Field(
        3,
        ge=1,
        le=1000,
        description="...and its label topped at least this many of its classifications, so "
        "one confident crop of a fragment does not start an event.",
    )
    path_points: int = Field(
        16, ge=2, le=256, description="Points kept in an event's path summary at most."
    )
