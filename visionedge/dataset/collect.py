"""``dataset collect``: run the gate over clips and keep distinct crops of what moved.

For each clip, frames go through :func:`visionedge.sources.open_source` and
:class:`visionedge.gate.FrameDifferenceGate` exactly as in the daemon. While the gate is
open, on every ``every``-th frame, the ``regions`` largest motion regions (the first is
what the pipeline classifies) are each cut with the classifier's geometry (:func:`visionedge.classify.preprocess.crop_rect`, square,
``margin``) and scaled to ``size`` x ``size``; a wider context crop (``context_margin``) is
kept beside it for review. A crop is kept only if it differs from every crop already kept
in the same passage: the mean absolute difference of their normalised 16 x 16 gray
thumbnails is at least ``min_change``; at most ``max_per_passage`` per passage. A passage is
a gate opening, cut every ``passage_s`` seconds in a busy scene where the gate never closes.
So one car crossing gives a handful of crops, not thirty copies of itself.

With ``objects`` (``--objects``), crops are of **tracked objects**, cut as the default
preset's object mode cuts them: the gate's regions go through the same
:class:`~visionedge.objects.track.ObjectTracker` as in the daemon, and on every ``every``-th
frame each object seen there is cut on its box grown to ``crop_px`` frame pixels
(:func:`~visionedge.objects.crop.grow_to`), unless its box covers less than
``min_fill_pct`` of that crop (the daemon does not classify it then either). De-duplication
and ``max_per_passage`` then count per object, and the manifest names the object
(``object_id``): the crops a user labels are the crops the daemon labels. A cascade teacher
pre-labels them as object mode does, second look included
(:meth:`~visionedge.classify.cascade.CascadeClassifier.classify_object_image`).

The teacher (optional) pre-labels each crop into ``<class>/``, or ``unsure/`` when its top
score is below ``unsure_below``. Without a teacher every crop goes to ``unsure/``. Output is
deterministic: same clips, options and teacher give the same files and manifest.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from visionedge.dataset.manifest import (
    CONTEXT_DIR,
    MANIFEST,
    UNSURE_DIR,
    ManifestRow,
    write_manifest,
)
from visionedge.dataset.teacher import CLASSES, Teacher
from visionedge.errors import DatasetError
from visionedge.frame import Image

__all__ = ["CLIP_SUFFIXES", "CollectOptions", "collect", "find_clips"]

CLIP_SUFFIXES = (".avi", ".mp4", ".mkv", ".mov", ".webm", ".m4v", ".mjpg", ".mjpeg", ".mpg",
                 ".mpeg", ".ts", ".h264")


@dataclass
class CollectOptions:
    """How crops are chosen (all recorded in ``dataset.json``)."""

    size: int = 128
    every: int = 2
    regions: int = 3
    passage_s: float = 5.0
    margin: float = 0.15
    context_margin: float = 1.0
    min_change: float = 0.35
    max_per_passage: int = 8
    min_box_px: int = 12
    unsure_below: float = 0.6
    objects: bool = False
    """Crops of tracked objects, as object mode cuts them (see the module doc)."""
    crop_px: int = 128
    """``objects``: an object's box is grown to this many frame pixels (the default preset's
    ``objects.min_crop_px``)."""
    min_fill_pct: int = 3
    """``objects``: boxes covering less of their grown crop are not cut (the default preset's
    ``objects.min_fill_pct``)."""


def find_clips(inputs: Sequence[Path]) -> list[tuple[str, Path]]:
    """(kind, path) for each input: ``file`` for a video, ``images`` for a folder of images;
    a folder holding videos contributes each video (sorted)."""
    from visionedge.sources.replay import IMAGE_SUFFIXES as FRAME_SUFFIXES

    out: list[tuple[str, Path]] = []
    for p in inputs:
        if p.is_file():
            out.append(("file", p))
        elif p.is_dir():
            videos = sorted(f for f in p.iterdir()
                            if f.is_file() and f.suffix.lower() in CLIP_SUFFIXES)
            if videos:
                out += [("file", v) for v in videos]
            elif any(f.suffix.lower() in FRAME_SUFFIXES for f in p.iterdir()):
                out.append(("images", p))
            else:
                raise DatasetError(f"{p}: holds no video clips and no images; pass clips or "
                                   "a folder of frames")
        else:
            raise DatasetError(f"{p}: no such clip or folder; check the path")
    names = [q.name for _, q in out]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise DatasetError(f"two clips are named {dup}; clip names identify clips in the "
                           "manifest, rename one")
    return out


def _thumb(crop: Image) -> npt.NDArray[np.float32]:
    g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    t = np.asarray(cv2.resize(g, (16, 16), interpolation=cv2.INTER_AREA), np.float32)
    out: npt.NDArray[np.float32] = (t - t.mean()) / (t.std() + 8.0)
    return out  # +8: flat crops do not blow up into noise


def _cut(image: Image, rect: tuple[int, int, int, int], size: int) -> Image:
    from visionedge.classify.preprocess import crop_resize

    return crop_resize(image, rect, size, size)


def _write(path: Path, img: Image) -> None:
    if not cv2.imwrite(str(path), img):
        raise DatasetError(f"{path}: cannot write; check the folder is writable")


def _one(
    image: Image, box: Any, frame: Any, kept: list[npt.NDArray[np.float32]],
    opt: CollectOptions, teacher: Teacher | None, out: Path, clip: str, passage: int,
    object_id: int = 0, own: Any = None,
) -> ManifestRow | None:
    """Crop, de-duplicate, pre-label and write one motion region (or object's grown box);
    None when skipped."""
    from visionedge.classify.preprocess import crop_rect

    fh, fw = image.shape[:2]
    if min((box.x1 - box.x0) * fw, (box.y1 - box.y0) * fh) < opt.min_box_px:
        return None
    rect = crop_rect(box, fw, fh, 1.0, opt.margin)
    crop = _cut(image, rect, opt.size)
    thumb = _thumb(crop)
    if kept and min(float(np.mean(np.abs(thumb - k))) for k in kept) < opt.min_change:
        return None
    kept.append(thumb)
    mark = own if own is not None else box  # the manifest's box: what moved, not the crop
    if teacher is None:
        soft: dict[str, float] = {}
    elif own is not None and hasattr(teacher, "soft_object"):
        soft = teacher.soft_object(image, box, own)  # an object's crop: the cascade's second look
    else:
        soft = teacher.soft(image, box)
    top = max(CLASSES, key=lambda c: (soft.get(c, 0.0), c)) if soft else ""
    score = soft.get(top, 0.0)
    folder = top if top and score >= opt.unsure_below else UNSURE_DIR
    name = (f"{Path(clip).stem}_f{frame.index:06d}_o{object_id}.png" if object_id
            else f"{Path(clip).stem}_f{frame.index:06d}_{rect[0]}_{rect[1]}.png")
    (out / folder).mkdir(exist_ok=True)
    _write(out / folder / name, crop)
    ctx = crop_rect(box, fw, fh, 1.0, opt.context_margin)
    _write(out / CONTEXT_DIR / name, _cut(image, ctx, opt.size))
    return ManifestRow(
        file=name, clip=clip, frame=frame.index, ts_ms=frame.ts_ms, passage=passage,
        box=(mark.x0, mark.y0, mark.x1, mark.y1), rect=rect, teacher_label=top,
        teacher_score=score, soft=soft, object_id=object_id,
    )


def collect(
    inputs: Sequence[Path],
    out: Path,
    *,
    teacher: Teacher | None = None,
    options: CollectOptions | None = None,
    gate_config: Any = None,
    objects_config: Any = None,
    log: Callable[[str], None] = print,
) -> list[ManifestRow]:
    """Collect crops from ``inputs`` into the new dataset folder ``out``; returns the rows.

    ``objects_config`` (an ``[objects]`` config section) sets the tracker of ``objects``
    mode; default: the daemon's defaults."""
    from visionedge.config import GateConfig, ObjectsConfig, SourceConfig
    from visionedge.gate import FrameDifferenceGate
    from visionedge.sources import open_source

    opt = options or CollectOptions()
    gcfg = gate_config or GateConfig()
    ocfg = objects_config or ObjectsConfig()
    clips = find_clips(inputs)
    if out.exists() and any(out.iterdir()):
        raise DatasetError(f"{out}: exists and is not empty; collect into a new --out folder "
                           "(collect never overwrites a dataset you may have relabelled)")
    out.mkdir(parents=True, exist_ok=True)
    (out / CONTEXT_DIR).mkdir()
    rows: list[ManifestRow] = []
    for kind, path in clips:
        gate = FrameDifferenceGate(gcfg)
        passage = -1
        passage_start = 0
        kept: list[npt.NDArray[np.float32]] = []
        n_clip = 0
        tracking = _Tracking(ocfg) if opt.objects else None
        image_size: tuple[int, int] | None = None
        with open_source(SourceConfig.model_validate({"kind": kind, "path": str(path)}), gcfg.width) as src:
            for frame in src.frames():
                result = gate.process(frame)
                if result.opened or (
                    result.motion and frame.ts_ms - passage_start > opt.passage_s * 1000
                ):
                    passage += 1
                    passage_start = frame.ts_ms
                    kept = []
                if tracking is not None:
                    if image_size is None:
                        fh, fw = frame.image().shape[:2]
                        image_size = (fh, fw)
                    cuts = tracking.step(frame, result, opt, image_size)
                    image = frame.image() if cuts else None
                    for box, own, oid, seen in cuts:
                        if image is not None and len(seen) < opt.max_per_passage:
                            row = _one(image, box, frame, seen, opt, teacher, out, path.name,
                                       max(passage, 0), oid, own)
                            if row is not None:
                                rows.append(row)
                                n_clip += 1
                    continue
                if not result.motion or not result.regions or passage < 0:
                    continue
                if result.reason and not result.opened:
                    continue  # a rejected frame (light switch) shows no object
                if frame.index % opt.every:
                    continue
                image = frame.image()
                for box in result.regions[: opt.regions]:
                    if len(kept) >= opt.max_per_passage:
                        break
                    row = _one(image, box, frame, kept, opt, teacher, out, path.name, passage)
                    if row is not None:
                        rows.append(row)
                        n_clip += 1
        if tracking is not None:
            log(f"collect: {path.name}: {n_clip} crops of {tracking.objects} tracked objects")
        else:
            log(f"collect: {path.name}: {n_clip} crops from {passage + 1} passages")
    write_manifest(out / MANIFEST, rows)
    (out / "dataset.json").write_text(json.dumps({
        "format": "visionedge-dataset/1",
        "clips": [p.name for _, p in clips],
        "teacher": teacher.name if teacher is not None else None,
        "classes": list(CLASSES),
        "options": asdict(opt),
        "gate": gcfg.model_dump(mode="json"),
    }, indent=1) + "\n")
    return rows


class _Tracking:
    """The daemon's object tracker over one clip, for ``objects`` mode: which objects to cut."""

    def __init__(self, cfg: Any) -> None:
        self.cfg = cfg
        self.tracker: Any = None
        self.kept: dict[int, list[npt.NDArray[np.float32]]] = {}
        self.objects = 0

    def step(
        self, frame: Any, result: Any, opt: CollectOptions, image_size: tuple[int, int]
    ) -> list[tuple[Any, Any, int, list[npt.NDArray[np.float32]]]]:
        """(grown box, own box, object id, that object's kept thumbnails) for each object to
        cut now;
        ``image_size`` is the full image's (height, width)."""
        from visionedge.objects.crop import fill_pct, grow_to
        from visionedge.objects.geometry import box_to_px, px_to_box
        from visionedge.objects.track import ObjectTracker, TrackState

        h, w = frame.plane.shape[:2]
        if self.tracker is None:
            self.tracker = ObjectTracker(self.cfg, w, h)
        blind = bool(result.reason) and not result.opened
        step = self.tracker.update([box_to_px(b, w, h) for b in result.regions], frame.index,
                                   frame.ts_ms, blind=blind)
        self.objects += len(step.confirmed)
        if frame.index % opt.every or not step.tracks:
            return []
        out = []
        fh, fw = image_size
        for t in step.tracks:
            if t.state is not TrackState.SEEN:
                continue
            box = px_to_box(t.box, w, h)
            if fill_pct(box, fw, fh, opt.crop_px) < opt.min_fill_pct:
                continue
            out.append((grow_to(box, fw, fh, opt.crop_px), box, t.object_id,
                        self.kept.setdefault(t.object_id, [])))
        return out
