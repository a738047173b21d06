"""The evaluation report: a Markdown table and a PNG chart (matplotlib, Agg backend)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from visionedge.train.evaluate import ModelMetrics

__all__ = ["markdown", "precision_recall", "write_chart", "write_confusion", "write_report"]


def precision_recall(confusion: Sequence[Sequence[int]]) -> list[tuple[float, float, int]]:
    """(precision, recall, support) per class from a confusion matrix (rows = truth).

    A class never predicted has precision 0 (nothing it said was right); one with no test
    images has recall 0 and support 0.
    """
    out = []
    for i, row in enumerate(confusion):
        predicted = sum(r[i] for r in confusion)
        support = sum(row)
        out.append((row[i] / predicted if predicted else 0.0,
                    row[i] / support if support else 0.0, support))
    return out


def markdown(
    metrics: Sequence[ModelMetrics],
    labels: Sequence[str],
    *,
    chosen: str = "",
    card: dict[str, Any] | None = None,
    info: dict[str, Any] | None = None,
    title: str = "Model evaluation",
) -> str:
    """Render the report as Markdown."""
    ref = next((m for m in metrics if m.name == "fp32"), metrics[0])
    lines = [f"# {title}", ""]
    if card:
        tin = card["input"]
        lines += [
            f"Shipped model: `{card['file'] if 'file' in card else card['name']}` "
            f"({card['bytes']} bytes, sha256 `{card['sha256'][:16]}…`), stage **{chosen}**.",
            f"Input {tin['shape']} {tin['dtype']} {tin['colour']}, real range "
            f"{tin['real_range']} (pixel / 255), scale {tin.get('scale')}, zero point "
            f"{tin.get('zero_point')}. Labels: {', '.join(card['labels'])}.",
            f"Operators: {', '.join(card['operators'])}.",
        ]
        if card.get("tflm"):
            t = card["tflm"]
            lines.append(
                f"TFLM arena: {t['arena_bytes']} bytes recommended (planned activations "
                f"{t['arena_planned_bytes']} + allowance {t['arena_overhead_bytes']})."
            )
        lines.append("")
    extra_cols = sorted({k for m in metrics for k in m.extra})
    head = ["model", "test acc", "Δ vs fp32 (pts)", "top-1 agreement", "bytes", "gzip bytes",
            "size / fp32", "latency ms (1 thr)", "latency / fp32", *extra_cols]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "---|" * len(head))
    for m in metrics:
        row: list[str] = [
            f"**{m.name}**" if m.name == chosen else m.name,
            f"{m.accuracy * 100:.2f} %",
            f"{(m.accuracy - ref.accuracy) * 100:+.2f}",
            f"{m.agreement * 100:.2f} %",
            str(m.size_bytes),
            str(m.gzip_bytes),
            f"{m.size_bytes / ref.size_bytes:.3f}",
            f"{m.latency_ms:.3f}",
            f"{m.latency_ms / ref.latency_ms:.2f}" if ref.latency_ms else "-",
            *[f"{m.extra[k] * 100:.2f} %" if k in m.extra else "-" for k in extra_cols],
        ]
        lines.append("| " + " | ".join(row) + " |")
    lines += ["", "Per-class test accuracy:", ""]
    lines.append("| model | " + " | ".join(labels) + " |")
    lines.append("|" + "---|" * (len(labels) + 1))
    for m in metrics:
        lines.append(f"| {m.name} | " + " | ".join(
            f"{m.per_class_accuracy.get(lab, 0.0) * 100:.1f} %" for lab in labels) + " |")
    show = next((m for m in metrics if m.name == chosen), ref)
    lines += ["", f"Confusion matrix of {show.name} (rows: truth, columns: prediction):", ""]
    lines.append("| truth \\ predicted | " + " | ".join(labels) + " |")
    lines.append("|" + "---|" * (len(labels) + 1))
    for lab, counts in zip(labels, show.confusion, strict=True):
        lines.append(f"| {lab} | " + " | ".join(str(v) for v in counts) + " |")
    lines += ["", f"Per-class precision and recall of {show.name}:", "",
              "| class | precision | recall | test images |", "|---|---|---|---|"]
    for lab, (p, r, n) in zip(labels, precision_recall(show.confusion), strict=True):
        lines.append(f"| {lab} | {p * 100:.1f} % | {r * 100:.1f} % | {n} |")
    lines += ["", "![chart](chart.png)", "", "![confusion matrix](confusion.png)", ""]
    if info:
        lines += ["Build:", "", "```json"]
        import json

        lines.append(json.dumps(info, indent=1))
        lines += ["```", ""]
    lines += [
        "Accuracy is top-1 on the held-out test split; `demo_clip_accuracy` is top-1 on crops "
        "of the demo clip around its ground-truth objects (a scene the training data never "
        "saw). Agreement is top-1 agreement with the fp32 TFLite model on the test split. "
        "Latency is the median of 50 invokes of one image on this CPU with 1 interpreter "
        "thread (ai-edge-litert if installed). gzip is `gzip -9`: pruning's zeros show there.",
        "",
    ]
    return "\n".join(lines)


def write_chart(path: Path, metrics: Sequence[ModelMetrics]) -> None:
    """Bar charts of accuracy, size (raw and gzip) and latency per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [m.name for m in metrics]
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    x = range(len(names))
    axes[0].bar(x, [m.accuracy * 100 for m in metrics], color="tab:blue")
    lo = min(m.accuracy * 100 for m in metrics)
    axes[0].set_ylim(max(0.0, lo - 5), 100)
    axes[0].set_title("test accuracy (%)")
    axes[1].bar([i - 0.2 for i in x], [m.size_bytes / 1024 for m in metrics], 0.4,
                label="raw", color="tab:orange")
    axes[1].bar([i + 0.2 for i in x], [m.gzip_bytes / 1024 for m in metrics], 0.4,
                label="gzip", color="tab:green")
    axes[1].set_title("model size (KiB)")
    axes[1].legend()
    axes[2].bar(x, [m.latency_ms for m in metrics], color="tab:red")
    axes[2].set_title("latency, 1 thread (ms)")
    for ax in axes:
        ax.set_xticks(list(x))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)


def write_confusion(path: Path, m: ModelMetrics, labels: Sequence[str]) -> None:
    """The confusion matrix of ``m`` as a heat map with counts (rows: truth)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    conf = np.asarray(m.confusion, dtype=float)
    share = conf / np.maximum(conf.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 2, 1.1 * len(labels) + 1.5))
    ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, str(int(conf[i, j])), ha="center", va="center",
                    color="white" if share[i, j] > 0.5 else "black")
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("truth")
    ax.set_title(f"{m.name}: test accuracy {m.accuracy * 100:.1f} %")
    fig.tight_layout()
    fig.savefig(path, dpi=80, metadata={"Software": None})
    plt.close(fig)


def write_report(
    out: Path,
    metrics: Sequence[ModelMetrics],
    labels: Sequence[str],
    *,
    chosen: str = "",
    card: dict[str, Any] | None = None,
    info: dict[str, Any] | None = None,
    title: str = "Model evaluation",
) -> Path:
    """Write ``report.md`` and ``chart.png`` into ``out``; returns the report path."""
    out.mkdir(parents=True, exist_ok=True)
    write_chart(out / "chart.png", metrics)
    show = next((m for m in metrics if m.name == chosen),
                next((m for m in metrics if m.name == "fp32"), metrics[0]))
    write_confusion(out / "confusion.png", show, labels)
    path = out / "report.md"
    path.write_text(markdown(metrics, labels, chosen=chosen, card=card, info=info, title=title))
    return path
