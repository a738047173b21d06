// The integer measures of an object's sightings (docs/gate-algorithm.md §7 E1, E2, E5), a port
// of visionedge/objects/measures.py and geometry.py; see those files for the why.
#include "ve/object_measures.h"

#include "ve/track.h"

namespace ve {
namespace {

int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

}  // namespace

// Python's int(v * 1000.0 + 0.5) for a non-negative double (milli() of geometry.py).
int64_t milli(double v) { return static_cast<int64_t>(v * 1000.0 + 0.5); }

int64_t shared_shift(int64_t d0, int64_t d1) {
  if (d0 > 0 && d1 > 0) return d0 < d1 ? d0 : d1;
  if (d0 < 0 && d1 < 0) return d0 > d1 ? d0 : d1;
  return 0;
}

// measures.py _axis: an edge on the frame border in both sightings does not count.
int64_t axis_shift(int64_t a0, int64_t a1, int64_t b0, int64_t b1, int64_t size) {
  if (a0 <= 0 && b0 <= 0) return (a1 < size || b1 < size) ? b1 - a1 : 0;
  if (a1 >= size && b1 >= size) return b0 - a0;
  return shared_shift(b0 - a0, b1 - a1);
}

// E2: the steady move from sighting a to b; false for a jump.
bool travel_step(const PixelBox& a, const PixelBox& b, int w, int h, int64_t* tx, int64_t* ty) {
  *tx = axis_shift(a.x0, a.x1, b.x0, b.x1, w);
  *ty = axis_shift(a.y0, a.y1, b.y0, b.y1, h);
  const int64_t m = abs64(*tx) > abs64(*ty) ? abs64(*tx) : abs64(*ty);
  const int64_t bw = b.x1 - b.x0, bh = b.y1 - b.y0;
  return !(2 * m > (bw > bh ? bw : bh));
}

bool travelled(int64_t tx, int64_t ty, const PixelBox& b, int w, int h, int64_t min_travel_m,
               int64_t min_travel_pct_m) {
  const int64_t ax = abs64(tx), ay = abs64(ty);
  const int64_t size = (static_cast<int64_t>(b.x1) - b.x0) + (static_cast<int64_t>(b.y1) - b.y0);
  const bool own = (ax + ay) * 2000 >= size * min_travel_m;
  const bool frame = (ax * h + ay * w) * 100000 >= min_travel_pct_m * w * h;
  return own && frame;
}

// E5: (whole, area x (1000 + central) x (1000 + conf)).
void best_key(const PixelBox& b, int w, int h, int64_t conf_pm, int* whole, int64_t* key) {
  const int m = w / 100 > 1 ? w / 100 : 1;
  *whole = (b.x0 > m && b.y0 > m && b.x1 < w - m && b.y1 < h - m) ? 1 : 0;
  const int64_t offx = 1000 * abs64(static_cast<int64_t>(b.x0) + b.x1 - w) / w;
  const int64_t offy = 1000 * abs64(static_cast<int64_t>(b.y0) + b.y1 - h) / h;
  const int64_t central = 1000 - (offx > offy ? offx : offy);
  *key = box_area(b) * (1000 + central) * (1000 + conf_pm);
}

PixelBox clamp_box(const PixelBox& b, int w, int h) {
  auto c = [](int v, int hi) { return v < 0 ? 0 : (v > hi ? hi : v); };
  return PixelBox{c(b.x0, w), c(b.y0, h), c(b.x1, w), c(b.y1, h)};
}

// E1: crossing number of the 1/16-pixel point (px, py), integer only.
bool inside_polygon(int64_t px, int64_t py, const int32_t* xy, int n) {
  bool inside = false;
  for (int i = 0; i < n; ++i) {
    const int64_t xa = xy[2 * i], ya = xy[2 * i + 1];
    const int k = (i + 1) % n;
    const int64_t xb = xy[2 * k], yb = xy[2 * k + 1];
    if ((ya <= py) != (yb <= py)) {
      const int64_t cross = (xb - xa) * (py - ya) - (px - xa) * (yb - ya);
      if ((cross > 0) == (yb > ya)) inside = !inside;
    }
  }
  return inside;
}

}  // namespace ve
