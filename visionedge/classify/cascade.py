"""The cascade kind: a specialist preset claims its label, a generalist answers the rest.

Example (the default preset): ``person_detect`` says whether a crop is a person; an ImageNet
MobileNet knows vehicles and animals but has no person class. Per crop both run; the
specialist's label stands when its score reaches ``min_score`` **and** the generalist gives
less than ``veto`` to its other labels (a car that ``person_detect`` calls a person can be
overruled by a generalist sure it is a vehicle; ``veto`` 1.0 turns that off, and the next
stage then runs only when the claim fails). Otherwise the generalist's answer stands.

A stage may also claim from ``tiles``: the crop cut into quarters (n x n), best quarter
counts (:meth:`TfliteClassifier.tiled_user_scores`); override its preset's settings
(``settings``, e.g. a threshold); and take model labels out of its preset's label map
(``exclude``). The default preset: ``person_detect`` on the crop (0.8, no veto), then on its
quarters (0.8, veto 0.3), then the ImageNet model at 0.25 without the animals no camera on
land sees; every number chosen on the real train clips (docs/classify.md).

A claim may also give way to the last (answering) stage (``yields``): in the default preset
the ImageNet model's animal and vehicle claims yield when the learned head gives ``person``
0.8 or more (a person filmed from high up is a "schipperke" or a "Great Dane" to ImageNet;
the head, trained on such views, knows better). The head runs on the ImageNet model's own
pass, so asking it costs nothing. A yielding claim ``holds`` all the same when its own model's
top class is one it names: ImageNet's "ox" on a Holstein cow the head calls a person.

A stage may be a learned head (:mod:`.head`) over the same backbone as another stage (the
ImageNet model): one backbone run per crop then answers both (:func:`_shared_runs`).

In object mode a card's ``locate`` section has a detector check each label against what it
sees: a label borrowed from a neighbour is dropped, and a label the card lets it overrule
(``person`` on a cow) becomes the detector's (:mod:`.locate`).

:mod:`.cascade_load` loads a card's stages and checks them against what they report.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from visionedge.classify.card import Card, Stage
from visionedge.classify.classifier import TfliteClassifier, timed_classification
from visionedge.classify.head import HeadClassifier
from visionedge.classify.locate import Locator
from visionedge.classify.settings import apply_card
from visionedge.config import ClassifierConfig
from visionedge.frame import Frame, Image
from visionedge.objects.crop import tight_to
from visionedge.protocols import Box, Classification, Prediction

__all__ = ["Answer", "CascadeClassifier", "Step"]

Answer = tuple[npt.NDArray[np.float32], Prediction | None]
"""One stage's answer for a crop: its user scores (its labels' order) and raw top label."""

@dataclass(frozen=True, slots=True)
class Step:
    """A loaded stage: its card entry and its classifier.

    ``holds``: the stage's ``holds`` resolved at load time, {model label index: least score}."""

    stage: Stage
    classifier: TfliteClassifier
    holds: dict[int, float] = field(default_factory=dict)


class CascadeClassifier:
    """Runs its stages on the same crop; see the module docstring."""

    def __init__(
        self, card: Card, name: str, steps: list[Step], cfg: ClassifierConfig,
        locator: Locator | None = None,
    ) -> None:
        self.card = card
        self._locator = locator
        self.name = name
        self._steps = steps
        self._cfg = cfg
        # One identity for the payload: the stages' hashes together.
        import hashlib

        # The location check changes the answers, so its detector is part of the identity.
        detector = [locator.detector.sha256] if locator is not None else []
        joined = "".join([*(s.classifier.sha256 for s in steps), *detector]).encode()
        self.sha256 = hashlib.sha256(joined).hexdigest()
        labels: list[str] = []
        for s in steps:
            labels += [x for x in s.classifier.labels if x not in labels]
        self.labels = tuple(labels)
        self.backend = steps[0].classifier.backend
        self.stages = tuple(s.classifier for s in steps)
        self.min_agree = card.min_agree
        """Classifications an event's voted label must top (the card's ``vote.min_agree``)."""
        self.min_share = card.min_share
        """Share of its classifications an event's label must top (the card's ``vote.min_share``)."""
        self.object_min_crop_px = card.object_min_crop_px
        """Smallest crop side for a tracked object (the card's ``objects.min_crop_px``)."""
        self.object_min_fill_pct = card.object_min_fill_pct
        """Share of its grown crop an object's box must cover to be classified (``objects.min_fill_pct``)."""
        self.object_classify_per_frame = card.object_classify_per_frame
        """Objects classified per frame the card asks (``objects.classify_per_frame``; 0: none)."""
        self.object_confirm_px = card.object_confirm_px
        """Smallest side of an object's tight crop, the second look (``objects.confirm_px``; 0: none)."""
        self.object_still_min_score = card.object_still_min_score
        """Per label, the mean score at which a still object counts (``objects.still_min_score``)."""
        self.confirm_labels = frozenset(lab for s in steps for lab in s.stage.confirms)
        """Labels an object's crop keeps only if its tight crop shows them too (stages' ``confirms``)."""
        self._shared = _shared_runs(steps)
        # A stage the head's run always answers never runs its own interpreter: free it
        # (the default card: ~3 MB of the 100 MB budget, docs/gate.md).
        for _head, member in self._shared.values():
            uses = [s for s in steps if s.classifier is member]
            if member is not _head and uses and all(s.stage.tiles == 1 for s in uses):
                member.free_interpreter()

    reports_raw_labels = True

    @property
    def path(self) -> Path:
        """The cascade's card."""
        return self.card.path

    def reconfigure(self, cfg: ClassifierConfig) -> None:
        """Apply thresholds/top-k/margin to the stages that answer (the last one)."""
        self._cfg = apply_card(cfg, self.card)
        for s in self._steps:
            s.classifier.reconfigure(
                s.classifier._cfg.model_copy(update={k: getattr(cfg, k) for k in ("top_k", "margin")})
            )

    def classify_image(
        self, image: Image, box: Box | None = None, *, frame_index: int = 0
    ) -> Classification:
        """Classify a still BGR image (or the ``box`` region of it)."""
        return self._look(image, box, frame_index)[0]

    def _look(
        self, image: Image, box: Box | None, frame_index: int
    ) -> tuple[Classification, Callable[[int], Answer]]:
        """:meth:`classify_image`, and the stages' answers on that crop (for a second look
        that reuses them)."""
        t0 = time.perf_counter_ns()
        answer = self._answerer(image, box)
        top, raw = self.decide(answer)
        return timed_classification(t0, frame_index, top, box, raw), answer

    def stage_answers(self, image: Image, box: Box | None = None) -> list[Answer]:
        """Every stage's answer for one crop, needed or not: what :meth:`decide` replays
        offline (``bench/head_choice.py`` swaps the head stage's answer for another head's)."""
        answer = self._answerer(image, box)
        return [answer(k) for k in range(len(self._steps))]

    def _answerer(self, image: Image, box: Box | None) -> Callable[[int], Answer]:
        answers: dict[tuple[int, int], Answer] = {}

        def answer(k: int) -> Answer:
            # Each model runs at most once per crop (stages of one interpreter and tiling
            # share an answer), and only when its answer is needed.
            step = self._steps[k]
            key = (id(step.classifier), step.stage.tiles)
            if key not in answers:
                pair = self._shared.get(id(step.classifier)) if step.stage.tiles == 1 else None
                if pair is not None:
                    # A head and its backbone's own stage: one run answers both.
                    head, member = pair
                    head_scores, own = head.run_both(head.input_tensor(image, box))
                    answers[(id(head), 1)] = head._user_scores_of(head_scores)
                    answers[(id(member), 1)] = member._user_scores_of(own)
                elif step.stage.tiles > 1:
                    answers[key] = step.classifier.tiled_user_scores(image, box, step.stage.tiles)
                else:
                    answers[key] = step.classifier.user_scores(image, box)
            return answers[key]

        return answer

    def decide(
        self, answer: Callable[[int], Answer]
    ) -> tuple[tuple[Prediction, ...], Prediction | None]:
        """The cascade's top predictions and raw label from its stages' answers
        (``answer(k)``: stage k's user scores and raw top label), asked in stage order and
        only as far as needed."""
        for k, step in enumerate(self._steps):
            stage, clf = step.stage, step.classifier
            scores, step_raw = answer(k)
            if not stage.claims:
                # Indices in the cascade's own label order, as a claim's are.
                ranked = tuple(replace(p, index=self.labels.index(p.label)) for p in clf.rank(scores))
                return ranked, step_raw
            claimed = float(scores[clf.labels.index(stage.claims)])
            if claimed < stage.min_score:
                continue
            if stage.veto < 1.0:
                nxt_scores, _ = answer(k + 1)
                nxt = self._steps[k + 1].classifier
                # Ignored labels (a head's "background") are no other label.
                others = float(np.sum(
                    [v for lab, v in zip(nxt.labels, nxt_scores, strict=True)
                     if lab != stage.claims and lab not in nxt._ignore]
                ))
                if others >= stage.veto:
                    continue
            if stage.yields and not _holds(step, step_raw) and self._yields(stage, answer):
                continue
            top = (Prediction(stage.claims, self.labels.index(stage.claims), claimed),)
            return top, step_raw or Prediction(stage.claims, clf.labels.index(stage.claims), claimed)
        return (), None

    def classify_object(self, frame: Frame, box: Box, own: Box) -> Classification:
        """Classify a tracked object on ``box`` (its grown crop), then, for a label the card
        confirms, look again at its tight crop (``own``, the object's box, grown by
        :func:`~visionedge.objects.crop.tight_to`): unless a stage that ``confirms`` the
        label gives it its score there, the crop gives no label (the grown crop named what is
        around the object: flies beside a speck of dust). An object whose tight crop is no
        smaller than ``box`` gets no second run: the first look was at its own box, and its
        answers are held to the same scores. The stages of the second look share one
        backbone run, as on the first."""
        return self.classify_object_image(frame.image(), box, own, frame_index=frame.index)

    def classify_object_image(
        self, image: Image, box: Box, own: Box, *, frame_index: int = 0
    ) -> Classification:
        """:meth:`classify_object` on a still BGR image (``dataset collect --objects``'s teacher)."""
        c, first = self._look(image, box, frame_index)
        best = c.best
        confirm = self.object_confirm_px > 0 and best is not None and best.label in self.confirm_labels
        if best is None or not (confirm or self._locator is not None):
            return c
        t0 = time.perf_counter_ns()
        h, w = image.shape[:2]
        keep = True
        if confirm:
            tight = tight_to(own, w, h, self.object_confirm_px)
            if (tight.x1 - tight.x0) * (tight.y1 - tight.y0) >= (box.x1 - box.x0) * (box.y1 - box.y0):
                # The object fills its crop: the first look was already at its own box, so its
                # answers are held to the same bars (a shadow as big as its crop is no animal).
                answer = first
            else:
                answer = self._answerer(image, tight)
            label = best.label
            keep = any(
                float(answer(k)[0][step.classifier.labels.index(label)]) >= step.stage.confirms[label]
                for k, step in enumerate(self._steps) if label in step.stage.confirms
            )
        if keep and self._locator is not None:
            fill = 100.0 * _area(own) / max(_area(box), 1e-12)
            verdict = self._locator.check(image, box, own, best.label, fill)
            if verdict.label:
                # The detector sees something else on the box: its label, and its class as
                # the raw label (what a subscriber sees behind the mapped one).
                us = round(c.classify_us + (time.perf_counter_ns() - t0) / 1000.0, 1)
                top = (Prediction(verdict.label, self.labels.index(verdict.label), verdict.score),)
                return replace(c, top=top, raw_label=verdict.raw, raw_score=verdict.score,
                               classify_us=us)
            keep = verdict.keep
        us = round(c.classify_us + (time.perf_counter_ns() - t0) / 1000.0, 1)
        return replace(c, classify_us=us) if keep else replace(c, top=(), classify_us=us)

    def _yields(self, stage: Stage, answer: Callable[[int], Answer]) -> bool:
        """Whether the last stage gives one of ``stage.yields``'s labels at least its score."""
        last = len(self._steps) - 1
        scores, _ = answer(last)
        labels = self._steps[last].classifier.labels
        return any(float(scores[labels.index(lab)]) >= need for lab, need in stage.yields.items())

    def classify(self, frame: Frame, box: Box | None) -> Classification:
        """Classify what moved: ``box`` of the frame's full-resolution image."""
        return self.classify_image(frame.image(), box, frame_index=frame.index)


def _holds(step: Step, raw: Prediction | None) -> bool:
    """Whether the step's own top class is one its claim holds on whatever it ``yields`` to
    (ImageNet's "ox" on a Holstein cow, which the learned head calls a person)."""
    return raw is not None and raw.index in step.holds and raw.score >= step.holds[raw.index]


def _area(box: Box) -> float:
    return max(box.x1 - box.x0, 0.0) * max(box.y1 - box.y0, 0.0)


def _shared_runs(steps: list[Step]) -> dict[int, tuple[HeadClassifier, TfliteClassifier]]:
    """Stages one backbone run answers: a head stage and a stage of the head's own backbone
    model cut the same crop the same way (same file, margin and resize), so the head's run
    gives that stage's scores too (:meth:`HeadClassifier.run_both`). id -> (head, member)."""
    out: dict[int, tuple[HeadClassifier, TfliteClassifier]] = {}
    for h in steps:
        head = h.classifier
        if not isinstance(head, HeadClassifier) or h.stage.tiles != 1 or head._model.second is None:
            continue
        for s in steps:
            clf = s.classifier
            if (clf is not head and not isinstance(clf, HeadClassifier) and s.stage.tiles == 1
                    and clf.sha256 == head._model.sha256 and clf._cfg.margin == head._cfg.margin
                    and clf.exact_resize == head.exact_resize):
                out[id(head)] = out[id(clf)] = (head, clf)
    return out
