"""How bench/labels.py judges a label: the clips of a footage folder, its hand-checked boxes,
the labels right for an event or a tracked object, and what a user receives.

Split from ``bench/labels.py`` (which runs the presets and prints, and re-exports these
names); ``bench/cascade_choice.py`` finds its clips through it. ``bench/head_choice.py`` reads
the truths ``labels.py --dump`` wrote.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SHARED_CLIPS = {"cdnet_highway_320x240.avi": "vehicle", "pedestrians_480x360.avi": "person"}


def find_data(arg: str | None) -> Path | None:
    """The data folder: --data, ../realdata with clips, or ../shared/data."""
    if arg:
        return Path(arg)
    real = ROOT.parent / "realdata"
    if (real / "manifest.json").is_file():
        return real
    shared = ROOT.parent / "shared" / "data"
    return shared if shared.is_dir() else None


Clip = tuple[Path, tuple[str, ...], str]


def clips_of(data: Path, splits: tuple[str, ...] = ("test",)) -> list[Clip]:
    """(clip, classes with the dominant first, split) of the clips in ``splits`` of a
    manifest; a folder without one (``../shared/data``) gives the two shared clips (test).

    A folder with a manifest gets only its own clips: a second footage folder
    (``../realdata2``) must not have the first test set's clips mixed into its figures."""
    out: list[Clip] = []
    manifest = data / "manifest.json"
    if manifest.is_file():
        entries: Any = json.loads(manifest.read_text())
        if isinstance(entries, dict):
            entries = entries.get("clips", [])
        for e in entries:
            classes = list(e.get("classes") or [])
            dominant = e.get("dominant") or (classes[0] if classes else "")
            if e.get("split") not in splits or not dominant:
                continue
            path = Path(e.get("file") or e.get("path", ""))
            path = path if path.is_absolute() else data / "clips" / path
            out.append((path, (dominant, *[c for c in classes if c != dominant]), str(e["split"])))
    else:
        for name, cls in SHARED_CLIPS.items():
            for folder in (data / "clips", ROOT.parent / "shared" / "data" / "clips"):
                if (folder / name).is_file():
                    out.append((folder / name, (cls,), "test"))
                    break
    return [c for c in out if c[0].is_file()]


Checked = tuple[int, str, tuple[float, float, float, float]]
"""A hand-checked crop: frame, class, box (normalised x0, y0, x1, y1)."""


CHECKED_TABLES = ("manifest.csv", "objects_checked.csv")
"""Hand-checked boxes under ``crops/``: the gate crops (``manifest.csv``, also the head's
training and test images), then boxes of tracked objects that no gate crop touched
(``objects_checked.csv``: frame, class and the object's own box, ``background`` for a box on
nothing, such as a speck of dust or foliage; judging only, no image, never training data;
first for objects no gate crop touched, now for every object of the default card's runs)."""


def hand_checked(data: Path) -> dict[str, list[Checked]]:
    """(frame, class, box) of every hand-checked box, per clip file name (:data:`CHECKED_TABLES`)."""
    manifest = data / "manifest.json"
    tables = [data / "crops" / name for name in CHECKED_TABLES]
    # Either table alone is enough: a fresh test set has only the objects judged by eye.
    if not any(t.is_file() for t in tables) or not manifest.is_file():
        return {}
    entries: Any = json.loads(manifest.read_text())
    if isinstance(entries, dict):
        entries = entries.get("clips", [])
    file_of = {str(e.get("id")): Path(str(e.get("file") or e.get("path", ""))).name for e in entries}
    out: dict[str, list[Checked]] = {}
    for table in tables:
        if not table.is_file():
            continue
        with table.open(newline="") as f:
            for row in csv.DictReader(f):
                name = file_of.get(row["clip"])
                if name:
                    box = (float(row["x0"]), float(row["y0"]), float(row["x1"]), float(row["y1"]))
                    out.setdefault(name, []).append((int(row["frame"]), row["class"], box))
    return out


def event_truth(event: dict[str, Any], checked: list[Checked], classes: tuple[str, ...]) -> tuple[str, ...]:
    """The labels right for one event, from the hand-checked crops inside its frames.

    Crops of a class inside the event: those classes. Only ``background`` crops (moving
    leaves, shadows, nothing to name): no label is right, returned as ``("",)``. No crop
    inside the event: the clip's classes (the coarse rule).
    """
    start, end = int(event["start_frame"]), int(event["end_frame"])
    seen = {cls for frame, cls, _ in checked if start <= frame <= end}
    named = tuple(sorted(seen - {"background"}))
    if named:
        return named
    return ("",) if seen else classes


OVERLAP = 0.5
"""A crop judges an object when their boxes' intersection covers this share of the smaller."""
OWN_BOX = 0.9
"""A checked box this close to the object's own (intersection over union) is that object's
box, checked by eye: such boxes decide alone (a sliver of pavement inside a crop of people is
not a person)."""


def _intersection(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    iw = min(a[2], b[2]) - max(a[0], b[0])
    ih = min(a[3], b[3]) - max(a[1], b[1])
    return iw * ih if iw > 0 and ih > 0 else 0.0


def _area(a: tuple[float, ...]) -> float:
    return (a[2] - a[0]) * (a[3] - a[1])


def overlap(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """The two boxes' intersection as a share of the smaller box (0 for an empty box)."""
    small = min(_area(a), _area(b))
    return _intersection(a, b) / small if small > 0 else 0.0


def iou(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """Intersection over union of two boxes (0 when both are empty)."""
    inter = _intersection(a, b)
    union = _area(a) + _area(b) - inter
    return inter / union if union > 0 else 0.0


def object_truth(
    boxes: dict[int, tuple[float, float, float, float]], checked: list[Checked], classes: tuple[str, ...]
) -> tuple[tuple[str, ...], bool]:
    """The labels right for one tracked object, and whether hand-checked crops decided it.

    ``boxes``: the object's box on each frame it was tracked (normalised). A hand-checked
    crop judges the object when it is from one of those frames and the two boxes overlap by
    :data:`OVERLAP` of the smaller one (the crop around a car, or a car inside the crop of a
    platoon). Crops of a class: those classes; only ``background`` crops (leaves, a shadow,
    a ghost): no label is right, ``("",)``. No such crop: the clip's classes (coarse).
    Boxes that are the object's own (:data:`OWN_BOX`: ``objects_checked.csv``, looked at by
    eye for this object) decide alone.
    """
    own = {cls for frame, cls, box in checked
           if frame in boxes and iou(boxes[frame], box) >= OWN_BOX}
    seen = own or {cls for frame, cls, box in checked
                   if frame in boxes and overlap(boxes[frame], box) >= OVERLAP}
    named = tuple(sorted(seen - {"background"}))
    if named:
        return named, True
    return (("",), True) if seen else (classes, False)


def received_labels(
    labels: list[str], truths: list[tuple[str, ...]], classes: tuple[str, ...]
) -> tuple[int, int, int, bool]:
    """What a user receives from one clip's events: (labelled and right, labelled and wrong,
    unlabelled, whether every class of the clip has a right-labelled event). The share of
    right events counts an unlabelled box of nothing as right, so it rewards fragments; this
    does not."""
    right = sum(bool(lab) and lab in t for lab, t in zip(labels, truths, strict=True))
    wrong = sum(bool(lab) and lab not in t for lab, t in zip(labels, truths, strict=True))
    named = {lab for lab, t in zip(labels, truths, strict=True) if lab and lab in t}
    return right, wrong, sum(not lab for lab in labels), set(classes) <= named


def received_line(rows: list[tuple[int, int, int, bool]]) -> str:
    """One line over all clips of :func:`received_labels`."""
    right, wrong = sum(r[0] for r in rows), sum(r[1] for r in rows)
    share = f"{right / (right + wrong):.1%}" if right + wrong else "-"
    return (f"labels a user receives: {right} right, {wrong} wrong ({share} of the labelled "
            f"events right), {sum(r[2] for r in rows)} unlabelled; every class of the clip "
            f"named rightly on {sum(r[3] for r in rows)}/{len(rows)} clips")
