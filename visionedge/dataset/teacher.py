"""The teacher that pre-labels collected crops: a large model, mapped to the dataset's classes.

Two kinds, told apart by the model's output:

- a **classifier** (output N scores): any model ``[classifier] model`` can name, loaded by
  :func:`visionedge.classify.load_classifier`, run on the frame and motion box with the
  classifier's own crop; its labels are summed into the dataset's classes through a label
  map (unmapped labels count as background). A preset's card already maps its labels to
  person / vehicle / animal: its user scores are used, and the score mass the card maps to
  nothing (ImageNet's furniture, a student's ``background``) is background;
- a **segmenter** (output H x W class ids, e.g. DeepLab v3 PASCAL VOC, the preset
  ``deeplab_pascal``): the crop is segmented and each class scores its share of the motion
  box's pixels. Without a labels file its ids are read as PASCAL VOC's 21 classes. PASCAL's
  classes are exactly people, vehicles and animals, which makes it a good teacher for them;
- a **cascade** preset (``person_vehicle_animal``): one answer per crop, no score vector;
  its label gets its score and background the rest.

``--teacher`` takes a .tflite file or a preset name (``visionedge model list``).

``soft`` returns probabilities over :data:`CLASSES`: what distillation learns from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from visionedge.errors import ModelError, PresetError
from visionedge.frame import Image
from visionedge.protocols import Box

__all__ = [
    "CLASSES",
    "DEFAULT_LABEL_MAP",
    "PASCAL_VOC",
    "AnswerTeacher",
    "ClassifierTeacher",
    "SegmenterTeacher",
    "Teacher",
    "load_teacher",
]

CLASSES: tuple[str, ...] = ("animal", "background", "person", "vehicle")
"""The classes users act on (plus background: the gate also opens for leaves and shadows)."""

DEFAULT_LABEL_MAP: dict[str, tuple[str, ...]] = {
    "person": ("person", "people", "pedestrian", "man", "woman", "child", "rider"),
    "vehicle": ("vehicle", "car", "bus", "truck", "motorbike", "motorcycle", "bicycle",
                "train", "van", "minivan", "pickup", "jeep", "cab", "taxi", "tram",
                "trolleybus", "moped", "limousine", "police van", "sports car",
                "convertible", "mountain bike", "tricycle", "ambulance", "fire engine",
                "garbage truck", "tow truck", "trailer truck", "moving van", "school bus",
                "passenger car", "racer", "station wagon", "beach wagon", "aeroplane",
                "airplane", "boat"),
    "animal": ("animal", "bird", "cat", "dog", "horse", "sheep", "cow", "bear", "zebra",
               "giraffe", "elephant", "fox", "deer"),
}
"""Model label -> class, by exact (case-insensitive) name; PASCAL VOC and COCO are covered."""

PASCAL_VOC: tuple[str, ...] = (
    "background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car", "cat",
    "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person", "pottedplant",
    "sheep", "sofa", "train", "tvmonitor",
)
"""Class ids of PASCAL VOC segmenters (Coral's DeepLab v3): used when a segmenter has no
labels file (Coral's ``pascal_voc_segmentation_labels.txt`` ends with prose lines)."""

SEGMENT_FULL_SHARE = 0.2
"""A segmenter whose object pixels cover this share of the motion box is sure something is
there (a moving object rarely fills its box: the gate's box also holds the trail behind it)."""


class Teacher(Protocol):
    """Scores a motion box of a frame over :data:`CLASSES`."""

    name: str

    def soft(self, image: Image, box: Box) -> dict[str, float]:
        """Probabilities over :data:`CLASSES` (they sum to 1)."""
        ...


def _class_index(labels: Sequence[str], label_map: Mapping[str, Sequence[str]]) -> list[str]:
    lookup = {m.lower(): cls for cls, names in label_map.items() for m in names}
    for cls in CLASSES:
        lookup.setdefault(cls, cls)
    return [lookup.get(lab.strip().lower(), "background") for lab in labels]


@dataclass
class ClassifierTeacher:
    """A classifier the config can build, its labels folded into :data:`CLASSES`."""

    name: str
    classifier: Any
    targets: list[str]

    def soft(self, image: Image, box: Box) -> dict[str, float]:
        """Sum the classifier's scores per class (renormalised)."""
        user, _ = self.classifier.user_scores(image, box)
        scores = np.asarray(user, np.float64)
        out = dict.fromkeys(CLASSES, 0.0)
        for cls, s in zip(self.targets, scores, strict=True):
            out[cls] += float(s)
        if getattr(self.classifier, "label_map", None) is not None:
            # What the card maps to no user label is "something else", not a share of the
            # mapped classes: renormalising it away would inflate them.
            out["background"] += max(0.0, 1.0 - float(scores.sum()))
        total = sum(out.values()) or 1.0
        return {k: v / total for k, v in out.items()}


@dataclass
class AnswerTeacher:
    """A classifier that gives one answer per crop (a cascade preset): its label gets its
    score, background the rest."""

    name: str
    classifier: Any
    mapping: Mapping[str, Sequence[str]]

    def soft(self, image: Image, box: Box) -> dict[str, float]:
        """The answer's score on its class, the rest on background."""
        return self._soft_of(self.classifier.classify_image(image, box).best)

    def soft_object(self, image: Image, box: Box, own: Box) -> dict[str, float]:
        """:meth:`soft` for a tracked object: ``box`` its grown crop, ``own`` its box; a
        cascade takes its second look at ``own`` as in the daemon's object mode."""
        classify_object = getattr(self.classifier, "classify_object_image", None)
        if classify_object is None:
            return self.soft(image, box)
        return self._soft_of(classify_object(image, box, own).best)

    def _soft_of(self, best: Any) -> dict[str, float]:
        out = dict.fromkeys(CLASSES, 0.0)
        if best is not None:
            cls = _class_index([best.label], self.mapping)[0]
            out[cls] += min(1.0, max(0.0, float(best.score)))
        out["background"] += 1.0 - sum(out.values())
        return out


class SegmenterTeacher:
    """A semantic segmenter (uint8 RGB in, H x W class ids out), scored inside the box."""

    def __init__(self, path: Path, labels: Sequence[str], label_map: Mapping[str, Sequence[str]],
                 margin: float = 0.15, name: str = "") -> None:
        from visionedge.classify.backends import resolve_backend

        _, factory = resolve_backend("auto", xnnpack=False)
        self.name = name or path.name
        self.interp = factory(model_content=path.read_bytes(), num_threads=1)
        self.interp.allocate_tensors()
        self.input = self.interp.get_input_details()[0]
        self.output = self.interp.get_output_details()[0]
        self.targets = _class_index(labels, label_map)
        self.margin = margin

    def soft(self, image: Image, box: Box) -> dict[str, float]:
        """Class shares of the box's pixels; ``background`` takes what no object explains."""
        from visionedge.classify.preprocess import crop_rect, model_pixels

        _, h, w, _ = (int(v) for v in self.input["shape"])
        fh, fw = image.shape[:2]
        rect = crop_rect(box, fw, fh, w / h, self.margin)
        # A segmenter teacher is a Pi-side model: OpenCV's resize, as the classifier gives it.
        pixels = model_pixels(image, rect, w, h, 3, exact=False)
        if self.input["dtype"] == np.float32:
            tensor: npt.NDArray[Any] = (pixels.astype(np.float32) / 127.5 - 1.0)[None]
        else:
            tensor = pixels[None].astype(self.input["dtype"])  # uint8 models take pixels as is
        self.interp.set_tensor(self.input["index"], tensor)
        self.interp.invoke()
        seg = np.asarray(self.interp.get_tensor(self.output["index"]))[0]
        if seg.ndim == 3:  # per-class scores: take the arg-max
            seg = np.argmax(seg, axis=-1)
        # The motion box inside the crop, in segmentation pixels.
        x0, y0, x1, y1 = rect
        sx, sy = seg.shape[1] / (x1 - x0), seg.shape[0] / (y1 - y0)
        bx0 = int(np.clip((box.x0 * fw - x0) * sx, 0, seg.shape[1] - 1))
        bx1 = int(np.clip(np.ceil((box.x1 * fw - x0) * sx), bx0 + 1, seg.shape[1]))
        by0 = int(np.clip((box.y0 * fh - y0) * sy, 0, seg.shape[0] - 1))
        by1 = int(np.clip(np.ceil((box.y1 * fh - y0) * sy), by0 + 1, seg.shape[0]))
        region = seg[by0:by1, bx0:bx1].reshape(-1)
        counts = np.bincount(np.clip(region, 0, len(self.targets) - 1),
                             minlength=len(self.targets))
        share = dict.fromkeys(CLASSES, 0.0)
        for cls, n in zip(self.targets, counts, strict=True):
            share[cls] += float(n) / max(1, region.size)
        objects = sum(v for k, v in share.items() if k != "background")
        if objects <= 0:
            return {k: float(k == "background") for k in CLASSES}
        presence = min(1.0, objects / SEGMENT_FULL_SHARE)
        out = {k: presence * share[k] / objects for k in CLASSES if k != "background"}
        out["background"] = 1.0 - presence
        return {k: out[k] for k in CLASSES}


def _read_label_map(path: Path | None) -> dict[str, tuple[str, ...]] | None:
    if path is None:
        return None
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        return {str(k): tuple(str(v) for v in vs) for k, vs in data.items()}
    except (OSError, ValueError, TypeError) as exc:
        raise ModelError(
            f"{path}: not a label map ({exc}); give a JSON object of class -> [model labels]"
        ) from None


def load_teacher(model: str, *, labels: str = "", label_map: Path | None = None) -> Teacher:
    """Build the teacher ``model`` names (a .tflite file or a preset name).

    An unknown preset name is a PresetError that lists the presets.
    """
    from visionedge.classify.labels import find_labels_next_to, load_labels
    from visionedge.classify.model import read_model_file
    from visionedge.classify.presets import resolve_model

    given = _read_label_map(label_map)
    mapping = given or DEFAULT_LABEL_MAP
    path = Path(model).expanduser()
    if not path.is_file():
        try:
            card = resolve_model(model).card
        except PresetError as exc:
            raise PresetError(str(exc).replace("classifier.model:", "--teacher:", 1)) from None
        if card is not None and card.kind == "segmenter" and card.model_file is not None:
            # Its own label map (PASCAL -> person/vehicle/animal) unless one is given.
            card_map = card.settings.get("label_map")
            seg_map = given or (card_map if isinstance(card_map, dict) else DEFAULT_LABEL_MAP)
            names = load_labels(labels) if labels else card.labels
            return SegmenterTeacher(card.model_file, names, seg_map, name=model)
    if path.is_file():
        content = read_model_file(path)
        from visionedge.classify.backends import resolve_backend

        _, factory = resolve_backend("auto", xnnpack=False)
        probe = factory(model_content=content, num_threads=1)
        probe.allocate_tensors()
        shape = list(probe.get_output_details()[0]["shape"])
        if len(shape) >= 3 and shape[1] > 1 and shape[2] > 1:
            if labels:
                names = load_labels(labels)
            else:
                try:
                    names = load_labels(find_labels_next_to(path))
                except ModelError:
                    names = PASCAL_VOC
            return SegmenterTeacher(path, names, mapping)
    from visionedge.classify import load_classifier
    from visionedge.config import ClassifierConfig

    clf = load_classifier(ClassifierConfig(model=model, labels=labels, ignore=[],
                                           xnnpack=False))
    if not hasattr(clf, "user_scores"):
        return AnswerTeacher(name=Path(model).name, classifier=clf, mapping=mapping)
    return ClassifierTeacher(name=Path(model).name, classifier=clf,
                             targets=_class_index(clf.labels, mapping))
