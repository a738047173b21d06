"""Gate (and event) parameters for the firmware, from the same config file the daemon reads.

``visionedge firmware config CONFIG.toml`` renders ``gate_config.h`` (:mod:`.header`): the
``[gate]`` values as a ``ve::GateParams`` plus the mask and zone bitmaps rasterised by the
Python rasteriser for the plane size of the camera, so the MCU never rasterises and both
targets agree on every masked pixel. The same values can be written as a small text file
(``--format params``, :mod:`.spec`) that the host and QEMU runners read at run time, so one
runner binary serves every config in the parity tests.
"""

from __future__ import annotations

from visionedge.firmware_config.header import render_header
from visionedge.firmware_config.spec import (
    FirmwareSpec,
    build_spec,
    pack_bits,
    plane_size,
    render_params,
)

__all__ = [
    "FirmwareSpec",
    "build_spec",
    "pack_bits",
    "plane_size",
    "render_header",
    "render_params",
]
