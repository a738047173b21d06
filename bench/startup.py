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
- **visionedge's share**: in a process that has the library floor (below) imported, the CPU
  of ``run``'s own imports (every module it imported before READY, also those imported with
  ``importlib``, which ``-X importtime`` does not time), and its CPU to READY (imports,
  config, model load, first frame); no interpreter start and no library in it, so a 1 ms
  change shows. Target (session 6): imports <= 30 ms.

Two more floors: ``decode`` imports numpy and cv2 and decodes the clip with nothing else
(opening FFmpeg through OpenCV and decoding touch ~8 MB more, which any pipeline fed by
OpenCV pays); ``libraries`` imports what ``run`` on a clip cannot do without: numpy,
OpenCV, PyAV (the clip decoder), pydantic's ``BaseModel`` (the one validated config) and the
LiteRT interpreter. The line "run over the library floor" is what visionedge itself adds.

``--camera`` (on by default) also runs ``run`` on a live 640x360 MJPEG camera served on
loopback by a child process (OpenCV decodes, PyAV is not loaded: the deployed case) and
reads VmRSS/VmHWM 8 s after READY, with glibc's defaults and with the systemd unit's
``MALLOC_ARENA_MAX=2``, then splits the RSS by mapping (/proc/PID/smaps: each library's
files, anonymous memory).

Where it goes (x86-64, Python 3.11, 2 shared cores, issue 11 note in docs/gate.md; the
previous round's figures, session 6's share in docs/gate.md "Start-up"): CPU of
importing the libraries 0.26-0.28 s (python 0.03, numpy 0.07-0.12, OpenCV 0.02-0.03, PyAV
0.04-0.08, pydantic 0.04-0.06 and 0.02 more for its first model, LiteRT 0.01), +
visionedge.config's models 0.04-0.05, + the daemon, gate, events, classifier and sources
modules 0.03-0.04: run 0.34-0.35 s from bytecode on a quiet machine (0.40-0.41 s under a
load average of 4-7; 0.03 s more compiling the modules). RSS on a clip 120 MB: python
11, numpy 22, OpenCV 16, PyAV/FFmpeg 18, pydantic + config 13, LiteRT 8 (83 MB before
any work), model 8, decoder and first frame 8, pipeline buffers 3, the first 100 frames 9.
On a live camera (no PyAV) 98-101 MB. The import target sits below what the libraries cost
together; the RSS target is met only where PyAV is not loaded.

The clip is a generated 640x360 scene (3 s, 10 fps) unless ``--clip`` names one; ``run``
plays it at its own rate (``source.realtime``, as a camera delivers frames), ``replay`` as
fast as it can.
Children run from compiled bytecode (caches in the temporary folder, filled by one untimed
round), as an installed package does; ``--no-bytecode`` keeps the environment's
``PYTHONDONTWRITEBYTECODE`` (a source checkout that compiles every module on every start).

Usage: ``.venv/bin/python bench/startup.py [--runs 5] [--clip FILE] [--no-camera]
[--no-bytecode]``; exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import json
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
SHARE_TARGET_S = 0.03
"""visionedge's own imports beyond the library floor (issue 11 session 6 brief)."""
RSS_TARGET_MB = 100.0
_LINE = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")
_IMPORT_ONLY = (
    "import importlib, sys\n"
    "for m in sys.argv[1:]:\n"
    "    try:\n"
    "        importlib.import_module(m)\n"
    "    except ImportError:\n"
    "        pass\n"
    # pydantic sets its schema machinery up when the first model is built (~0.02 s CPU,
    # whatever the model): part of the floor of any validated config, and next to free once
    # visionedge.config has built its own models.
    "if 'pydantic' in sys.modules:\n"
    "    from pydantic import BaseModel\n"
    "    class _Floor(BaseModel):\n"
    "        x: int = 0\n"
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


_FLOOR = ("import numpy, cv2, av, ai_edge_litert.interpreter\nfrom pydantic import BaseModel\n"
          "class _Floor(BaseModel):\n    x: int = 0\n")
_TO_READY = _FLOOR + r"""
import json, logging, os, sys, time
base = set(sys.modules)
t0 = time.process_time()
_log = logging.Logger._log
def _hook(self, level, msg, args, **kw):
    if "ready: model loaded" in str(msg):
        mods = [m for m in sys.modules if m not in base and not m.endswith("__main__")]
        with open(os.environ["VE_SHARE_OUT"], "w") as fh:
            json.dump({"cpu": time.process_time() - t0, "modules": mods}, fh)
        os._exit(0)
    return _log(self, level, msg, args, **kw)
logging.Logger._log = _hook
sys.argv = ["visionedge", *sys.argv[1:]]
from visionedge.cli import main
main()
"""
"""``run`` in a process that has the library floor imported: its CPU to READY and the
modules it imported on the way (every import, also those -X importtime does not time)."""
_SHARE_IMPORTS = _FLOOR + r"""
import importlib, json, sys, time
modules = json.load(open(sys.argv[1]))["modules"]
t0 = time.process_time()
for m in modules:
    try:
        importlib.import_module(m)
    except Exception:
        pass
print(time.process_time() - t0)
"""
"""CPU of importing what ``run`` imported beyond the floor, and nothing else."""


def _share(cfg: Path, tmp: Path) -> tuple[float, float]:
    """visionedge's share of ``run``'s start (CPU s): its imports beyond the library floor
    (with the stdlib modules it adds), and the whole way to READY (imports, config, model
    load, first frame). In-process deltas: no interpreter start, no library noise."""
    out = tmp / "share.json"
    env = {**os.environ, "VE_SHARE_OUT": str(out)}
    subprocess.run([sys.executable, "-c", _TO_READY, "run", "--config", str(cfg)], env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, timeout=300)
    ready = float(json.loads(out.read_text())["cpu"])
    imports = float(subprocess.run([sys.executable, "-c", _SHARE_IMPORTS, str(out)], check=True,
                                   capture_output=True, text=True, timeout=300).stdout)
    return imports, ready


_CAMERA = r"""
import time, cv2, numpy as np
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
scene = np.random.default_rng(3).integers(40, 200, (360, 640, 3), dtype=np.uint8)
class Camera(BaseHTTPRequestHandler):
    def log_message(self, *args): pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        n = 0
        while True:
            img = scene.copy(); x = (n * 8) % 600; img[150:210, x:x + 40] = 255
            data = cv2.imencode(".jpg", img)[1].tobytes()
            head = b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data)
            try:
                self.wfile.write(head + data + b"\r\n"); self.wfile.flush()
            except OSError:
                return
            n += 1; time.sleep(0.1)
server = ThreadingHTTPServer(("127.0.0.1", 0), Camera)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
"""
"""A 640x360 MJPEG camera at 10 fps on loopback (a block crossing a textured scene)."""


def _mappings(pid: int) -> dict[str, int]:
    """Resident KiB of ``pid`` by what is mapped: a library's files, the heap, anonymous."""
    groups: dict[str, int] = {}
    name = "anonymous"
    with open(f"/proc/{pid}/smaps") as fh:
        for line in fh:
            head = line.split(maxsplit=6)
            if "-" in head[0] and len(head) >= 5 and ":" not in head[0]:
                path = head[5].strip() if len(head) > 5 else ""
                name = _owner(path)
            elif head[0] == "Rss:":
                groups[name] = groups.get(name, 0) + int(head[1])
    return groups


def _owner(path: str) -> str:
    if not path or path.startswith("["):  # [heap], [stack], thread arenas, buffers
        return "anonymous (Python objects, arenas, buffers)"
    for key, label in (("/cv2/", "OpenCV"), ("opencv_python", "OpenCV"), ("/av/", "PyAV+FFmpeg"),
                       ("av.libs", "PyAV+FFmpeg"), ("litert", "LiteRT"), ("numpy", "numpy"),
                       ("pydantic", "pydantic"), ("libpython", "python"), ("python3.", "python"),
                       ("libcrypto", "OpenSSL (hashlib)"), ("libssl", "OpenSSL (hashlib)")):
        if key in path:
            return label
    return "other libraries (libc, libstdc++, ...)"


def _live(cfg: Path, env: dict[str, str], settle_s: float) -> tuple[float, float, dict[str, int]]:
    """``run`` on ``cfg`` until READY + ``settle_s``: (VmRSS MB, VmHWM MB, RSS by mapping)."""
    log = cfg.with_suffix(f".{len(env)}.log")
    with log.open("wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "visionedge", "run", "--config", str(cfg)],
                                stdout=subprocess.DEVNULL, stderr=err, env={**os.environ, **env})
    try:
        deadline = time.monotonic() + 120
        while "ready: model loaded" not in log.read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"bench: run on the camera did not get ready:\n{log.read_text()}")
            time.sleep(0.1)
        time.sleep(settle_s)
        status = dict(ln.split(":", 1) for ln in Path(f"/proc/{proc.pid}/status").read_text()
                      .splitlines() if ln.startswith(("VmRSS", "VmHWM")))
        maps = _mappings(proc.pid)
    finally:
        proc.terminate()
        proc.wait(30)
    return (int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024, maps)


def _camera_rows(tmp: Path, runs: int) -> None:
    """RSS of ``run`` on a live camera (OpenCV decodes, PyAV is not loaded): default malloc
    settings and the systemd unit's ``MALLOC_ARENA_MAX=2``, interleaved; then the breakdown."""
    cam = subprocess.Popen([sys.executable, "-c", _CAMERA], stdout=subprocess.PIPE, text=True)
    try:
        assert cam.stdout is not None
        port = int(cam.stdout.readline())
        cfg = tmp / "camera.toml"
        cfg.write_text(f'[source]\nkind = "opencv"\npath = "http://127.0.0.1:{port}/video.mjpg"\n'
                       f'\n[output]\nstdout = false\nfile = "{tmp / "camera.jsonl"}"\n')
        rows: dict[str, list[tuple[float, float, dict[str, int]]]] = {"default": [], "unit": []}
        for _ in range(runs):
            rows["default"].append(_live(cfg, {}, 8.0))
            rows["unit"].append(_live(cfg, {"MALLOC_ARENA_MAX": "2"}, 8.0))
    finally:
        cam.terminate()
        cam.wait(10)
    for name, label in (("default", "glibc defaults"), ("unit", "MALLOC_ARENA_MAX=2 (unit)")):
        rss = statistics.median(r[0] for r in rows[name])
        hwm = statistics.median(r[1] for r in rows[name])
        print(f"run, 640x360 MJPEG camera, {label}: RSS {rss:.1f} MB (peak {hwm:.1f} MB) "
              f"8 s after READY, median of {runs}")
    maps = rows["unit"][-1][2]
    total = sum(maps.values())
    print(f"  where it is (unit settings, last run, {total / 1024:.1f} MB): " + ", ".join(
        f"{k} {v / 1024:.1f}" for k, v in sorted(maps.items(), key=lambda kv: -kv[1])))


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
        "write_clip(SceneSpec(width=640, height=360, fps=10.0, seed=11, duration_s=3.0, "
        "events=[ObjectPass('person', 0.5, 2.0)]), sys.argv[1])"), str(clip)],
        check=True, timeout=300)
    return clip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--clip", type=Path, default=None)
    ap.add_argument("--camera", action=argparse.BooleanOptionalAction, default=True,
                    help="also measure run's RSS on a live MJPEG camera (default: on)")
    ap.add_argument("--bytecode", action=argparse.BooleanOptionalAction, default=True,
                    help="run from compiled bytecode, as an installed package does (default: "
                    "on); --no-bytecode keeps the environment's PYTHONDONTWRITEBYTECODE")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="visionedge-startup-"))
    if args.bytecode:
        # pip byte-compiles an installed package; a source checkout run with
        # PYTHONDONTWRITEBYTECODE=1 compiles every visionedge module on every start
        # (~0.06 s CPU here), which no deployed daemon pays. The caches go to the temporary
        # folder, not into the tree, and one untimed round below fills them.
        os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
        os.environ["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    clip = args.clip or _clip(tmp)
    cfg = tmp / "run.toml"
    # The defaults (shipped int8 model, gate, events) with the clip as source and no stdout,
    # played at its own rate as a camera would deliver it (the deployed-like case; `replay`
    # below is the as-fast-as-possible one).
    cfg.write_text(f'[source]\nkind = "file"\npath = "{clip}"\nrealtime = true\n\n'
                   f'[output]\nstdout = false\nfile = "{tmp / "events.jsonl"}"\n')
    decode = "import sys, numpy, cv2\ncap = cv2.VideoCapture(sys.argv[1])\nwhile cap.read()[0]: pass"
    commands: dict[str, tuple[list[str], str | None]] = {
        "numpy+cv2": (["-c", "import numpy, cv2"], None),
        "decode": (["-c", decode, str(clip)], None),
        # What run cannot do without: the array library, OpenCV, PyAV (clips), pydantic's
        # model machinery (the validated config; its CPU includes building one trivial
        # model, see _IMPORT_ONLY) and the TFLite runtime.
        "libraries": (["-c", "import numpy, cv2, av; from pydantic import BaseModel; "
                       "import ai_edge_litert.interpreter"], None),
        "run": (["-m", "visionedge", "run", "--config", str(cfg)], "ready: model loaded"),
        "replay": (["-m", "visionedge", "replay", str(clip), "--quiet"], None),
    }
    results: dict[str, list[Sample]] = {name: [] for name in commands}
    shares: list[tuple[float, float]] = []
    if args.bytecode:
        for argv, ready in commands.values():
            _spawn(argv, importtime=False, ready=ready)
    for _ in range(args.runs):
        for name, (argv, ready) in commands.items():
            results[name].append(_measure(argv, ready))
        shares.append(_share(cfg, tmp))
    med = {name: _median(s) for name, s in results.items()}
    base, dec, run = med["numpy+cv2"], med["decode"], med["run"]
    print(f"startup, median of {args.runs} rounds (python {sys.version.split()[0]}, "
          f"{'from bytecode' if args.bytecode else 'bytecode as the environment has it'})")
    print(f"{'':10} {'imports s':>10} {'x floor':>8} {'CPU s':>7} {'x floor':>8} "
          f"{'RSS MB':>8} {'x floor':>8} {'1st frame s':>12}")
    for name, m in med.items():
        first = f"{m.first_frame_s:12.3f}" if m.first_frame_s else f"{'-':>12}"
        print(f"{name:10} {m.imports_s:10.3f} {m.imports_s / base.imports_s:8.2f} "
              f"{m.cpu_s:7.3f} {m.cpu_s / base.cpu_s:8.2f} "
              f"{m.rss_mb:8.1f} {m.rss_mb / base.rss_mb:8.2f} {first}")
    lib = med["libraries"]
    print(f"run over the library floor: +{run.cpu_s - lib.cpu_s:.3f} s CPU, "
          f"+{run.rss_mb - lib.rss_mb:.1f} MB RSS (libraries alone: {lib.cpu_s:.3f} s, "
          f"{lib.rss_mb:.1f} MB)")
    share_imports = statistics.median(s[0] for s in shares)
    share_ready = statistics.median(s[1] for s in shares)
    print(f"visionedge's share (in-process CPU beyond the library floor, median of "
          f"{len(shares)}): imports {share_imports * 1e3:.1f} ms (target <= "
          f"{SHARE_TARGET_S * 1e3:.0f} ms), to READY {share_ready * 1e3:.1f} ms")
    print(f"run over the decode floor: +{run.rss_mb - dec.rss_mb:.1f} MB RSS "
          f"({run.rss_mb / dec.rss_mb:.2f}x); run imports {len(results['run'][0].modules)} "
          "top-level modules before the first frame")
    if args.camera:
        _camera_rows(tmp, max(1, args.runs // 2))
    missed = []
    if run.imports_s > IMPORT_TARGET_S:
        missed.append(f"run imports {run.imports_s:.3f} s > {IMPORT_TARGET_S} s")
    if run.rss_mb > RSS_TARGET_MB:
        missed.append(f"run RSS {run.rss_mb:.1f} MB > {RSS_TARGET_MB:.0f} MB")
    if share_imports > SHARE_TARGET_S:
        missed.append(f"visionedge's share of run's imports {share_imports * 1e3:.1f} ms > "
                      f"{SHARE_TARGET_S * 1e3:.0f} ms")
    for m in missed:
        print(f"MISSED: {m}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
