"""Writer back-pressure: a disk slower than the frames drops recording frames, never frames.

The slow disk is emulated by the writer's ``frame_delay_s`` (every frame write sleeps);
the pipeline is the real one on a real clip. No timing is asserted: the proof that the
frame path did not wait is that the run finished with frames still queued for the writer,
and that the drops are counted exactly.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from visionedge.config import Config, RecordingConfig, SourceConfig
from visionedge.errors import RecordingFormatError
from visionedge.pipeline import build_pipeline
from visionedge.recording import list_recordings, open_recording, start_recording
from visionedge.sinks.memory import MemorySink
from visionedge.sources import open_source


def run(clip: Path, root: Path, delay: float, *, wait: bool) -> tuple[object, object]:
    config = Config(
        source=SourceConfig(kind="file", path=str(clip)),
        recording=RecordingConfig(enabled=True, path=str(root), queue_frames=4,
                                  pre_roll_s=1.0, post_roll_s=0.5, min_free_mb=0),
    ).model_copy()
    config.classifier.enabled = False
    source = open_source(config.source, config.gate.width)
    sink = MemorySink()
    pipeline = build_pipeline(config, source=source, sinks=[sink], deterministic_ids=False)
    recorder = start_recording(config, pipeline, lambda: 10.0, wait_for_writer=wait,
                               frame_delay_s=delay)
    pipeline.run()
    pending = recorder.writer.pending_frames
    recorder.close()
    assert recorder.writer.close(60)
    return pipeline, (recorder, pending, sink)


def test_slow_disk_drops_and_counts_without_stalling(rec_clip: Path, tmp_path: Path) -> None:
    pipeline, (recorder, pending, sink) = run(rec_clip, tmp_path / "slow", 0.05, wait=False)
    stats = recorder.writer.stats  # type: ignore[attr-defined]
    assert pipeline.stats.frames == 120  # type: ignore[attr-defined]
    assert pending > 0  # the run ended while the writer was still behind
    assert stats.frames_dropped > 0
    manifests = [json.loads((e.path / "manifest.json").read_text())
                 for e in list_recordings(tmp_path / "slow")]
    assert sum(m["dropped_frames"] for m in manifests) == stats.frames_dropped
    assert sum(m["frames"] for m in manifests) == stats.frames_written
    lossy = [e.path for e, m in zip(list_recordings(tmp_path / "slow"), manifests, strict=True)
             if m["dropped_frames"]]
    with pytest.raises(RecordingFormatError, match="frames were dropped"):
        open_recording(lossy[0])
    # Events are unaffected: the same as without recording.
    _, (_, _, ref_sink) = run(rec_clip, tmp_path / "fast", 0.0, wait=True)
    strip = [{k: v for k, v in e.items() if k not in ("event_id", "continues", "recording",
                                                       "snapshot")} for e in sink.events]
    ref_strip = [{k: v for k, v in e.items() if k not in ("event_id", "continues", "recording",
                                                           "snapshot")} for e in ref_sink.events]
    assert strip == ref_strip


def test_fast_clip_replay_waits_for_the_writer(rec_clip: Path, tmp_path: Path) -> None:
    _, (recorder, _, _) = run(rec_clip, tmp_path / "w", 0.01, wait=True)
    assert recorder.writer.stats.frames_dropped == 0  # type: ignore[attr-defined]
    for e in list_recordings(tmp_path / "w"):
        open_recording(e.path)  # complete, nothing dropped
