"""Runtime changes cut recordings so each one still replays exactly; no credentials stored."""

from __future__ import annotations

import json
from pathlib import Path

from visionedge.config import Config, RecordingConfig, SourceConfig
from visionedge.events import encode_event
from visionedge.pipeline import build_pipeline
from visionedge.recording import list_recordings, open_recording, replay_recording, start_recording
from visionedge.sinks.memory import MemorySink
from visionedge.sources import open_source


def test_reconfigure_and_pause_cut_and_every_part_replays(rec_clip: Path, tmp_path: Path) -> None:
    root = tmp_path / "recs"
    config = Config(
        source=SourceConfig(kind="file", path=str(rec_clip)),
        recording=RecordingConfig(enabled=True, path=str(root), pre_roll_s=1.0,
                                  post_roll_s=0.5, keyframe_s=0.5, min_free_mb=0),
    )
    config.classifier.enabled = False
    config.objects.mode = "motion"  # motion-event windows; object recordings: objects2's tests
    sink = MemorySink()
    source = open_source(config.source, config.gate.width)
    pipeline = build_pipeline(config, source=source, sinks=[sink], deterministic_ids=False)
    recorder = start_recording(config, pipeline, lambda: 10.0, wait_for_writer=True)
    with source:
        for frame in source.frames():
            if frame.index == 15:  # mid-event: a live threshold change
                new = config.model_copy(deep=True)
                new.gate.pixel_threshold = 20
                pipeline.reconfigure(new)
            if frame.index == 70:  # pause/resume as set/enabled does: finish, then gate reset
                pipeline.finish("stopped")
                pipeline.gate.reset()
            pipeline.step(frame)
    pipeline.finish("end_of_clip")
    recorder.close()
    assert recorder.writer.close(60)
    live = [encode_event(e) for e in sink.events]
    recs = [e.path for e in list_recordings(root)]
    assert len(recs) >= 3
    ends = [json.loads((r / "manifest.json").read_text())["end"] for r in recs]
    assert "cut" in ends and "finish" in ends
    for r in recs:
        rec = open_recording(r)
        m = rec.manifest.data
        window = [x for x in live if m["first_frame"] <= json.loads(x)["frame"] <= m["last_frame"]]
        out = MemorySink()
        replay_recording(rec, [out], load_classifier=False)
        assert [encode_event(e) for e in out.events] == window, r.name


def test_manifest_keeps_no_stream_password(rec_clip: Path, tmp_path: Path) -> None:
    from visionedge.recording.recorder import _public_config

    cfg = Config(source=SourceConfig(kind="opencv", path="rtsp://admin:s3cret@cam.local/h264"))
    stored = json.dumps(_public_config(cfg))
    assert "s3cret" not in stored and "rtsp://cam.local/h264" in stored
