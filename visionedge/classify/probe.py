"""Running a model once in a forked child, so a corrupt file cannot crash the daemon.

tflite-runtime 2.14 does not verify a FlatBuffer given as ``model_content=``: corrupt bytes
make it read wild pointers and kill the process (SIGSEGV/SIGBUS). :func:`crash_probe` builds
and runs the model in a child first (:func:`visionedge.classify.model.open_model` calls it for
such runtimes) and reports how it failed.
"""

from __future__ import annotations

import faulthandler
import os
import resource
import signal
import time

import numpy as np

from visionedge.classify.backends import InterpreterFactory

__all__ = ["PROBE_MEMORY_BYTES", "PROBE_TIMEOUT_S", "crash_probe"]

PROBE_TIMEOUT_S = 60.0
PROBE_MEMORY_BYTES = 1024 * 1024 * 1024
"""New address space the probe child may take (plus 4x the model size) before it fails."""


def _cap_address_space(extra: int) -> None:
    """Limit this process's address space to its current size plus ``extra`` bytes."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return
    limit = pages * resource.getpagesize() + extra
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def crash_probe(
    content: bytes,
    factory: InterpreterFactory,
    *,
    cap_memory: bool,
    timeout_s: float = PROBE_TIMEOUT_S,
) -> str | None:
    """Build and run the model once in a forked child; None if that worked, else why not.

    With ``cap_memory`` the child's address space is capped, so a corrupt model that would
    allocate and touch gigabytes fails fast. A capped success proves little (a failed
    allocation can steer the runtime around the wild read that crashes it uncapped), so
    :func:`open_model` follows it with an uncapped probe. A runtime error in the child is
    passed back through a pipe rather than repeated here, where it might be the crash.
    Without ``os.fork`` (not Linux) this returns None and the runtime is trusted.
    """
    if not hasattr(os, "fork"):
        return None
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child, which never returns
        os.close(read_end)
        status = 0
        try:
            # The parent reports the outcome; the runtime's own crash output (and
            # faulthandler's, under pytest) would only be noise, and a core dump would
            # cost seconds of disk writes.
            faulthandler.disable()
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            # Corrupt sizes can make the runtime allocate and touch gigabytes before it
            # faults (measured: up to 40 s); a cap on new address space makes that quick.
            if cap_memory:
                _cap_address_space(PROBE_MEMORY_BYTES + 4 * len(content))
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)
            # The same calls open_model and the classifier make, in the same order; the
            # inference twice, as a daemon runs it many times.
            interp = factory(model_content=content, num_threads=1)
            interp.allocate_tensors()
            inputs, outputs = interp.get_input_details(), interp.get_output_details()
            for _ in range(2):
                for d in inputs:
                    interp.set_tensor(d["index"], np.zeros(d["shape"], d["dtype"]))
                interp.invoke()
                for d in outputs:
                    interp.get_tensor(d["index"])
        except BaseException as exc:
            status = 3
            reason = " ".join(str(exc).split())[:300] or type(exc).__name__
            os.write(write_end, reason.encode("utf-8", "replace"))
        os._exit(status)
    os.close(write_end)
    try:
        deadline = time.monotonic() + timeout_s
        delay = 0.001
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return f"loading it did not finish within {timeout_s:.0f} s"
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        message = os.read(read_end, 4096).decode("utf-8", "replace")
    finally:
        os.close(read_end)
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        return f"loading it crashes the runtime ({name})"
    if os.WEXITSTATUS(status) != 0:
        return f"the runtime refuses it ({message or 'no reason given'})"
    return None
