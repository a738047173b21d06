"""Borrowed labels: a detector checks that an object's label is on the object, not beside it.

A tracked object is classified on its box grown to the card's ``objects.min_crop_px``
(:func:`~visionedge.objects.crop.grow_to`), so that a far car is big enough for the model. A
box on a fence post, grown so, shows the sheep beside the post, and the classifier says
"animal": the post *borrows* the sheep's label. The cascade's second look at the tight crop
(``confirms``) catches some of these; it cannot when the tight crop still shows part of the
neighbour, or for ``person``, which ``person_detect`` claims.

A detector says *where*. The card's ``locate`` section (:class:`~visionedge.classify.card.Locate`)
names a detector preset (COCO SSD). On the object's grown box (what the cascade was asked
about; stages with a margin see more around it), if the detector finds the label
at ``min_score`` or more only on boxes that overlap the object's box by less than
``max_overlap`` (of the smaller box), and finds nothing of that label on the object's box at
``keep_score`` or more, the label is borrowed: the crop gives no label. The detector alone
is no classifier here (COCO SSD misses most people under 30 pixels, and calls flies
persons); it only moves a label it can see away from a box it can see.

Only crops where the object's box covers less than ``max_fill_pct`` of the grown crop are
checked for borrowed labels: a box that fills its crop is what the crop shows, and the check
costs a detector run (14 ms on one core for COCO SSD) per crop it looks at.

The detector may also **overrule** the labels the card lists (``overrule``, e.g. ``person``),
on any crop: when it finds another of its labels on the object's box at ``overrule_score`` or
more and nothing of the given label there at ``keep_score``, the object gets the detector's
label. ``person_detect`` is sure (0.8-0.98) that a black-and-white Holstein cow is a person,
and calls a car on a motorway one; COCO SSD sees the cow and the car. Only in that
direction: the detector's own "person" is no better than ``person_detect``'s (it calls
flies and a camel persons at the scores of real people).
"""

from __future__ import annotations

from dataclasses import dataclass

from visionedge.classify.card import Card, Locate
from visionedge.classify.detector import Detection, TfliteDetector, overlap
from visionedge.classify.loader import load_single
from visionedge.classify.presets import resolve_model
from visionedge.config import ClassifierConfig
from visionedge.errors import CardError
from visionedge.frame import Image
from visionedge.protocols import Box

__all__ = ["OVERLAPPING", "Locator", "Verdict", "load_locator"]

OVERLAPPING = 0.5
"""A detection overlapping the object's box by this share of the smaller box is on it."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the detector made of a label: it stands (``keep``), or the object gets ``label``
    instead ("" for none), with the detector's own class ``raw`` and its ``score``."""

    keep: bool
    label: str = ""
    raw: str = ""
    score: float = 0.0


KEEP = Verdict(True)


class Locator:
    """Checks labels against a detector's boxes; see the module docstring."""

    def __init__(self, settings: Locate, detector: TfliteDetector) -> None:
        self.settings = settings
        self.detector = detector
        self.checks = 0
        """Crops the detector looked at (the cost of the check)."""

    def _user_label(self, index: int) -> str:
        d = self.detector
        return d.label_map.user_label_of(index) if d.label_map is not None else d.model_labels[index]

    def check(self, image: Image, crop: Box, own: Box, label: str, fill_pct: float) -> Verdict:
        """The verdict on ``label``, given to the object with box ``own`` on its grown crop
        ``crop`` (which covers ``fill_pct`` of it): see the module docstring."""
        s = self.settings
        overrule = label in s.overrule
        borrow = fill_pct < s.max_fill_pct
        if not (overrule or borrow):
            return KEEP
        self.checks += 1
        h, w = image.shape[:2]
        box = (own.x0 * w, own.y0 * h, own.x1 * w, own.y1 * h)
        elsewhere = False
        other: Detection | None = None
        for det in self.detector.detect(image, crop):  # best first
            user = self._user_label(det.index)
            share = overlap(det, *box)
            if user == label:
                if share >= OVERLAPPING and det.score >= s.keep_score:
                    return KEEP
                if share < s.max_overlap and det.score >= s.min_score:
                    elsewhere = True
            elif (overrule and user and other is None and share >= OVERLAPPING
                  and det.score >= s.overrule_score):
                other = det
        if other is not None:
            return Verdict(False, self._user_label(other.index),
                           self.detector.model_labels[other.index], other.score)
        if borrow and elsewhere:
            return Verdict(False)
        return KEEP


def load_locator(card: Card, runtime: dict[str, object], labels: set[str]) -> Locator | None:
    """The detector of the cascade card's ``locate`` section, loaded with the config's
    runtime keys and checked against the cascade's ``labels`` (None without a section)."""
    if card.locate is None:
        return None
    ref = card.locate.preset
    resolved = resolve_model(ref)
    if resolved.card is None or resolved.card.kind != "detector":
        raise CardError(f"{card.path}: 'locate' names '{ref}', which is not a detector preset; "
                        "name one whose card says kind \"detector\" (e.g. coco_ssd)")
    detector = load_single(ClassifierConfig.model_validate({"model": ref, **runtime}), resolved)
    assert isinstance(detector, TfliteDetector)
    if not labels & set(detector.labels):
        raise CardError(f"{card.path}: the 'locate' detector '{ref}' reports "
                        f"{', '.join(detector.labels)}, none of the cascade's labels; map its "
                        "labels to the cascade's")
    unknown = [lab for lab in card.locate.overrule if lab not in labels]
    if unknown:
        raise CardError(f"{card.path}: 'locate.overrule' names '{unknown[0]}', which the cascade "
                        f"does not report ({', '.join(sorted(labels))})")
    if card.locate.overrule and set(detector.labels) - labels:
        raise CardError(f"{card.path}: the 'locate' detector '{ref}' reports "
                        f"{', '.join(sorted(set(detector.labels) - labels))}, which the cascade "
                        "does not; it can overrule only with the cascade's own labels")
    return Locator(card.locate, detector)
