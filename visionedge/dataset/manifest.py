"""The dataset on disk: ``manifest.csv`` (provenance) and the class folders (the truth).

:func:`load_dataset` reads and checks a dataset without changing a byte of it. The label of
a crop is the folder it is in now, not what the manifest said at collect time, so moving a
file between class folders is all relabelling takes. Images in a class folder that the
manifest does not list (added by hand) are accepted; each is its own group for the by-clip
split. A manifest row whose file is in no folder is an error: deleting crops silently would
shrink a clip's share of the data unnoticed, so unwanted crops are moved to ``unsure/``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from visionedge.errors import (
    DatasetClassError,
    DatasetError,
    DatasetImageError,
    DatasetSizeError,
    ManifestError,
)

__all__ = [
    "CONTEXT_DIR",
    "FIELDS",
    "IMAGE_SUFFIXES",
    "MANIFEST",
    "RESERVED_DIRS",
    "UNSURE_DIR",
    "Dataset",
    "Item",
    "ManifestRow",
    "load_dataset",
    "read_manifest",
    "write_manifest",
]

MANIFEST = "manifest.csv"
UNSURE_DIR = "unsure"
"""Crops the teacher was not sure about; never trained on until moved to a class folder."""
CONTEXT_DIR = "_context"
"""A wider crop around each crop (same file name), for reviewing; not a class."""
RESERVED_DIRS = (UNSURE_DIR, CONTEXT_DIR, "_review")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".pgm", ".ppm", ".webp")
FIELDS = (
    "file", "clip", "frame", "ts_ms", "passage", "x0", "y0", "x1", "y1", "rect",
    "teacher_label", "teacher_score", "soft", "object_id",
)


@dataclass(frozen=True)
class ManifestRow:
    """One collected crop: where it came from and what the teacher said.

    ``x0..y1`` is the gate's motion box (normalised; with ``collect --objects`` the tracked
    object's box), ``rect`` the pixel rectangle that was cut (the classifier's geometry), ``passage`` the index of the gate opening within the clip,
    ``soft`` the teacher's probabilities over the dataset's classes (for distillation),
    ``object_id`` the tracked object the crop is of (``collect --objects``; 0: a motion
    region, and in manifests written before the column existed).
    """

    file: str
    clip: str
    frame: int
    ts_ms: int
    passage: int
    box: tuple[float, float, float, float]
    rect: tuple[int, int, int, int]
    teacher_label: str = ""
    teacher_score: float = 0.0
    soft: dict[str, float] = field(default_factory=dict)
    object_id: int = 0

    def to_csv(self) -> dict[str, str]:
        """The CSV row."""
        return {
            "file": self.file, "clip": self.clip, "frame": str(self.frame),
            "ts_ms": str(self.ts_ms), "passage": str(self.passage),
            "x0": f"{self.box[0]:.5f}", "y0": f"{self.box[1]:.5f}",
            "x1": f"{self.box[2]:.5f}", "y1": f"{self.box[3]:.5f}",
            "rect": " ".join(str(v) for v in self.rect),
            "teacher_label": self.teacher_label, "teacher_score": f"{self.teacher_score:.4f}",
            "soft": json.dumps({k: round(v, 4) for k, v in sorted(self.soft.items())}),
            "object_id": str(self.object_id),
        }

    @classmethod
    def from_csv(cls, row: dict[str, str], where: str) -> ManifestRow:
        """Parse one CSV row; ManifestError naming ``where`` when a field is malformed."""
        try:
            rect = tuple(int(v) for v in row["rect"].split())
            if len(rect) != 4:
                raise ValueError("rect needs 4 integers")
            soft = json.loads(row["soft"]) if row.get("soft") else {}
            if not isinstance(soft, dict):
                raise ValueError("soft is not a JSON object")
            return cls(
                file=row["file"], clip=row["clip"], frame=int(row["frame"]),
                ts_ms=int(row["ts_ms"]), passage=int(row["passage"]),
                box=(float(row["x0"]), float(row["y0"]), float(row["x1"]), float(row["y1"])),
                rect=(rect[0], rect[1], rect[2], rect[3]),
                teacher_label=row.get("teacher_label", ""),
                teacher_score=float(row.get("teacher_score") or 0.0),
                soft={str(k): float(v) for k, v in soft.items()},
                object_id=int(row.get("object_id") or 0),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise ManifestError(
                f"{where}: malformed manifest row ({exc}); restore the file from `dataset "
                "collect` or fix the row"
            ) from None


def write_manifest(path: Path, rows: Iterable[ManifestRow]) -> None:
    """Write ``manifest.csv`` (rows in the order given)."""
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow(r.to_csv())


def read_manifest(path: Path) -> list[ManifestRow]:
    """Read ``manifest.csv``; ManifestError when it is unreadable or a row is malformed."""
    try:
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            missing = [c for c in ("file", "clip", "frame") if c not in (reader.fieldnames or [])]
            if missing:
                raise ManifestError(
                    f"{path}: not a dataset manifest (no column {', '.join(missing)}); restore "
                    "it from `dataset collect` or remove it to train without provenance"
                )
            rows = [ManifestRow.from_csv(r, f"{path}:{i + 2}") for i, r in enumerate(reader)]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ManifestError(f"{path}: cannot read the manifest ({exc}); restore it") from None
    seen: set[str] = set()
    for r in rows:
        if r.file in seen:
            raise ManifestError(f"{path}: names {r.file} twice; keep one row per crop")
        seen.add(r.file)
    return rows


@dataclass(frozen=True)
class Item:
    """One image of the dataset as it is now: its folder (label) and its provenance."""

    rel: str
    """``<folder>/<file>``, relative to the dataset root."""
    label: str
    group: str
    """The by-clip split's unit: the clip (or ``file:<name>`` for an unlisted image)."""
    row: ManifestRow | None


@dataclass
class Dataset:
    """A checked dataset: class names (sorted), labelled items, unsure items, image size."""

    root: Path
    classes: list[str]
    items: list[Item]
    unsure: list[Item]
    size: tuple[int, int]
    """(width, height) shared by every image."""
    has_manifest: bool

    def by_class(self) -> dict[str, list[Item]]:
        """Class -> its items (every class present, even if empty)."""
        out: dict[str, list[Item]] = {c: [] for c in self.classes}
        for it in self.items:
            out[it.label].append(it)
        return out


def _image_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """(images, other files) of a folder; dot-files (.DS_Store, editors' files) are ignored."""
    images: list[Path] = []
    other: list[Path] = []
    for f in sorted(folder.iterdir()):
        if f.name.startswith(".") or not f.is_file():
            continue
        (images if f.suffix.lower() in IMAGE_SUFFIXES else other).append(f)
    return images, other


def _class_dirs(root: Path) -> list[Path]:
    return sorted(
        p for p in root.iterdir()
        if p.is_dir() and not p.name.startswith((".", "_")) and p.name not in RESERVED_DIRS
    )


def _check_sizes(root: Path, files: Sequence[Path]) -> tuple[int, int]:
    first: tuple[Path, tuple[int, int]] | None = None
    for f in files:
        img = cv2.imread(str(f), cv2.IMREAD_UNCHANGED)
        if img is None:
            raise DatasetImageError(
                f"{f}: not a readable image; move it out of the dataset or replace it"
            )
        size = (int(img.shape[1]), int(img.shape[0]))
        if first is None:
            first = (f, size)
        elif size != first[1]:
            raise DatasetSizeError(
                f"{root}: mixed image sizes ({f.relative_to(root)} is {size[0]}x{size[1]}, "
                f"{first[0].relative_to(root)} is {first[1][0]}x{first[1][1]}); give every "
                "image the same size (resize them, or collect all clips with the same --size)"
            )
    return first[1] if first else (0, 0)


def load_dataset(root: Path, *, check_images: bool = True, min_classes: int = 2) -> Dataset:
    """Read and check the dataset at ``root``; raise a :class:`DatasetError` subclass if unusable.

    Checks: at least ``min_classes`` class folders (two to train; ``dataset review`` and
    ``stats`` look at one: a first collect from a one-animal camera), none empty, only images in them (and in
    ``unsure/``), every image decodes and has the same size (``check_images``), and every
    manifest row's file is in a class folder or ``unsure/``. Nothing is moved or deleted.
    """
    if not root.is_dir():
        raise DatasetError(
            f"{root}: no such dataset folder; make one with `visionedge dataset collect CLIP "
            f"--out {root}` or pass a folder with one sub-folder of images per class"
        )
    classes = _class_dirs(root)
    if len(classes) < min_classes:
        found = ", ".join(c.name for c in classes) or "none"
        raise DatasetClassError(
            f"{root}: {len(classes)} class folder(s) ({found}); a dataset needs at least "
            f"{'two' if min_classes > 1 else 'one'} sub-folder(s) of images, one per class "
            "(collect more clips or add a class folder)"
        )
    located: dict[str, str] = {}  # file name -> folder
    all_images: list[Path] = []
    folders = [*classes, root / UNSURE_DIR]
    for folder in folders:
        if not folder.is_dir():
            continue
        images, other = _image_files(folder)
        if other:
            raise DatasetImageError(
                f"{other[0]}: not an image ({', '.join(IMAGE_SUFFIXES)}); move it out of "
                f"{folder.name}/ (class folders hold only images)"
            )
        if not images and folder.name != UNSURE_DIR:
            raise DatasetClassError(
                f"{folder}: class folder has no images; add images, or remove the empty "
                "folder if the class is not wanted"
            )
        for f in images:
            if f.name in located:
                raise DatasetError(
                    f"{root}: {f.name} is in both {located[f.name]}/ and {folder.name}/; keep "
                    "one copy (the folder a crop is in is its label)"
                )
            located[f.name] = folder.name
        all_images += images
    size = _check_sizes(root, all_images) if check_images else (0, 0)
    manifest = root / MANIFEST
    rows: dict[str, ManifestRow] = {}
    if manifest.is_file():
        for r in read_manifest(manifest):
            rows[r.file] = r
        missing = [f for f in rows if f not in located]
        if missing:
            raise ManifestError(
                f"{manifest}: names {len(missing)} file(s) that are in no class folder (first: "
                f"{missing[0]}); restore them, or move crops you do not want to {UNSURE_DIR}/ "
                "instead of deleting them"
            )
    items: list[Item] = []
    unsure: list[Item] = []
    for name, where in sorted(located.items(), key=lambda kv: (kv[1], kv[0])):
        row = rows.get(name)
        item = Item(rel=f"{where}/{name}", label=where,
                    group=row.clip if row is not None else f"file:{name}", row=row)
        (unsure if where == UNSURE_DIR else items).append(item)
    return Dataset(root=root, classes=[c.name for c in classes], items=items, unsure=unsure,
                   size=size, has_manifest=manifest.is_file())
