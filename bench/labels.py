"""Benchmark: do the shipped presets label REAL footage right?

Usage: ``python bench/labels.py [--data DIR] [--presets a,b] [--all-clips] [--teacher P]
[--mode motion|object] [--clips a.avi,b.mp4] [--dump FILE]``

Data (never in the repository): ``--data DIR``, else ``../realdata`` beside the project
when it holds clips, else ``../shared/data``. Clips with one known class each:

- ``../shared/data/clips``: ``cdnet_highway_320x240.avi`` (vehicle only),
  ``pedestrians_480x360.avi`` (person only);
- a realdata folder: ``manifest.json`` ``clips`` entries ``{"file", "classes",
  "dominant", "split"}`` (only ``split == "test"`` clips, so nothing a student trained on
  counts), and hand-checked gate crops of those clips in ``crops/test/<class>/*.png``
  (``background`` = nothing to name).

Per preset it prints: accuracy per class on the test crops (without ready crops: every
crop the real pipeline asks about on the single-class clips, ``every_n_frames`` 5, no
per-event cap); for ``background`` crops the share that got no label; ms per crop
(``classify_image`` on one thread, each crop timed ``--repeat`` times and its fastest run
counted: CPU time of the calling thread, so other processes' load stays out, and wall time;
medians, and for CPU also the mean and the worst crop, since a cascade's later stages run
only on some crops), model bytes, the MCU arena where the card states one; then,
running the real pipeline with the preset and default event settings, per clip the events
whose label is right by two measures, summed per split (``--all-clips``: test, train and
all): *clip*, the label is a class of the clip; *checked*, the label is a class of the
hand-checked crops (``crops/manifest.csv``) inside the event's frames, and no label is right
when those crops are all ``background`` (an event of wind in the leaves over a road names
nothing; the clip measure wants "vehicle" there). Also whether any event on a vehicle-only
clip says person. The targets are judged on *checked* (on *clip* without hand-checked crops).
``--mode object``: the pipeline runs with ``[objects] mode = "object"`` and every published
object is judged instead, by the hand-checked crops on its box path (:func:`object_truth`:
a crop from a frame the object was tracked on whose box overlaps the object's by half the
smaller box; also the boxes of ``crops/objects_checked.csv``, objects' own boxes checked by
eye, which decide alone where they exist (:data:`OWN_BOX`, :data:`CHECKED_TABLES`); ``--dump FILE`` writes each object's classifications, box path and truth as
JSON, to replay vote rules offline. Last, the agreement of
every preset with ``--teacher`` (default ``deeplab_pascal``, the student's teacher) on the
crops: same top label, or both no label. Targets (issue 8): >= 90 % of events right overall,
>= 80 % on every clip, no person on a vehicle-only clip. Exit status 1 when the default
preset misses one. The student ``tiny_pva`` was trained on crops of most train clips: its
train-clip events are not a fair measure (bench/cascade_choice.py also counts the clips it
never saw).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import cv2
import numpy.typing as npt

from visionedge.classify import load_classifier
from visionedge.classify.presets import DEFAULT_PRESET, PRESETS_DIR, preset_names
from visionedge.config import ClassifierConfig, Config, OutputConfig, SourceConfig
from visionedge.objects import TrackingStage
from visionedge.objects.track import TrackStep
from visionedge.pipeline import build_pipeline
from visionedge.protocols import Box, Classification

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
Crop = tuple[npt.NDArray[Any], Box | None]

# The judging rules live beside this file (bench/ is scripts, not a package).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from label_truth import (  # noqa: E402
    CHECKED_TABLES,
    OVERLAP,
    OWN_BOX,
    SHARED_CLIPS,
    Checked,
    Clip,
    clips_of,
    event_truth,
    find_data,
    hand_checked,
    iou,
    object_truth,
    overlap,
    received_labels,
    received_line,
)

__all__ = ["CHECKED_TABLES", "OVERLAP", "OWN_BOX", "SHARED_CLIPS", "Checked", "Clip", "clips_of",
           "event_truth", "find_data", "hand_checked", "iou", "object_truth", "overlap",
           "received_labels", "received_line"]


class _Recorder:
    """A Classifier that only records what the pipeline asks it to look at."""

    name = "recorder"
    sha256 = "0" * 64

    def __init__(self) -> None:
        self.crops: list[Crop] = []

    def classify(self, frame: Any, box: Box | None) -> Classification:
        self.crops.append((frame.image().copy(), box))
        return Classification(frame_index=frame.index, top=(), box=box)


def gate_crops(clip: Path, stride: int) -> list[Crop]:
    """What the real gate hands the classifier on ``clip`` (every 5th open frame, no cap)."""
    cfg = Config(
        source=SourceConfig(kind="file", path=str(clip)),
        output=OutputConfig(stdout=False),
        classifier=ClassifierConfig(every_n_frames=5, max_per_event=100000),
    )
    rec = _Recorder()
    build_pipeline(cfg, sinks=[], classifier=rec, deterministic_ids=True).run()
    return rec.crops[::stride]


def ready_crops(data: Path) -> dict[str, list[Crop]]:
    """``crops/test/<class>/*`` images, whole image as the crop."""
    out: dict[str, list[Crop]] = {}
    base = data / "crops" / "test"
    if not base.is_dir():
        return out
    for d in sorted(p for p in base.iterdir() if p.is_dir()):
        for f in sorted(d.iterdir()):
            if f.suffix.lower() in IMAGE_SUFFIXES:
                img = cv2.imread(str(f), cv2.IMREAD_COLOR)
                if img is not None:
                    out.setdefault(d.name, []).append((img, Box(0.0, 0.0, 1.0, 1.0)))
    return out


class _Sink:
    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.starts: dict[str, dict[str, Any]] = {}

    def publish(self, event: Any) -> None:
        if event["type"] == "end":
            self.events.append(dict(event))
        elif event["type"] == "start":
            self.starts[event["event_id"]] = dict(event)

    def state(self, name: str, value: str, detail: Any = None) -> None:
        pass

    def close(self, timeout: float = 5.0) -> None:
        pass


def clip_events(
    preset: str, clip: Path, mode: str = "motion", objects: dict[str, Any] | None = None,
    costs: list[float] | None = None,
) -> list[dict[str, Any]]:
    """End events of the real pipeline on ``clip`` with ``preset`` and default settings.

    ``mode = "object"``: per-object end events, each with ``_boxes`` (its normalised box on
    every frame it was tracked, read from the tracker) and ``_said`` (its classifications:
    frame, top label or "-", raw label), for :func:`object_truth` and the printout; ``costs``
    gets each classification's wall milliseconds (a cascade's second look included).
    """
    sink = _Sink()
    cfg = Config.model_validate({
        "source": {"kind": "file", "path": str(clip)},
        "output": {"stdout": False},
        "classifier": {"model": preset},
        "objects": {"mode": mode, **(objects or {})},
    })
    p = build_pipeline(cfg, sinks=[sink], deterministic_ids=True)
    boxes: dict[int, dict[int, tuple[float, float, float, float]]] = {}
    said: dict[int, list[tuple[int, str, str]]] = {}
    full: dict[int, list[dict[str, Any]]] = {}
    stage = p.objects
    if isinstance(stage, TrackingStage):
        on_classify = stage._classify

        def classify(frame: Any, step: TrackStep, events: Any, idle: bool) -> dict[int, Classification]:
            w, h = events.width, events.height
            for t in step.tracks:
                boxes.setdefault(t.object_id, {})[frame.index] = (
                    t.box[0] / w, t.box[1] / h, t.box[2] / w, t.box[3] / h)
            out = on_classify(frame, step, events, idle)
            for oid, c in out.items():
                if costs is not None:
                    costs.append(c.classify_us / 1000.0)
                said.setdefault(oid, []).append(
                    (frame.index, c.best.label if c.best else "-", c.raw_label or "-"))
                b = boxes[oid][frame.index]
                full.setdefault(oid, []).append({
                    "frame": frame.index, "box": b, "top": [(p.label, p.score) for p in c.top],
                    "raw": c.raw_label, "raw_score": c.raw_score})
            return out

        stage._classify = classify  # type: ignore[method-assign]
    p.run()
    if mode == "motion":
        return sink.events
    ends = [e for e in sink.events if e.get("schema") == 2]
    for e in ends:
        e["_boxes"] = boxes.get(e["object_id"], {})
        e["_said"] = said.get(e["object_id"], [])
        e["_full"] = full.get(e["object_id"], [])
        start = sink.starts.get(e["event_id"], {})
        e["_start"] = {k: start.get(k) for k in ("frame", "label", "classified_frames")}
    return ends


def object_cost(cost_by_clip: dict[str, list[float]], crop_ms: float) -> str:
    """One line: the wall milliseconds per object classification (a cascade's second look
    included), overall and on the dearest clip (of 20 or more), against ``crop_ms`` (the median per crop of
    the crop benchmark, same run; NaN with ``--events-only``)."""
    every = [x for v in cost_by_clip.values() for x in v]
    if not every:
        return "object classifications: none"
    # A clip's mean over a handful of classifications says little: the dearest clip is
    # chosen among those with 20 or more where there are any.
    many = [k for k, v in cost_by_clip.items() if len(v) >= 20] or [k for k, v in cost_by_clip.items() if v]
    dear = max(many, key=lambda k: statistics.mean(cost_by_clip[k]))
    mean = statistics.mean(every)
    ratio = "" if math.isnan(crop_ms) else f", x{mean / crop_ms:.2f} the median crop above"
    return (f"object classifications: {len(every)}, {mean:.1f} ms wall each on average{ratio}; "
            f"dearest clip {dear} {statistics.mean(cost_by_clip[dear]):.1f} ms "
            f"({len(cost_by_clip[dear])})")


def preset_facts(name: str) -> tuple[int, int | None]:
    """(model bytes, MCU arena bytes or None) from the preset's card(s); ``name`` may also be
    a model or head file with its card beside it. A head counts its backbone too."""
    path = Path(name)
    card_path = path.with_name("card.json") if path.suffix in (".json", ".tflite") else (
        PRESETS_DIR / name / "card.json")
    card = json.loads(card_path.read_text())
    stages = card.get("preset", {}).get("stages")
    if stages:
        return sum(preset_facts(name)[0] for name in dict.fromkeys(s["preset"] for s in stages)), None
    if card.get("preset", {}).get("kind") == "head":
        return int(card["bytes"]) + preset_facts(card["preset"]["backbone"])[0], None
    arena = card.get("preset", {}).get("mcu", {}).get("arena_bytes") or card.get("tflm", {}).get("arena_bytes")
    return int(card["bytes"]), arena


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="real data folder (default: ../realdata or ../shared/data)")
    ap.add_argument("--presets", help="comma-separated presets or model/head files with their "
                    "card beside them (default: all presets but demo)")
    ap.add_argument("--stride", type=int, default=1, help="use every Nth gate crop")
    ap.add_argument("--all-clips", action="store_true",
                    help="events on the train clips too (fair for pretrained presets, which "
                    "never saw them; not for a student trained on them)")
    ap.add_argument("--events-only", action="store_true", help="skip the crop accuracy")
    ap.add_argument("--mode", choices=("motion", "object"), default="motion",
                    help="events per motion period (default) or per tracked object "
                    "([objects] mode; each object judged by the checked crops on its box path)")
    ap.add_argument("--clips", help="comma-separated clip file names to keep (default: all)")
    ap.add_argument("--objects", action="append", default=[], metavar="KEY=VALUE",
                    help="an [objects] setting for the run, e.g. classify_per_frame=2 (repeatable)")
    ap.add_argument("--dump", help="object mode: write every object's classifications, box "
                    "path and truth to this JSON file (for replaying vote rules offline)")
    ap.add_argument("--repeat", type=int, default=3,
                    help="time each crop this often and count its fastest run (default 3)")
    ap.add_argument("--teacher", default="deeplab_pascal",
                    help="preset whose crop labels the others are compared with (agreement)")
    args = ap.parse_args()
    data = find_data(args.data)
    if data is None:
        print("bench/labels: no real data (../realdata or ../shared/data); nothing measured")
        return 0
    clips = clips_of(data, ("test", "train") if args.all_clips else ("test",))
    objects_settings = {k: json.loads(v) for k, v in (x.split("=", 1) for x in args.objects)}
    if args.clips:
        keep = set(args.clips.split(","))
        clips = [c for c in clips if c[0].name in keep or c[0].stem in keep]
    presets = args.presets.split(",") if args.presets else [p for p in preset_names() if p != "demo"]
    print(f"data {data}: {len(clips)} clips: "
          + ", ".join(f"{p.name}={'+'.join(c)} ({s})" for p, c, s in clips), flush=True)
    crops: dict[str, list[Crop]] = {}
    checked = hand_checked(data)
    ready = ready_crops(data)
    if args.events_only:
        pass
    elif ready:
        # Hand-checked crops of the test clips: the gate's crops with their true class.
        crops = ready
    else:
        for clip, classes, _ in clips:
            if len(classes) == 1:
                crops.setdefault(classes[0], []).extend(gate_crops(clip, args.stride))
    print("crops per class: " + ", ".join(f"{c}={len(v)}" for c, v in sorted(crops.items())),
          flush=True)
    failed = False
    dumped: list[dict[str, Any]] = []
    said_by: dict[str, list[str]] = {}
    listed = list(presets)
    if crops and args.teacher and args.teacher not in presets:
        presets = [*presets, args.teacher]
    for preset in presets:
        clf = load_classifier(ClassifierConfig(model=preset))
        size, arena = preset_facts(preset)
        times: list[float] = []
        cpu: list[float] = []
        per_class = []
        said_by[preset] = []
        for cls, items in sorted(crops.items()):
            said: Counter[str] = Counter()
            for img, box in items:
                # Each crop timed `repeat` times, its fastest run counts: a cascade's cost
                # depends on the crop (the later stages run only when needed), and the
                # fastest of three keeps other processes' load out of the worst case.
                best_wall, best_cpu = float("inf"), float("inf")
                for _ in range(args.repeat):
                    t0, c0 = time.perf_counter(), time.thread_time()
                    r = clf.classify_image(img, box)
                    best_wall = min(best_wall, (time.perf_counter() - t0) * 1000)
                    best_cpu = min(best_cpu, (time.thread_time() - c0) * 1000)
                times.append(best_wall)
                cpu.append(best_cpu)
                said[r.best.label if r.best else "-"] += 1
                said_by[preset].append(r.best.label if r.best else "-")
            if cls == "background":
                # Nothing to name: the right answer is no label.
                per_class.append(f"background: no label {said['-'] / len(items):.2f} "
                                 f"(said {dict(said.most_common(3))})")
                continue
            acc = said[cls] / len(items)
            per_class.append(f"{cls} {acc:.2f} (said {dict(said.most_common(3))})")
        ms = statistics.median(times) if times else float("nan")
        cpu_ms = statistics.median(cpu) if cpu else float("nan")
        arena_s = f", arena {arena / 1024:.0f} KiB" if arena else ""
        cpu_mean = statistics.mean(cpu) if cpu else float("nan")
        cpu_max = max(cpu) if cpu else float("nan")
        print(f"\n[{preset}] {size / 1024:.0f} KiB{arena_s}, {cpu_ms:.1f} ms CPU/crop "
              f"({ms:.1f} ms wall; medians, 1 thread; CPU mean {cpu_mean:.1f}, worst {cpu_max:.1f})")
        print("  crops: " + "; ".join(per_class), flush=True)
        if preset not in listed:
            continue  # the teacher, only there for the agreement
        # Two measures: "clip" = the label is a class of the clip (coarse: an event of moving
        # leaves on a road clip must say vehicle); "checked" = the label is a class of the
        # hand-checked crops inside the event's frames, and no label when those are all
        # background (event_truth). The targets are judged on "checked" when the crops exist.
        per_split: dict[str, dict[str, list[tuple[int, int, int]]]] = {"clip": {}, "checked": {}}
        cost_by_clip: dict[str, list[float]] = {}
        received: list[tuple[int, int, int, bool]] = []
        for clip, classes, split in clips:
            costs = cost_by_clip.setdefault(clip.name, [])
            events = clip_events(preset, clip, args.mode, objects_settings, costs)
            if args.mode == "object":
                judged_by = [object_truth(e["_boxes"], checked.get(clip.name, []), classes)
                             for e in events]
                truths = [t for t, _ in judged_by]
                by_crops = sum(j for _, j in judged_by)
                dumped.append({"preset": preset, "clip": clip.name, "split": split,
                               "classes": classes, "objects": [
                                   {"id": e["object_id"], "label": e["label"], "score": e["score"],
                                    "truth": t, "by_crops": j, "said": e["_full"],
                                    "start": e["_start"],
                                    "start_frame": e["start_frame"], "end_frame": e["end_frame"],
                                    "frames": e["frames"], "stationary": e["stationary"],
                                    "path": e["path"], "tracked": sorted(e["_boxes"].items())}
                                   for e, (t, j) in zip(events, judged_by, strict=True)]})
            else:
                truths = [event_truth(e, checked.get(clip.name, []), classes) for e in events]
            labels_of = [e["label"] or "" for e in events]
            ok = sum(lab in classes for lab in labels_of)
            ok_checked = sum(lab in t for lab, t in zip(labels_of, truths, strict=True))
            pov = sum(lab == "person" for lab in labels_of) if classes == ("vehicle",) else 0
            per_split["clip"].setdefault(split, []).append((ok, len(events), pov))
            per_split["checked"].setdefault(split, []).append((ok_checked, len(events), pov))
            received.append(received_labels(labels_of, truths, classes))
            shown = ", ".join(f"{lab or '-'} ({e.get('raw_label') or '-'})" + (
                "" if lab in t else f" WRONG, want {'/'.join(x or 'none' for x in t)}")
                for lab, e, t in zip(labels_of, events, truths, strict=True))
            if args.mode == "object":
                # Per object: its label, then its classifications (frame:top) when wrong.
                shown = ", ".join(
                    f"#{e['object_id']} {lab or '-'} {e['score'] or 0:.2f}" + ("" if lab in t else
                    f" WRONG want {'/'.join(x or 'none' for x in t)}"
                    f" [{' '.join(f'{f}:{c}({r})' for f, c, r in e['_said'])}]")
                    for lab, e, t in zip(labels_of, events, truths, strict=True))
                # What a user acting on `start` sees: a wrong label there is a false alert
                # even when the end is right; no label at the start is only late.
                starts = [e["_start"]["label"] for e in events]
                bad_starts = sum(bool(lab) and lab not in t for lab, t in zip(starts, truths, strict=True))
                print(f"  objects {clip.name} ({split}): {ok}/{len(events)} by clip class, "
                      f"{ok_checked}/{len(events)} by checked crops ({by_crops} judged by "
                      f"crops, the rest by clip class); starts: {sum(not x for x in starts)} "
                      f"unlabelled, {bad_starts} wrong: {shown}", flush=True)
            else:
                print(f"  events {clip.name} ({split}): {ok}/{len(events)} by clip class, "
                      f"{ok_checked}/{len(events)} by checked crops: {shown}", flush=True)
        if args.mode == "object":
            print("  " + object_cost(cost_by_clip, ms), flush=True)
        print("  " + received_line(received), flush=True)
        for measure in ("clip", "checked"):
            groups = {f"{k} clips": v for k, v in sorted(per_split[measure].items())}
            if len(groups) > 1:
                groups["all clips"] = [x for v in per_split[measure].values() for x in v]
            for what, rows in groups.items():
                right, total = sum(r[0] for r in rows), sum(r[1] for r in rows)
                worst = min((r[0] / r[1] if r[1] else 1.0) for r in rows)
                pov = sum(r[2] for r in rows)
                overall = right / total if total else 1.0
                hit = overall >= 0.9 and worst >= 0.8 and pov == 0
                print(f"  {'objects' if args.mode == 'object' else 'events'} on {len(rows)} "
                      f"{what} ({measure}): {right}/{total} = {overall:.0%}, "
                      f"worst clip {worst:.0%}, person on vehicle clips {pov}: "
                      f"{'meets' if hit else 'MISSES'} targets", flush=True)
                judged = "checked" if checked else "clip"
                if preset == DEFAULT_PRESET and measure == judged and not hit:
                    failed = True
    if args.dump:
        Path(args.dump).write_text(json.dumps(dumped))
    teacher = said_by.get(args.teacher)
    if teacher:
        # Same crop, same answer (no label counts as an answer: background).
        print(f"\nagreement with {args.teacher} on the {len(teacher)} crops: " + ", ".join(
            f"{p} {sum(a == b for a, b in zip(s, teacher, strict=True)) / len(teacher):.0%}"
            for p, s in said_by.items() if p != args.teacher))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
