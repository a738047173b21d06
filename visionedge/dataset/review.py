"""``dataset review`` and ``dataset stats``: look at a dataset, count it.

Contact sheets are PNG grids, one set per class folder (and ``unsure/``), written to
``_review/`` (not a class: never trained on). Each tile is the crop with, under it, its
clip frame number and the teacher's label and score; a tile whose teacher label differs
from its folder (a crop you relabelled) is framed in orange, low teacher scores in red, so
the ones worth a second look stand out.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import cv2
import numpy as np

from visionedge.dataset.manifest import Dataset, Item
from visionedge.errors import DatasetError
from visionedge.frame import Image

__all__ = ["REVIEW_DIR", "contact_sheets", "stats_table"]

REVIEW_DIR = "_review"
TILE = 96
CAPTION = 14


def _tile(ds: Dataset, it: Item) -> Image:
    img = cv2.imread(str(ds.root / it.rel), cv2.IMREAD_COLOR)
    if img is None:
        raise DatasetError(f"{ds.root / it.rel}: cannot read; replace or move it")
    small = cv2.resize(img, (TILE, TILE), interpolation=cv2.INTER_AREA)
    tile: Image = np.full((TILE + CAPTION, TILE, 3), 255, np.uint8)
    tile[:TILE] = small
    r = it.row
    text = f"f{r.frame} {r.teacher_label[:3]} {r.teacher_score:.2f}" if r else it.rel[-14:]
    cv2.putText(tile, text, (2, TILE + 10), cv2.FONT_HERSHEY_PLAIN, 0.7, (0, 0, 0), 1,
                cv2.LINE_AA)
    colour = None
    if r is not None and r.teacher_label and r.teacher_label != it.label and it.label != "unsure":
        colour = (0, 140, 255)  # relabelled by hand
    elif r is not None and r.teacher_score < 0.6:
        colour = (0, 0, 230)
    if colour is not None:
        cv2.rectangle(tile, (0, 0), (TILE - 1, TILE - 1), colour, 2)
    return tile


def contact_sheets(ds: Dataset, *, columns: int = 12, rows: int = 10) -> list[Path]:
    """Write ``_review/<class>_<page>.png`` for every folder; returns the files written."""
    out = ds.root / REVIEW_DIR
    out.mkdir(exist_ok=True)
    written: list[Path] = []
    groups = ds.by_class()
    if ds.unsure:
        groups["unsure"] = ds.unsure
    per_page = columns * rows
    for label, items in groups.items():
        for page in range(0, max(1, len(items)), per_page):
            chunk = items[page:page + per_page]
            n_rows = max(1, -(-len(chunk) // columns))
            sheet = np.full((28 + n_rows * (TILE + CAPTION + 4), columns * (TILE + 4), 3), 235,
                            np.uint8)
            cv2.putText(sheet, f"{label}: {len(items)} crops (page {page // per_page + 1})",
                        (4, 20), cv2.FONT_HERSHEY_PLAIN, 1.2, (0, 0, 0), 1, cv2.LINE_AA)
            for i, it in enumerate(chunk):
                y = 28 + (i // columns) * (TILE + CAPTION + 4)
                x = (i % columns) * (TILE + 4)
                sheet[y:y + TILE + CAPTION, x:x + TILE] = _tile(ds, it)
            path = out / f"{label}_{page // per_page + 1}.png"
            cv2.imwrite(str(path), sheet)
            written.append(path)
    return written


def stats_table(ds: Dataset) -> str:
    """Counts per class and per clip, as aligned text (a row per clip, a total row)."""
    folders = [*ds.classes, "unsure"]
    per: dict[str, Counter[str]] = {}
    for it in [*ds.items, *ds.unsure]:
        per.setdefault(it.group, Counter())[it.label] += 1
    width = max([len("clip"), len("total"), *(len(g) for g in per)])
    head = f"{'clip':<{width}} " + " ".join(f"{f:>9}" for f in folders) + f" {'total':>7}"
    lines = [head]
    total: Counter[str] = Counter()
    for g in sorted(per):
        c = per[g]
        total.update(c)
        lines.append(f"{g:<{width}} " + " ".join(f"{c[f]:>9}" for f in folders)
                     + f" {sum(c.values()):>7}")
    lines.append(f"{'total':<{width}} " + " ".join(f"{total[f]:>9}" for f in folders)
                 + f" {sum(total.values()):>7}")
    relabelled = sum(1 for it in ds.items
                     if it.row and it.row.teacher_label and it.row.teacher_label != it.label)
    lines.append(f"{len(per)} clips, {len(ds.items)} labelled crops ({relabelled} relabelled "
                 f"by hand), {len(ds.unsure)} unsure, image size {ds.size[0]}x{ds.size[1]}")
    return "\n".join(lines)
