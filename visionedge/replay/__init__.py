"""Replay tooling: per-frame trace CSV, the timeline plot and motion-plane frame export.

Used by ``visionedge replay --trace/--plot/--export-frames``; the replay itself is the
ordinary pipeline (:mod:`visionedge.pipeline`) over a file source.
"""
