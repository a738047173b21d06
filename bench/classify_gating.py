"""Benchmark: what the motion gate saves the classifier, and classifier latency.

Usage: ``python bench/classify_gating.py [--seconds 120] [--repeat 3] [--threads 1]``

1. Gating. A generated clip with sparse motion (visionedge.synth: ``--seconds`` of a still
   640x360 scene at 10 fps with one person, one vehicle and one animal passage) is decoded
   once by the real file source. Every frame goes, interleaved, through

   - the gated pipeline (``build_pipeline`` with the default config unless ``--model`` /
     ``--mode`` say otherwise: gate → event tracker and, in ``objects.mode`` "object", the
     object tracker → the configured classifier (default preset) on what moved, within the
     budget), timed around ``Pipeline.step`` plus the motion plane the file source makes
     from the decoder's luma (and the BGR conversion of the frames it classifies); and
   - an always-classify baseline: the same classifier on every frame, whole frame
     (``classifier.classify(frame, None)``).

   Only CPU time of the calling thread (``time.thread_time``) inside those calls counts, so
   the decoding both share, other processes' load and other threads of this process stay
   out (``process_time`` would charge a decoder or runtime thread that happens to run
   during a gate call to the gate: it inflated the gated figures by about 1.8x). Prints gated / always (target
   ≤ 0.1) and checks that every ground-truth object passage got at least one
   classification (frames first..last of the passage plus the gate's close delay).
2. Latency. Median, p90 µs of ``classify_image`` (crop, resize, colour, quantize, invoke,
   rank) and of the bare ``invoke`` for the shipped model and, when present, the shared
   ImageNet MobileNet (``../shared/data/models``), on one thread by default.

Exit status 1 when the ratio misses 0.1 or a passage went unclassified.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from visionedge.classify import load_classifier
from visionedge.classify.classifier import TfliteClassifier
from visionedge.config import ClassifierConfig, Config, ObjectsConfig, OutputConfig, SourceConfig
from visionedge.frame import Frame
from visionedge.gate import FrameDifferenceGate
from visionedge.gate.plane import to_motion_plane
from visionedge.pipeline import build_pipeline, load_configured_classifier
from visionedge.sources import open_source, replay_ts_ms
from visionedge.sources.av_video import VideoDecoder
from visionedge.synth import ObjectPass, SceneSpec, write_clip


class _Timed:
    """A classifier proxy with a timed ``classify`` (and a cascade's ``classify_object``, which
    the object stage calls when there is one); every other attribute the real one's."""

    def __init__(self, inner: Any, timed: Callable[[str, Callable[..., Any]], Callable[..., Any]]) -> None:
        self._inner = inner
        self.classify = timed("classify", inner.classify)
        if callable(getattr(inner, "classify_object", None)):
            self.classify_object = timed("classify", inner.classify_object)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TARGET_RATIO = 0.1


def sparse_scene(seconds: float) -> SceneSpec:
    """A long still scene with three short passages spread over it (~10 % motion)."""
    third = seconds / 3
    return SceneSpec(
        width=640,
        height=360,
        fps=10.0,
        seed=11,
        duration_s=seconds,
        events=[
            ObjectPass("person", third * 0.3, 5.0, direction=1, height_frac=0.45, ground_frac=0.92),
            ObjectPass(
                "vehicle", third * 1.3, 2.5, direction=-1, height_frac=0.32, ground_frac=0.86
            ),
            ObjectPass("animal", third * 2.3, 3.0, direction=1, height_frac=0.22, ground_frac=0.95),
        ],
    )


def gating(seconds: float, clf_cfg: ClassifierConfig, mode: str) -> bool:
    """Run part 1; return whether it met the targets."""
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "sparse.avi"
        truth = write_clip(sparse_scene(seconds), clip)
        config = Config(
            source=SourceConfig(kind="file", path=str(clip)),
            classifier=clf_cfg,
            output=OutputConfig(stdout=False),
            objects=ObjectsConfig(mode=mode),
        )
        classifier = load_configured_classifier(config)
        assert classifier is not None
        # Break the gated time down: plane conversion, gate, classifier (the motion events'
        # and the object stage's crops alike), rest = tracker, object events, pipeline.
        parts = {"plane": 0.0, "gate": 0.0, "classify": 0.0}

        def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(*a: Any, **kw: Any) -> Any:
                t = time.thread_time()
                try:
                    return fn(*a, **kw)
                finally:
                    parts[name] += time.thread_time() - t

            return wrapper

        pipeline = build_pipeline(
            config,
            sinks=[],
            classifier=_Timed(classifier, timed),  # type: ignore[arg-type]
            deterministic_ids=True,
        )
        source = open_source(config.source, config.gate.width)
        gate_process = timed("gate", pipeline.gate.process)
        pipeline.gate.process = gate_process  # type: ignore[method-assign]
        gated_s = always_s = 0.0
        classified: list[int] = []
        labels: dict[int, str] = {}
        frames = 0
        # The file source's own steps, so that its gate-only work (the plane from the
        # decoder's luma) is charged to the gated side; the BGR image is converted only when
        # the gated pipeline classifies (charged to it), and before the always-classify call
        # otherwise (not charged: that baseline would decode to BGR in the first place).
        decoder = VideoDecoder(clip, "")
        source.fps = decoder.fps  # type: ignore[attr-defined]
        pipeline.source = source
        try:
            for index, decoded in enumerate(decoder.frames()):
                frames += 1
                t0 = time.thread_time()
                plane = to_motion_plane(
                    decoded.luma, config.gate.width, full_range=decoded.full_range
                )
                parts["plane"] += time.thread_time() - t0
                frame = Frame(index, replay_ts_ms(index, decoder.fps), plane, decoded.image)
                trace = pipeline.step(frame)
                t1 = time.thread_time()
                frame.image()
                t2 = time.thread_time()
                classifier.classify(frame, None)
                t3 = time.thread_time()
                gated_s += t1 - t0
                always_s += t3 - t2
                if trace.classified:
                    classified.append(frame.index)
                    labels[frame.index] = trace.label
        finally:
            decoder.close()
        pipeline.finish("end_of_clip")
    motion = sum(1 for f in truth.frames if f.motion)
    ratio = gated_s / always_s
    print(
        f"clip: {frames} frames 640x360 @10 fps, {motion} with motion ({100 * motion / frames:.1f} %)"
    )
    print(
        f"model: {classifier.name} ({clf_cfg.num_threads} interpreter thread(s))"
    )
    print(
        f"gated pipeline : {gated_s * 1e3:9.1f} ms CPU  ({pipeline.stats.classifications} classifications,"
        f" {1e6 * gated_s / frames:.0f} µs/frame)"
    )
    rest = gated_s - sum(parts.values())
    print(
        "  of which: "
        + ", ".join(f"{k} {1e6 * v / frames:.0f}" for k, v in parts.items())
        + f", tracker/rest {1e6 * rest / frames:.0f} µs/frame"
    )
    print(
        f"always-classify: {always_s * 1e3:9.1f} ms CPU  ({frames} classifications,"
        f" {1e6 * always_s / frames:.0f} µs/frame)"
    )
    ok = ratio <= TARGET_RATIO
    print(
        f"ratio gated/always = {ratio:.3f}  (target <= {TARGET_RATIO}) {'OK' if ok else 'MISSED'}"
    )
    close_after = FrameDifferenceGate(config.gate, fps=decoder.fps).counts.close_after
    for p in truth.passages:
        hits = [i for i in classified if p.first_frame <= i <= p.last_frame + close_after]
        got = sorted({labels[i] or "-" for i in hits})
        print(
            f"passage {p.cls:8s} frames {p.first_frame}-{p.last_frame}: {len(hits)} classified, "
            f"labels {', '.join(got) or 'none'}"
        )
        ok = ok and bool(hits)
    return ok


def latency(name: str, clf: TfliteClassifier, repeat: int) -> None:
    """Median/p90 of classify_image and of invoke on a 640x360 frame."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    n = 200 * repeat
    for _ in range(10):
        clf.classify_image(image)
    total = []
    for _ in range(n):
        t = time.perf_counter_ns()
        clf.classify_image(image)
        total.append((time.perf_counter_ns() - t) / 1000)
    interp = clf._model.interpreter  # bench only: the bare inference, no pre/post-processing
    tensor = clf.input_tensor(image)
    index = clf._model.input.index
    invoke = []
    for _ in range(n):
        interp.set_tensor(index, tensor)
        t = time.perf_counter_ns()
        interp.invoke()
        invoke.append((time.perf_counter_ns() - t) / 1000)

    def p90(v: list[float]) -> float:
        return sorted(v)[int(0.9 * len(v))]

    spec = clf.input_spec
    print(
        f"{name:34s} {spec.width}x{spec.height}x{spec.channels} {spec.dtype:7s} {clf.backend:15s} "
        f"classify median {statistics.median(total):7.0f} µs p90 {p90(total):7.0f} | "
        f"invoke median {statistics.median(invoke):7.0f} µs p90 {p90(invoke):7.0f}"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--seconds", type=float, default=120.0, help="length of the generated clip")
    ap.add_argument("--repeat", type=int, default=3, help="latency samples x 200")
    ap.add_argument("--threads", type=int, default=1, help="interpreter threads")
    ap.add_argument(
        "--model", default="", help="gate in front of this model (default: the default preset)"
    )
    ap.add_argument(
        "--mode", default=ObjectsConfig().mode, help="objects.mode (default: the default config's)"
    )
    ap.add_argument("--labels", default="", help="labels of --model")
    args = ap.parse_args(argv)
    print("== gating: gated pipeline vs always-classify, same clip, same run ==")
    gate_cfg = ClassifierConfig(
        model=args.model,
        labels=args.labels,
        num_threads=args.threads,
        ignore=[] if args.model != "demo" else ["background"],
    )
    print(f"objects.mode = {args.mode}")
    ok = gating(args.seconds, gate_cfg, args.mode)
    print("\n== classifier latency (640x360 frame, whole-frame crop) ==")
    latency(
        "shipped demo_int8",
        load_classifier(ClassifierConfig(model="demo", num_threads=args.threads)),
        args.repeat,
    )
    mobilenet = SHARED / "models" / "mobilenet_v1_0.25_128_quant.tflite"
    if mobilenet.is_file():
        for backend in ("ai_edge_litert", "tflite_runtime"):
            cfg = ClassifierConfig(
                model=str(mobilenet),
                labels=str(SHARED / "models" / "imagenet_labels.txt"),
                backend=backend,
                num_threads=args.threads,
            )
            latency("MobileNet v1 0.25 128 quant", load_classifier(cfg), args.repeat)
            cfg_x = cfg.model_copy(update={"xnnpack": True})
            latency("MobileNet (xnnpack = true)", load_classifier(cfg_x), args.repeat)
    else:
        print(f"(no {mobilenet}: MobileNet latency skipped)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
