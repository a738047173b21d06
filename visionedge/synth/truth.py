"""Per-frame ground truth of a generated scene, and its JSON file next to the clip."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from visionedge.protocols import Box

__all__ = ["FrameTruth", "GroundTruth", "ObjectTruth", "Passage", "truth_path"]

TRUTH_SUFFIX = ".truth.json"


def truth_path(clip: Path) -> Path:
    """Where the ground truth of ``clip`` lives: ``<clip>.truth.json``."""
    return clip.with_name(clip.name + TRUTH_SUFFIX)


@dataclass(frozen=True, slots=True)
class ObjectTruth:
    """One object visible in a frame: class, normalised box of its visible part, track id.

    ``visible_pct`` is the share of the frame its visible pixels cover (0..100).
    """

    cls: str
    box: Box
    track: int = 0
    visible_pct: float = 0.0


@dataclass(frozen=True, slots=True)
class FrameTruth:
    """What happens in one frame.

    ``motion`` is True when an object is visibly moving in the frame (at least
    :data:`visionedge.synth.scene.MIN_VISIBLE_PCT` of it visible). ``lighting_change``
    marks the frame of a lighting switch and the settling frames after it; ``covered``
    marks frames where the lens is covered (near-black, flat; objects are hidden).
    """

    index: int
    motion: bool
    objects: list[ObjectTruth] = field(default_factory=list)
    lighting_change: bool = False
    covered: bool = False


@dataclass(frozen=True, slots=True)
class Passage:
    """One object's visit: the first and last frame (inclusive) it is visibly moving."""

    cls: str
    first_frame: int
    last_frame: int
    track: int = 0


def _box_json(b: Box) -> list[float]:
    return [b.x0, b.y0, b.x1, b.y1]


@dataclass(slots=True)
class GroundTruth:
    """The ground truth of a whole clip, written as ``<clip>.truth.json``."""

    clip: str
    width: int
    height: int
    fps: float
    seed: int
    version: int
    frames: list[FrameTruth]
    passages: list[Passage] = field(default_factory=list)
    lighting_frames: list[int] = field(default_factory=list)
    covered_frames: list[int] = field(default_factory=list)

    @property
    def motion_frames(self) -> list[int]:
        """Indices of the frames with ``motion`` set."""
        return [f.index for f in self.frames if f.motion]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (deterministic: fixed key order, floats already rounded)."""
        return {
            "generator": "visionedge.synth",
            "version": self.version,
            "clip": self.clip,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "seed": self.seed,
            "passages": [
                {"cls": p.cls, "track": p.track, "first_frame": p.first_frame,
                 "last_frame": p.last_frame}
                for p in self.passages
            ],
            "lighting_frames": self.lighting_frames,
            "covered_frames": self.covered_frames,
            "frames": [
                {
                    "index": f.index,
                    "motion": f.motion,
                    "lighting_change": f.lighting_change,
                    "covered": f.covered,
                    "objects": [
                        {"cls": o.cls, "track": o.track, "box": _box_json(o.box),
                         "visible_pct": o.visible_pct}
                        for o in f.objects
                    ],
                }
                for f in self.frames
            ],
        }

    def save(self, path: Path) -> None:
        """Write the JSON (one frame per line, so diffs stay readable)."""
        data = self.to_json()
        frames = data.pop("frames")
        head = json.dumps(data, separators=(",", ":"))[:-1]
        lines = [head + ',"frames":[']
        lines += [json.dumps(f, separators=(",", ":")) + "," for f in frames]
        if frames:
            lines[-1] = lines[-1][:-1]
        lines.append("]}")
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GroundTruth:
        """Rebuild from :meth:`to_json` output."""
        frames = [
            FrameTruth(
                index=int(f["index"]),
                motion=bool(f["motion"]),
                lighting_change=bool(f["lighting_change"]),
                covered=bool(f["covered"]),
                objects=[
                    ObjectTruth(o["cls"], Box(*o["box"]), int(o["track"]), float(o["visible_pct"]))
                    for o in f["objects"]
                ],
            )
            for f in data["frames"]
        ]
        return cls(
            clip=str(data["clip"]),
            width=int(data["width"]),
            height=int(data["height"]),
            fps=float(data["fps"]),
            seed=int(data["seed"]),
            version=int(data["version"]),
            frames=frames,
            passages=[
                Passage(p["cls"], int(p["first_frame"]), int(p["last_frame"]), int(p["track"]))
                for p in data["passages"]
            ],
            lighting_frames=[int(i) for i in data["lighting_frames"]],
            covered_frames=[int(i) for i in data["covered_frames"]],
        )

    @classmethod
    def load(cls, path: str | Path) -> GroundTruth:
        """Read the truth of a clip; ``path`` is the clip or its ``.truth.json`` file."""
        p = Path(path)
        if not p.name.endswith(TRUTH_SUFFIX):
            p = truth_path(p)
        return cls.from_json(json.loads(p.read_text(encoding="utf-8")))
