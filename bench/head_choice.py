"""Benchmark: choose the learned head's training by leave-one-clip-out, per object.

Usage: ``python bench/head_choice.py --data ../realdata --dump OBJECTS.json
[--l2 0.03,0.1,0.3,1,3,10] [--views crop,frame]``

``OBJECTS.json`` is what ``bench/labels.py --mode object --all-clips --events-only --dump``
wrote with the default preset: every published object with its classifications (frame,
box) and its truth (the hand-checked crops on its box path). Each classification is cut
again from the clip as the pipeline cut it (the box grown to the card's
``objects.min_crop_px``), every cascade stage answers it once (``CascadeClassifier.
stage_answers``), and the backbone embedding is kept. Then, per candidate head recipe (L2
strength, training views), the cascade's decision is replayed with the candidate head's
answer in place of the shipped head's (``CascadeClassifier.decide``, the real code) and the
object's label voted as the pipeline votes (:class:`~visionedge.events.vote.LabelVote`, the
card's ``min_agree``).

Which head answers which clip, so that no clip is judged by a head trained on it:

- a train clip whose crops train the head (the licence-clean train clips of
  ``scripts/build_presets.py``): a head trained on the **other** such clips
  (leave-one-clip-out); with the train clips left out for their licence (below) this is the
  *train* column, the one to choose on;
- the test clips and the train clips left out for their licence: the head trained on all
  licence-clean train clips (as shipped), which never saw them: the columns to confirm on.

The replay asks for the same crops as the run that wrote the dump; a different head changes
which crops the real pipeline asks for later (settled objects, back-off), so the replay
favours the head that made the dump (its answers chose those crops): make the dump with the
installed card (the incumbent), and confirm the winner with a full ``bench/labels.py`` run
(docs/classify.md has both).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from visionedge.classify import load_classifier  # noqa: E402
from visionedge.classify.cascade import Answer, CascadeClassifier  # noqa: E402
from visionedge.classify.head import Head, HeadClassifier, open_backbone  # noqa: E402
from visionedge.classify.presets import DEFAULT_PRESET, resolve_model  # noqa: E402
from visionedge.config import ClassifierConfig  # noqa: E402
from visionedge.events.vote import LabelVote  # noqa: E402
from visionedge.objects.crop import grow_to  # noqa: E402
from visionedge.protocols import Box, Classification  # noqa: E402
from visionedge.sources.av_video import VideoDecoder  # noqa: E402
from visionedge.train.head import fit, sample_rows  # noqa: E402


def _build_presets() -> Any:
    spec = importlib.util.spec_from_file_location("build_presets", ROOT / "scripts" / "build_presets.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def head_stage(casc: CascadeClassifier) -> int:
    """Index of the cascade's head stage (the last stage, a HeadClassifier)."""
    for k, clf in enumerate(casc.stages):
        if isinstance(clf, HeadClassifier):
            return k
    raise SystemExit(f"{casc.name}: no learned head stage; nothing to choose")


Crop = tuple[list[Answer], np.ndarray]
"""Every stage's answer for one classification, and the backbone embedding of its crop."""


def object_crops(casc: CascadeClassifier, clips_dir: Path, entry: dict[str, Any]) -> dict[tuple[int, int], Crop]:
    """(object index, classification index) -> its stage answers and embedding, cut again
    from the clip (decoded as the pipeline decodes it) as the pipeline cut it."""
    head = casc.stages[head_stage(casc)]
    assert isinstance(head, HeadClassifier)
    need: dict[int, list[tuple[int, int, list[float]]]] = {}
    for oi, o in enumerate(entry["objects"]):
        for si, s in enumerate(o["said"]):
            need.setdefault(int(s["frame"]), []).append((oi, si, s["box"]))
    out: dict[tuple[int, int], Crop] = {}
    if not need:
        return out
    dec = VideoDecoder(clips_dir / entry["clip"], "")
    try:
        for index, frame in enumerate(dec.frames()):
            if index > max(need):
                break
            for oi, si, b in need.get(index, []):
                image = frame.image()
                h, w = image.shape[:2]
                # The dump's box is the tracker's, unrounded; the pipeline rounds it to 4
                # decimals (objects.geometry.px_to_box) before growing it.
                box = grow_to(Box(*(round(v, 4) for v in b)), w, h, casc.object_min_crop_px)
                emb = head.embedding(head.input_tensor(image, box)).astype(np.float64)
                out[(oi, si)] = (casc.stage_answers(image, box), emb)
    finally:
        dec.close()
    return out


def object_label(casc: CascadeClassifier, k: int, crops: list[Crop], head: Head | None) -> str:
    """The object's voted label with ``head`` answering the head stage (None: as recorded)."""
    clf = casc.stages[k]
    assert isinstance(clf, HeadClassifier)
    vote = LabelVote(min_agree=casc.min_agree)
    for answers, emb in crops:
        if head is not None:
            probs = head.probabilities(emb).astype(np.float32)
            answers = [*answers[:k], clf._user_scores_of(probs), *answers[k + 1:]]
        top, _ = casc.decide(lambda i, a=answers: a[i])
        vote.add(Classification(frame_index=0, top=top, box=None))
    best = vote.best()
    return best[0] if best else ""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "realdata", help="realdata folder")
    ap.add_argument("--dump", type=Path, required=True,
                    help="bench/labels.py --mode object --all-clips --dump output (default preset)")
    ap.add_argument("--l2", default="0.03,0.1,0.3,1,3,10", help="L2 strengths to compare")
    ap.add_argument("--views", default="crop,frame",
                    help="training views: 'crop,frame' (the hand-checked crop and its box cut from "
                    "the frame two ways, as build_presets.py) or 'crop' (the crop files only)")
    args = ap.parse_args()
    bp = _build_presets()
    casc = load_classifier(ClassifierConfig(model=DEFAULT_PRESET))
    assert isinstance(casc, CascadeClassifier)
    k = head_stage(casc)
    shipped = casc.stages[k]
    assert isinstance(shipped, HeadClassifier)
    dump = [e for e in json.loads(args.dump.read_text()) if e["preset"] == DEFAULT_PRESET]

    samples, clips = bp.head_samples(args.data)
    trained = {s.group for s in samples}
    file_of = {e["file"]: cid for cid, e in clips.items()}
    print(f"{len(samples)} training crops of {len(trained)} clips; embedding them", flush=True)
    backbone = open_backbone(resolve_model(shipped.head.backbone), shipped.head.tensor,
                             ClassifierConfig(), origin="bench")
    views = (lambda ss: bp.frame_views(args.data, ss)) if "frame" in args.views else None
    x, index = sample_rows(backbone, samples, views)
    labels = list(shipped.head.labels)
    y = np.array([labels.index(samples[i].label) for i in index], np.int64)
    groups = [samples[i].group for i in index]

    print("cutting the objects' crops again and running every stage on them", flush=True)
    crops: dict[str, list[list[Crop]]] = {}
    for entry in dump:
        got = object_crops(casc, args.data / "clips", entry)
        crops[entry["clip"]] = [[got[(oi, si)] for si in range(len(o["said"]))]
                                for oi, o in enumerate(entry["objects"])]

    def judge(head_of: dict[str, Head | None]) -> dict[str, Any]:
        per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        pov = same = 0
        for entry in dump:
            cid = file_of.get(entry["clip"], entry["clip"])
            for o, cs in zip(entry["objects"], crops[entry["clip"]], strict=True):
                lab = object_label(casc, k, cs, head_of.get(cid))
                per[entry["clip"]][0] += lab in o["truth"]
                per[entry["clip"]][1] += 1
                pov += lab == "person" and list(entry["classes"]) == ["vehicle"]
                same += lab == (o["label"] or "")
        return {"per": dict(per), "pov": pov, "same": same,
                "objects": sum(v[1] for v in per.values())}

    def total(res: dict[str, Any], keep: Any) -> str:
        rows = [v for c, v in res["per"].items() if keep(c)]
        return f"{sum(r[0] for r in rows)}/{sum(r[1] for r in rows)}"

    split = {e["clip"]: e["split"] for e in dump}
    loco_clips = {file_of.get(c, c) for c in split} & trained

    def is_loco(c: str) -> bool:
        return file_of.get(c, c) in loco_clips

    def unseen(c: str) -> bool:
        return file_of.get(c, c) not in trained

    def make(params: tuple[Any, ...], l2: float) -> Head:
        h = shipped.head
        return Head(h.backbone, h.backbone_sha256, h.tensor, h.labels, *params,
                    training={"l2": l2})

    print(f"\n{'head':24s} {'train (choose)':>26s} {'test (confirm)':>16s} "
          f"{'never seen':>12s} {'all':>9s}  person on vehicle-only clips", flush=True)
    recorded = judge({})
    print(f"{'installed head (replay)':24s} {total(recorded, lambda c: split[c] == 'train'):>26s} "
          f"{total(recorded, lambda c: split[c] == 'test'):>16s} {total(recorded, unseen):>12s} "
          f"{total(recorded, lambda c: True):>9s}  {recorded['pov']}   (reproduces "
          f"{recorded['same']} of {recorded['objects']} object labels of the dump's run)",
          flush=True)
    for l2 in (float(v) for v in args.l2.split(",")):
        head_of: dict[str, Head | None] = {}
        full = make(fit(x, y, groups, len(labels), l2), l2)
        for cid in {file_of.get(c, c) for c in split}:
            if cid in loco_clips:
                keep = np.array([g != cid for g in groups])
                head_of[cid] = make(fit(x[keep], y[keep], [g for g in groups if g != cid],
                                        len(labels), l2), l2)
            else:
                head_of[cid] = full
        res = judge(head_of)
        left_out = {c: v for c, v in res["per"].items() if is_loco(c)}
        print(f"{f'L2 {l2:g}':24s} {total(res, lambda c: split[c] == 'train'):>26s} "
              f"{total(res, lambda c: split[c] == 'test'):>16s} {total(res, unseen):>12s} "
              f"{total(res, lambda c: True):>9s}  {res['pov']}   per left-out clip: "
              + ", ".join(f"{c.split('_')[0]}_{c.split('_')[1]} {v[0]}/{v[1]}"
                          for c, v in sorted(left_out.items())), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
