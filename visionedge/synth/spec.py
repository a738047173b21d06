"""What a synthetic scene is: the timeline of events, its checks, and the stock scenes.

A :class:`SceneSpec` is a frame size, rate, seed and length with a timeline (in seconds) of
:class:`ObjectPass`, :class:`LightSwitch` and :class:`CoverCamera` events; rendering it is
:mod:`visionedge.synth.scene` (which re-exports these names).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from visionedge.synth.shapes import CLASSES

__all__ = [
    "CoverCamera",
    "LightSwitch",
    "ObjectPass",
    "SceneEvent",
    "SceneSpec",
    "check_spec",
    "default_scene",
    "frame_count",
    "small_scene",
]


@dataclass(frozen=True, slots=True)
class ObjectPass:
    """An object of class ``cls`` crossing the frame.

    It starts fully outside one edge at ``start_s`` and is fully outside the other edge
    after ``duration_s``. ``direction`` +1 moves left to right. ``height_frac`` is its height
    and ``ground_frac`` the row of its feet/wheels, both as fractions of the frame height.
    With ``stop_s`` > 0 it slows down to a stop at ``stop_frac`` of its way, stands still for
    ``stop_s`` (added to its time in view) and speeds up again (quadratic ease out/in).
    """

    cls: str
    start_s: float
    duration_s: float
    direction: int = 1
    height_frac: float = 0.4
    ground_frac: float = 0.9
    stop_frac: float = 0.5
    stop_s: float = 0.0


@dataclass(frozen=True, slots=True)
class LightSwitch:
    """At ``at_s`` the light changes at once and stays: pixel = pixel x gain + offset."""

    at_s: float
    gain: float = 0.6
    offset: float = -4.0


@dataclass(frozen=True, slots=True)
class CoverCamera:
    """From ``start_s`` for ``duration_s`` the lens is covered: a flat near-black image."""

    start_s: float
    duration_s: float
    level: int = 10


SceneEvent = ObjectPass | LightSwitch | CoverCamera


@dataclass(frozen=True, slots=True)
class SceneSpec:
    """A scene to render: frame size, rate, seed, length and its timeline of events."""

    width: int = 640
    height: int = 360
    fps: float = 10.0
    seed: int = 0
    events: list[SceneEvent] = field(default_factory=list)
    duration_s: float = 30.0
    noise_sigma: float = 2.0


def frame_count(spec: SceneSpec) -> int:
    """Number of frames the scene renders."""
    return max(1, round(spec.duration_s * spec.fps))


def default_scene(
    seed: int = 0, *, width: int = 640, height: int = 360, fps: float = 10.0
) -> SceneSpec:
    """The ~30 s demo scene.

    Still (0-3 s), a person walking left to right (3-8 s), still, a vehicle driving right to
    left (10-12.5 s), still, the light dims at 15 s and stays dim, an animal trotting left to
    right (18-21 s), still, the lens covered (24-27 s), still to the end (30 s).
    """
    return SceneSpec(
        width=width,
        height=height,
        fps=fps,
        seed=seed,
        duration_s=30.0,
        events=[
            ObjectPass("person", 3.0, 5.0, direction=1, height_frac=0.45, ground_frac=0.92),
            ObjectPass("vehicle", 10.0, 2.5, direction=-1, height_frac=0.32, ground_frac=0.86),
            LightSwitch(15.0, gain=0.6, offset=-4.0),
            ObjectPass("animal", 18.0, 3.0, direction=1, height_frac=0.22, ground_frac=0.95),
            CoverCamera(24.0, 3.0),
        ],
    )


def small_scene(
    seed: int = 0,
    *,
    width: int = 320,
    height: int = 180,
    fps: float = 10.0,
    cls: str = "person",
) -> SceneSpec:
    """An ~8 s scene for fast tests: still, one passage of ``cls`` (1.5-5 s), a light switch at 6 s."""
    if cls not in CLASSES:
        raise ValueError(f"unknown object class {cls!r}; use one of {', '.join(CLASSES)}")
    return SceneSpec(
        width=width,
        height=height,
        fps=fps,
        seed=seed,
        duration_s=8.0,
        events=[
            ObjectPass(cls, 1.5, 3.5, direction=1, height_frac=0.45, ground_frac=0.92),
            LightSwitch(6.0, gain=0.6, offset=-4.0),
        ],
    )


def check_spec(spec: SceneSpec) -> None:
    """Raise ValueError naming the first impossible value of ``spec``."""
    if spec.width < 32 or spec.height < 32:
        raise ValueError(f"scene size {spec.width}x{spec.height} is too small; use at least 32x32")
    if not spec.fps > 0:
        raise ValueError(f"scene fps must be > 0, got {spec.fps}")
    if not spec.duration_s > 0:
        raise ValueError(f"scene duration_s must be > 0, got {spec.duration_s}")
    if not spec.noise_sigma >= 0:
        raise ValueError(f"scene noise_sigma must be >= 0, got {spec.noise_sigma}")
    for ev in spec.events:
        if isinstance(ev, ObjectPass):
            if ev.cls not in CLASSES:
                raise ValueError(f"unknown object class {ev.cls!r}; use one of {', '.join(CLASSES)}")
            if not (0 < ev.stop_frac < 1 and ev.stop_s >= 0):
                raise ValueError(f"ObjectPass {ev}: stop_frac must be in (0, 1) and stop_s >= 0")
            if ev.direction not in (-1, 1):
                raise ValueError(f"ObjectPass.direction must be 1 or -1, got {ev.direction}")
            if not (0 < ev.height_frac <= 1 and 0 < ev.ground_frac <= 1 and ev.duration_s > 0):
                raise ValueError(
                    f"ObjectPass {ev}: height_frac and ground_frac must be in (0, 1] and "
                    "duration_s > 0"
                )
        elif isinstance(ev, LightSwitch):
            if not ev.gain > 0:
                raise ValueError(f"LightSwitch.gain must be > 0, got {ev.gain}")
        elif isinstance(ev, CoverCamera):
            if not (ev.duration_s > 0 and 0 <= ev.level <= 255):
                raise ValueError(f"CoverCamera {ev}: duration_s must be > 0 and level 0..255")
        else:
            raise ValueError(f"unknown scene event {ev!r}")
