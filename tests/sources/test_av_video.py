"""The file source reads the decoder's own luma plane and converts to BGR only on demand."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from visionedge.config import GateConfig, SourceConfig
from visionedge.gate import FrameDifferenceGate, to_motion_plane
from visionedge.sources import open_source
from visionedge.sources.av_video import VideoDecoder
from visionedge.synth import GroundTruth, render_frames, small_scene


def _h264(path: Path, frames: int = 30) -> list[np.ndarray]:
    """A small H.264 (yuv420p, limited range) clip of the generated scene; its BGR frames."""
    drawn = []
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = 160, 96, "yuv420p"
        stream.options = {"crf": "18", "preset": "ultrafast"}
        for i, (img, _truth) in enumerate(render_frames(small_scene(seed=3, width=160, height=96))):
            if i >= frames:
                break
            drawn.append(img)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return drawn


def _y_plane(frame: av.VideoFrame) -> np.ndarray:
    """The frame's first plane as stored (swscale's "gray" would expand it to full range)."""
    assert frame.format.name == "yuv420p"
    plane = frame.planes[0]
    rows = np.frombuffer(plane, np.uint8, count=frame.height * plane.line_size)
    return rows.reshape(frame.height, plane.line_size)[:, : frame.width].copy()


def test_h264_planes_are_the_decoders_limited_range_luma(tmp_path: Path) -> None:
    clip = tmp_path / "small.mp4"
    drawn = _h264(clip)
    with av.open(str(clip)) as container:
        lumas = [_y_plane(f) for f in container.decode(video=0)]
    with open_source(SourceConfig(kind="file", path=str(clip)), 80) as src:
        frames = list(src.frames())
        assert src.fps == 10.0  # type: ignore[attr-defined]
    assert len(frames) == len(lumas) == 30
    for frame, y in zip(frames, lumas, strict=True):
        # The Y plane as decoded, box-downscaled: no range mapping for limited-range video.
        assert np.array_equal(frame.plane, to_motion_plane(y, 80))
    # It is limited-range luma: the gray of the drawn BGR mapped to 16..235, within the
    # encoder's loss.
    expected = to_motion_plane(drawn[12], 80).astype(np.int16)
    assert float(np.abs(frames[12].plane.astype(np.int16) - expected).mean()) < 2.0


def test_bgr_is_converted_only_when_asked_and_then_kept(small_clip: tuple[Path, GroundTruth]) -> None:
    path, _ = small_clip
    decoder = VideoDecoder(path, "convert it")
    try:
        decoded = next(iter(decoder.frames()))
        assert decoded.full_range  # MJPEG: yuvj420p
        assert decoded.luma.ndim == 2 and decoded._bgr is None
        image = decoded.image()
        assert image.shape == (96, 160, 3) and image.dtype == np.uint8
        assert decoded.image() is image
    finally:
        decoder.close()


def test_the_gate_uses_the_clip_rate_for_its_seconds(tmp_path: Path) -> None:
    from visionedge.config import Config, OutputConfig
    from visionedge.pipeline import build_pipeline

    clip = tmp_path / "small.mp4"
    _h264(clip, frames=12)
    cfg = Config(
        source=SourceConfig(kind="file", path=str(clip)),
        gate=GateConfig(close_after_s=0.5),
        output=OutputConfig(stdout=False),
    )
    cfg.classifier.enabled = False
    pipeline = build_pipeline(cfg, sinks=[], deterministic_ids=True)
    pipeline.run()
    assert isinstance(pipeline.gate, FrameDifferenceGate)
    assert pipeline.gate.counts.fps == 10.0 and pipeline.gate.counts.close_after == 5


def test_a_file_without_video_is_refused(tmp_path: Path) -> None:
    from visionedge.errors import SourceError

    wav = tmp_path / "sound.wav"
    with av.open(str(wav), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    with pytest.raises(SourceError, match="no video stream") as err:
        VideoDecoder(wav, "convert it")
    assert str(wav) in str(err.value) and err.value.exit_code == 4


def test_two_threads_asking_for_the_same_image_get_it_without_deadlock(tmp_path: Path) -> None:
    # The pipeline's classifier crop and the web page's encoder ask for the same frame's BGR
    # image at once: two conversions on PyAV's per-frame swscale context deadlocked (the web
    # thread hung for good, found by tests/web leaving the interpreter unable to exit).
    import threading

    path = tmp_path / "wide.mp4"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        rng = np.random.default_rng(5)
        for _ in range(60):
            img = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    decoder = VideoDecoder(path, "")
    try:
        for frame in decoder.frames():
            both = threading.Barrier(2)
            got: list[np.ndarray] = []

            def convert(f: Any, barrier: threading.Barrier, out: list[np.ndarray]) -> None:
                barrier.wait(5)
                out.append(f.image())

            worker = threading.Thread(target=convert, args=(frame, both, got), daemon=True)
            worker.start()
            both.wait(5)
            mine = frame.image()
            worker.join(10)
            assert not worker.is_alive(), "the second conversion hung"
            assert got[0] is mine
    finally:
        decoder.close()


@pytest.mark.parametrize("realtime", [False, True])
def test_a_paced_file_decodes_only_the_minimum_ahead(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, realtime: bool
) -> None:
    # Paced at the clip's rate the pipeline waits for the clock, not the decoder: the lead
    # is MIN_DEPTH frames (memory, docs/gate.md), the budget's depth only as fast as possible.
    from visionedge.sources import replay
    from visionedge.sources.prefetch import BUDGET_ENV, MIN_DEPTH, depth_for

    monkeypatch.delenv(BUDGET_ENV, raising=False)
    path = tmp_path / "c.mp4"
    _h264(path, frames=5)
    depths: list[int] = []
    real = replay.Prefetcher

    def spy(items: Any, depth: int = 4, name: str = "") -> Any:
        depths.append(depth)
        return real(items, depth=depth, name=name)

    monkeypatch.setattr(replay, "Prefetcher", spy)
    cfg = SourceConfig(kind="file", path=str(path), realtime=realtime, fps=50.0)
    with open_source(cfg, 160) as src:
        assert len(list(src.frames())) == 5
    assert depths == [MIN_DEPTH if realtime else depth_for(160, 96)]
    assert depth_for(160, 96) > MIN_DEPTH
