"""``visionedge model ...``: the training/compression pipeline (needs the ``train`` extra).

    visionedge model synth-data --out DATA [--per-class N] [--seed S]
    visionedge model train DATA --out WORK [--size 96] [--colour gray] [--alpha 0.5] ...
    visionedge model prune WORK [--sparsity 0.5] [--epochs N]
    visionedge model quantize WORK [--method ptq|qat|pqat] [--representative R.npz|train]
    visionedge model evaluate WORK [MODEL.tflite ...] [--out DIR]
    visionedge model export MODEL.tflite --labels L --out DIR [--name N] [--no-firmware]
    visionedge model train-head DATASET --out DIR [--backbone P] [--l2 X] [--name N] [--cascade]
    visionedge model build-demo --out models/demo [--quick] [--install]
    visionedge model list [--json]

TensorFlow is imported inside the handlers only; ``export`` and ``train-head`` need none.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from visionedge.cli._args import accept_negative_ranges, input_range_type
from visionedge.errors import TrainingError


def register(sub: Any) -> None:
    """Add the ``model`` sub-command."""
    p: argparse.ArgumentParser = sub.add_parser(
        "model", help="train, prune, quantize, evaluate and export classifier models"
    )
    msub = p.add_subparsers(dest="model_command", metavar="STEP")
    msub.required = True

    s = msub.add_parser("synth-data", help="generate the seeded synthetic dataset")
    s.add_argument("--out", type=Path, required=True, help="dataset folder to create")
    s.add_argument("--per-class", type=int, default=900, help="images per class")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--size", type=int, default=96, help="image side in pixels")
    s.set_defaults(func=_synth)

    t = msub.add_parser("train", help="train the fp32 model on a folder-per-class dataset")
    t.add_argument("data", type=Path, help="dataset folder: one sub-folder of images per class")
    t.add_argument("--out", type=Path, required=True, help="work directory for this run")
    t.add_argument("--size", type=int, default=96, help="input side (square)")
    t.add_argument("--colour", choices=("gray", "rgb"), default="gray")
    t.add_argument("--alpha", type=float, default=0.5, help="width multiplier")
    t.add_argument("--epochs", type=int, default=24)
    t.add_argument("--batch-size", type=int, default=64)
    t.add_argument("--lr", type=float, default=3e-3, help="initial learning rate")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--test-clips", default="",
                   help="comma-separated clip ids for the test split (collected datasets; "
                   "default: whole clips picked per class, seeded)")
    t.add_argument("--distil", type=float, default=0.0,
                   help="0..1: weight of the teacher's soft labels in the targets")
    t.add_argument("--balance", action="store_true",
                   help="weight every class equally in the loss (uneven datasets)")
    t.add_argument("--arch", choices=("dscnn", "mobilenet"), default="dscnn",
                   help="dscnn: small CNN from scratch; mobilenet: pretrained --backbone")
    t.add_argument("--backbone", default="",
                   help="MobileNet v1 .tflite whose weights start --arch mobilenet")
    t.add_argument("--drop-blocks", type=int, default=0,
                   help="mobilenet: leave out the backbone's last N blocks (smaller model)")
    t.add_argument("--fine-tune-epochs", type=int, default=0,
                   help="mobilenet: extra epochs with the backbone trainable")
    t.add_argument("--augment-copies", type=int, default=1,
                   help="jittered, mirrored copies of each training image")
    t.set_defaults(func=_train)

    pr = msub.add_parser("prune", help="magnitude-prune the trained model, then strip")
    pr.add_argument("work", type=Path, help="work directory of `model train`")
    pr.add_argument("--sparsity", type=float, default=0.5)
    pr.add_argument("--epochs", type=int, default=6)
    pr.set_defaults(func=_prune)

    q = msub.add_parser("quantize", help="full-integer int8: PTQ, QAT, or pruning-preserving QAT")
    q.add_argument("work", type=Path, help="work directory of `model train`")
    q.add_argument("--method", choices=("ptq", "qat", "pqat"), default="ptq",
                   help="pqat quantizes the pruned model keeping its sparsity")
    q.add_argument("--from", dest="stage", choices=("fp32", "pruned"), default=None,
                   help="which model to quantize (default: fp32; pruned for pqat)")
    q.add_argument("--epochs", type=int, default=4, help="QAT/PQAT fine-tuning epochs")
    q.add_argument("--per-tensor", action="store_true",
                   help="ptq: one scale per weight tensor instead of per output channel "
                   "(smaller file; check the accuracy)")
    q.add_argument("--representative", default=None,
                   help="the images activation ranges are calibrated on: an .npz with an "
                   "'images' uint8 array, or 'train': the work directory's own training crops "
                   "(your footage; default: calibration/representative.npz, generated shapes)")
    q.set_defaults(func=_quantize)

    e = msub.add_parser("evaluate", help="compare TFLite models on the test split")
    e.add_argument("work", type=Path, help="work directory of `model train`")
    e.add_argument("models", type=Path, nargs="*",
                   help=".tflite files (default: every .tflite in WORK)")
    e.add_argument("--out", type=Path, default=None, help="report folder (default: WORK)")
    e.add_argument("--runs", type=int, default=50, help="latency runs per model")
    e.add_argument("--show", default="fp32",
                   help="the model whose confusion matrix and precision/recall the report shows")
    e.add_argument("--test-data", type=Path, default=None,
                   help="evaluate on this folder-per-class set instead of the test split "
                   "(e.g. hand-checked crops of the test clips)")
    e.set_defaults(func=_evaluate)

    x = msub.add_parser("export", help="write .tflite, labels, model card and C array")
    accept_negative_ranges(x)
    x.add_argument("model", type=Path, help=".tflite model")
    x.add_argument("--labels", type=Path, required=True, help="labels.txt")
    x.add_argument("--out", type=Path, required=True, help="output folder")
    x.add_argument("--name", default=None, help="model name (default: file stem)")
    x.add_argument("--input-range", type=input_range_type, default=(0.0, 1.0),
                   help="real-value input range the model was trained on (default 0,1)")
    x.add_argument("--no-firmware", action="store_true",
                   help="skip the TFLM operator check and the C array (Linux-only model)")
    x.set_defaults(func=_export)

    h = msub.add_parser("train-head", help="train a learned head over a preset's embedding "
                        "(transfer learning from ~50 crops per class; no TensorFlow)")
    h.add_argument("data", type=Path, help="dataset: one folder of crops per class (what "
                   "`visionedge dataset collect` writes; its manifest groups crops by clip)")
    h.add_argument("--out", type=Path, required=True, help="folder for head.json and card.json")
    h.add_argument("--backbone", default="mobilenet_v1_075",
                   help="classifier preset whose pooled embedding the head reads")
    h.add_argument("--tensor", default="MobilenetV1/Logits/AvgPool_1a/AvgPool",
                   help="the backbone tensor read as the embedding")
    h.add_argument("--l2", type=float, default=None,
                   help="L2 strength (default: chosen by a by-clip cross-validation)")
    h.add_argument("--name", default=None, help="model name (default: the --out folder's name)")
    h.add_argument("--backend", default="auto", help="TFLite runtime for the backbone")
    h.add_argument("--cascade", action="store_true",
                   help="also write cascade.json: the default preset with this head answering "
                   "in place of its own ([classifier] model = \"OUT/cascade.json\")")
    h.set_defaults(func=_train_head)

    ls = msub.add_parser("list", help="the shipped model presets ([classifier] model = NAME)")
    ls.add_argument("--json", action="store_true", help="one JSON object per preset")
    ls.set_defaults(func=_list)

    b = msub.add_parser("build-demo", help="rebuild the shipped demo model end to end")
    b.add_argument("--out", type=Path, default=Path("models/demo"))
    b.add_argument("--work", type=Path, default=Path("build/demo-work"),
                   help="scratch folder (dataset, intermediate models)")
    b.add_argument("--quick", action="store_true", help="small fast recipe (smoke runs)")
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--install", action="store_true",
                   help="also copy the model into visionedge/data/ as the default model")
    b.add_argument("--representative", type=Path, default=None)
    b.set_defaults(func=_build_demo)


TRAIN_CROPS = "train"
"""``--representative`` value for the work directory's own training crops."""


def _rep(path: Path | None) -> Path:
    from visionedge.train.quantize import DEFAULT_REPRESENTATIVE

    return path or DEFAULT_REPRESENTATIVE


def _synth(args: argparse.Namespace) -> int:
    from visionedge.train.dataset import generate_synth_dataset

    counts = generate_synth_dataset(args.out, per_class=args.per_class, seed=args.seed,
                                    size=args.size)
    print(f"{args.out}: {json.dumps(counts)}")
    return 0


def _train(args: argparse.Namespace) -> int:
    from visionedge.train.train import TrainConfig, train

    if not 0.0 <= args.distil <= 1.0:
        raise TrainingError(f"--distil {args.distil} is outside 0..1; give e.g. 0.5")
    cfg = TrainConfig(size=args.size, colour=args.colour, alpha=args.alpha, epochs=args.epochs,
                      batch_size=args.batch_size, learning_rate=args.lr, seed=args.seed,
                      distil=args.distil, balance=args.balance, arch=args.arch,
                      backbone=args.backbone, drop_blocks=args.drop_blocks, fine_tune_epochs=args.fine_tune_epochs,
                      augment_copies=args.augment_copies,
                      test_clips=[c for c in args.test_clips.split(",") if c])
    train(args.data, args.out, cfg)
    return 0


def _load_work(work: Path) -> tuple[Any, Any, Any]:
    from visionedge.train.dataset import load_split
    from visionedge.train.train import WorkDir

    wd = WorkDir(work)
    cfg = wd.load_config()
    return wd, cfg, load_split(wd.split)


def _prune(args: argparse.Namespace) -> int:
    from visionedge.train.prune import prune
    from visionedge.train.quantize import to_tflite_fp32
    from visionedge.train.train import load_keras

    wd, cfg, split = _load_work(args.work)
    trn = split.arrays("train", cfg.size, cfg.colour)
    val = split.arrays("val", cfg.size, cfg.colour)
    pruned = prune(load_keras(wd.keras("fp32")), trn, val, target_sparsity=args.sparsity,
                   epochs=args.epochs, batch_size=cfg.batch_size,
                   learning_rate=cfg.learning_rate / 3, seed=cfg.seed)
    pruned.save(wd.keras("pruned"), include_optimizer=False)
    wd.tflite("pruned_fp32").write_bytes(to_tflite_fp32(pruned))
    print(f"prune: wrote {wd.keras('pruned')} and {wd.tflite('pruned_fp32')}")
    return 0


def _quantize(args: argparse.Namespace) -> int:
    from visionedge.train.quantize import load_representative, ptq, qat, training_crops
    from visionedge.train.train import load_keras

    wd, cfg, split = _load_work(args.work)
    stage = args.stage or ("pruned" if args.method == "pqat" else "fp32")
    if args.method == "pqat" and stage != "pruned":
        raise TrainingError("--method pqat quantizes the pruned model; drop --from fp32")
    if args.representative == TRAIN_CROPS:
        rep = training_crops(split, cfg.size, cfg.colour)
        print(f"quantize: calibrating on {len(rep)} training crops of {args.work}")
    else:
        if args.representative is None:
            print("quantize: calibrating on calibration/representative.npz (generated shapes); "
                  "for a model of your own footage pass --representative train")
        path = Path(args.representative) if args.representative else None
        rep = load_representative(_rep(path), cfg.size, cfg.colour)
    model = load_keras(wd.keras(stage))
    if args.per_tensor and args.method != "ptq":
        raise TrainingError("--per-tensor applies to --method ptq only")
    if args.method == "ptq":
        content = ptq(model, rep, per_channel=not args.per_tensor)
    else:
        trn = split.arrays("train", cfg.size, cfg.colour)
        val = split.arrays("val", cfg.size, cfg.colour)
        content = qat(model, trn, val, rep, epochs=args.epochs, batch_size=cfg.batch_size,
                      learning_rate=cfg.learning_rate / 10, seed=cfg.seed,
                      preserve_sparsity=args.method == "pqat")
    prefix = "pruned_" if stage == "pruned" else ""
    suffix = "_pt" if args.per_tensor else ""
    out = wd.tflite(f"{prefix}int8_{args.method}{suffix}")
    out.write_bytes(content)
    print(f"quantize: wrote {out} ({len(content)} bytes)")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from visionedge.train.evaluate import evaluate_models, read_model
    from visionedge.train.report import write_report

    _, cfg, split = _load_work(args.work)
    paths = args.models or sorted(args.work.glob("*.tflite"))
    if not paths:
        raise TrainingError(f"{args.work}: no .tflite models to evaluate; run `model quantize`")
    models = {p.stem: read_model(p) for p in paths}
    if args.test_data is not None:
        from visionedge.train.dataset import scan_folder

        files = [f for fs in scan_folder(args.test_data).values() for f in fs]
        unknown = sorted({f.split("/", 1)[0] for f in files} - set(split.labels))
        if unknown:
            raise TrainingError(f"{args.test_data}: class {unknown[0]} is not a label of the "
                                f"model ({', '.join(split.labels)})")
        split.root, split.files = args.test_data, {**split.files, "test": files}
    x, y = split.arrays("test", cfg.size, cfg.colour)
    metrics = evaluate_models(models, x, y, split.labels, reference="fp32",
                              latency_runs=args.runs)
    if args.test_data is None and split.by == "clip":
        _teacher_agreement(split, models, x, metrics)
    out = args.out or args.work
    report = write_report(out, metrics, split.labels, chosen=args.show)
    (out / "metrics.json").write_text(json.dumps([m.to_json() for m in metrics], indent=1))
    for m in metrics:
        print(f"{m.name:>20}: accuracy {m.accuracy:.4f}  agreement {m.agreement:.4f}  "
              f"{m.size_bytes} B (gzip {m.gzip_bytes})  {m.latency_ms:.3f} ms")
    print(f"evaluate: report {report}")
    return 0


def _teacher_agreement(split: Any, models: dict[str, bytes], x: Any, metrics: list[Any]) -> None:
    """Add ``teacher_agreement`` (top-1, on test crops the teacher labelled) to each model."""
    import numpy as np

    from visionedge.dataset.manifest import MANIFEST, read_manifest
    from visionedge.train.evaluate import TfliteRunner

    manifest = split.root / MANIFEST
    if not manifest.is_file():
        return
    teacher = {r.file: r.teacher_label for r in read_manifest(manifest)}
    index = {lab: i for i, lab in enumerate(split.labels)}
    rows = [(i, index[teacher[f.split("/", 1)[1]]]) for i, f in enumerate(split.files["test"])
            if teacher.get(f.split("/", 1)[1]) in index]
    if not rows:
        return
    keep = np.array([i for i, _ in rows])
    want = np.array([t for _, t in rows])
    for m in metrics:
        pred = np.argmax(TfliteRunner(models[m.name], what=m.name).predict(x[keep]), axis=1)
        m.extra["teacher_agreement"] = round(float(np.mean(pred == want)), 4)


def _export(args: argparse.Namespace) -> int:
    from visionedge.train.export import export_model

    card = export_model(args.model, args.labels, args.out, name=args.name,
                        input_range=args.input_range, firmware=not args.no_firmware)
    arena = card.get("tflm", {}).get("arena_bytes")
    print(f"export: {args.out}/{card['file']} ({card['bytes']} bytes, ops "
          f"{', '.join(card['operators'])}" + (f", arena {arena} bytes)" if arena else ")"))
    return 0


def _train_head(args: argparse.Namespace) -> int:
    from visionedge.dataset.manifest import load_dataset
    from visionedge.train.head import (
        Sample,
        report_text,
        train_head,
        write_cascade_preset,
        write_head_preset,
    )

    if args.cascade and args.backbone != "mobilenet_v1_075":
        from visionedge.errors import HeadError

        # The default cascade's ImageNet stages and its head share one backbone run.
        raise HeadError(f"--cascade: the default preset's head reads mobilenet_v1_075, not "
                        f"{args.backbone}; drop --backbone or --cascade")
    ds = load_dataset(args.data, check_images=False)
    samples = [Sample(ds.root / it.rel, it.label, it.group) for it in ds.items]
    head, report = train_head(samples, backbone=args.backbone, tensor=args.tensor, l2=args.l2,
                              backend=args.backend, progress=print)
    name = args.name or args.out.resolve().name
    card = write_head_preset(head, report, args.out, name)
    print(report_text(report))
    print(f"train-head: {args.out / 'head.json'} and {card}; use it with "
          f"[classifier] model = \"{args.out / 'head.json'}\"")
    if args.cascade:
        cascade = write_cascade_preset(card, f"{name}_cascade")
        print(f"train-head: {cascade}: the default preset with this head answering; use it "
              f"with [classifier] model = \"{cascade}\"")
    return 0


def _list(args: argparse.Namespace) -> int:
    from visionedge.classify.presets import describe, preset_names

    rows = [describe(name) for name in preset_names()]
    if args.json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return 0
    # ms: per crop (motion mode); obj ms: per object classification in object mode, where a
    # cascade's second look at the object's own box adds a backbone run on some crops.
    print(f"{'preset':32} {'kind':10} {'size':>8} {'ms':>5} {'obj ms':>6}  {'input':31} "
          f"{'licence':10} labels")
    for r in rows:
        ms = f"{r['ms_per_crop']:.1f}" if isinstance(r["ms_per_crop"], float) else "-"
        obj = f"{r['object_ms']:.1f}" if isinstance(r["object_ms"], float) else "-"
        mark = " (default)" if r["default"] else " (mcu)" if r["mcu"] else ""
        size = f"{int(str(r['bytes'])) / 1024:.0f} KiB"
        print(f"{str(r['name']) + mark:32} {r['kind']!s:10} {size:>8} {ms:>5} {obj:>6}  "
              f"{r['input']!s:31} {str(r['licence'])[:10]:10} {r['labels']}")
    return 0


def _build_demo(args: argparse.Namespace) -> int:
    from visionedge.train.demo import DemoRecipe, build_demo

    recipe = DemoRecipe.quick() if args.quick else DemoRecipe()
    recipe.seed = args.seed
    card = build_demo(args.out, args.work, recipe=recipe, representative=_rep(args.representative),
                      install=args.install)
    print(f"build-demo: {args.out}/{card['file']} sha256 {card['sha256']}")
    return 0
