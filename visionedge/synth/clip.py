"""Writing a scene as an MJPG .avi with its ground truth, and the cached demo clip."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import cv2

from visionedge.errors import SourceError
from visionedge.synth.scene import SceneSpec, default_scene, frame_count, render_frames
from visionedge.synth.truth import GroundTruth, Passage, truth_path

__all__ = ["GENERATOR_VERSION", "JPEG_QUALITY", "cache_dir", "demo_clip_name", "demo_clip_path", "write_clip"]

GENERATOR_VERSION = 2
"""Bumped whenever the generator's output changes; part of the demo clip's cache key."""

JPEG_QUALITY = 95


def _passages(truth: GroundTruth) -> list[Passage]:
    spans: dict[int, Passage] = {}
    for f in truth.frames:
        for o in f.objects:
            p = spans.get(o.track)
            spans[o.track] = (
                Passage(o.cls, f.index, f.index, o.track)
                if p is None
                else Passage(p.cls, p.first_frame, f.index, p.track)
            )
    return sorted(spans.values(), key=lambda p: (p.first_frame, p.track))


def write_clip(spec: SceneSpec, path: str | Path) -> GroundTruth:
    """Render ``spec`` to ``path`` (MJPG in AVI, quality 95) and ``<path>.truth.json``.

    Uses OpenCV's built-in MJPEG writer rather than FFmpeg, so the file carries no encoder
    version string or timestamps and is byte-identical across runs and machines with the
    same OpenCV. The AVI header stores a whole frame rate, so ``spec.fps`` must be whole.
    """
    p = Path(path)
    if p.suffix.lower() != ".avi":
        raise ValueError(f"{p}: synthetic clips are written as MJPG .avi; use a .avi name")
    if spec.fps != round(spec.fps):
        raise ValueError(f"scene fps {spec.fps} is not whole; AVI stores a whole frame rate")
    p.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(
        str(p), cv2.CAP_OPENCV_MJPEG, cv2.VideoWriter.fourcc(*"MJPG"), float(spec.fps),
        (spec.width, spec.height),
    )
    if not writer.isOpened():
        raise SourceError(f"{p}: OpenCV cannot write an MJPG .avi here; check the directory is writable")
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, JPEG_QUALITY)
    frames = []
    try:
        for image, ft in render_frames(spec):
            writer.write(image)
            frames.append(ft)
    finally:
        writer.release()
    assert len(frames) == frame_count(spec)
    truth = GroundTruth(
        clip=p.name,
        width=spec.width,
        height=spec.height,
        fps=float(spec.fps),
        seed=spec.seed,
        version=GENERATOR_VERSION,
        frames=frames,
        lighting_frames=[f.index for f in frames if f.lighting_change],
        covered_frames=[f.index for f in frames if f.covered],
    )
    truth.passages = _passages(truth)
    truth.save(truth_path(p))
    return truth


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/visionedge`` or ``~/.cache/visionedge``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "visionedge"


def demo_clip_name(seed: int = 0) -> str:
    """File name of the demo clip for ``seed`` (changes with :data:`GENERATOR_VERSION`)."""
    return f"demo-v{GENERATOR_VERSION}-seed{seed}.avi"


def demo_clip_path(seed: int = 0) -> Path:
    """The default scene's clip, generated on first use and cached (with its truth file).

    Keyed by :data:`GENERATOR_VERSION` and ``seed``. Written under a temporary name and
    renamed, so concurrent first uses never see a half-written clip. When the cache
    directory is not writable, the clip goes to the system temp directory instead.
    """
    name = demo_clip_name(seed)
    for base in (cache_dir(), Path(tempfile.gettempdir()) / f"visionedge-{os.getuid()}"):
        clip = base / name
        if clip.is_file() and truth_path(clip).is_file():
            return clip
        try:
            base.mkdir(parents=True, exist_ok=True)
            tmp = base / f".{name}.{os.getpid()}.avi"
            write_clip(default_scene(seed), tmp)
            # Truth first: the clip's presence is what marks the pair complete.
            os.replace(truth_path(tmp), truth_path(clip))
            os.replace(tmp, clip)
            _fix_truth_name(clip)
            return clip
        except (OSError, SourceError):
            continue
    raise SourceError(
        f"cannot write the demo clip to {cache_dir()} or the temp directory; "
        "set XDG_CACHE_HOME to a writable directory"
    )


def _fix_truth_name(clip: Path) -> None:
    # The truth was written while the clip had its temporary name; record the final one.
    tp = truth_path(clip)
    truth = GroundTruth.load(tp)
    if truth.clip != clip.name:
        truth.clip = clip.name
        tmp = tp.with_name(f".{tp.name}.{os.getpid()}")
        truth.save(tmp)
        os.replace(tmp, tp)
