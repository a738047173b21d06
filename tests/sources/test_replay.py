"""Replay sources: deterministic frames from real files decoded by FFmpeg, clear errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from visionedge.config import SourceConfig
from visionedge.errors import SourceError
from visionedge.frame import Frame
from visionedge.gate.plane import to_motion_plane
from visionedge.protocols import FrameSource
from visionedge.sources import open_source, replay_ts_ms
from visionedge.sources.pacing import Pacer
from visionedge.synth import GroundTruth


def _read_all(cfg: SourceConfig, width: int = 80) -> list[Frame]:
    with open_source(cfg, width) as src:
        return list(src.frames())


def test_file_replay_is_deterministic_and_timestamps_come_from_the_index(
    small_clip: tuple[Path, GroundTruth],
) -> None:
    path, truth = small_clip
    cfg = SourceConfig(kind="file", path=str(path))
    a = _read_all(cfg)
    b = _read_all(cfg)
    assert len(a) == len(b) == len(truth.frames) == 80
    for fa, fb in zip(a, b, strict=True):
        assert fa.index == fb.index
        assert fa.ts_ms == fb.ts_ms == replay_ts_ms(fa.index, 10.0) == fa.index * 100
        assert np.array_equal(fa.plane, fb.plane)
        assert fa.source == "small.avi"
    # The plane is the documented downscale of the decoder's own luma plane (MJPEG: full
    # range, so mapped to limited range); the image is full size BGR, converted on demand,
    # and its gray gives nearly the same plane (chroma rounding only).
    import av

    with av.open(str(path)) as container:
        decoded = [f for _, f in zip(range(6), container.decode(video=0), strict=False)][5]
    assert decoded.format.name == "yuvj420p"
    y = decoded.to_ndarray(format="gray")
    assert np.array_equal(a[5].plane, to_motion_plane(y, 80, full_range=True))
    img = a[5].image()
    assert img.shape == (96, 160, 3) and img.dtype == np.uint8
    from_bgr = to_motion_plane(img, 80).astype(np.int16)
    assert float(np.abs(from_bgr - a[5].plane).mean()) < 1.5
    assert a[5].plane.shape == (48, 80)


def test_file_source_exposes_clip_id_fps_and_protocol(small_clip: tuple[Path, GroundTruth]) -> None:
    path, _ = small_clip
    src = open_source(SourceConfig(kind="file", path=str(path), fps=25.0), 160)
    assert isinstance(src, FrameSource)
    with src:
        assert src.state == "ok"
        assert src.clip_id == "small.avi"  # type: ignore[attr-defined]
        # The container states 10 fps; source.fps is only the fallback.
        assert src.fps == 10.0  # type: ignore[attr-defined]
        first = next(iter(src.frames()))
    assert first.index == 0 and first.ts_ms == 0


def test_decoded_frames_match_the_generated_pixels(small_clip: tuple[Path, GroundTruth]) -> None:
    # Real decoding of the real file: JPEG at quality 95 keeps the luma (what the gate reads)
    # within about 1.5 levels of what was drawn (chroma subsampling costs more in colour).
    from visionedge.synth import render_frames, small_scene

    path, _ = small_clip
    frames = _read_all(SourceConfig(kind="file", path=str(path)), 160)
    for (drawn, _truth), decoded in zip(
        render_frames(small_scene(seed=3, width=160, height=96)), frames, strict=True
    ):
        y_drawn = cv2.cvtColor(drawn, cv2.COLOR_BGR2GRAY).astype(np.int16)
        y_decoded = cv2.cvtColor(decoded.image(), cv2.COLOR_BGR2GRAY).astype(np.int16)
        assert float(np.abs(y_drawn - y_decoded).mean()) < 2.5


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("missing.avi", None, "clip not found"),
        ("zero.avi", b"", "empty (0 bytes)"),
        ("random.avi", bytes(np.random.default_rng(7).integers(1, 256, 4096, dtype=np.uint8)), "not a recognised video container"),
        ("notes.avi", b"these are my notes, not a video\n" * 20, "is a text file, not a video"),
        ("fake.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(200), "FFmpeg cannot"),
    ],
)
def test_bad_clips_raise_a_distinct_one_line_error_naming_the_file(
    tmp_path: Path, name: str, content: bytes | None, expected: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(SourceError) as err, open_source(SourceConfig(kind="file", path=str(path)), 80):
        pass
    msg = str(err.value)
    assert expected in msg
    assert str(path) in msg and "\n" not in msg
    assert err.value.exit_code == 4


def test_every_bad_clip_message_differs(tmp_path: Path) -> None:
    (tmp_path / "zero.avi").write_bytes(b"")
    (tmp_path / "text.avi").write_text("hello\n")
    (tmp_path / "rand.avi").write_bytes(bytes(range(1, 256)) * 8)
    (tmp_path / "empty").mkdir()
    messages = set()
    cases = [
        ("file", tmp_path / "missing.avi"),
        ("file", tmp_path / "zero.avi"),
        ("file", tmp_path / "text.avi"),
        ("file", tmp_path / "rand.avi"),
        ("file", tmp_path / "empty"),
        ("images", tmp_path / "empty"),
    ]
    for kind, path in cases:
        with pytest.raises(SourceError) as err, open_source(SourceConfig(kind=kind, path=str(path)), 80):
            pass
        messages.add(str(err.value).replace(str(path), "<path>"))
    assert len(messages) == len(cases)


def test_a_truncated_clip_yields_what_it_read_then_raises(
    small_clip: tuple[Path, GroundTruth], tmp_path: Path
) -> None:
    path, _ = small_clip
    data = path.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    got: list[int] = []
    with (
        pytest.raises(SourceError, match=r"decoding ended after \d+ of the 80 frames") as err,
        open_source(SourceConfig(kind="file", path=str(cut)), 80) as src,
    ):
        for frame in src.frames():
            got.append(frame.index)
    assert 20 <= len(got) < 80
    assert got == list(range(len(got)))
    assert f"the {len(got)} frames read were processed" in str(err.value)


def _write_images(folder: Path, names: list[str], size: tuple[int, int] = (64, 40)) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        img = np.full((size[1], size[0], 3), 10 * i, np.uint8)
        assert cv2.imwrite(str(folder / name), img)


def test_image_folder_plays_in_natural_name_order_at_the_configured_rate(tmp_path: Path) -> None:
    names = ["f_10.png", "f_2.png", "f_1.png", "f_3.jpg"]
    _write_images(tmp_path / "shots", names)
    (tmp_path / "shots" / "readme.txt").write_text("not an image")
    frames = _read_all(SourceConfig(kind="images", path=str(tmp_path / "shots"), fps=4.0), 64)
    assert [f.ts_ms for f in frames] == [0, 250, 500, 750]
    # f_1 (value 20), f_2 (10), f_3 (30), f_10 (0), as limited-range luma 16 + 219 v / 255
    assert [int(f.plane[0, 0]) for f in frames] == [33, 25, 42, 16]
    assert all(f.source == "shots" for f in frames)


def test_image_folder_accepts_gray_images(tmp_path: Path) -> None:
    folder = tmp_path / "gray"
    folder.mkdir()
    for i in range(3):
        cv2.imwrite(str(folder / f"frame_{i:06d}.pgm"), np.full((30, 40), 50 + i, np.uint8))
    frames = _read_all(SourceConfig(kind="images", path=str(folder)), 40)
    # Gray pictures are full range: 16 + round(219 v / 255).
    assert [int(f.plane[0, 0]) for f in frames] == [59, 60, 61]
    assert frames[1].image().shape == (30, 40, 3)


def test_image_folder_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x")
    with pytest.raises(SourceError, match="no images in this folder"):
        _read_all(SourceConfig(kind="images", path=str(empty)))
    with pytest.raises(SourceError, match="image folder not found"):
        _read_all(SourceConfig(kind="images", path=str(tmp_path / "nope")))
    clip = tmp_path / "clip.avi"
    clip.write_bytes(b"RIFF")
    with pytest.raises(SourceError, match=r'is a file, not a folder.*kind = "file"'):
        _read_all(SourceConfig(kind="images", path=str(clip)))


def test_an_unreadable_image_ends_the_replay_after_the_good_ones(tmp_path: Path) -> None:
    folder = tmp_path / "seq"
    _write_images(folder, ["a1.png", "a2.png"])
    (folder / "a3.png").write_bytes(b"\x89PNG broken")
    got: list[int] = []
    with (
        pytest.raises(SourceError, match=r"a3\.png: cannot read image 2"),
        open_source(SourceConfig(kind="images", path=str(folder)), 64) as src,
    ):
        for frame in src.frames():
            got.append(frame.index)
    assert got == [0, 1]


def test_images_of_different_sizes_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    _write_images(folder, ["1.png"], (64, 40))
    _write_images(folder, ["2.png"], (32, 20))
    with pytest.raises(SourceError, match="must have one size"):
        _read_all(SourceConfig(kind="images", path=str(folder)))


def test_synth_kind_plays_the_cached_demo_clip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    src = open_source(SourceConfig(kind="synth"), 320)
    with src:
        frames = list(src.frames())
    truth = GroundTruth.load(tmp_path / "cache" / "visionedge" / src.clip_id)  # type: ignore[attr-defined]
    assert len(frames) == len(truth.frames) == 300
    assert frames[-1].ts_ms == 29900
    assert frames[0].plane.shape == (180, 320)
    assert frames[0].source == truth.clip == src.clip_id  # type: ignore[attr-defined]


def test_realtime_pacing_sleeps_until_each_timestamp() -> None:
    now = [100.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(round(s, 6))
        now[0] += s

    pacer = Pacer(clock=lambda: now[0], sleep=sleep)
    pacer.wait(0)
    pacer.wait(100)
    now[0] += 0.03  # the consumer took 30 ms
    pacer.wait(200)
    now[0] += 0.5  # a slow consumer: no sleep, no skipping
    pacer.wait(300)
    assert slept == [0.1, 0.07]


def test_realtime_replay_takes_at_least_the_clip_duration(tmp_path: Path) -> None:
    folder = tmp_path / "rt"
    _write_images(folder, [f"{i}.png" for i in range(4)])
    import time

    t0 = time.monotonic()
    frames = _read_all(SourceConfig(kind="images", path=str(folder), fps=20.0, realtime=True), 64)
    elapsed = time.monotonic() - t0
    assert len(frames) == 4
    # Behaviour, not speed: three 50 ms frame intervals cannot pass in less than 150 ms.
    assert elapsed >= 0.149


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files without read permission")
def test_unreadable_clip_names_permissions(small_clip: tuple[Path, GroundTruth], tmp_path: Path) -> None:
    path, _ = small_clip
    locked = tmp_path / "locked.avi"
    shutil.copy(path, locked)
    locked.chmod(0)
    with pytest.raises(SourceError, match="check its permissions"):
        _read_all(SourceConfig(kind="file", path=str(locked)))


def test_every_configurable_kind_has_a_registered_source() -> None:
    from typing import get_args

    from visionedge.sources import register_source, source_kinds

    kinds = get_args(SourceConfig.model_fields["kind"].annotation)
    assert sorted(kinds) == list(source_kinds())
    # A plugin registers a new kind with one decorator; a kind cannot be taken twice.
    with pytest.raises(ValueError, match="registered twice"):
        register_source("file")(lambda cfg, w: None)  # type: ignore[arg-type,return-value]
