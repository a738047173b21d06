"""The QEMU image checks that it stayed inside the linker script's stack and heap reserves.

newlib's crt0 takes the stack from QEMU's SYS_HEAPINFO (top of QEMU's RAM), so without the
check a run could use far more stack or heap than the board reserves and still pass
(boards/mps2_an386/startup.c paints the reserve and checks at exit).
"""

from __future__ import annotations

import re

from fwkit import Runner

STACK_RESERVE = 0x10000  # mps2_an386.ld defaults for the parity runner
HEAP_RESERVE = 0x40000


def _usage(stderr: str) -> tuple[int, int]:
    m = re.search(r"reserves: stack (\d+) of (\d+) B, heap (\d+) of (\d+) B", stderr)
    assert m, stderr
    assert (int(m[2]), int(m[4])) == (STACK_RESERVE, HEAP_RESERVE)
    return int(m[1]), int(m[3])


def test_usage_is_measured_and_within_the_reserves(qemu_runner: Runner) -> None:
    proc = qemu_runner.run("--burn-stack", "20000")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stack = _usage(proc.stderr)[0]
    assert 20000 <= stack <= 24000, stack  # the recursion, plus crt0's and main's frames
    proc = qemu_runner.run("--burn-heap", "100000")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 100000 <= _usage(proc.stderr)[1] <= HEAP_RESERVE


def test_stack_over_the_reserve_fails_the_run(qemu_runner: Runner) -> None:
    proc = qemu_runner.run("--burn-stack", str(STACK_RESERVE + 4096))
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert "error reserves: the stack used" in proc.stdout


def test_heap_over_the_reserve_fails_the_run(qemu_runner: Runner) -> None:
    proc = qemu_runner.run("--burn-heap", str(HEAP_RESERVE + 4096))
    assert proc.returncode == 5, proc.stdout + proc.stderr
    assert "error reserves: the heap grew to" in proc.stdout


def test_parity_runs_stay_inside_the_reserves(qemu_runner: Runner, small_export: tuple[str, object, list[str]],
                                              tmp_path: object) -> None:
    """A real clip run (what the parity tests do) passes the check with room to spare."""
    from pathlib import Path

    from fwkit import load_export, write_params

    config, frames, _ = small_export
    manifest, _ = load_export(Path(str(frames)))
    params = write_params(config, (manifest["width"], manifest["height"]), Path(str(tmp_path)) / "p.txt")
    proc = qemu_runner.run("--params", str(params), "--frames", str(frames))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    stack, heap = _usage(proc.stderr)
    assert stack < STACK_RESERVE // 2 and heap < HEAP_RESERVE // 2, (stack, heap)
