"""Replay sources: a video file, a folder of images, the generated demo clip.

Video files are decoded by FFmpeg through PyAV (:mod:`visionedge.sources.av_video`): the gate
reads the decoder's own luma plane, and the BGR image is converted only for the frames that
need it. Replay is deterministic: ``ts_ms = round(index * 1000 / fps)`` from the frame index and the
clip's frame rate (the rate the container states; ``source.fps`` when it states none, and
always for image folders). PTS are deliberately not used: backends disagree about
them, and index-derived timestamps make the same clip give the same events everywhere.
Frames come as fast as the consumer takes them, or paced at the clip's rate with
``source.realtime``.

A clip that stops decoding before the frame count its header promises (a truncated or
damaged file) does not end silently: the frames already read have been yielded and
processed, then ``frames()`` raises :class:`~visionedge.errors.SourceError` saying at which
frame it stopped, so the caller can finish its open events and exit with status 4.
"""

from __future__ import annotations

import itertools
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType

import cv2
import numpy as np

from visionedge.config import SourceConfig
from visionedge.errors import SourceError
from visionedge.frame import Frame, Image, Plane
from visionedge.gate.plane import to_motion_plane
from visionedge.sources.av_video import DecodedFrame, VideoDecoder
from visionedge.sources.diagnose import clip_problem, convert_hint
from visionedge.sources.pacing import Pacer
from visionedge.sources.prefetch import MIN_DEPTH, Prefetcher, depth_for
from visionedge.sources.registry import register_source

__all__ = [
    "IMAGE_SUFFIXES",
    "ImageFolderSource",
    "SynthSource",
    "VideoFileSource",
    "replay_ts_ms",
]

IMAGE_SUFFIXES: tuple[str, ...] = (
    ".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".pnm", ".tif", ".tiff", ".webp",
)

_MAX_FPS = 1000.0
_COUNT_SLACK = 2
_COUNT_SLACK_SHARE = 0.01
"""Header frame counts may overstate a little: B-frame delay, and containers without a
frame count, for which FFmpeg estimates it from the duration. A shortfall beyond
max(2 frames, 1 %) means frames were lost."""


_NO_METADATA: Mapping[str, float] = MappingProxyType({})
"""Files have no camera controls; one shared read-only mapping instead of a dict a frame."""


def replay_ts_ms(index: int, fps: float) -> int:
    """The deterministic timestamp of frame ``index`` at ``fps``."""
    return round(index * 1000 / fps)


class _ReplayBase(ABC):
    """What replay sources share: name/clip id/fps, state, context manager, pacing."""

    name: str
    clip_id: str
    fps: float

    def __init__(self, cfg: SourceConfig, gate_width: int) -> None:
        self._cfg = cfg
        self._gate_width = gate_width
        self.frames_read = 0

    @property
    def state(self) -> str:
        """Always ``"ok"``: a replay has no connection to lose."""
        return "ok"

    def __enter__(self) -> _ReplayBase:
        self.probe()
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @abstractmethod
    def probe(self) -> None:
        """Check the input can be replayed; raise SourceError naming the problem."""

    @abstractmethod
    def frames(self) -> Iterator[Frame]:
        """Yield the frames in order."""

    def _frame(self, index: int, plane: Plane, getter: Callable[[], Image]) -> Frame:
        return Frame(
            index, replay_ts_ms(index, self.fps), plane, getter, _NO_METADATA, self.clip_id
        )

    def _image_frame(self, index: int, img: Image) -> Frame:
        """A frame of a picture: BGR, or gray (full range, like any 8-bit gray picture)."""
        plane = to_motion_plane(img, self._gate_width, full_range=True)
        if img.ndim == 3:
            return self._frame(index, plane, lambda: img)

        def getter() -> Image:
            out: Image = np.asarray(cv2.cvtColor(img, cv2.COLOR_GRAY2BGR), np.uint8)
            return out

        return self._frame(index, plane, getter)


class VideoFileSource(_ReplayBase):
    """Replays a video file through FFmpeg (PyAV): the gate gets the decoder's luma plane."""

    def __init__(self, cfg: SourceConfig, gate_width: int, path: Path | None = None) -> None:
        super().__init__(cfg, gate_width)
        self.path = Path(path if path is not None else cfg.path).expanduser()
        self.name = self.clip_id = self.path.name
        self.fps = cfg.fps
        self.frame_count = 0
        self._probed: tuple[VideoDecoder, Iterator[DecodedFrame]] | None = None

    def _open(self) -> VideoDecoder:
        problem = clip_problem(self.path)
        if problem:
            raise SourceError(problem)
        decoder = VideoDecoder(self.path, convert_hint(self.path))
        fps = decoder.fps
        self.fps = fps if math.isfinite(fps) and 0 < fps <= _MAX_FPS else self._cfg.fps
        self.frame_count = decoder.frame_count
        return decoder

    def probe(self) -> None:
        """Open the clip and decode its first frame (kept for :meth:`frames`)."""
        self._release_probe()
        decoder = self._open()
        decoded = decoder.frames()
        first = next(decoded, None)
        if first is None:
            decoder.close()
            raise SourceError(
                f"{self.path}: FFmpeg cannot decode this file (no frames); "
                f"{convert_hint(self.path)}"
            )
        # Opening a container costs tens of milliseconds: the replay goes on from here.
        self._probed = (decoder, itertools.chain([first], decoded))

    def _release_probe(self) -> None:
        if self._probed is not None:
            self._probed[0].close()
            self._probed = None

    def __exit__(self, *exc: object) -> None:
        self._release_probe()

    def frames(self) -> Iterator[Frame]:
        """Decode the whole clip, frame by frame; see the module docstring on errors."""
        if self._probed is not None:
            decoder, decoded_frames = self._probed
            self._probed = None
        else:
            decoder = self._open()
            decoded_frames = decoder.frames()
        width = self._gate_width

        def planes() -> Iterator[tuple[DecodedFrame, Plane]]:
            for decoded in decoded_frames:
                yield decoded, to_motion_plane(decoded.luma, width, full_range=decoded.full_range)

        # Decoding and the plane run ahead on a worker thread, as many frames as the
        # prefetch budget holds at this frame size (sources/prefetch.py). Paced at the clip's
        # rate (`run` on a file, the deployed-like case) the pipeline waits for the clock,
        # not for the decoder, so a lead of MIN_DEPTH frames is enough; the budget's 48
        # frames of 640x360 held 18 MB more for nothing (docs/gate.md, "Resident memory").
        first = next(decoded_frames, None)
        if first is None or self._cfg.realtime:
            depth = MIN_DEPTH
        else:
            depth = depth_for(first.luma.shape[1], first.luma.shape[0])
        if first is not None:
            decoded_frames = itertools.chain([first], decoded_frames)
        ahead = Prefetcher(planes(), depth=depth, name=f"decode {self.clip_id}")
        pacer = Pacer() if self._cfg.realtime else None
        fps, clip_id = self.fps, self.clip_id
        index = 0
        try:
            for decoded, plane in ahead:
                # _frame inlined (positional, replay_ts_ms's formula): this runs every frame.
                frame = Frame(
                    index, round(index * 1000 / fps), plane, decoded.image, _NO_METADATA, clip_id
                )
                if pacer is not None:
                    pacer.wait(frame.ts_ms)
                self.frames_read = index + 1
                yield frame
                index += 1
        finally:
            # Never close the container under a decode still running: leak it instead.
            if ahead.stop():
                decoder.close()
        if index == 0:
            raise SourceError(
                f"{self.path}: FFmpeg cannot decode this file (no frames); "
                f"{convert_hint(self.path)}"
            )
        slack = max(_COUNT_SLACK, round(self.frame_count * _COUNT_SLACK_SHARE))
        if self.frame_count and index < self.frame_count - slack:
            raise SourceError(
                f"{self.path}: decoding ended after {index} of the {self.frame_count} frames it "
                "announces "
                f"(truncated or damaged file; the {index} frames read were processed); "
                f"re-copy the clip or {convert_hint(self.path)}"
            )


def _natural_key(p: Path) -> list[tuple[int, int | str]]:
    # frame_2 before frame_10; ties keep a total order through the plain name.
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", p.name)]


class ImageFolderSource(_ReplayBase):
    """Replays the images of a folder in natural name order at ``source.fps``."""

    def __init__(self, cfg: SourceConfig, gate_width: int) -> None:
        super().__init__(cfg, gate_width)
        self.path = Path(cfg.path).expanduser()
        self.name = self.clip_id = self.path.name
        self.fps = cfg.fps
        self.files: list[Path] = []

    def _list(self) -> list[Path]:
        if not self.path.exists():
            raise SourceError(f"{self.path}: image folder not found; check source.path")
        if not self.path.is_dir():
            raise SourceError(
                f"{self.path}: is a file, not a folder; to replay a video file set "
                'source.kind = "file"'
            )
        try:
            files = [
                p for p in self.path.iterdir()
                if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()
            ]
        except OSError as exc:
            raise SourceError(
                f"{self.path}: cannot list the folder ({exc.strerror}); check its permissions"
            ) from exc
        if not files:
            raise SourceError(
                f"{self.path}: no images in this folder (looked for "
                f"{', '.join(IMAGE_SUFFIXES)}); put the frames there or fix source.path"
            )
        return sorted(files, key=lambda p: (_natural_key(p), p.name))

    def _read(self, path: Path, index: int) -> Image:
        img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise SourceError(
                f"{path}: cannot read image {index} of the folder (empty, damaged or not an "
                "image); replace or remove it"
            )
        if img.dtype != np.uint8:
            raise SourceError(
                f"{path}: image is {img.dtype}, not 8-bit; convert it, e.g. with "
                f"ffmpeg -i {path.name} -pix_fmt rgb24 {path.stem}_8bit.png"
            )
        if img.ndim == 3 and img.shape[2] == 4:
            img = np.asarray(cv2.cvtColor(img, cv2.COLOR_BGRA2BGR), np.uint8)
        elif img.ndim == 3 and img.shape[2] == 1:
            img = img[:, :, 0]
        return np.ascontiguousarray(img)

    def probe(self) -> None:
        """List the images and read the first."""
        self.files = self._list()
        self._read(self.files[0], 0)

    def frames(self) -> Iterator[Frame]:
        """Read the images one by one; an unreadable one raises after the earlier frames."""
        files = self._list()
        self.files = files
        pacer = Pacer() if self._cfg.realtime else None
        first_shape: tuple[int, int] | None = None
        for index, path in enumerate(files):
            img = self._read(path, index)
            shape = (img.shape[1], img.shape[0])
            if first_shape is None:
                first_shape = shape
            elif shape != first_shape:
                raise SourceError(
                    f"{path}: image is {shape[0]}x{shape[1]} but the first image is "
                    f"{first_shape[0]}x{first_shape[1]}; all images of a folder must have "
                    "one size"
                )
            frame = self._image_frame(index, img)
            if pacer is not None:
                pacer.wait(frame.ts_ms)
            self.frames_read = index + 1
            yield frame


@register_source("file")
def _file_source(cfg: SourceConfig, gate_width: int) -> VideoFileSource:
    return VideoFileSource(cfg, gate_width)


@register_source("images")
def _images_source(cfg: SourceConfig, gate_width: int) -> ImageFolderSource:
    return ImageFolderSource(cfg, gate_width)


class SynthSource(VideoFileSource):
    """Plays the generated demo clip as a file; it is generated (once, cached) on open."""

    def __init__(self, cfg: SourceConfig, gate_width: int) -> None:
        from visionedge.synth import demo_clip_name

        super().__init__(cfg, gate_width, Path(demo_clip_name()))

    def _open(self) -> VideoDecoder:
        from visionedge.synth import demo_clip_path

        self.path = demo_clip_path()
        return super()._open()


@register_source("synth")
def _synth_source(cfg: SourceConfig, gate_width: int) -> SynthSource:
    return SynthSource(cfg, gate_width)
