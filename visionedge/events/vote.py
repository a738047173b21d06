"""Temporal voting: an event's label is the mean score per label over its classifications."""

from __future__ import annotations

from dataclasses import dataclass, field

from visionedge.protocols import Classification

__all__ = ["LabelVote"]


@dataclass(slots=True)
class LabelVote:
    """Accumulates the classifications of one event.

    A label's vote is the sum of its scores divided by the number of classifications of the
    event (a classification that did not report the label counts as 0), so a label seen on
    one frame out of ten cannot outvote one seen on all ten. Ties go to the label that sorts
    first, so the result never depends on dict order.
    """

    count: int = 0
    sums: dict[str, float] = field(default_factory=dict)

    def add(self, classification: Classification) -> None:
        """Count one classification (even one whose predictions all fell below threshold)."""
        self.count += 1
        for p in classification.top:
            self.sums[p.label] = self.sums.get(p.label, 0.0) + p.score

    def best(self) -> tuple[str, float] | None:
        """The winning label and its mean score, or None when nothing passed the thresholds."""
        if self.count == 0 or not self.sums:
            return None
        label = min(self.sums, key=lambda name: (-self.sums[name], name))
        return label, self.sums[label] / self.count
