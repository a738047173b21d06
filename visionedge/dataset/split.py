"""Split a dataset by clip: every crop of a clip lands on the same side, so the test set is
footage the model never saw (frames of one passage are near-duplicates; split by frame, the
test accuracy measures memory, not generalisation).

Test clips are chosen greedily and seeded, class by class (rarest first), until each class
has about ``test_fraction`` of its crops in test, or are given by name. Validation (for the
training curves only) takes whole passages of the remaining clips the same way, so it never
shares a passage with training either. Neither ever takes the last training clip (or
passage) of a class.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from visionedge.dataset.manifest import Dataset, Item
from visionedge.errors import DatasetError
from visionedge.train.dataset import Split

__all__ = ["split_by_clip"]


def _pick_test(
    groups: dict[str, list[Item]], classes: Sequence[str], fraction: float,
    rng: np.random.Generator,
) -> set[str]:
    totals = Counter(it.label for items in groups.values() for it in items)
    counts = {g: Counter(it.label for it in items) for g, items in groups.items()}
    order = [sorted(groups)[i] for i in rng.permutation(len(groups))]
    test: set[str] = set()
    have: Counter[str] = Counter()
    for cls in sorted(classes, key=lambda c: (totals[c], c)):
        want = fraction * totals[cls]
        for g in order:
            if have[cls] >= want:
                break
            if g in test or not counts[g][cls]:
                continue
            # Never take the last training clip of any class the clip carries.
            if any(sum(counts[h][c] for h in groups if h not in test and h != g) == 0
                   for c in counts[g]):
                continue
            test.add(g)
            have.update(counts[g])
    return test


def split_by_clip(
    ds: Dataset,
    *,
    seed: int = 0,
    test_fraction: float = 0.2,
    val_fraction: float = 0.15,
    test_clips: Sequence[str] | None = None,
) -> Split:
    """The train/val/test :class:`~visionedge.train.dataset.Split` of ``ds``, by clip.

    ``test_clips`` names the test clips (exact clip ids of the manifest); otherwise they are
    picked as the module docstring says. DatasetError when there are fewer than two clips
    or a named clip has no crops.
    """
    groups: dict[str, list[Item]] = defaultdict(list)
    for it in ds.items:
        groups[it.group].append(it)
    rng = np.random.default_rng([seed, 41])
    if test_clips:
        unknown = [c for c in test_clips if c not in groups]
        if unknown:
            raise DatasetError(
                f"{ds.root}: --test-clips names {unknown[0]}, which has no labelled crops; use "
                f"clip ids from `visionedge dataset stats {ds.root}`"
            )
        test = set(test_clips)
    else:
        if len(groups) < 2:
            raise DatasetError(
                f"{ds.root}: all crops come from {len(groups)} clip; a by-clip split needs at "
                "least two clips (collect another clip, so the test is footage never trained on)"
            )
        test = _pick_test(groups, ds.classes, test_fraction, rng)
    if len(test) == len(groups):
        raise DatasetError(
            f"{ds.root}: every clip is a test clip; leave at least one clip for training"
        )
    # Validation: whole passages of the training clips, picked per class like the test clips.
    passages: dict[str, list[Item]] = defaultdict(list)
    for g in sorted(groups):
        if g in test:
            continue
        for it in groups[g]:
            passages[f"{g}#{it.row.passage if it.row else 0}"].append(it)
    val_keys = _pick_test(passages, ds.classes, val_fraction, rng) if len(passages) > 1 else set()
    val = [it for k in sorted(val_keys) for it in passages.pop(k)]
    train = [it for v in passages.values() for it in v]
    files = {
        "train": sorted(it.rel for it in train),
        "val": sorted(it.rel for it in val),
        "test": sorted(it.rel for g in sorted(test) for it in groups[g]),
    }
    return Split(
        root=ds.root.resolve(), seed=seed, labels=list(ds.classes), files=files,
        groups={it.rel: it.group for it in ds.items},
        by="clip", test_groups=sorted(test),
    )
