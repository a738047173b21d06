"""The detector kind: an SSD's boxes read as a classification of the motion box.

An SSD with ``TFLite_Detection_PostProcess`` (COCO SSD MobileNet v1) finds objects in the
crop and gives each a box, a class and a score. A classifier names whatever its crop shows:
a motion box on a fence post, grown to the model's crop, shows the sheep beside the post,
and the classifier says "sheep" (a *borrowed* label). The detector says where the sheep is.
Its box speaks for the motion box only when the two overlap by at least
``detect.min_overlap`` of the smaller box (the card's setting, 0.5 by default: about half of
one lies inside the other): the sheep's box and the post's barely touch, so the post gets
no label. A box on part of a subject (a walker's legs) lies inside the subject's detection,
and is that subject; a motion box around a dog and its owner holds both detections.

Each model label's score is its best covering detection's score; with a label map, a user
label's score is the best of its model labels (not the sum, as for a classifier: two
overlapping boxes of "car" and "truck" on one van are one vehicle, not a surer one). The raw
label is the class of the detection that gave the best user label its score.

In object mode (:meth:`TfliteDetector.classify_object`) the crop is the object's box grown
to the card's ``objects.min_crop_px`` (context for the model; a far car is then big enough
to detect), and the box that must be covered is the object's own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from visionedge.classify.classifier import TfliteClassifier, timed_classification
from visionedge.classify.preprocess import crop_rect
from visionedge.frame import Frame, Image
from visionedge.protocols import Box, Classification, Prediction

__all__ = ["Detection", "TfliteDetector", "overlap"]


@dataclass(frozen=True, slots=True)
class Detection:
    """One box the detector found: model label index, score, and the box in frame pixels."""

    index: int
    score: float
    x0: float
    y0: float
    x1: float
    y1: float


def overlap(det: Detection, x0: float, y0: float, x1: float, y1: float) -> float:
    """The intersection of ``det`` and box ``(x0, y0, x1, y1)`` as a share of the smaller of
    the two: 1 when one lies inside the other (a walker's legs inside the walker), 0 apart."""
    iw = min(det.x1, x1) - max(det.x0, x0)
    ih = min(det.y1, y1) - max(det.y0, y0)
    small = min(max(det.x1 - det.x0, 1e-6) * max(det.y1 - det.y0, 1e-6),
                max(x1 - x0, 1e-6) * max(y1 - y0, 1e-6))
    return max(iw, 0.0) * max(ih, 0.0) / small


class TfliteDetector(TfliteClassifier):
    """A :class:`TfliteClassifier` whose model returns boxes; see the module docstring."""

    @property
    def reports_raw_labels(self) -> bool:
        """A detector always names the class of the box that answered."""
        return True

    @property
    def min_overlap(self) -> float:
        """The overlap with the motion box a detection needs (the card's ``detect.min_overlap``)."""
        return self.card.detect_min_overlap if self.card is not None else 0.5

    def detect(self, image: Image, box: Box | None) -> list[Detection]:
        """Everything the model finds in the crop of ``box`` (grown by the margin), in frame
        pixels, best first."""
        tensor = self.input_tensor(image, box)
        m = self._model
        self._interp.set_tensor(m.input.index, tensor)
        self._interp.invoke()
        boxes, classes, scores, count = (
            np.asarray(self._interp.get_tensor(s.index)) for s in m.detections
        )
        n = int(np.clip(round(float(count.reshape(-1)[0])), 0, scores.shape[-1]))
        x0, y0, x1, y1 = crop_rect(box, image.shape[1], image.shape[0], m.width / m.height,
                                   self._cfg.margin)
        cw, ch = x1 - x0, y1 - y0
        out = []
        for k in range(n):
            idx = int(classes[0, k])
            if not 0 <= idx < len(self.model_labels):
                continue
            by0, bx0, by1, bx1 = (float(v) for v in np.clip(boxes[0, k], 0.0, 1.0))
            out.append(Detection(idx, float(np.clip(scores[0, k], 0.0, 1.0)),
                                 x0 + bx0 * cw, y0 + by0 * ch, x0 + bx1 * cw, y0 + by1 * ch))
        out.sort(key=lambda d: -d.score)
        return out

    def _model_scores(self, dets: list[Detection]) -> npt.NDArray[np.float32]:
        """Each model label's best score among ``dets``."""
        scores = np.zeros(len(self.model_labels), np.float32)
        for d in dets:
            scores[d.index] = max(scores[d.index], d.score)
        return scores

    def _on(self, image: Image, crop: Box | None, target: Box | None) -> list[Detection]:
        """The detections in ``crop`` that overlap ``target`` by ``min_overlap`` (all without one)."""
        dets = self.detect(image, crop)
        h, w = image.shape[:2]
        if target is None:
            return dets
        t = (target.x0 * w, target.y0 * h, target.x1 * w, target.y1 * h)
        return [d for d in dets if overlap(d, *t) >= self.min_overlap]

    def _answer(
        self, dets: list[Detection]
    ) -> tuple[npt.NDArray[np.float32], Prediction | None]:
        """User scores (best detection per label) and the raw label behind the best."""
        scores = self._model_scores(dets)
        if self.label_map is None:
            best = max(dets, key=lambda d: d.score, default=None)
            raw = Prediction(self.model_labels[best.index], best.index, best.score) if best else None
            return scores, raw
        user = np.zeros(len(self.labels), np.float32)
        for j in range(len(self.labels)):
            members = self.label_map.members(j)
            user[j] = float(scores[members].max()) if members.size else 0.0
        raw = None
        if user.max() > 0:
            members = self.label_map.members(int(np.argmax(user)))
            i = int(members[np.argmax(scores[members])])
            raw = Prediction(self.model_labels[i], i, float(scores[i]))
        elif dets:
            raw = Prediction(self.model_labels[dets[0].index], dets[0].index, dets[0].score)
        return user, raw

    def scores(self, image: Image, box: Box | None = None) -> npt.NDArray[np.float32]:
        """Each model label's best score among the detections on ``box``."""
        return self._model_scores(self._on(image, box, box))

    def user_scores(
        self, image: Image, box: Box | None = None
    ) -> tuple[npt.NDArray[np.float32], Prediction | None]:
        """User-label scores of the detections on ``box``, and the raw label."""
        return self._answer(self._on(image, box, box))

    def classify_object(self, frame: Frame, box: Box, own: Box) -> Classification:
        """Classify a tracked object: detect in ``box`` (its grown crop), keep the detections
        on ``own`` (its box)."""
        return self.classify_object_image(frame.image(), box, own, frame_index=frame.index)

    def classify_object_image(
        self, image: Image, box: Box, own: Box, *, frame_index: int = 0
    ) -> Classification:
        """:meth:`classify_object` on a still BGR image (``dataset collect --objects``'s teacher)."""
        t0 = time.perf_counter_ns()
        user, raw = self._answer(self._on(image, box, own))
        return timed_classification(t0, frame_index, self.rank(user), box, raw)
