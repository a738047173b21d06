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

}  // namespace ve
