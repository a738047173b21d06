"""Build hook for the one compiled part: the gate's C++ core as ``visionedge.gate._native``.

Everything else is declared in setup.cfg. The extension is optional: without a C++ compiler
and the Python headers (scripts/setup.sh installs g++ and python3-dev) the build only warns
and the gate runs its numpy/OpenCV path, which gives the same bytes (docs/gate.md, "Native
gate"); ``VISIONEDGE_REQUIRE_NATIVE=1`` turns that warning into a failed install (CI). The
sources are the firmware core's own (firmware/core), so the daemon and the boards run one
implementation of the gate's pixel loops.
"""

from __future__ import annotations

import os

from setuptools import Extension, setup

CORE = os.path.join("firmware", "core")

native = Extension(
    "visionedge.gate._native",
    # The firmware core's pass and downscale are header-only (ve/gate_pass.h, ve/plane.h).
    sources=[os.path.join("visionedge", "gate", "_native.cpp")],
    include_dirs=[os.path.join(CORE, "include")],
    depends=[
        os.path.join(CORE, "include", "ve", name)
        for name in ("gate_pass.h", "gate.h", "plane.h", "status.h")
    ],
    # Python's own CFLAGS carry -fwrapv, which keeps GCC from vectorising the index arithmetic
    # (the downscale measured 3x slower with it); the core never relies on signed wrap-around.
    extra_compile_args=["-std=c++17", "-O3", "-g0", "-fno-wrapv", "-fno-exceptions", "-fno-rtti"],
    language="c++",
    optional=os.environ.get("VISIONEDGE_REQUIRE_NATIVE", "") != "1",
)

setup(ext_modules=[native])
