"""Build hook for the one compiled part: the gate's C++ core as ``visionedge.gate._native``.

Everything else is declared in setup.cfg. The extension is optional: without a C++ compiler
and the Python headers (scripts/setup.sh installs g++ and python3-dev) the build only warns
and the gate runs its numpy/OpenCV path, which gives the same bytes (docs/gate.md, "Native
gate"); ``VISIONEDGE_REQUIRE_NATIVE=1`` turns that warning into a failed install (CI). The
sources are the firmware core's own (firmware/core: headers and the .cpp files in CORE_SOURCES),
so the daemon and the boards run one implementation of the gate's pixel loops and regions.
"""

from __future__ import annotations

import os
import sys

from setuptools import Extension, setup

CORE = os.path.join("firmware", "core")

# The core's .cpp files the extension links: the motion regions (ve::RegionFinder). regions.cpp
# also holds the classifier-crop helpers, which call into events.cpp; --gc-sections drops them
# (nothing here calls them), so the module carries no undefined ve:: symbol and the event
# tracker is not compiled in (macOS's linker calls it -dead_strip).
CORE_SOURCES = ["regions.cpp"]

native = Extension(
    "visionedge.gate._native",
    # The core's pass and downscale are header-only (ve/gate_pass.h, ve/plane.h).
    sources=[os.path.join("visionedge", "gate", "_native.cpp")]
    + [os.path.join(CORE, "src", name) for name in CORE_SOURCES],
    include_dirs=[os.path.join(CORE, "include")],
    depends=[
        os.path.join(CORE, "include", "ve", name)
        for name in ("gate_pass.h", "gate.h", "plane.h", "regions.h", "events.h", "status.h")
    ],
    # The boards' static buffers are sized for their planes (320x240); the daemon's regions run
    # on planes up to 2048x2048 (RegionFinder's 16-bit cell index caps the grid at 65,536 cells;
    # visionedge/gate/regions.py sends larger planes to the numpy path).
    define_macros=[("VE_MAX_PLANE_W", "2048"), ("VE_MAX_PLANE_H", "2048")],
    # Python's own CFLAGS carry -fwrapv, which keeps GCC from vectorising the index arithmetic
    # (the downscale measured 3x slower with it); the core never relies on signed wrap-around.
    extra_compile_args=[
        "-std=c++17", "-O3", "-g0", "-fno-wrapv", "-fno-exceptions", "-fno-rtti",
        "-ffunction-sections", "-fdata-sections", "-fvisibility=hidden",
    ],
    extra_link_args=["-Wl,-dead_strip" if sys.platform == "darwin" else "-Wl,--gc-sections"],
    language="c++",
    optional=os.environ.get("VISIONEDGE_REQUIRE_NATIVE", "") != "1",
)

setup(ext_modules=[native])
