"""The frame record that travels from a source through every stage."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Plane = npt.NDArray[np.uint8]
"""A 2-D uint8 gray/Y image (the motion plane)."""

Image = npt.NDArray[np.uint8]
"""A full-resolution H x W x 3 uint8 image in BGR order (OpenCV's convention)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One captured frame.

    ``ts_ms`` is milliseconds since the start of the stream: derived from the frame index and
    the clip's rate (or its PTS) in replay, from a monotonic clock live; never the wall clock,
    so replays are deterministic. ``plane`` is the downscaled gray/Y motion plane the gate
    reads (see :func:`visionedge.gate.plane.to_motion_plane`); it must not be modified.
    The full-resolution image is fetched lazily through :meth:`image`, because most frames
    never need it (the gate is closed) and converting it costs more than the gate itself.
    ``metadata`` carries camera controls such as ``ExposureTime`` (µs) and ``AnalogueGain``
    when the source knows them, so the gate can tell an exposure jump from motion.
    """

    index: int
    ts_ms: int
    plane: Plane
    _image: Callable[[], Image] = field(repr=False)
    metadata: Mapping[str, float] = field(default_factory=dict)
    source: str = ""

    def image(self) -> Image:
        """Return the full-resolution BGR image (H x W x 3 uint8) for classifier crops."""
        return self._image()
