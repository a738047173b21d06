"""Replaying a recording: the recorded frames, state, config and ids back through a pipeline.

:func:`open_recording` checks the manifest (format, version, complete, nothing dropped) and
loads the start state; :class:`RecordingSource` yields the recorded frames (exact planes,
recorded index/ts/source/camera metadata, lossless images on classified frames);
:func:`replay_recording` builds the pipeline from the recorded config, restores the state,
uses the recorded event ids and ends the way the live window ended. Same model file ⇒ the
event lines the live run published for the window, byte for byte.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from visionedge.config import Config
from visionedge.errors import RecordingFormatError
from visionedge.events.ids import NAMESPACE, IdFactory
from visionedge.frame import Frame, Image
from visionedge.protocols import EventSink, FrameTrace
from visionedge.recording import format as fmt
from visionedge.recording.hook import ReplayAnnotator
from visionedge.recording.state import PipelineState, load_state, restore

__all__ = ["Recording", "RecordingSource", "open_recording", "replay_recording"]


@dataclass(frozen=True, slots=True)
class Recording:
    """A checked recording, ready to replay."""

    manifest: fmt.Manifest
    config: Config
    state: PipelineState

    @property
    def path(self) -> Path:
        """The folder."""
        return self.manifest.path

    def id_factory(self) -> IdFactory:
        """The live ids of events that started in the window; UUIDv5 for any other."""
        ids: dict[str, str] = dict(self.manifest.data.get("event_ids") or {})

        def make(source_id: str, start_frame: int) -> str:
            key = f"{source_id}:{start_frame}"
            # An event the live run did not start here gets a replay id: the diff shows it.
            return ids.get(key) or str(uuid.uuid5(NAMESPACE, key))

        return make


def open_recording(path: str | Path) -> Recording:
    """Load and check a recording; RecordingFormatError (exit 12) says why it cannot replay.

    Every format version up to ``FORMAT_VERSION`` is read (format.py lists what each changed);
    a newer one raises RecordingVersionError (exit 17).
    """
    p = Path(path)
    man = fmt.read_manifest(p)
    status = man.status()
    if status == "failed":
        raise RecordingFormatError(
            f"{p}: this recording stopped with a write error ({man.data.get('error')}); it is "
            "incomplete and cannot replay exactly (its video and snapshots may still be viewed)"
        )
    if status == "truncated":
        raise RecordingFormatError(
            f"{p}: truncated recording (never closed: the daemon was killed or the disk filled "
            "up); it cannot replay exactly, view its video or delete it"
        )
    if status == "lossy":
        raise RecordingFormatError(
            f"{p}: {man.dropped} frames were dropped while recording (the disk could not keep "
            "up); it cannot replay exactly; raise recording.queue_frames or use faster storage"
        )
    try:
        recorded = dict(man.data["config"])
        if man.version == 1 and "objects" not in recorded:
            # Made before the config had an objects section: the live run sent motion events
            # only, which today's default (object mode) would not reproduce.
            recorded["objects"] = {"mode": "motion"}
        config = Config.model_validate(recorded)
    except Exception as exc:  # a config this version rejects is a format mismatch
        raise RecordingFormatError(
            f"{p}: the recorded config does not validate with this visionedge ({exc.__class__.__name__}); "
            "replay it with the release that recorded it"
        ) from exc
    return Recording(man, config, load_state(p / fmt.STATE, man.version))


class RecordingSource:
    """A :class:`~visionedge.protocols.FrameSource` over a recording's exact frames."""

    def __init__(self, rec: Recording) -> None:
        self.rec = rec
        self.name = self.clip_id = rec.path.name
        self.fps = float(rec.manifest.data.get("fps") or rec.config.source.fps)
        self.frames_read = 0

    @property
    def state(self) -> str:
        """Always ``"ok"``."""
        return "ok"

    def __enter__(self) -> RecordingSource:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _image(self, record: fmt.FrameRecord) -> Callable[[], Image]:
        path = self.rec.path / record.image if record.image else None

        def getter() -> Image:
            if path is None:
                raise RecordingFormatError(
                    f"{self.rec.path}: frame {record.index} has no lossless image, but the replay "
                    "wants to classify it: the replay diverged from the live run (another config "
                    "or model?)"
                )
            img = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if img is None:
                raise RecordingFormatError(
                    f"{path}: the image of frame {record.index} is missing or damaged; the "
                    "recording is incomplete"
                )
            out: Image = np.asarray(img, np.uint8)
            return out

        return getter

    def frames(self) -> Iterator[Frame]:
        """The recorded frames in order; a damaged part raises after the frames before it."""
        try:
            data = (self.rec.path / fmt.PLANES).read_bytes()
        except OSError as exc:
            raise RecordingFormatError(
                f"{self.rec.path}: cannot read {fmt.PLANES} ({exc.strerror}); the recording is incomplete"
            ) from exc
        n = 0
        for record in fmt.read_frames(self.rec.manifest):
            plane = fmt.read_plane(data, record, self.rec.path)
            n += 1
            self.frames_read = n
            yield Frame(
                index=record.index,
                ts_ms=record.ts_ms,
                plane=plane,
                _image=self._image(record),
                metadata=dict(record.metadata),
                source=record.source,
            )
        if n != self.rec.manifest.frames:
            raise RecordingFormatError(
                f"{self.rec.path}: {n} of the {self.rec.manifest.frames} recorded frames are "
                "readable (truncated recording); the readable ones were replayed"
            )


def replay_recording(
    rec: Recording,
    sinks: list[EventSink],
    *,
    classifier: Any = None,
    load_classifier: bool = True,
    on_frame: Callable[[Frame, FrameTrace], None] | None = None,
) -> Any:
    """Run the recording through a pipeline built from its config; return the pipeline.

    ``classifier``: use this one instead of loading the configured model (tests).
    """
    from visionedge.pipeline import build_pipeline, load_configured_classifier

    config = rec.config
    if classifier is None and load_classifier:
        classifier = load_configured_classifier(config)
    source = RecordingSource(rec)
    pipeline = build_pipeline(
        config, source=source, sinks=sinks, classifier=classifier, deterministic_ids=True
    )
    set_ids = getattr(pipeline.objects, "set_id_factory", None)
    if set_ids is not None:
        set_ids(rec.id_factory())
    restore(pipeline, rec.state)
    pipeline.tracker._ids = rec.id_factory()
    pipeline.recorder = ReplayAnnotator(
        rec.manifest.live_path, frozenset(rec.manifest.data.get("unrecorded_ends") or ())
    )
    with source:
        for frame in source.frames():
            trace = pipeline.step(frame)
            if on_frame is not None:
                on_frame(frame, trace)
    finish = rec.manifest.data.get("end")
    if finish == "finish":
        pipeline.finish(str(rec.manifest.data.get("end_reason")))
    return pipeline
