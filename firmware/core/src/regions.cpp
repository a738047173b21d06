#include "ve/regions.h"

namespace ve {

namespace {

// First set bit in [i0, i1) of an LSB-first bitmap, or -1. Whole zero bytes are skipped a
// byte at a time: motion masks are mostly empty rows, and a bit-by-bit scan of them cost
// the daemon ~10x the old per-pixel flood fill (docs/gate.md, Native gate).
int first_set(const uint8_t* bits, int i0, int i1) {
  int i = i0;
  while (i < i1) {
    if ((i & 7) == 0 && i + 8 <= i1) {
      const unsigned b = bits[i >> 3];
      if (b == 0) {
        i += 8;
        continue;
      }
      int k = 0;
      while (((b >> k) & 1u) == 0) ++k;
      return i + k;
    }
    if (bitmap_get(bits, i)) return i;
    ++i;
  }
  return -1;
}

// Last set bit in [i0, i1), or -1 (the mirror of first_set).
int last_set(const uint8_t* bits, int i0, int i1) {
  int i = i1 - 1;
  while (i >= i0) {
    if ((i & 7) == 7 && i - 7 >= i0) {
      const unsigned b = bits[i >> 3];
      if (b == 0) {
        i -= 8;
        continue;
      }
      int k = 7;
      while (((b >> k) & 1u) == 0) --k;
      return i - 7 + k;
    }
    if (bitmap_get(bits, i)) return i;
    --i;
  }
  return -1;
}

}  // namespace

bool bitmap_bounds(const uint8_t* bits, int w, int x0, int y0, int x1, int y1, PixelBox* out) {
  int bx0 = x1, by0 = y1, bx1 = -1, by1 = -1;
  for (int y = y0; y < y1; ++y) {
    const int row = y * w;
    const int first = first_set(bits, row + x0, row + x1);
    if (first < 0) continue;
    const int last = last_set(bits, first, row + x1);
    if (first - row < bx0) bx0 = first - row;
    if (last - row > bx1) bx1 = last - row;
    if (y < by0) by0 = y;
    by1 = y;
  }
  if (bx1 < 0) return false;
  *out = PixelBox{bx0, by0, bx1 + 1, by1 + 1};
  return true;
}

namespace {

int area(const PixelBox& b) { return (b.x1 - b.x0) * (b.y1 - b.y0); }

// The order of RegionFinder.find(): larger area first, then smaller y0, then smaller x0.
bool better(const PixelBox& a, const PixelBox& b) {
  if (area(a) != area(b)) return area(a) > area(b);
  if (a.y0 != b.y0) return a.y0 < b.y0;
  return a.x0 < b.x0;
}

}  // namespace

int RegionFinder::find(const uint8_t* changed_bits, int w, int h, int min_area, PixelBox* out, int cap) {
  if (changed_bits == nullptr || out == nullptr || cap < 1 || w < 1 || h < 1 || w > kMaxPlaneW || h > kMaxPlaneH) {
    return 0;
  }
  // Three 2x halvings, each dropping an odd last row/column: the grid Python builds.
  const int gw = ((w / 2) / 2) / 2, gh = ((h / 2) / 2) / 2;
  if (gw == 0 || gh == 0) {
    PixelBox b;
    if (!bitmap_bounds(changed_bits, w, 0, 0, w, h, &b) || area(b) < min_area) return 0;
    out[0] = b;
    return 1;
  }
  // 1. Cells: 1 when any pixel of the 8x8 block changed (label 0xFFFF = set, not yet labelled).
  if (w % kRegionCell == 0) {
    // Rows of whole bytes: a cell's row is one byte, so a cell is 8 byte loads.
    const int stride = w / kRegionCell;
    for (int gy = 0; gy < gh; ++gy) {
      const uint8_t* top = changed_bits + gy * kRegionCell * stride;
      for (int gx = 0; gx < gw; ++gx) {
        unsigned any = 0;
        for (int r = 0; r < kRegionCell; ++r) any |= top[r * stride + gx];
        label_[gy * gw + gx] = any != 0 ? 0xFFFFu : 0u;
      }
    }
  }
  for (int gy = 0; gy < gh && w % kRegionCell != 0; ++gy) {
    for (int gx = 0; gx < gw; ++gx) {
      bool any = false;
      for (int y = gy * kRegionCell; y < (gy + 1) * kRegionCell && !any; ++y) {
        const int i = y * w + gx * kRegionCell;
        any = first_set(changed_bits, i, i + kRegionCell) >= 0;
      }
      label_[gy * gw + gx] = any ? 0xFFFFu : 0u;
    }
  }
  // 2. 8-connected components in raster order of their first cell (cv2's label order).
  int n = 0;
  uint16_t next = 1;
  for (int start = 0; start < gw * gh; ++start) {
    if (label_[start] != 0xFFFFu) continue;
    const uint16_t id = next++;
    int cx0 = gw, cy0 = gh, cx1 = -1, cy1 = -1;
    int top = 0;
    label_[start] = id;
    stack_[top++] = static_cast<uint16_t>(start);
    while (top > 0) {
      const int c = stack_[--top];
      const int cx = c % gw, cy = c / gw;
      if (cx < cx0) cx0 = cx;
      if (cx > cx1) cx1 = cx;
      if (cy < cy0) cy0 = cy;
      if (cy > cy1) cy1 = cy;
      for (int dy = -1; dy <= 1; ++dy) {
        for (int dx = -1; dx <= 1; ++dx) {
          const int nx = cx + dx, ny = cy + dy;
          if (nx < 0 || ny < 0 || nx >= gw || ny >= gh) continue;
          const int nc = ny * gw + nx;
          if (label_[nc] != 0xFFFFu) continue;
          label_[nc] = id;
          stack_[top++] = static_cast<uint16_t>(nc);  // each cell is pushed once: no overflow
        }
      }
    }
    // 3. Pixel rectangle (the last grid row/column owns the leftover pixels), then tighten.
    const int x0 = cx0 * kRegionCell, y0 = cy0 * kRegionCell;
    const int x1 = cx1 + 1 == gw ? w : (cx1 + 1) * kRegionCell;
    const int y1 = cy1 + 1 == gh ? h : (cy1 + 1) * kRegionCell;
    if ((x1 - x0) * (y1 - y0) < min_area) continue;
    PixelBox b;
    if (!bitmap_bounds(changed_bits, w, x0, y0, x1, y1, &b) || area(b) < min_area) continue;
    // 4. Insert in order (stable: an equal box found later goes after the earlier one).
    if (n < cap) {
      int k = n++;
      while (k > 0 && better(b, out[k - 1])) {
        out[k] = out[k - 1];
        --k;
      }
      out[k] = b;
    } else if (better(b, out[cap - 1])) {
      int k = cap - 1;
      while (k > 0 && better(b, out[k - 1])) {
        out[k] = out[k - 1];
        --k;
      }
      out[k] = b;
    }
  }
  return n;
}

bool RegionFinder::largest(const uint8_t* changed_bits, int w, int h, int min_area, PixelBox* out) {
  if (out == nullptr) return false;
  PixelBox best;
  if (find(changed_bits, w, h, min_area, &best, 1) == 0) return false;
  *out = best;
  return true;
}

bool classification_due(const GateResult& r, const EventTracker& tracker) {
  return tracker.is_open() && r.motion && (r.reason == Reason::kNone || r.opened);
}

CropSource classify_box(RegionFinder& finder, const uint8_t* changed_bits, const GateResult& r,
                        const GateParams& gate, int min_area, const EventTracker& tracker, double box[4]) {
  PixelBox region;
  // Regions exist where Python computes them: a frame with changed pixels, not rejected.
  if (r.has_box && finder.largest(changed_bits, gate.plane_w, gate.plane_h, min_area, &region)) {
    box[0] = round_decimals(static_cast<double>(region.x0) / gate.plane_w, 4);
    box[1] = round_decimals(static_cast<double>(region.y0) / gate.plane_h, 4);
    box[2] = round_decimals(static_cast<double>(region.x1) / gate.plane_w, 4);
    box[3] = round_decimals(static_cast<double>(region.y1) / gate.plane_h, 4);
    return CropSource::kRegion;
  }
  return tracker.box(box) ? CropSource::kEvent : CropSource::kNone;
}

}  // namespace ve
