"""Turn hand-checked real crops into a visionedge dataset (class folders + manifest.csv).

The footage set this reads (not in the repo; see models/student/README.md) has
``crops/<split>/<class>/<clip>_<frame>[_r].png`` and ``crops/manifest.csv`` (file, clip,
split, class, frame, x0..y1: the motion box). Each crop is resized to SIZE x SIZE, written
to ``OUT/<class>/``, and listed in ``OUT/manifest.csv`` with its clip and box; with
``--teacher`` the teacher's soft labels are stored too (for ``model train --distil``).
The test clips are printed for ``model train --test-clips``; ``OUT/representative.npz``
(300 training crops, seeded) is the calibration set for ``model quantize``. Clips whose licence does not
allow use in a model we ship (non-commercial, or no licence stated) are left out.

``--extra DIR`` adds crops made elsewhere, always to training: a folder in the footage set's
layout (``DIR/manifest.csv`` with paths relative to DIR, e.g. the animal stills of
``still_crops.py``) or a reviewed ``visionedge dataset collect`` folder (``dataset.json``).
Every clip of a collected folder must be recorded in ``--sources`` (default
``models/student/extra_sources.json``: kind "clip", its source, licence and review) with a
licence the same rule lets through: a model we ship names where all its crops came from.

    python models/student/make_dataset.py REALDATA OUT [--teacher MODEL --teacher-labels L]
        [--extra DIR ...]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from visionedge.dataset.manifest import ManifestRow, load_dataset, write_manifest
from visionedge.protocols import Box

SIZE = 128
MARGIN = 0.15  # the footage set's crops: the box grown by 15 % per side
PASSAGE_FRAMES = 50  # no gate openings recorded there: cut clips into 50-frame passages


def collected(root: Path, out: Path) -> list[ManifestRow]:
    """The reviewed crops of a ``visionedge dataset collect`` folder, copied into ``out``."""
    rows = []
    for item in load_dataset(root).items:
        img = cv2.imread(str(root / item.rel), cv2.IMREAD_COLOR)
        name = Path(item.rel).name
        (out / item.label).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(out / item.label / name), cv2.resize(img, (SIZE, SIZE), interpolation=cv2.INTER_AREA))
        assert item.row is not None, f"{root}: {item.rel} has no manifest row"
        rows.append(item.row)
    return rows


def main() -> int:
    """Convert; prints the test clips."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("realdata", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--teacher", default="")
    ap.add_argument("--teacher-labels", default="")
    ap.add_argument("--extra", type=Path, action="append", default=[],
                    help="a crops folder with its own manifest.csv (training only)")
    ap.add_argument("--exclude-licence", action="append", default=None,
                    help="leave out clips whose licence contains this (default: NC, not stated)")
    ap.add_argument("--sources", type=Path, default=Path(__file__).with_name("extra_sources.json"),
                    help="provenance of the collected clips (default: extra_sources.json here)")
    args = ap.parse_args()
    teacher = None
    if args.teacher:
        from visionedge.dataset.teacher import load_teacher

        teacher = load_teacher(args.teacher, labels=args.teacher_labels)
    rows: list[ManifestRow] = []
    test: set[str] = set()
    excluded = args.exclude_licence or ["-NC", "not stated"]
    meta = json.loads((args.realdata / "manifest.json").read_text())["clips"]
    clips = {c["id"]: c["file"] for c in meta}
    skip = {c["id"] for c in meta if any(e in c["licence"] for e in excluded)}
    recorded = {e["id"]: e for e in json.loads(args.sources.read_text()) if e.get("kind") == "clip"}
    for d in args.extra:
        if (d / "dataset.json").is_file():
            got = collected(d, args.out)
            for clip in sorted({r.clip for r in got}):
                entry = recorded.get(clip)
                if entry is None or any(e in entry["licence"] for e in excluded):
                    raise SystemExit(
                        f"{d}: clip {clip} is not recorded in {args.sources} with a licence that "
                        "allows a shipped model (add its source, licence and review there)")
            rows += got
    sources = [(args.realdata / "crops", False)]
    sources += [(d, True) for d in args.extra if not (d / "dataset.json").is_file()]
    for base, extra in sources:
        with (base / "manifest.csv").open(newline="") as f:
            for r in csv.DictReader(f):
                if r["clip"] in skip:
                    continue
                if extra and r["split"] != "train":
                    raise SystemExit(f"{base}: extra crops are for training only, not {r['split']!r}")
                img = cv2.imread(str(base / r["file"]), cv2.IMREAD_COLOR)
                if img is None:
                    continue
                (args.out / r["class"]).mkdir(parents=True, exist_ok=True)
                name = Path(r["file"]).name
                small = cv2.resize(img, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
                cv2.imwrite(str(args.out / r["class"] / name), small)
                inner = MARGIN / (1 + 2 * MARGIN)
                soft = teacher.soft(img, Box(inner, inner, 1 - inner, 1 - inner)) if teacher else {}
                top = max(soft, key=lambda k: soft[k]) if soft else ""
                clip = clips.get(r["clip"], r["clip"])
                if r["split"] == "test":
                    test.add(clip)
                rows.append(ManifestRow(
                    file=name, clip=clip, frame=int(r["frame"]), ts_ms=0,
                    passage=int(r["frame"]) // PASSAGE_FRAMES,
                    box=(float(r["x0"]), float(r["y0"]), float(r["x1"]), float(r["y1"])),
                    rect=(0, 0, img.shape[1], img.shape[0]), teacher_label=top,
                    teacher_score=soft.get(top, 0.0), soft=soft))
    write_manifest(args.out / "manifest.csv", rows)
    train = sorted(r.file for r in rows if r.clip not in test)
    pick = np.random.default_rng(0).permutation(len(train))[:300]
    where = {p.name: p for p in args.out.glob("*/*.png")}
    np.savez(args.out / "representative.npz",
             images=np.stack([cv2.imread(str(where[train[i]])) for i in sorted(pick)]))
    print(f"left out (licence): {', '.join(sorted(clips[c] for c in skip)) or 'none'}",
          file=sys.stderr)
    print(",".join(sorted(test)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
