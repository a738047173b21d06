"""Benchmark: what recordings cost: CPU and MB/s written, against the same pipeline without them.

Usage: ``python bench/recording.py [--seconds 12] [--repeat 2] [--sizes 640x480,1920x1080]
[--mode motion|object]``

For each size a generated clip (visionedge.synth, 10 fps, two object passages, so the
gate is open about half the time) is run through the real daemon path twice per repeat,
interleaved: ``build_pipeline`` + the real file source, classifier on (the shipped demo
model), once without recording and once with ``recording.enabled`` (pre-roll 2 s,
post-roll 2 s, the writer thread waiting for the disk so every frame is written, as for
a clip replayed as fast as possible). Two CPU figures per frame, each as a ratio to the
run without recording:

- frame path: ``time.thread_time`` of the thread running the pipeline (decode, gate,
  classifier, tracker, and the recorder's ring/keyframe/queue work). Target ≤ 1.25: the
  recorder must not slow the gate down; the disk work is elsewhere.
- whole process: ``time.process_time`` (adds the writer thread: zlib planes, PNG of the
  classified frames, the video encoder). Reported, no target: it is the price of the
  feature, and it runs on the other core.

Also printed: frames recorded, MB written per second of stream, and the video codec. Exit
status 1 when a frame-path ratio misses its target.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from visionedge.config import Config, RecordingConfig, SourceConfig
from visionedge.pipeline import build_pipeline
from visionedge.recording import start_recording
from visionedge.recording.video import video_kind
from visionedge.sinks.memory import MemorySink
from visionedge.sources import open_source
from visionedge.synth import ObjectPass, SceneSpec, write_clip

TARGET_RATIO = 1.25


def make_clip(folder: Path, width: int, height: int, seconds: float) -> Path:
    """Two passages covering about half of the clip."""
    spec = SceneSpec(
        width=width, height=height, fps=10.0, seed=3, duration_s=seconds,
        events=[
            ObjectPass("person", 0.1 * seconds, 0.3 * seconds, direction=1, height_frac=0.45),
            ObjectPass("vehicle", 0.55 * seconds, 0.3 * seconds, direction=-1, height_frac=0.35),
        ],
    )
    path = folder / f"bench_{width}x{height}.avi"
    write_clip(spec, path)
    return path


def one_run(clip: Path, folder: Path | None, mode: str = "motion") -> tuple[float, float, int, int, int]:
    """Frame-path and process CPU seconds, frames, frames recorded, bytes written."""
    rec = RecordingConfig(enabled=folder is not None, path=str(folder or ""), min_free_mb=0,
                          pre_roll_s=2.0, post_roll_s=2.0, queue_frames=64)
    config = Config(source=SourceConfig(kind="file", path=str(clip)), recording=rec)
    config.output.stdout = False
    config.objects.mode = mode  # type: ignore[assignment]
    source = open_source(config.source, config.gate.width)
    pipeline = build_pipeline(config, source=source, sinks=[MemorySink()], deterministic_ids=False)
    recorder = None
    t0, th0 = time.process_time(), time.thread_time()
    if folder is not None:
        recorder = start_recording(config, pipeline, lambda: 10.0, wait_for_writer=True)
    pipeline.run()
    thread_cpu = time.thread_time() - th0
    written = recorded = 0
    if recorder is not None:
        recorder.close()
        recorder.writer.close(600)
        written = recorder.writer.stats.bytes_written
        recorded = recorder.writer.stats.frames_written
    cpu = time.process_time() - t0
    return thread_cpu, cpu, pipeline.stats.frames, recorded, written


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--sizes", default="640x480,1920x1080")
    ap.add_argument("--mode", default="motion", choices=("motion", "object"),
                    help="objects.mode of both runs (object: per-object events and snapshots)")
    args = ap.parse_args(argv)
    status = 0
    print(f"video codec: {video_kind('auto')} (H.264 where OpenCV has it, else MJPEG AVI); "
          f"objects.mode = {args.mode}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for size in args.sizes.split(","):
            w, h = (int(v) for v in size.split("x"))
            clip = make_clip(root, w, h, args.seconds)
            base: list[tuple[float, float]] = []
            with_rec: list[tuple[float, float]] = []
            recorded = written = frames = 0
            for i in range(args.repeat):
                th, cpu, frames, _, _ = one_run(clip, None, args.mode)
                base.append((th / frames, cpu / frames))
                th, cpu, frames, recorded, written = one_run(clip, root / f"rec_{size}_{i}", args.mode)
                with_rec.append((th / frames, cpu / frames))
            bt, bp = min(b[0] for b in base), min(b[1] for b in base)
            rt, rp = min(r[0] for r in with_rec), min(r[1] for r in with_rec)
            mb = written / 1024 / 1024
            print(
                f"{size}: frame path {bt * 1000:.2f} -> {rt * 1000:.2f} ms/frame "
                f"(ratio {rt / bt:.2f}); whole process {bp * 1000:.2f} -> {rp * 1000:.2f} "
                f"ms/frame (ratio {rp / bp:.2f}); {recorded}/{frames} frames recorded, "
                f"{mb:.1f} MB = {mb / (frames / 10.0):.2f} MB per stream second"
            )
            if rt / bt > TARGET_RATIO:
                print(f"  MISS: frame-path ratio {rt / bt:.2f} > target {TARGET_RATIO}")
                status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
