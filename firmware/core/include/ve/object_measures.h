// The integer measures of an object's sightings (docs/gate-algorithm.md §7), shared by the
// object events and their payload: travel (E2), best-view key (E5), zone polygons (E1).
#pragma once

#include <cstdint>

#include "ve/gate.h"

namespace ve {

// Python's int(v * 1000.0 + 0.5) for a non-negative double (milli() of geometry.py).
int64_t milli(double v);
// The shift both edges share, with its sign (0 when they moved apart or one stayed).
int64_t shared_shift(int64_t d0, int64_t d1);
// One axis of travel_step: an edge on the frame border in both sightings does not count.
int64_t axis_shift(int64_t a0, int64_t a1, int64_t b0, int64_t b1, int64_t size);
// E2: the steady move from sighting a to b in (tx, ty); false for a jump.
bool travel_step(const PixelBox& a, const PixelBox& b, int w, int h, int64_t* tx, int64_t* ty);
// E2: whether the summed travel (tx, ty) is far enough for an object of box b.
bool travelled(int64_t tx, int64_t ty, const PixelBox& b, int w, int h, int64_t min_travel_m,
               int64_t min_travel_pct_m);
// E5: (whole, area x (1000 + central) x (1000 + conf)).
void best_key(const PixelBox& b, int w, int h, int64_t conf_pm, int* whole, int64_t* key);
// b cut to the frame.
PixelBox clamp_box(const PixelBox& b, int w, int h);
// E1: crossing number of the 1/16-pixel point (px, py) in the polygon xy[2n], integer only.
bool inside_polygon(int64_t px, int64_t py, const int32_t* xy, int n);

}  // namespace ve
