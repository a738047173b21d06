"""Seeded synthetic scenes with ground truth: test data, the demo clip, classifier crops.

``write_clip(default_scene(), path)`` writes a ~30 s MJPG clip of a textured scene in which a
person, a vehicle and an animal pass by, the light switches and the lens gets covered, plus
``<path>.truth.json`` saying per frame what moves where. The same seed gives the same bytes
on every run and machine (seeded numpy generators, integer cv2 drawing, OpenCV's built-in
MJPEG writer, no wall clock). :func:`render_object` and :func:`render_background` draw the
crops the classifier is trained on, with the same drawing code as the scenes.
"""

from __future__ import annotations

from visionedge.synth.clip import (
    GENERATOR_VERSION,
    cache_dir,
    demo_clip_name,
    demo_clip_path,
    write_clip,
)
from visionedge.synth.scene import (
    MIN_VISIBLE_PCT,
    CoverCamera,
    LightSwitch,
    ObjectPass,
    SceneEvent,
    SceneSpec,
    default_scene,
    frame_count,
    render_frames,
    small_scene,
)
from visionedge.synth.shapes import CLASSES, render_background, render_object
from visionedge.synth.truth import FrameTruth, GroundTruth, ObjectTruth, Passage, truth_path

__all__ = [
    "CLASSES",
    "GENERATOR_VERSION",
    "MIN_VISIBLE_PCT",
    "CoverCamera",
    "FrameTruth",
    "GroundTruth",
    "LightSwitch",
    "ObjectPass",
    "ObjectTruth",
    "Passage",
    "SceneEvent",
    "SceneSpec",
    "cache_dir",
    "default_scene",
    "demo_clip_name",
    "demo_clip_path",
    "frame_count",
    "render_background",
    "render_frames",
    "render_object",
    "small_scene",
    "truth_path",
    "write_clip",
]
