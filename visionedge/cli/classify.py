"""``visionedge classify IMAGE...``: the top-k labels of still images (what one tries first)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from visionedge.cli._args import accept_negative_ranges, input_range_type
from visionedge.errors import ConfigError, SourceError


def register(sub: Any) -> None:
    """Add the ``classify`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "classify",
        help="print the top labels of still images",
        description="Classify still images (the whole image, centre-cropped to the model's "
        "aspect) and print the top-k labels with their dequantized scores.",
    )
    accept_negative_ranges(p)
    p.add_argument("images", nargs="+", metavar="IMAGE", help="image files (JPEG, PNG, ...)")
    p.add_argument(
        "--model",
        help="a preset name (visionedge model list) or a .tflite model (default: the config's "
        "classifier.model, else the default preset)",
    )
    p.add_argument("--labels", help="its labels file (default: next to the model)")
    p.add_argument("--top-k", type=int, default=None, help="labels per image (default 3)")
    p.add_argument(
        "--threshold",
        type=float,
        default=0.0,
        help="hide labels scoring below this (default 0: show the top-k as they are)",
    )
    p.add_argument(
        "--input-range",
        type=input_range_type,
        metavar="MIN,MAX",
        help="real-value range the model was trained on, e.g. -1,1 (overrides metadata and config)",
    )
    p.add_argument(
        "--backend",
        choices=["auto", "ai_edge_litert", "tflite_runtime", "tensorflow"],
        help="TFLite runtime (default auto)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="take the classifier section of this config (flags override it)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object per image")
    p.set_defaults(func=_run)


def _read_image(path: str) -> Any:
    import cv2

    p = Path(path)
    if not p.is_file():
        raise SourceError(f"{p}: image not found; check the path")
    image = cv2.imread(str(p), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(
            f"{p}: cannot decode the image; give a JPEG, PNG, BMP or another format OpenCV reads"
        )
    return image


def _run(args: argparse.Namespace) -> int:
    from visionedge.classify import load_classifier
    from visionedge.config import load_config

    base = load_config(args.config).classifier if args.config else None
    updates: dict[str, Any] = {"threshold": args.threshold}
    if base is None:
        # Without a config, show the model's raw top-k: no ignore list.
        updates["ignore"] = []
    if args.model:
        updates["model"] = args.model
        updates["labels"] = args.labels or ""
    elif args.labels:
        updates["labels"] = args.labels
    if args.top_k is not None:
        updates["top_k"] = args.top_k
    if args.backend:
        updates["backend"] = args.backend
    from pydantic import ValidationError

    from visionedge.config import ClassifierConfig

    try:
        cfg = ClassifierConfig.model_validate(
            {**(base.model_dump(exclude_unset=True) if base else {}), **updates}
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(x) for x in err["loc"])
        raise ConfigError(
            f"classify option {where}: {err['msg']} (got {err.get('input')!r})"
        ) from None
    for path in args.images:
        if not Path(path).is_file():
            raise SourceError(f"{path}: image not found; check the path")
    classifier = load_classifier(cfg, input_range_override=args.input_range)
    for path in args.images:
        image = _read_image(path)
        result = classifier.classify_image(image)
        if args.json:
            top = [{"label": p.label, "index": p.index, "score": p.score} for p in result.top]
            row: dict[str, Any] = {"image": path, "top": top}
            if result.raw_label:
                row["raw_label"], row["raw_score"] = result.raw_label, result.raw_score
            print(json.dumps(row, ensure_ascii=False))
        else:
            print(path)
            if not result.top:
                print("  (no label reached the threshold)")
            for p in result.top:
                print(f"  {p.score:7.4f}  {p.label}  [{p.index}]")
            if result.raw_label and result.raw_score is not None:
                print(f"  (model: {result.raw_label} {result.raw_score:.4f})")
        sys.stdout.flush()
    return 0
