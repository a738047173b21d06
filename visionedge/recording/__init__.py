"""Per-event recordings that ``visionedge replay`` reproduces byte for byte (docs/recordings.md).

:func:`start_recording` attaches a :class:`Recorder` to a live pipeline (frame path: ring
buffer, keyframes, start/stop) with a :class:`RecordingWriter` thread (disk); retention keeps
the folder within its limits; :func:`open_recording` / :func:`replay_recording` play one back.
"""

from __future__ import annotations

from visionedge.recording.format import FORMAT_VERSION, is_recording, read_manifest
from visionedge.recording.recorder import (
    Recorder,
    check_recording_dir,
    recordings_root,
    start_recording,
)
from visionedge.recording.replay import (
    Recording,
    RecordingSource,
    open_recording,
    replay_recording,
)
from visionedge.recording.retention import list_recordings, prune
from visionedge.recording.writer import RecordingWriter

__all__ = [
    "FORMAT_VERSION",
    "Recorder",
    "Recording",
    "RecordingSource",
    "RecordingWriter",
    "check_recording_dir",
    "is_recording",
    "list_recordings",
    "open_recording",
    "prune",
    "read_manifest",
    "recordings_root",
    "replay_recording",
    "start_recording",
]
