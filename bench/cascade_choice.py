"""Choose a cascade of presets on the TRAIN clips, confirm it on the TEST clips.

Usage: ``python bench/cascade_choice.py [--data DIR]`` (the footage folder of bench/labels.py).

Each stage preset scores every crop the real pipeline asks about once (cached by clip, frame
and box); each candidate cascade is then replayed through the real pipeline (gate, events,
label vote) with a classifier that answers from the cache, as ``CascadeClassifier`` would
(``claims`` + ``min_score``, no veto). Printed per candidate: events right on the train clips
(where the choice is made) and on the test clips (the confirmation, never used to choose),
worst clip, and person events on vehicle-only clips. The student (tiny_pva) was trained on
crops of the train clips, so its train figures are optimistic: the test clips decide
whether a cascade with it is shipped. A third line counts the train clips the student never
saw (left out of its training for their licence; its card lists what it trained on).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parent))

from labels import _Sink, clips_of, find_data

from visionedge.classify import load_classifier
from visionedge.classify.presets import PRESETS_DIR
from visionedge.config import ClassifierConfig, Config, OutputConfig, SourceConfig
from visionedge.pipeline import build_pipeline
from visionedge.protocols import Box, Classification, Prediction

STAGES = ("person_detect", "tiny_pva", "mobilenet_v1_075")
Scores = dict[str, npt.NDArray[np.float32]]
# (preset, claims, min_score) ...; the last stage answers with its own card's threshold.
Candidate = tuple[tuple[str, str, float], ...]
CANDIDATES: dict[str, Candidate] = {
    "person_vehicle_animal (shipped)": (("person_detect", "person", 0.8),),
    "tiny_pva alone": (),
    **{f"pd person 0.8, tiny vehicle {t}": (("person_detect", "person", 0.8), ("tiny_pva", "vehicle", t))
       for t in (0.5, 0.7, 0.9)},
    **{f"tiny vehicle {t}, pd person 0.8": (("tiny_pva", "vehicle", t), ("person_detect", "person", 0.8))
       for t in (0.5, 0.7, 0.9)},
    **{f"tiny person {t}, tiny vehicle {t}": (("tiny_pva", "person", t), ("tiny_pva", "vehicle", t))
       for t in (0.7, 0.9)},
    **{f"tiny person {t} + pd 0.8, tiny vehicle 0.7": (
        ("tiny_pva", "person", t), ("person_detect", "person", 0.8), ("tiny_pva", "vehicle", 0.7))
       for t in (0.95,)},
    # "background" here: the student's unmapped background score (1 - its user scores) at
    # least min_score means no label (not a cascade feature yet: measured before building it).
    **{f"tiny background {t} -> none, pd person 0.8": (
        ("tiny_pva", "background", t), ("person_detect", "person", 0.8)) for t in (0.7, 0.9)},
}


class _Replay:
    """Answers from cached stage scores with a candidate's rule (scores computed on a miss)."""

    name = "replay"
    sha256 = "0" * 64

    def __init__(self, clfs: dict[str, Any], cache: dict[tuple[Any, ...], Scores], clip: str,
                 rule: Candidate, last: str) -> None:
        self.clfs, self.cache, self.clip, self.rule, self.last = clfs, cache, clip, rule, last

    def classify(self, frame: Any, box: Box | None) -> Classification:
        key = (self.clip, frame.index, None if box is None else (box.x0, box.y0, box.x1, box.y1))
        if key not in self.cache:
            img = frame.image()
            self.cache[key] = {n: c.user_scores(img, box)[0] for n, c in self.clfs.items()}
        scores = self.cache[key]
        top: tuple[Prediction, ...] = ()
        for preset, claims, min_score in self.rule:
            clf = self.clfs[preset]
            if claims == "background":
                if 1.0 - float(np.sum(scores[preset])) >= min_score:
                    break  # top stays empty: no label
                continue
            s = float(scores[preset][clf.labels.index(claims)])
            if s >= min_score:
                top = (Prediction(claims, 0, s),)
                break
        else:
            top = self.clfs[self.last].rank(scores[self.last])
        return Classification(frame_index=frame.index, top=top, box=box)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="real data folder (default: ../realdata or ../shared/data)")
    ap.add_argument("--only", help="candidates whose name contains this")
    args = ap.parse_args()
    data = find_data(args.data)
    if data is None:
        print("bench/cascade_choice: no real data; nothing measured")
        return 0
    clips = clips_of(data, ("train", "test"))
    clfs = {n: load_classifier(ClassifierConfig(model=n)) for n in STAGES}
    card = json.loads((PRESETS_DIR / "tiny_pva" / "card.json").read_text())
    student_saw = {c["clip"] for c in card["preset"]["data"]["train_clips"]}
    cache: dict[tuple[Any, ...], Scores] = {}
    for name, rule in CANDIDATES.items():
        if args.only and args.only not in name and "shipped" not in name:
            continue
        last = "tiny_pva" if name == "tiny_pva alone" else "mobilenet_v1_075"
        rows: dict[str, list[tuple[int, int, int]]] = {"train": [], "test": [], "unseen by tiny_pva": []}
        wrong: list[str] = []
        for clip, classes, split in clips:
            sink = _Sink()
            cfg = Config(source=SourceConfig(kind="file", path=str(clip)),
                         output=OutputConfig(stdout=False))
            replay = _Replay(clfs, cache, clip.name, rule, last)
            build_pipeline(cfg, sinks=[sink], classifier=replay, deterministic_ids=True).run()
            ok = sum(e["label"] in classes for e in sink.events)
            pov = sum(e["label"] == "person" for e in sink.events) if classes == ("vehicle",) else 0
            rows[split].append((ok, len(sink.events), pov))
            if clip.name not in student_saw:
                rows["unseen by tiny_pva"].append((ok, len(sink.events), pov))
            if ok < len(sink.events):
                wrong.append(f"{clip.stem}({split}): {[e['label'] for e in sink.events]}")
        parts = []
        for split in rows:
            r = rows[split]
            right, total = sum(x[0] for x in r), sum(x[1] for x in r)
            worst = min((x[0] / x[1] if x[1] else 1.0) for x in r)
            parts.append(f"{split} {right}/{total} = {right / max(total, 1):.0%} (worst clip "
                         f"{worst:.0%}, person on vehicle {sum(x[2] for x in r)})")
        print(f"{name}: " + "; ".join(parts), flush=True)
        print("    wrong: " + "; ".join(wrong), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
