"""``visionedge dataset ...``: build a crop dataset from footage, look at it, count it.

    visionedge dataset collect CLIP_OR_DIR... --out DATA [--teacher MODEL] [--config FILE] [--objects]
    visionedge dataset review DATA
    visionedge dataset stats DATA

Training on it is ``visionedge model train DATA --out WORK`` (split by clip).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from visionedge.dataset.manifest import Dataset


def register(sub: Any) -> None:
    """Add the ``dataset`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "dataset", help="collect crops of what moved from clips, review and count them"
    )
    dsub = p.add_subparsers(dest="dataset_command", metavar="STEP")
    dsub.required = True

    c = dsub.add_parser("collect", help="run the gate over clips and save distinct crops")
    c.add_argument("inputs", type=Path, nargs="+", metavar="CLIP_OR_DIR",
                   help="video files, folders of videos, or folders of frames")
    c.add_argument("--out", type=Path, required=True, help="new dataset folder")
    c.add_argument("--teacher", default="",
                   help="model that pre-labels the crops: a .tflite classifier or segmenter, or "
                   "a preset name (default: none, every crop goes to unsure/)")
    c.add_argument("--teacher-labels", default="", help="the teacher's labels file")
    c.add_argument("--label-map", type=Path, default=None,
                   help="JSON {class: [teacher labels]} (default: PASCAL/COCO names)")
    c.add_argument("--config", metavar="FILE", default=None,
                   help="TOML config whose [gate] and classifier.margin are used")
    c.add_argument("--size", type=int, default=128, help="crop side in pixels (default 128)")
    c.add_argument("--every", type=int, default=2, help="look at every Nth moving frame")
    c.add_argument("--regions", type=int, default=3,
                   help="motion regions cropped per frame, largest first")
    c.add_argument("--max-per-passage", type=int, default=8,
                   help="at most this many crops per gate opening")
    c.add_argument("--min-change", type=float, default=0.35,
                   help="how different a crop must be from those kept (0..2)")
    c.add_argument("--unsure-below", type=float, default=0.6,
                   help="teacher scores below this go to unsure/")
    c.add_argument("--objects", action="store_true",
                   help="crops of tracked objects, as the default preset's object mode cuts "
                   "them (box grown to --crop-px), de-duplicated per object")
    c.add_argument("--crop-px", type=int, default=128,
                   help="--objects: grow each object's box to this many frame pixels (default "
                   "128, the default preset's)")
    c.set_defaults(func=_collect)

    r = dsub.add_parser("review", help="write contact sheets per class into DATA/_review/")
    r.add_argument("data", type=Path)
    r.set_defaults(func=_review)

    s = dsub.add_parser("stats", help="count crops per class and per clip")
    s.add_argument("data", type=Path)
    s.set_defaults(func=_stats)


def _collect(args: argparse.Namespace) -> int:
    from visionedge.config import load_config
    from visionedge.dataset.collect import CollectOptions, collect
    from visionedge.dataset.teacher import load_teacher
    from visionedge.errors import DatasetError

    for name, value, lo in (("--size", args.size, 16), ("--every", args.every, 1),
                            ("--max-per-passage", args.max_per_passage, 1),
                            ("--regions", args.regions, 1), ("--crop-px", args.crop_px, 16)):
        if value < lo:
            raise DatasetError(f"{name} {value} is too small; give at least {lo}")
    config = load_config(args.config)
    opt = CollectOptions(size=args.size, every=args.every, regions=args.regions, margin=config.classifier.margin,
                         min_change=args.min_change, max_per_passage=args.max_per_passage,
                         unsure_below=args.unsure_below, objects=args.objects,
                         crop_px=args.crop_px)
    teacher = (load_teacher(args.teacher, labels=args.teacher_labels, label_map=args.label_map)
               if args.teacher else None)
    rows = collect(args.inputs, args.out, teacher=teacher, options=opt, gate_config=config.gate,
                   objects_config=config.objects)
    print(f"collect: {len(rows)} crops -> {args.out} (review: visionedge dataset review "
          f"{args.out})")
    return 0


def _review(args: argparse.Namespace) -> int:
    from visionedge.dataset.manifest import load_dataset
    from visionedge.dataset.review import contact_sheets

    ds = load_dataset(args.data, min_classes=1)
    for path in contact_sheets(ds):
        print(path)
    _one_class_note(ds)
    return 0


def _stats(args: argparse.Namespace) -> int:
    from visionedge.dataset.manifest import load_dataset
    from visionedge.dataset.review import stats_table

    ds = load_dataset(args.data, min_classes=1)
    print(stats_table(ds))
    _one_class_note(ds)
    return 0


def _one_class_note(ds: Dataset) -> None:
    """Say on stderr that a one-class dataset cannot be trained yet, and what to do."""
    if len(ds.classes) < 2:
        print(f"visionedge: note: {ds.root}: one class ({ds.classes[0]}); training needs at least "
              "two: move crops that are something else into a folder of their own (e.g. "
              "background/), or collect more clips", file=sys.stderr)
