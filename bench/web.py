"""Benchmark: what the web page costs the frame path: frame rate and gate cost, page open vs closed.

Usage: ``python bench/web.py [--clip FILE] [--repeat 7] [--seconds 30]``

The real daemon (:class:`visionedge.service.daemon.Daemon`, the shipped demo classifier on), in a
fresh process per run, replays a clip as fast as it can, three ways, interleaved per repeat:

- ``off``: ``web.enabled = false`` (the daemon as before the page existed);
- ``closed``: the page is served but nobody looks at it;
- ``open``: from the first analysed frame on, a client in the bench's own process (as a
  browser is outside the daemon) fetches what the open Live tab fetches: a JPEG with every
  overlay (changed pixels, masks, zones, regions, labels) 5 times a second
  (``web.live_fps``), the changed-% history and the status once a second.

Per mode: frames per second of wall time (the throughput the daemon keeps), the mean gate
cost per frame (``GateResult.gate_us``, wall time, and the thread CPU time of the same
call, both collected by wrapping the gate), the frame-path thread's CPU per frame, and the
daemon process's peak RSS. Ratios are open/off and
closed/off within each repeat, the median over repeats reported (the target, open/off fps
>= 0.95 and gate cost <= 1/0.95, is checked on it). ``--realtime`` paces the clip like a camera instead: the frame rate then
shows whether analysis keeps up (and frames dropped are counted). Default clip: a generated 640x480 scene with masks and zones configured, so every
overlay has something to draw (30 fps with ``--realtime``); ``--clip`` takes real footage (the report uses the
pedestrians clip). Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from visionedge.config import parse_config
from visionedge.gate.gate import FrameDifferenceGate
from visionedge.protocols import GateResult
from visionedge.service.daemon import Daemon
from visionedge.synth import ObjectPass, SceneSpec, write_clip

TARGET = 0.95
TOKEN = "bench-token"
GATE_US: list[float] = []
GATE_CPU_NS: list[int] = []
MARKS: list[tuple[float, float]] = []
"""(wall, frame-path thread CPU) at every gate call: rates exclude start-up and shut-down."""

_process = FrameDifferenceGate.process


def _timed_process(self: FrameDifferenceGate, frame: Any) -> GateResult:
    c0 = time.thread_time_ns()
    result = _process(self, frame)
    GATE_CPU_NS.append(time.thread_time_ns() - c0)
    GATE_US.append(result.gate_us)
    MARKS.append((time.perf_counter(), time.thread_time()))
    return result


FrameDifferenceGate.process = _timed_process  # type: ignore[method-assign]


def free_port() -> int:
    """A loopback TCP port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb() -> float:
    """Resident set size of this process now."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * 4096 / 1e6


def make_clip(folder: Path, seconds: float, fps: float) -> Path:
    spec = SceneSpec(width=640, height=480, fps=fps, seed=5, duration_s=seconds, events=[
        ObjectPass(("person", "vehicle", "animal")[i % 3], 0.5 + 6.0 * i, 4.0,
                   direction=1 if i % 2 == 0 else -1, height_frac=0.4)
        for i in range(int(seconds // 6))
    ])
    path = folder / "bench_web.avi"
    write_clip(spec, path)
    return path


class Viewer(threading.Thread):
    """Requests what the open Live tab requests, until stopped."""

    def __init__(self, port: int, fps: float) -> None:
        super().__init__(name="viewer", daemon=True)
        self.port, self.fps = port, fps
        self.stop = threading.Event()
        self.jpegs = 0

    def get(self, path: str) -> bytes:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request("GET", path, headers={"Authorization": f"Bearer {TOKEN}"})
            return conn.getresponse().read()
        finally:
            conn.close()

    def run(self) -> None:
        last_slow = 0.0
        while not self.stop.is_set():
            t = time.monotonic()
            try:
                if self.get("/api/live.jpg?overlays=changed,masks,zones,regions,labels")[:2] == b"\xff\xd8":
                    self.jpegs += 1
                if t - last_slow >= 1.0:
                    self.get("/api/history")
                    self.get("/api/status")
                    last_slow = t
            except OSError:
                pass
            self.stop.wait(max(0.0, 1.0 / self.fps - (time.monotonic() - t)))


def one_run(clip: Path, tmp: Path, mode: str, port: int, realtime: bool) -> dict[str, float]:
    """Run the daemon in this process (the child) and return its figures."""
    token = tmp / "token"
    token.write_text(TOKEN)
    cfg = parse_config({
        "source": {"kind": "file", "path": str(clip), "realtime": realtime},
        "output": {"stdout": False},
        "gate": {"masks": [[[0.0, 0.0], [0.2, 0.0], [0.2, 0.2]]],
                 "zones": [{"name": "left", "polygon": [[0, 0.5], [0.5, 0.5], [0.5, 1], [0, 1]]}]},
        "daemon": {"watchdog": False},
        "web": {"enabled": mode != "off", "port": port, "token_file": str(token)},
    })
    daemon = Daemon(cfg, env={})
    rss: list[float] = []
    thread = threading.Thread(target=daemon.run, name="daemon")
    thread.start()
    while thread.is_alive():
        rss.append(rss_mb())
        thread.join(0.2)
    frames = len(GATE_US)
    (w0, c0), (w1, c1) = MARKS[0], MARKS[-1]
    return {
        "fps": (frames - 1) / (w1 - w0),
        "gate_us": statistics.fmean(GATE_US),
        "gate_cpu_us": statistics.fmean(GATE_CPU_NS) / 1000,
        "cpu_ms": 1000 * (c1 - c0) / (frames - 1),
        "rss_mb": max(rss) if rss else rss_mb(),
        "frames": float(frames),
        "dropped": float(daemon.stats().get("dropped_frames", 0)),
    }


def measure(clip: Path, tmp: Path, mode: str, realtime: bool) -> dict[str, float]:
    """One run in a fresh process (clean RSS); the viewer, like a browser, is another process."""
    port = free_port()
    child = subprocess.Popen(
        [sys.executable, __file__, "--one", mode, "--clip", str(clip), "--port", str(port),
         "--tmp", str(tmp)] + (["--realtime"] if realtime else []), stdout=subprocess.PIPE, text=True)
    viewer = Viewer(port, 5.0) if mode == "open" else None
    if viewer is not None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and child.poll() is None:
            try:
                if viewer.get("/api/live.jpg")[:2] == b"\xff\xd8":
                    break
            except OSError:
                time.sleep(0.02)
        viewer.start()
    out, _ = child.communicate(timeout=900)
    if viewer is not None:
        viewer.stop.set()
        viewer.join(10)
    if child.returncode != 0:
        raise SystemExit(f"bench/web.py: the {mode} run failed (exit {child.returncode})")
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["jpegs"] = float(viewer.jpegs if viewer else 0)
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clip", type=Path, help="real footage to replay (default: generated)")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--seconds", type=float, default=30.0, help="length of the generated clip")
    ap.add_argument("--realtime", action="store_true",
                    help="pace the clip at its frame rate, like a camera (default: as fast as possible)")
    ap.add_argument("--one", choices=("off", "closed", "open"), help=argparse.SUPPRESS)
    ap.add_argument("--port", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--tmp", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    import logging

    logging.basicConfig(level=logging.WARNING)
    if args.one:
        print(json.dumps(one_run(args.clip, args.tmp, args.one, args.port, args.realtime)))
        return 0
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clip = args.clip or make_clip(tmp, args.seconds, 30.0 if args.realtime else 10.0)
        results: dict[str, list[dict[str, float]]] = {"off": [], "closed": [], "open": []}
        for rep in range(args.repeat):
            # Alternate the order so a drift in the machine's load hits every mode alike.
            for mode in ("off", "closed", "open") if rep % 2 == 0 else ("open", "closed", "off"):
                r = measure(clip, tmp, mode, args.realtime)
                results[mode].append(r)
                print(f"  run {rep + 1} {mode:6s}: {r['fps']:7.1f} fps, gate {r['gate_us']:5.0f} us "
                      f"({r['gate_cpu_us']:4.0f} us CPU), frame path {r['cpu_ms']:5.2f} ms/frame, "
                      f"RSS {r['rss_mb']:4.0f} MB, {r['dropped']:.0f} dropped, {r['jpegs']:.0f} live JPEGs", flush=True)

    def med(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in results[mode])

    print(f"clip: {clip.name}, {med('off', 'frames'):.0f} frames, classifier on, median of "
          f"{args.repeat}")
    def paired(mode: str, key: str) -> float:
        # Each repeat runs the three modes back to back: the ratio within a repeat cancels the
        # machine's load drifting between repeats; the median drops the outliers.
        return statistics.median(
            r[key] / o[key] for r, o in zip(results[mode], results["off"], strict=True))

    ok = True
    for mode in ("closed", "open"):
        fps_ratio = paired(mode, "fps")
        gate_ratio = paired(mode, "gate_us")
        gate_cpu_ratio = paired(mode, "gate_cpu_us")
        cpu_ratio = paired(mode, "cpu_ms")
        rss_delta = med(mode, "rss_mb") - med("off", "rss_mb")
        good = fps_ratio >= TARGET and gate_ratio <= 1 / TARGET
        ok &= good
        print(f"page {mode:6s}: fps ratio {fps_ratio:.3f} (target >= {TARGET}), gate cost ratio "
              f"{gate_ratio:.3f} (CPU {gate_cpu_ratio:.3f}), frame-path CPU ratio {cpu_ratio:.3f}, "
              f"RSS {med(mode, 'rss_mb'):.0f} MB ({rss_delta:+.0f} MB vs off), "
              f"{med(mode, 'dropped'):.0f} dropped {'ok' if good else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
