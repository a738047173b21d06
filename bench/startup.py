"""Benchmark: what ``visionedge run`` and ``replay`` cost before the first frame (issue 11).

Measured in this run, each as the median of ``--runs`` interleaved rounds, against a bare
``python -c "import numpy, cv2"`` (the floor: every frame needs both):

- **imports**: the sum of ``python -X importtime`` self times (wall clock). For ``run``
  only the imports before the daemon logs ``ready: ... first frame analysed`` count (log
  lines and importtime share stderr, in order); ``replay`` has no such line, so its whole
  process counts. Target: run <= 0.3 s.
- **imports CPU**: the same modules imported by a fresh process that does nothing else,
  charged by its CPU time (user + system, interpreter start included): on a shared, loaded
  machine wall clocks stretch with the load, CPU time much less.
- **RSS**: peak resident memory of the process (``wait4`` ru_maxrss, measured in separate
  runs without ``-X importtime``), with the default config: the shipped int8 model loaded.
  Target: run <= 100 MB.
- **first frame**: wall time from spawn to the ``ready`` line (run only).

A second floor, ``decode``, imports numpy and cv2 and decodes the clip with nothing else:
opening FFmpeg through OpenCV and decoding touch ~20 MB more, which any pipeline fed by
OpenCV pays, so the RSS target is judged against it too.

Where it goes (x86-64, Python 3.11, measured while writing this; CPU seconds of a process
importing only that, best of 9): python alone 0.025; + numpy, cv2 0.14; + pydantic 0.18;
+ visionedge.config (its validated models) 0.30; + everything else ``run`` imports before
the first frame (daemon, LiteRT classifier, sinks) 0.38-0.40. RSS: numpy + cv2 73 MB,
+ opening FFmpeg and decoding 93 MB, + pydantic/config ~8 MB, + LiteRT ~12 MB, + model,
gate and pipeline buffers: ~134 MB. Both targets sit below what numpy, OpenCV, pydantic
(the one validated config) and the TFLite runtime cost together; what ``run`` no longer
imports (matplotlib, prometheus-client without metrics, paho without MQTT, pkgutil/inspect)
is what could go.

The clip is a generated 640x480 scene (3 s, 10 fps) unless ``--clip`` names one.
Usage: ``.venv/bin/python bench/startup.py [--runs 5] [--clip FILE]``; exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

IMPORT_TARGET_S = 0.3
RSS_TARGET_MB = 100.0
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
_IMPORT_ONLY = (
    "import importlib, sys\n"
    "for m in sys.argv[1:]:\n"
    "    try:\n"
    "        importlib.import_module(m)\n"
    "    except ImportError:\n"
    "        pass\n"
)


@dataclass
class Sample:
    """One process: imports (to the first frame where known), RSS, first-frame wall, CPU."""

    imports_s: float = 0.0
    rss_mb: float = 0.0
    first_frame_s: float = 0.0
    cpu_s: float = 0.0
    modules: tuple[str, ...] = ()


def _spawn(args: list[str], *, importtime: bool, ready: str | None) -> Sample:
    """Run ``python [-X importtime] args``; read stderr line by line for ``ready``."""
    cmd = [sys.executable, *(["-X", "importtime"] if importtime else []), *args]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    sample = Sample()
    self_us = 0
    seen_ready = False
    tail: list[str] = []
    top: list[str] = []
    for line in proc.stderr:
        m = _LINE.match(line)
        if m:
            if not seen_ready:
                self_us += int(m.group(1))
                if len(m.group(3)) == 1:  # imported by the program, not by another module
                    top.append(m.group(4))
            continue
        tail = [*tail, line][-20:]
        if ready and not seen_ready and ready in line:
            seen_ready = True
            sample.first_frame_s = time.perf_counter() - t0
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bench: {' '.join(args)} exited {proc.returncode}:\n{''.join(tail)}")
    if ready and not seen_ready:
        raise SystemExit(f"bench: no {ready!r} line from {' '.join(args)}:\n{''.join(tail)}")
    sample.imports_s = self_us / 1e6
    sample.rss_mb = usage.ru_maxrss / 1024.0  # KiB on Linux
    sample.modules = tuple(top)
    return sample


def _import_cpu(modules: tuple[str, ...]) -> float:
    """CPU seconds of a fresh process importing ``modules`` (in order) and nothing else."""
    proc = subprocess.Popen([sys.executable, "-c", _IMPORT_ONLY, *modules])
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench: importing {modules} failed")
    return usage.ru_utime + usage.ru_stime


def _measure(args: list[str], ready: str | None) -> Sample:
    timed = _spawn(args, importtime=True, ready=ready)
    plain = _spawn(args, importtime=False, ready=ready)
    # Private modules (C extensions a package loads itself) come with their package.
    modules = tuple(m for m in timed.modules if not m.startswith("_") and m != "runpy")
    return Sample(timed.imports_s, plain.rss_mb, plain.first_frame_s, _import_cpu(modules),
                  modules)


def _median(samples: list[Sample]) -> Sample:
    return Sample(
        statistics.median(s.imports_s for s in samples),
        statistics.median(s.rss_mb for s in samples),
        statistics.median(s.first_frame_s for s in samples),
        statistics.median(s.cpu_s for s in samples),
    )


def _clip(tmp: Path) -> Path:
    # Made in a child process: ru_maxrss of a forked child starts from its parent's RSS, so
    # this process must stay small (no numpy/cv2 here) for the RSS figures to hold.
    clip = tmp / "startup.avi"
    subprocess.run([sys.executable, "-c", (
        "import sys; from visionedge.synth import ObjectPass, SceneSpec, write_clip; "
        "write_clip(SceneSpec(width=640, height=480, fps=10.0, seed=11, duration_s=3.0, "
        "events=[ObjectPass('person', 0.5, 2.0)]), sys.argv[1])"), str(clip)],
        check=True, timeout=300)
    return clip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--clip", type=Path, default=None)
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="visionedge-startup-"))
    clip = args.clip or _clip(tmp)
    cfg = tmp / "run.toml"
    # The defaults (shipped int8 model, gate, events) with the clip as source and no stdout.
    cfg.write_text(f'[source]\nkind = "file"\npath = "{clip}"\n\n[output]\nstdout = false\n'
                   f'file = "{tmp / "events.jsonl"}"\n')
    decode = "import sys, numpy, cv2\ncap = cv2.VideoCapture(sys.argv[1])\nwhile cap.read()[0]: pass"
    commands: dict[str, tuple[list[str], str | None]] = {
        "numpy+cv2": (["-c", "import numpy, cv2"], None),
        "decode": (["-c", decode, str(clip)], None),
        "run": (["-m", "visionedge", "run", "--config", str(cfg)], "ready: model loaded"),
        "replay": (["-m", "visionedge", "replay", str(clip), "--quiet"], None),
    }
    results: dict[str, list[Sample]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (argv, ready) in commands.items():
            results[name].append(_measure(argv, ready))
    med = {name: _median(s) for name, s in results.items()}
    base, dec, run = med["numpy+cv2"], med["decode"], med["run"]
    print(f"startup, median of {args.runs} rounds (python {sys.version.split()[0]})")
    print(f"{'':10} {'imports s':>10} {'x floor':>8} {'CPU s':>7} {'x floor':>8} "
          f"{'RSS MB':>8} {'x floor':>8} {'1st frame s':>12}")
    for name, m in med.items():
        first = f"{m.first_frame_s:12.3f}" if m.first_frame_s else f"{'-':>12}"
        print(f"{name:10} {m.imports_s:10.3f} {m.imports_s / base.imports_s:8.2f} "
              f"{m.cpu_s:7.3f} {m.cpu_s / base.cpu_s:8.2f} "
              f"{m.rss_mb:8.1f} {m.rss_mb / base.rss_mb:8.2f} {first}")
    print(f"run over the decode floor: +{run.rss_mb - dec.rss_mb:.1f} MB RSS "
          f"({run.rss_mb / dec.rss_mb:.2f}x); run imports {len(results['run'][0].modules)} "
          "top-level modules before the first frame")
    missed = []
    if run.imports_s > IMPORT_TARGET_S:
        missed.append(f"run imports {run.imports_s:.3f} s > {IMPORT_TARGET_S} s")
    if run.rss_mb > RSS_TARGET_MB:
        missed.append(f"run RSS {run.rss_mb:.1f} MB > {RSS_TARGET_MB:.0f} MB")
    for m in missed:
        print(f"MISSED: {m}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
