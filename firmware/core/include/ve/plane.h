// Camera image -> motion plane (docs/gate-algorithm.md §1), for boards that capture full
// frames. The host/QEMU runners read planes that Python already produced.
#pragma once

#include <cstdint>

#include "ve/status.h"

namespace ve {

// OpenCV 4.x's 15-bit fixed-point BT.601 gray of one BGR pixel.
inline uint8_t bgr_to_y(uint8_t b, uint8_t g, uint8_t r) {
  return static_cast<uint8_t>((3735u * b + 19235u * g + 9798u * r + 16384u) >> 15);
}

// §1: full-range level v -> limited-range luma 16 + round_half_up(219 v / 255).
inline uint8_t full_to_limited(uint32_t v) {
  return static_cast<uint8_t>(16u + (219u * v + 127u) / 255u);
}

// The whole downscale factor nearest to src_w / gate_width (at least 1).
int plane_factor(int src_w, int gate_width);

// For the motion plane kGray8 is limited-range luma (a decoder's or ISP's Y plane), used as
// it is; colour formats give full-range gray, mapped to limited range after the downscale.
enum class PixelFormat : uint8_t { kGray8 = 0, kBgr888 = 1, kRgb888 = 2, kRgb565 = 3 };

// Box-downscale an image by `factor` into a (src_h / factor) x (src_w / factor) plane of
// limited-range luma (docs/gate-algorithm.md §1).
// `out_cap` is the capacity of `out` in bytes; kPlaneTooLarge when it does not fit.
Status to_motion_plane(const uint8_t* src, int src_w, int src_h, PixelFormat fmt, int factor,
                       uint8_t* out, int out_cap, int* out_w, int* out_h);

namespace plane_detail {

// The exact multiply-shift for (s + area/2) / area: (s + area/2) * m >> k is exact for every
// s + area/2 < 2^bits when m = ceil(2^k / area) and k >= bits + ceil(log2 area) (Granlund &
// Montgomery 1994). Up to factor 11 the product fits 32 bits, which vector units multiply.
struct Divider {
  uint64_t m = 1;
  int k = 0;
  bool fits32 = false;
  explicit Divider(uint32_t area) {
    const uint32_t top = 255u * area + area / 2;
    int bits = 0;
    while ((1ull << bits) <= top) ++bits;
    int lg = 0;
    while ((1ull << lg) < area) ++lg;
    k = bits + lg;
    m = ((1ull << k) + area - 1) / area;
    fits32 = (static_cast<uint64_t>(top) * m) < (1ull << 32);
  }
};

// Block means of one row of column sums; F > 0 is the factor as a constant (unrolled, so the
// strided loads vectorise), F == 0 the run-time `factor`.
template <int F, class T>
inline void block_means(const T* colsum, int w, int factor, const Divider& dv, uint8_t* o) {
  const int f = F > 0 ? F : factor;
  const uint32_t half = static_cast<uint32_t>(f * f) / 2;
  if (dv.fits32) {
    const uint32_t m = static_cast<uint32_t>(dv.m);
    const int k = dv.k;
    for (int x = 0; x < w; ++x) {
      uint32_t s = 0;
      for (int dx = 0; dx < f; ++dx) s += colsum[x * f + dx];
      o[x] = static_cast<uint8_t>(((s + half) * m) >> k);
    }
  } else {
    for (int x = 0; x < w; ++x) {
      uint64_t s = 0;
      for (int dx = 0; dx < f; ++dx) s += colsum[x * f + dx];
      o[x] = static_cast<uint8_t>(((s + half) * dv.m) >> dv.k);
    }
  }
}

// Column sums of `factor` rows, then block means; T is wide enough for factor * 255.
template <class T>
inline void downscale_rows(const uint8_t* src, int stride, int w, int h, int factor, bool full,
                           uint8_t* out, T* colsum) {
  const int cols = w * factor;
  const Divider dv(static_cast<uint32_t>(factor) * static_cast<uint32_t>(factor));
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = src + static_cast<long>(y) * factor * stride;
    uint8_t* o = out + static_cast<long>(y) * w;
    if (factor == 1) {
      for (int x = 0; x < w; ++x) o[x] = full ? full_to_limited(row[x]) : row[x];
      continue;
    }
    if (factor == 2) {  // the common 640 -> 320 case, straight from the two rows
      const uint8_t* r1 = row + stride;
      for (int x = 0; x < w; ++x) {
        const uint16_t s = static_cast<uint16_t>(row[2 * x] + row[2 * x + 1] + r1[2 * x] + r1[2 * x + 1] + 2);
        o[x] = static_cast<uint8_t>(s >> 2);
      }
      if (full) {
        for (int x = 0; x < w; ++x) o[x] = full_to_limited(o[x]);
      }
      continue;
    }
    for (int x = 0; x < cols; ++x) colsum[x] = row[x];
    for (int dy = 1; dy < factor; ++dy) {
      const uint8_t* r = row + static_cast<long>(dy) * stride;
      for (int x = 0; x < cols; ++x) colsum[x] = static_cast<T>(colsum[x] + r[x]);
    }
    switch (factor) {
      case 2: block_means<2>(colsum, w, factor, dv, o); break;
      case 3: block_means<3>(colsum, w, factor, dv, o); break;
      case 4: block_means<4>(colsum, w, factor, dv, o); break;
      case 6: block_means<6>(colsum, w, factor, dv, o); break;
      case 8: block_means<8>(colsum, w, factor, dv, o); break;
      default: block_means<0>(colsum, w, factor, dv, o); break;
    }
    if (full) {
      for (int x = 0; x < w; ++x) o[x] = full_to_limited(o[x]);
    }
  }
}

}  // namespace plane_detail

// §1 for a luma image (limited range unless `full`) whose rows lie `stride` bytes apart, in
// one pass: per output row the f source rows are summed per column into `colsum` (at least
// (src_w / factor) * factor values), then each block sum becomes its mean by an exact
// multiply-shift. Writes (src_h / factor) x (src_w / factor) bytes to `out` (stride w).
// Inline so that callers can compile it for their vector unit (visionedge/gate/_native.cpp).
inline void downscale_gray(const uint8_t* src, int stride, int src_w, int src_h, int factor,
                           bool full, uint8_t* out, uint32_t* colsum) {
  const int w = src_w / factor, h = src_h / factor;
  if (factor <= 256) {
    // 16-bit column sums (factor * 255 fits) halve the work of the vertical step.
    plane_detail::downscale_rows(src, stride, w, h, factor, full, out,
                                 reinterpret_cast<uint16_t*>(colsum));
  } else {
    plane_detail::downscale_rows(src, stride, w, h, factor, full, out, colsum);
  }
}

}  // namespace ve
