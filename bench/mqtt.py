"""Benchmark of the MQTT path and the daemon: latency, spool throughput, memory, idle CPU.

Usage: ``python bench/mqtt.py [--quick]``

Starts its own mosquitto on a free loopback port. Four figures, each next to a baseline
measured in the same run on the same machine:

1. **End-to-end latency**, frame in → event message received by an independent subscriber:
   the generated 640x360 demo scene is paced at 10 fps through the full pipeline (gate,
   shipped int8 classifier, event tracker, MQTT sink with its SQLite spool,
   ``synchronous=full``), with ``events.update_every = 1`` so every open-event frame
   produces a message. The clock starts just before ``Pipeline.step(frame)`` and stops in
   the subscriber's ``on_message``. Baselines: a bare paho QoS 1 publish → receive on the
   same broker (the transport's own floor) and, since with ``synchronous=full`` an event is
   fsync'd before it is sent, one ``fdatasync`` of a 4 KiB append beside the spool (the
   disk's floor; on a shared VM it moves several-fold from one minute to the next).
2. **Sustained events/s through the spool at QoS 1**: N events handed to
   ``MqttSink.publish`` as fast as possible; the clock stops when the subscriber has all N
   and the spool is empty (every PUBACK processed). Both ``synchronous`` modes; the group
   commit stores events that arrive together in one transaction, and the line says how
   many commits (fsyncs with ``full``) the N events took. Baseline: bare paho QoS 1
   publishes of the same payloads (no spool).
3. **Daemon resident memory** with the shipped model loaded: ``visionedge run`` on a
   realtime replay, VmRSS and VmHWM from /proc after READY. Baseline: a Python process
   that only imports numpy and cv2.
4. **Idle CPU**: the daemon on a static 640x480 scene (sensor noise only) at 10 fps, CPU
   time / wall time over 20 s after READY, as % of one core. Baseline: a process that only
   decodes the same clip at 10 fps (a camera delivers raw frames, so the daemon's own share
   is the difference).

Targets (issue 11): ``synchronous=full`` moves >= 1,000 events/s and adds little latency:
p50 frame -> subscriber <= 5 ms. The run ends with one line per target, ``ok`` or ``MISS``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from visionedge.config import parse_config
from visionedge.pipeline import build_pipeline
from visionedge.sinks.mqtt import MqttSink
from visionedge.sources import open_source
from visionedge.synth import SceneSpec, default_scene, write_clip

VISIONEDGE = Path(sys.executable).parent / "visionedge"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def mosquitto(work: Path) -> Iterator[int]:
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    port = free_port()
    conf = work / "mosquitto.conf"
    lines = [f"listener {port} 127.0.0.1", "allow_anonymous true", "persistence false",
             "max_queued_messages 1000000", "max_inflight_messages 0"]
    if os.geteuid() == 0:
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n")
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("mosquitto did not start") from None
            time.sleep(0.05)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


class Sub:
    """Records (monotonic receive time, payload) per message."""

    def __init__(self, port: int, topic: str) -> None:
        self.got: list[tuple[float, bytes]] = []
        self.ready = threading.Event()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"bench-sub-{time.time_ns()}")
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)
        self.c.on_subscribe = lambda *a: self.ready.set()
        self.c.on_message = lambda c, u, m: self.got.append((time.monotonic(), bytes(m.payload)))
        self.c.connect("127.0.0.1", port)
        self.c.loop_start()
        if not self.ready.wait(10):
            raise RuntimeError("subscriber could not subscribe")

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


RESULTS: dict[str, float] = {}
"""Figures the targets are checked against at the end."""


def fsync_floor(work: Path, n: int = 200) -> list[float]:
    """Milliseconds of fdatasync after a 4 KiB append in ``work`` (the spool's disk), n times."""
    path = work / "fsync-floor.bin"
    out: list[float] = []
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for _ in range(n):
            os.write(fd, b"\0" * 4096)
            t = time.perf_counter()
            os.fdatasync(fd)
            out.append((time.perf_counter() - t) * 1000)
            time.sleep(0.002)
    finally:
        os.close(fd)
        path.unlink()
    return out


def bench_latency(port: int, work: Path, clip: Path, seconds: float, sync: str) -> None:
    cfg = parse_config({
        "device": {"name": f"bench{sync}"},
        "source": {"kind": "file", "path": str(clip)},
        "events": {"update_every": 1},
        "output": {"stdout": False},
        "mqtt": {"enabled": True, "port": port, "stats_interval_s": 0},
        "spool": {"path": str(work / f"lat-{sync}.sqlite3"), "synchronous": sync},
    })
    sub = Sub(port, f"visionedge/bench{sync}/events")
    sink = MqttSink(cfg).start()
    sink.connected.wait(10)
    pipeline = build_pipeline(cfg, sinks=[sink], source=open_source(cfg.source, cfg.gate.width),
                              deterministic_ids=True)
    t_in: dict[int, float] = {}
    step_ms: list[float] = []
    period = 0.1
    start = time.monotonic()
    with pipeline.source as src:  # type: ignore[union-attr]
        for n, frame in enumerate(src.frames()):
            target = start + n * period
            delay = target - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t_in[frame.index] = time.monotonic()
            trace = pipeline.step(frame)
            if trace.event_id:
                step_ms.append((time.monotonic() - t_in[frame.index]) * 1000)
            if time.monotonic() - start > seconds:
                break
    pipeline.finish("stopped")
    sink.flush(10)
    time.sleep(0.3)
    commit_ms = [t * 1000 for t in sink.spool.commit_seconds]
    sink.close(5)
    sub.close()
    lat = [(t - t_in[json.loads(p)["frame"]]) * 1000 for t, p in sub.got
           if json.loads(p)["frame"] in t_in]
    # Baseline: bare paho publish -> receive, QoS 1, same broker, same payload size.
    sub2 = Sub(port, "bench/raw")
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw-pub")
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    payload = sub.got[0][1] if sub.got else b"x" * 700
    sent: list[float] = []
    for _ in range(200):
        sent.append(time.monotonic())
        pub.publish("bench/raw", payload, qos=1)
        time.sleep(0.01)
    deadline = time.monotonic() + 10
    while len(sub2.got) < 200 and time.monotonic() < deadline:
        time.sleep(0.01)
    pub.loop_stop()
    pub.disconnect()
    sub2.close()
    base = [(r - s) * 1000 for s, (r, _) in zip(sent, sub2.got, strict=False)]
    disk = fsync_floor(work)
    first = lat[0] if lat else 0.0
    print(f"latency frame->subscriber, spool synchronous={sync} ({len(lat)} messages, shipped "
          f"model, 10 fps; first message {first:.1f} ms): "
          f"p50 {pct(lat, .5):.2f} ms, p99 {pct(lat, .99):.2f} ms, max {max(lat):.2f} ms")
    print(f"  of which Pipeline.step on event frames (gate+classifier+tracker+spool commit): "
          f"p50 {pct(step_ms, .5):.2f} ms, p99 {pct(step_ms, .99):.2f} ms; the spool commit "
          f"alone p50 {pct(commit_ms, .5):.2f} ms, p99 {pct(commit_ms, .99):.2f} ms")
    RESULTS[f"latency_p50_{sync}"] = pct(lat, .5)
    RESULTS[f"floor_p50_{sync}"] = pct(base, .5) + (pct(disk, .5) if sync == "full" else 0.0)
    print(f"  baseline bare paho QoS1 publish->receive: p50 {pct(base, .5):.2f} ms, "
          f"p99 {pct(base, .99):.2f} ms; ratio p50 {pct(lat, .5) / pct(base, .5):.1f}x")
    # With synchronous=full an event is fsync'd before it is sent: the disk is part of the floor.
    print(f"  baseline disk, fdatasync of a 4 KiB append beside the spool: p50 "
          f"{pct(disk, .5):.2f} ms, p99 {pct(disk, .99):.2f} ms; floor paho"
          f"{' + fsync' if sync == 'full' else ''} p50 {RESULTS[f'floor_p50_{sync}']:.2f} ms")


def bench_throughput(port: int, work: Path, n: int) -> None:
    event = {"schema": 1, "type": "update", "event_id": "00000000-0000-4000-8000-000000000000",
             "seq": 0, "device": "bench", "camera": "cam0", "payload": "x" * 600}
    rates: dict[str, float] = {}
    for sync in ("full", "normal"):
        cfg = parse_config({
            "device": {"name": f"tp{sync}"},
            "mqtt": {"enabled": True, "port": port, "stats_interval_s": 0, "discovery": False},
            "spool": {"path": str(work / f"tp-{sync}.sqlite3"), "synchronous": sync},
        })
        sub = Sub(port, f"visionedge/tp{sync}/events")
        sink = MqttSink(cfg).start()
        sink.connected.wait(10)
        t0 = time.monotonic()
        for i in range(n):
            event["seq"] = i
            sink.publish(event)
        t_put = time.monotonic() - t0
        deadline = time.monotonic() + 120
        while (len(sub.got) < n or sink.spool.depth) and time.monotonic() < deadline:
            time.sleep(0.005)
        dt = time.monotonic() - t0
        ok = len(sub.got) >= n and sink.spool.depth == 0
        commits = sink.spool.commits
        sink.close(5)
        sub.close()
        rates[sync] = n / dt
        print(f"spool throughput QoS1 synchronous={sync}: {n / dt:,.0f} events/s end to end "
              f"({n} events in {commits} commits, all received and acknowledged: {ok}); "
              f"publish() alone {n / t_put:,.0f}/s")
    # Backlog drain (what matters after an outage): N events already in a FULL spool.
    from visionedge.spool import Spool

    cfg = parse_config({
        "device": {"name": "drain"},
        "mqtt": {"enabled": True, "port": port, "stats_interval_s": 0, "discovery": False},
        "spool": {"path": str(work / "drain.sqlite3"), "synchronous": "normal"},
    })
    sp = Spool(work / "drain.sqlite3", synchronous="normal")
    body = json.dumps(event).encode()
    for _ in range(n):
        sp.put("visionedge/drain/events", body)
    sp.close()
    cfg.spool.synchronous = "full"
    sub = Sub(port, "visionedge/drain/events")
    t0 = time.monotonic()
    sink = MqttSink(cfg).start()
    deadline = time.monotonic() + 120
    while (len(sub.got) < n or sink.spool.depth) and time.monotonic() < deadline:
        time.sleep(0.005)
    drain = n / (time.monotonic() - t0)
    sink.close(5)
    sub.close()
    print(f"spool backlog drain QoS1 synchronous=full: {drain:,.0f} events/s ({n} spooled "
          "events, connect included, until all received and acknowledged)")
    rates["drain"] = drain
    RESULTS["throughput_full"] = rates["full"]
    sub = Sub(port, "bench/rawtp")
    pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-raw-tp")
    pub.max_inflight_messages_set(100)
    pub.connect("127.0.0.1", port)
    pub.loop_start()
    t0 = time.monotonic()
    infos = [pub.publish("bench/rawtp", body, qos=1) for _ in range(n)]
    for info in infos:
        info.wait_for_publish(30)
    while len(sub.got) < n and time.monotonic() - t0 < 60:
        time.sleep(0.005)
    raw = n / (time.monotonic() - t0)
    pub.loop_stop()
    pub.disconnect()
    sub.close()
    print(f"  baseline bare paho QoS1 (no spool): {raw:,.0f} msg/s; spool/baseline "
          f"full {rates['full'] / raw:.2f}, normal {rates['normal'] / raw:.2f}, "
          f"drain {rates['drain'] / raw:.2f}")


def _proc_status(pid: int) -> dict[str, int]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS", "VmHWM")):
            out[line.split(":")[0]] = int(line.split()[1])
    return out


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _start_daemon(work: Path, clip: Path, port: int, name: str) -> tuple[subprocess.Popen[bytes], Path]:
    conf = work / f"{name}.toml"
    conf.write_text(
        f'[device]\nname = "{name}"\n[source]\nkind = "file"\npath = "{clip}"\nrealtime = true\n'
        f'[output]\nstdout = false\n[mqtt]\nenabled = true\nport = {port}\n'
        f'[daemon]\nstate_dir = "{work / name}"\n'
    )
    log = work / f"{name}.log"
    proc = subprocess.Popen([str(VISIONEDGE), "run", "--config", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    deadline = time.monotonic() + 60
    while "ready" not in log.read_text():
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("daemon did not become ready: " + log.read_text())
        time.sleep(0.1)
    return proc, log


def bench_daemon(port: int, work: Path, demo: Path, static: Path, window: float) -> None:
    proc, _ = _start_daemon(work, demo, port, "rss")
    time.sleep(3.0)
    st = _proc_status(proc.pid)
    proc.terminate()
    proc.wait(30)
    base = subprocess.run(
        [sys.executable, "-c", "import numpy, cv2, re; print(re.search(r'VmRSS:\\s+(\\d+)', "
         "open('/proc/self/status').read()).group(1))"], capture_output=True, text=True,
        check=True)
    base_kb = int(base.stdout)
    print(f"daemon RSS with the shipped model: {st['VmRSS'] / 1024:.0f} MB (peak "
          f"{st['VmHWM'] / 1024:.0f} MB); baseline python+numpy+cv2 {base_kb / 1024:.0f} MB")

    proc, _ = _start_daemon(work, static, port, "idle")
    time.sleep(2.0)
    c0, t0 = _cpu_seconds(proc.pid), time.monotonic()
    time.sleep(window)
    cpu = (_cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0) * 100
    proc.terminate()
    proc.wait(30)
    dec = subprocess.Popen([sys.executable, "-c", (
        "import cv2, time, sys\n"
        "cv2.setNumThreads(1)\n"
        f"cap = cv2.VideoCapture({str(static)!r}); t = time.monotonic(); n = 0\n"
        "while True:\n"
        "    ok, f = cap.read()\n"
        "    if not ok: break\n"
        "    n += 1; d = t + n * 0.1 - time.monotonic()\n"
        "    if d > 0: time.sleep(d)\n")])
    time.sleep(2.0)
    c0, t0 = _cpu_seconds(dec.pid), time.monotonic()
    time.sleep(window)
    base_cpu = (_cpu_seconds(dec.pid) - c0) / (time.monotonic() - t0) * 100
    dec.terminate()
    dec.wait(10)
    print(f"idle daemon CPU, static 640x480 @ 10 fps (MJPEG decode included): {cpu:.1f}% of "
          f"one core; baseline decode-only {base_cpu:.1f}%; daemon's own share "
          f"{cpu - base_cpu:.1f}% (ratio {cpu / max(base_cpu, 0.01):.1f}x)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        demo = work / "demo.avi"
        write_clip(default_scene(0), demo)
        static = work / "static640x480.avi"
        write_clip(SceneSpec(width=640, height=480, fps=10.0, seed=3, duration_s=40.0,
                             events=[]), static)
        with mosquitto(work) as port:
            for sync in ("full", "normal"):
                bench_latency(port, work, demo, 10.0 if args.quick else 30.0, sync)
            bench_throughput(port, work, 2000 if args.quick else 10000)
            bench_daemon(port, work, demo, static, 8.0 if args.quick else 20.0)
    tp = RESULTS.get("throughput_full", 0.0)
    p50 = RESULTS.get("latency_p50_full", float("inf"))
    print(f"target spool synchronous=full >= 1,000 events/s: {tp:,.0f} "
          f"{'ok' if tp >= 1000 else 'MISS'}")
    floor = RESULTS.get("floor_p50_full", 0.0)
    print(f"target p50 frame->subscriber (synchronous=full) <= 5 ms: {p50:.2f} ms "
          f"{'ok' if p50 <= 5.0 else 'MISS'} (this run's floor, bare paho + one fdatasync: "
          f"{floor:.2f} ms; above it {p50 - floor:.2f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
