#include "ve/plane.h"

namespace ve {

int plane_factor(int src_w, int gate_width) {
  if (gate_width < 1) return 1;
  // floor(src_w / gate_width + 0.5) in integers: (2*src_w + gate_width) / (2*gate_width).
  const int f = (2 * src_w + gate_width) / (2 * gate_width);
  return f < 1 ? 1 : f;
}

namespace {

inline uint8_t gray_at(const uint8_t* src, int i, PixelFormat fmt) {
  switch (fmt) {
    case PixelFormat::kGray8: return src[i];
    case PixelFormat::kBgr888: return bgr_to_y(src[3 * i], src[3 * i + 1], src[3 * i + 2]);
    case PixelFormat::kRgb888: return bgr_to_y(src[3 * i + 2], src[3 * i + 1], src[3 * i]);
    case PixelFormat::kRgb565: {
      // Big-endian RGB565 as esp32-camera delivers it; expand 5/6 bits by bit replication.
      const unsigned v = (static_cast<unsigned>(src[2 * i]) << 8) | src[2 * i + 1];
      const unsigned r5 = (v >> 11) & 31u, g6 = (v >> 5) & 63u, b5 = v & 31u;
      return bgr_to_y(static_cast<uint8_t>((b5 << 3) | (b5 >> 2)),
                      static_cast<uint8_t>((g6 << 2) | (g6 >> 4)),
                      static_cast<uint8_t>((r5 << 3) | (r5 >> 2)));
    }
  }
  return 0;
}

}  // namespace

Status to_motion_plane(const uint8_t* src, int src_w, int src_h, PixelFormat fmt, int factor,
                       uint8_t* out, int out_cap, int* out_w, int* out_h) {
  if (src == nullptr || out == nullptr || out_w == nullptr || out_h == nullptr) return Status::kNullArgument;
  if (factor < 1 || src_w < 1 || src_h < 1) return Status::kBadConfig;
  const int w = src_w / factor, h = src_h / factor;
  if (w < 1 || h < 1) return Status::kFrameSize;
  if (static_cast<long>(w) * h > out_cap) return Status::kPlaneTooLarge;
  const uint32_t area = static_cast<uint32_t>(factor) * static_cast<uint32_t>(factor);
  const bool full = fmt != PixelFormat::kGray8;
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      uint32_t sum = 0;
      for (int dy = 0; dy < factor; ++dy) {
        const int row = (y * factor + dy) * src_w;
        for (int dx = 0; dx < factor; ++dx) sum += gray_at(src, row + x * factor + dx, fmt);
      }
      const uint32_t mean = (sum + area / 2) / area;
      out[y * w + x] = full ? full_to_limited(mean) : static_cast<uint8_t>(mean);
    }
  }
  *out_w = w;
  *out_h = h;
  return Status::kOk;
}

}  // namespace ve
