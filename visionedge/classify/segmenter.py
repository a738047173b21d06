"""The segmenter kind: a per-pixel class map read as a classification of the motion region.

A semantic segmenter (DeepLab v3 on PASCAL VOC) labels every pixel of the crop. Inside the
motion box (the crop adds context around it), each class's **share** of the pixels is its
score; the label is the dominant class that is not ignored (``background``), and with a
label map the user label's score is the summed share of its classes. Context outside the
box still helps the model, but does not vote.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from visionedge.classify.classifier import TfliteClassifier
from visionedge.classify.preprocess import crop_rect
from visionedge.frame import Image
from visionedge.protocols import Box, Prediction

__all__ = ["TfliteSegmenter", "box_in_crop"]


def box_in_crop(
    box: Box | None, rect: tuple[int, int, int, int], frame_w: int, frame_h: int, out_w: int, out_h: int
) -> tuple[slice, slice]:
    """Rows and columns of an ``out_w`` x ``out_h`` map of crop ``rect`` that ``box`` covers.

    Never empty: a box thinner than one output pixel still covers the pixel it lies in.
    """
    if box is None:
        return slice(0, out_h), slice(0, out_w)
    x0, y0, x1, y1 = rect
    sx, sy = out_w / (x1 - x0), out_h / (y1 - y0)
    c0 = int(np.clip(np.floor((box.x0 * frame_w - x0) * sx), 0, out_w - 1))
    c1 = int(np.clip(np.ceil((box.x1 * frame_w - x0) * sx), c0 + 1, out_w))
    r0 = int(np.clip(np.floor((box.y0 * frame_h - y0) * sy), 0, out_h - 1))
    r1 = int(np.clip(np.ceil((box.y1 * frame_h - y0) * sy), r0 + 1, out_h))
    return slice(r0, r1), slice(c0, c1)


class TfliteSegmenter(TfliteClassifier):
    """A :class:`TfliteClassifier` whose model returns a class-id map; see the module docstring."""

    @property
    def reports_raw_labels(self) -> bool:
        """A segmenter always names its dominant class."""
        return True

    def scores(self, image: Image, box: Box | None = None) -> npt.NDArray[np.float32]:
        """Each model label's share of the motion box's pixels (sums to 1)."""
        tensor = self.input_tensor(image, box)
        m = self._model
        self._interp.set_tensor(m.input.index, tensor)
        self._interp.invoke()
        ids = np.asarray(self._interp.get_tensor(m.output.index)).reshape(m.output.shape[1:])
        rect = crop_rect(box, image.shape[1], image.shape[0], m.width / m.height, self._cfg.margin)
        rows, cols = box_in_crop(box, rect, image.shape[1], image.shape[0], ids.shape[1], ids.shape[0])
        region = ids[rows, cols].reshape(-1)
        n = len(self.model_labels)
        # Ids outside the label list (PASCAL's 255 "void") count as no class.
        counts = np.bincount(region[(region >= 0) & (region < n)].astype(np.int64), minlength=n)
        share: npt.NDArray[np.float32] = (counts / max(region.size, 1)).astype(np.float32)
        return share

    def user_scores(
        self, image: Image, box: Box | None = None
    ) -> tuple[npt.NDArray[np.float32], Prediction | None]:
        """User-label shares, and the dominant class that is not ignored (the raw label)."""
        share = self.scores(image, box)
        order = [i for i in np.argsort(-share, kind="stable") if self.model_labels[i] not in self._ignore]
        i = int(order[0]) if order and share[order[0]] > 0 else int(np.argmax(share))
        raw = Prediction(self.model_labels[i], i, float(share[i]))
        if self.label_map is None:
            return share, raw
        return self.label_map(share), raw
