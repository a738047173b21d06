"""Benchmark: int8 vs fp32 of the same model, and 50 % pruning (issue 3's targets).

Reads the models of a ``visionedge model build-demo`` work directory (default
``build/demo-work``; without one it builds the quick recipe into a temporary folder first)
and measures, in this run:

- size ratio int8 / fp32 (target <= 0.30), latency ratio int8 / fp32 on 1 thread (<= 0.6),
  top-1 agreement int8 vs fp32 on the test split (>= 99 %), accuracy drop after PTQ (<= 2
  points) and after QAT (<= 1 point);
- pruning to 50 % sparsity: gzip size pruned / unpruned (<= 0.6) at <= 1 point accuracy cost
  (for fp32, and for int8: PQAT vs QAT).

Latency is the median over interleaved rounds (fp32 and int8 alternate, so load from other
processes hits both alike). Usage: ``.venv/bin/python bench/model.py [--work DIR] [--runs N]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--work", type=Path, default=ROOT / "build" / "demo-work")
    ap.add_argument("--runs", type=int, default=300, help="invokes per model for latency")
    ap.add_argument("--backend", default="auto")
    args = ap.parse_args()

    from visionedge.train.dataset import load_split
    from visionedge.train.evaluate import TfliteRunner, evaluate_models
    from visionedge.train.train import WorkDir

    work = args.work
    if not (work / "int8_qat.tflite").exists():
        from visionedge.train.demo import DemoRecipe, build_demo
        from visionedge.train.quantize import DEFAULT_REPRESENTATIVE

        tmp = Path(tempfile.mkdtemp(prefix="visionedge-bench-"))
        print(f"bench: no build in {work}; building the quick recipe in {tmp}", file=sys.stderr)
        work = tmp / "work"
        build_demo(tmp / "out", work, recipe=DemoRecipe.quick(),
                   representative=DEFAULT_REPRESENTATIVE)
    wd = WorkDir(work)
    cfg = wd.load_config()
    split = load_split(wd.split)
    x, y = split.arrays("test", cfg.size, cfg.colour)
    names = ["fp32", "int8_ptq", "int8_ptq_pt", "int8_qat", "pruned_fp32", "pruned_int8_pqat"]
    names = [n for n in names if wd.tflite(n).exists()]
    models = {n: wd.tflite(n).read_bytes() for n in names}
    metrics = {m.name: m for m in evaluate_models(models, x, y, split.labels, reference="fp32",
                                                   latency_runs=5, backend=args.backend)}
    # Latency, interleaved: fp32 and the int8 models share every round's conditions.
    runners = {n: TfliteRunner(models[n], backend=args.backend, num_threads=1)
               for n in ("fp32", "int8_ptq", "int8_ptq_pt", "int8_qat") if n in models}
    builtin = {n: TfliteRunner(models[n], backend=args.backend, num_threads=1, xnnpack=False)
               for n in runners}
    lat: dict[str, list[float]] = {n: [] for n in runners}
    lat_b: dict[str, list[float]] = {n: [] for n in runners}
    rounds = 10
    for _ in range(rounds):
        for n, r in runners.items():
            lat[n].append(r.latency_ms(x[0], max(5, args.runs // rounds)))
            lat_b[n].append(builtin[n].latency_ms(x[0], max(5, args.runs // rounds)))
    med = {n: statistics.median(v) for n, v in lat.items()}
    med_b = {n: statistics.median(v) for n, v in lat_b.items()}

    fp32, ptq, qat = metrics["fp32"], metrics["int8_ptq"], metrics["int8_qat"]
    pfp32, pqat = metrics["pruned_fp32"], metrics["pruned_int8_pqat"]
    rows = [
        ("size int8(PTQ) / fp32", ptq.size_bytes / fp32.size_bytes, "<= 0.30",
         ptq.size_bytes / fp32.size_bytes <= 0.30),
        ("latency int8(PTQ) / fp32, 1 thread", med["int8_ptq"] / med["fp32"], "<= 0.6",
         med["int8_ptq"] / med["fp32"] <= 0.6),
        ("latency int8(QAT) / fp32, 1 thread", med["int8_qat"] / med["fp32"], "<= 0.6",
         med["int8_qat"] / med["fp32"] <= 0.6),
        ("latency int8(PTQ) / fp32, no XNNPACK", med_b["int8_ptq"] / med_b["fp32"], "<= 0.6",
         med_b["int8_ptq"] / med_b["fp32"] <= 0.6),
        ("top-1 agreement PTQ vs fp32 (%)", ptq.agreement * 100, ">= 99", ptq.agreement >= 0.99),
        ("top-1 agreement QAT vs fp32 (%)", qat.agreement * 100, ">= 99", qat.agreement >= 0.99),
        ("accuracy drop after PTQ (points)", (fp32.accuracy - ptq.accuracy) * 100, "<= 2",
         fp32.accuracy - ptq.accuracy <= 0.02),
        ("accuracy drop after QAT (points)", (fp32.accuracy - qat.accuracy) * 100, "<= 1",
         fp32.accuracy - qat.accuracy <= 0.01),
        ("gzip pruned50 fp32 / fp32", pfp32.gzip_bytes / fp32.gzip_bytes, "<= 0.6",
         pfp32.gzip_bytes / fp32.gzip_bytes <= 0.6),
        ("accuracy cost pruned50 fp32 (points)", (fp32.accuracy - pfp32.accuracy) * 100, "<= 1",
         fp32.accuracy - pfp32.accuracy <= 0.01),
        ("gzip pruned50 PQAT / QAT (int8)", pqat.gzip_bytes / qat.gzip_bytes, "<= 0.6",
         pqat.gzip_bytes / qat.gzip_bytes <= 0.6),
        ("accuracy cost PQAT vs QAT (points)", (qat.accuracy - pqat.accuracy) * 100, "<= 1",
         qat.accuracy - pqat.accuracy <= 0.01),
    ]
    from visionedge.train.flatbuffer import parse_tflite

    def const_bytes(content: bytes) -> int:
        return sum(t.nbytes for t in parse_tflite(content).tensors if t.has_data)

    wratio = const_bytes(models["int8_ptq"]) / const_bytes(models["fp32"])
    rows.insert(1, ("  of which weights+biases int8 / fp32", wratio, "(info)", True))
    if "int8_ptq_pt" in models:
        pt = metrics["int8_ptq_pt"]
        rows[2:2] = [
            ("size int8(PTQ per-tensor) / fp32", pt.size_bytes / fp32.size_bytes, "<= 0.30",
             pt.size_bytes / fp32.size_bytes <= 0.30),
            ("accuracy drop PTQ per-tensor (points)", (fp32.accuracy - pt.accuracy) * 100,
             "<= 2", fp32.accuracy - pt.accuracy <= 0.02),
            ("top-1 agreement PTQ per-tensor (%)", pt.agreement * 100, ">= 99",
             pt.agreement >= 0.99),
            ("latency int8(PTQ per-tensor) / fp32", med["int8_ptq_pt"] / med["fp32"], "<= 0.6",
             med["int8_ptq_pt"] / med["fp32"] <= 0.6),
        ]
    print(f"models from {work} ({len(y)} test images, {cfg.size}x{cfg.size} {cfg.colour}, "
          f"alpha {cfg.alpha})")
    print(f"{'model':<18}{'accuracy':>10}{'bytes':>10}{'gzip':>10}{'ms XNNPACK':>12}"
          f"{'ms builtin':>12}")
    for n in names:
        m = metrics[n]
        ms = med.get(n, m.latency_ms)
        mb = f"{med_b[n]:>12.3f}" if n in med_b else f"{'-':>12}"
        print(f"{n:<18}{m.accuracy * 100:>9.2f}%{m.size_bytes:>10}{m.gzip_bytes:>10}{ms:>12.3f}{mb}")
    print()
    print(f"{'measure':<40}{'value':>10}  {'target':<8} result")
    for name, value, target, ok in rows:
        verdict = "" if target == "(info)" else ("PASS" if ok else "MISS")
        print(f"{name:<40}{value:>10.3f}  {target:<8} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
