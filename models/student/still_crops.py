"""Animal crops from real still photos (camera-trap stills, pet photos) for the training split.

Stills have no motion for the gate to find, so the box comes from the teacher instead: the
PASCAL segmenter's animal pixels (bird, cat, cow, dog, horse, sheep), largest connected
blob, or a box drawn by hand (``box_xyxy``) where the segmenter misses (night IR stills). Each
box is cut as the footage set's crops are (box + 15 % per side), plus one wider context
crop (1.5x), written as ``OUT/animal/<id>[_wide].png`` with a manifest.csv row in the
footage set's format (``file,clip,split,class,frame,x0,y0,x1,y1``; ``clip`` = the still's id,
so a by-clip split keeps one still on one side). A contact sheet ``OUT/sheet.png`` is
written to check every crop by eye before training.

    python models/student/still_crops.py models/student/extra_sources.json IMAGES OUT

extra_sources.json: ``[{"id", "kind": "still", "source": "REPO @ COMMIT PATH", "licence",
"box": "teacher"|"hand", "box_xyxy": [x0, y0, x1, y1] (hand boxes, normalised)}]`` (entries
of another kind, e.g. collected clips, are skipped); IMAGES holds each still as
``<id><suffix of PATH>`` (``git show COMMIT:PATH``). The photos are never committed.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ANIMALS = (3, 8, 10, 12, 13, 17)  # PASCAL VOC: bird, cat, cow, dog, horse, sheep
MARGIN = 0.15
SIZE = 128


def teacher_box(interp: Any, bgr: np.ndarray) -> tuple[float, float, float, float] | None:
    """Normalised box of the largest animal blob the segmenter finds, or None."""
    inp = interp.get_input_details()[0]
    h, w = int(inp["shape"][1]), int(inp["shape"][2])
    rgb = cv2.cvtColor(cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)
    interp.set_tensor(inp["index"], rgb[None].astype(inp["dtype"]))
    interp.invoke()
    out = interp.get_tensor(interp.get_output_details()[0]["index"])[0]
    classes = out if out.ndim == 2 else np.argmax(out, axis=-1)
    mask = np.isin(classes, ANIMALS).astype(np.uint8)
    n, _, stats, _ = cv2.connectedComponentsWithStats(mask)
    if n < 2:
        return None
    best = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    x, y, bw, bh, area = stats[best]
    if area < 0.002 * mask.size:
        return None
    mh, mw = mask.shape
    return (x / mw, y / mh, (x + bw) / mw, (y + bh) / mh)


def cut(bgr: np.ndarray, box: tuple[float, float, float, float], grow: float) -> np.ndarray:
    """The box grown by ``grow`` of its size per side, clipped to the image."""
    h, w = bgr.shape[:2]
    x0, y0, x1, y1 = box[0] * w, box[1] * h, box[2] * w, box[3] * h
    dx, dy = (x1 - x0) * grow, (y1 - y0) * grow
    a, b = max(0, int(x0 - dx)), max(0, int(y0 - dy))
    c, d = min(w, int(np.ceil(x1 + dx))), min(h, int(np.ceil(y1 + dy)))
    return bgr[b:d, a:c]


def main() -> int:
    """Cut the crops, write the manifest rows and the contact sheet."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("spec", type=Path)
    ap.add_argument("images", type=Path)
    ap.add_argument("out", type=Path)
    ap.add_argument("--teacher", default="deeplab_pascal")
    args = ap.parse_args()
    from visionedge.classify.presets import resolve_model

    card = resolve_model(args.teacher).card
    assert card.model_file is not None
    import tensorflow as tf

    interp = tf.lite.Interpreter(model_path=str(card.model_file))
    interp.allocate_tensors()
    spec = [e for e in json.loads(args.spec.read_text()) if e.get("kind", "still") == "still"]
    (args.out / "animal").mkdir(parents=True, exist_ok=True)
    rows, tiles = [], []
    for item in spec:
        file = args.images / (item["id"] + Path(item["source"].rsplit(" ", 1)[1]).suffix)
        bgr = cv2.imread(str(file), cv2.IMREAD_COLOR)
        if bgr is None:
            raise SystemExit(f"{file}: not a readable image")
        box = tuple(item["box_xyxy"]) if "box_xyxy" in item else teacher_box(interp, bgr)
        if box is None:
            print(f"{item['id']}: no animal found by the teacher; give a box in the spec")
            continue
        for suffix, grow in (("", MARGIN), ("_wide", 0.5)):
            crop = cut(bgr, box, grow)
            name = f"{item['id']}{suffix}.png"
            cv2.imwrite(str(args.out / "animal" / name), crop)
            tiles.append(cv2.resize(crop, (SIZE, SIZE), interpolation=cv2.INTER_AREA))
            rows.append({"file": f"animal/{name}", "clip": item["id"], "split": "train",
                         "class": "animal", "frame": 0, "x0": box[0], "y0": box[1],
                         "x1": box[2], "y1": box[3]})
    with (args.out / "manifest.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    while len(tiles) % 8:
        tiles.append(np.zeros((SIZE, SIZE, 3), np.uint8))
    cv2.imwrite(str(args.out / "sheet.png"),
                np.vstack([np.hstack(tiles[i:i + 8]) for i in range(0, len(tiles), 8)]))
    print(f"{len(rows)} crops of {len(spec)} stills -> {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
