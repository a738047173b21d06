// The per-pixel part of the gate (docs/gate-algorithm.md §2 steps 1, 3-5, 9 and the sums of
// §3) in one pass over the plane, row by row.
//
// For each row: the 3x3 blur (a vertical [1 2 1] sum into a 16-bit row, then the horizontal
// one), the difference against prev/background, the threshold, the mask, the count, the
// bounding box, and the background step, all while the row is in L1; on tamper-check frames
// also the brightness and Laplacian sums of the unblurred plane. Separate passes (OpenCV's
// blur, absdiff, threshold, countNonZero and four saturating ops for the background) read and
// write the whole plane about ten times; this reads P, prev and bg once and writes B, bg and
// the changed row once. The inner loops are branch-free so compilers vectorise them (SSE2 /
// NEON at -O3; plain loops on a Cortex-M4, where they still save the extra passes).
//
// The background is stepped in place on every non-first frame, before the caller knows
// whether the frame is rejected (step 6 needs the full count): a rejected frame re-baselines
// bg = B afterwards anyway (step 9), so the speculative step never shows. `prev` is only read;
// the caller makes B the next prev (a pointer swap) after taking any tamper snapshot of it.
//
// Header-only: the firmware's MotionGate and the Python extension (visionedge/gate/_native.cpp)
// compile the same code, so the two are one implementation; the pure-Python reference
// (visionedge/gate/reference.py) stays the oracle both are tested against.
#pragma once

#include <cstdint>
#include <cstring>

#include "ve/gate.h"

namespace ve {

// Sums of §3 over the unblurred plane P (exact integers; the caller makes the doubles).
struct PlaneSums {
  int64_t n = 0, s = 0, ss = 0;   // pixels, Σp, Σp²
  int64_t m = 0, sl = 0, sll = 0; // interior pixels, ΣL, ΣL² (0 when h < 3 or w < 3)
};

struct PassResult {
  int64_t changed = 0;                 // popcount(C)
  int x0 = 0, y0 = 0, x1 = -1, y1 = -1; // inclusive bounding box of C (x1 < 0: none)
};

struct PassArgs {
  const uint8_t* plane = nullptr;  // P, h rows of w bytes at `stride`
  int stride = 0;
  int w = 0, h = 0;
  uint8_t* cur = nullptr;          // out: B (w*h, stride w)
  const uint8_t* prev = nullptr;   // previous B
  uint8_t* bg = nullptr;           // background, stepped in place (set to B on a first frame)
  bool blur = true;
  bool first = false;              // §2 step 2: only B and bg = B are written
  Reference reference = Reference::kBackground;
  int threshold = 25;
  int step = 1;
  PlaneSums* sums = nullptr;       // non-null: also accumulate §3's sums of P
  uint16_t* vsum = nullptr;        // scratch: w 16-bit values
};

// First / last index in [lo, hi) with a non-zero byte (hi / lo - 1 when none), eight bytes
// at a time: the changed mask is mostly zeros.
inline int first_nonzero(const uint8_t* row, int lo, int hi) {
  while (lo + 8 <= hi) {
    uint64_t v;
    std::memcpy(&v, row + lo, 8);
    if (v != 0) break;
    lo += 8;
  }
  while (lo < hi && row[lo] == 0) ++lo;
  return lo;
}

inline int last_nonzero(const uint8_t* row, int lo, int hi) {
  while (hi - 8 >= lo) {
    uint64_t v;
    std::memcpy(&v, row + hi - 8, 8);
    if (v != 0) break;
    hi -= 8;
  }
  while (hi > lo && row[hi - 1] == 0) --hi;
  return hi - 1;
}

namespace pass_detail {

inline int reflect101(int i, int n) {
  if (n == 1) return 0;
  if (i < 0) return -i;
  if (i >= n) return 2 * n - 2 - i;
  return i;
}

// B row from three P rows: (Σ w_ij p + 8) >> 4 with BORDER_REFLECT_101 (§2 step 1).
inline void blur_row(const uint8_t* __restrict up, const uint8_t* __restrict mid,
                     const uint8_t* __restrict down, int w, uint16_t* __restrict v,
                     uint8_t* __restrict out) {
  for (int x = 0; x < w; ++x) {
    v[x] = static_cast<uint16_t>(up[x] + 2 * mid[x] + down[x]);
  }
  if (w == 1) {
    out[0] = static_cast<uint8_t>((4 * v[0] + 8) >> 4);
    return;
  }
  out[0] = static_cast<uint8_t>((2 * v[1] + 2 * v[0] + 8) >> 4);
  for (int x = 1; x < w - 1; ++x) {
    out[x] = static_cast<uint8_t>((v[x - 1] + 2 * v[x] + v[x + 1] + 8) >> 4);
  }
  out[w - 1] = static_cast<uint8_t>((2 * v[w - 2] + 2 * v[w - 1] + 8) >> 4);
}

// Steps 3-4 and 9 on one row: C row (0 or the active byte), its count, bg stepped in place.
// Everything stays in 8 bits (|a - b| as max - min, the clamp as saturating add/subtract
// and min/max), so vector units work on 16 (SSE2/NEON) or 32 (AVX2) pixels at a time.
template <Reference R, bool Masked>
inline uint32_t diff_row(const uint8_t* __restrict b, const uint8_t* __restrict prev,
                         uint8_t* __restrict bg, const uint8_t* __restrict active, int w,
                         int thr, int step, uint8_t* __restrict c) {
  const uint8_t t8 = static_cast<uint8_t>(thr);
  const uint8_t s8 = static_cast<uint8_t>(step);
  const uint8_t top = static_cast<uint8_t>(255 - step);
  for (int x = 0; x < w; ++x) {
    const uint8_t bv = b[x];
    const uint8_t g = bg[x];
    uint8_t d;
    if (R == Reference::kPrevious) {
      const uint8_t pv = prev[x];
      d = static_cast<uint8_t>((bv > pv ? bv : pv) - (bv < pv ? bv : pv));
    } else if (R == Reference::kBackground) {
      d = static_cast<uint8_t>((bv > g ? bv : g) - (bv < g ? bv : g));
    } else {
      const uint8_t pv = prev[x];
      const uint8_t d1 = static_cast<uint8_t>((bv > pv ? bv : pv) - (bv < pv ? bv : pv));
      const uint8_t d2 = static_cast<uint8_t>((bv > g ? bv : g) - (bv < g ? bv : g));
      d = d1 < d2 ? d1 : d2;
    }
    const uint8_t on = Masked ? active[x] : static_cast<uint8_t>(255);
    c[x] = d > t8 ? on : static_cast<uint8_t>(0);
    // bg += clamp(B - bg, -step, step), i.e. min(max(B, bg -sat step), bg +sat step)
    const uint8_t lo = static_cast<uint8_t>(g > s8 ? g - s8 : 0);
    const uint8_t hi = static_cast<uint8_t>(g < top ? g + s8 : 255);
    const uint8_t m = bv > lo ? bv : lo;
    bg[x] = m < hi ? m : hi;
  }
  // The count in its own loop: a byte-wise sum vectorises, a widening one inside the loop
  // above would not.
  uint32_t count = 0;
  for (int x0 = 0; x0 < w; x0 += 255 * 32) {
    const int x1 = x0 + 255 * 32 < w ? x0 + 255 * 32 : w;
    uint16_t part = 0;
    for (int x = x0; x < x1; ++x) part = static_cast<uint16_t>(part + (c[x] & 1u));
    count += part;
  }
  return count;
}

// §3 sums of one P row (the Laplacian needs the rows above and below; interior rows only).
// Per-row accumulators are 32-bit (chunks of 4,000 and 2,000 pixels cannot overflow them:
// 4,000 * 255^2 < 2^32, 2,000 * 1,020^2 < 2^31) so the loops vectorise; chunks add into the
// 64-bit totals.
inline void sum_row(const uint8_t* __restrict up, const uint8_t* __restrict mid,
                    const uint8_t* __restrict down, int w, bool interior, PlaneSums* s) {
  for (int x0 = 0; x0 < w; x0 += 4000) {
    const int x1 = x0 + 4000 < w ? x0 + 4000 : w;
    uint32_t rs = 0, rss = 0;
    for (int x = x0; x < x1; ++x) {
      const uint32_t v = mid[x];
      rs += v;
      rss += v * v;
    }
    s->s += rs;
    s->ss += rss;
  }
  if (!interior) return;
  // L fits 16 bits (|L| <= 1,020), which lets x86 square-and-add pairs in one instruction.
  for (int x0 = 1; x0 < w - 1; x0 += 2000) {
    const int x1 = x0 + 2000 < w - 1 ? x0 + 2000 : w - 1;
    int32_t sl = 0;
    int32_t sll = 0;
    for (int x = x0; x < x1; ++x) {
      const int16_t l = static_cast<int16_t>(up[x] + down[x] + mid[x - 1] + mid[x + 1] - 4 * mid[x]);
      sl += l;
      sll += static_cast<int32_t>(l) * l;
    }
    s->sl += sl;
    s->sll += sll;
  }
}

}  // namespace pass_detail

// One pass over the plane. `Sink` receives every C row of a non-first frame:
//   const uint8_t* active_row(int y)  the row of the active mask as 0/255 bytes, nullptr = all
//   uint8_t* changed_row(int y)       where to write the C row (w bytes: 0 or 255)
//   void row_done(int y, const uint8_t* c, uint32_t count)   after the row is written
template <Reference R, class Sink>
PassResult gate_pass_t(const PassArgs& a, Sink& sink) {
  using namespace pass_detail;
  PassResult res;
  const int w = a.w, h = a.h;
  if (a.sums != nullptr) {
    *a.sums = PlaneSums{};
    a.sums->n = static_cast<int64_t>(w) * h;
    a.sums->m = (h >= 3 && w >= 3) ? static_cast<int64_t>(h - 2) * (w - 2) : 0;
  }
  for (int y = 0; y < h; ++y) {
    const uint8_t* mid = a.plane + static_cast<long>(y) * a.stride;
    const uint8_t* up = a.plane + static_cast<long>(reflect101(y - 1, h)) * a.stride;
    const uint8_t* down = a.plane + static_cast<long>(reflect101(y + 1, h)) * a.stride;
    uint8_t* b = a.cur + static_cast<long>(y) * w;
    if (a.blur) {
      blur_row(up, mid, down, w, a.vsum, b);
    } else {
      for (int x = 0; x < w; ++x) b[x] = mid[x];
    }
    if (a.sums != nullptr) sum_row(up, mid, down, w, y >= 1 && y < h - 1 && w >= 3, a.sums);
    uint8_t* bgr = a.bg + static_cast<long>(y) * w;
    if (a.first) {
      for (int x = 0; x < w; ++x) bgr[x] = b[x];
      continue;
    }
    const uint8_t* pr = a.prev + static_cast<long>(y) * w;
    const uint8_t* act = sink.active_row(y);
    uint8_t* c = sink.changed_row(y);
    const uint32_t n = act != nullptr ? diff_row<R, true>(b, pr, bgr, act, w, a.threshold, a.step, c)
                                      : diff_row<R, false>(b, pr, bgr, nullptr, w, a.threshold, a.step, c);
    if (n != 0) {
      res.changed += n;
      const int lo = first_nonzero(c, 0, w);
      const int hi = last_nonzero(c, 0, w);
      if (res.x1 < 0) {
        res.x0 = lo;
        res.y0 = y;
        res.x1 = hi;
      } else {
        if (lo < res.x0) res.x0 = lo;
        if (hi > res.x1) res.x1 = hi;
      }
      res.y1 = y;
    }
    sink.row_done(y, c, n);
  }
  return res;
}

template <class Sink>
PassResult gate_pass(const PassArgs& a, Sink& sink) {
  switch (a.reference) {
    case Reference::kPrevious: return gate_pass_t<Reference::kPrevious>(a, sink);
    case Reference::kBackground: return gate_pass_t<Reference::kBackground>(a, sink);
    default: return gate_pass_t<Reference::kBoth>(a, sink);
  }
}

// §3 step 4: (strong, agreeing) neighbour pairs between the snapshot S and the blurred B.
inline void structure_counts(const uint8_t* snap, const uint8_t* blurred, int w, int h, int thr,
                             int64_t* strong_out, int64_t* agree_out) {
  int64_t strong = 0, agree = 0;
  auto pair = [&](int pi, int qi) {
    const int ds = static_cast<int>(snap[qi]) - snap[pi];
    if (ds > thr || -ds > thr) {
      ++strong;
      const int db = static_cast<int>(blurred[qi]) - blurred[pi];
      const int adb = db < 0 ? -db : db;
      if (static_cast<int64_t>(ds) * db > 0 && 4 * adb > thr) ++agree;
    }
  };
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x + 1 < w; ++x) pair(y * w + x, y * w + x + 1);
  }
  for (int y = 0; y + 1 < h; ++y) {
    for (int x = 0; x < w; ++x) pair(y * w + x, (y + 1) * w + x);
  }
  *strong_out = strong;
  *agree_out = agree;
}

}  // namespace ve
