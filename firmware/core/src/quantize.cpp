#include "ve/quantize.h"

#include <cmath>

namespace ve {

Status build_quant_table(const InputSpec& spec, int8_t table[256]) {
  if (table == nullptr) return Status::kNullArgument;
  if (!(spec.scale > 0.0) || !(spec.std > 0.0) || !std::isfinite(spec.mean)) return Status::kBadConfig;
  for (int p = 0; p < 256; ++p) {
    const double real = (static_cast<double>(p) - spec.mean) / spec.std;
    double q = std::nearbyint(real / spec.scale) + spec.zero_point;  // half to even, like np.rint
    if (q < -128.0) q = -128.0;
    if (q > 127.0) q = 127.0;
    table[p] = static_cast<int8_t>(q);
  }
  return Status::kOk;
}

namespace {

double clamp01(double v) { return v < 0.0 ? 0.0 : (v > 1.0 ? 1.0 : v); }

// Python's round() of a non-negative double (half to even).
int round_half_even(double v) { return static_cast<int>(std::nearbyint(v)); }

CropRect place(double cx, double cy, double w, double h, int fw, int fh) {
  int iw = round_half_even(w);
  if (iw < 1) iw = 1;
  if (iw > fw) iw = fw;
  int ih = round_half_even(h);
  if (ih < 1) ih = 1;
  if (ih > fh) ih = fh;
  int x0 = static_cast<int>(std::floor(cx - iw / 2.0 + 0.5));
  int y0 = static_cast<int>(std::floor(cy - ih / 2.0 + 0.5));
  if (x0 < 0) x0 = 0;
  if (x0 > fw - iw) x0 = fw - iw;
  if (y0 < 0) y0 = 0;
  if (y0 > fh - ih) y0 = fh - ih;
  return CropRect{x0, y0, x0 + iw, y0 + ih};
}

}  // namespace

CropRect crop_rect(const double* box, int frame_w, int frame_h, double aspect, double margin) {
  if (frame_w < 1 || frame_h < 1 || !(aspect > 0.0)) return CropRect{0, 0, 0, 0};
  if (box == nullptr) {
    const double w = std::fmin(static_cast<double>(frame_w), frame_h * aspect);
    const double h = w / aspect;
    return place(frame_w / 2.0, frame_h / 2.0, w, h, frame_w, frame_h);
  }
  const double bx0 = clamp01(box[0]) * frame_w, bx1 = clamp01(box[2]) * frame_w;
  const double by0 = clamp01(box[1]) * frame_h, by1 = clamp01(box[3]) * frame_h;
  const double bw = std::fmax(bx1 - bx0, 1.0), bh = std::fmax(by1 - by0, 1.0);
  const double cx = (bx0 + bx1) / 2, cy = (by0 + by1) / 2;
  double w, h;
  if (bw / bh >= aspect) {
    w = bw;
    h = bw / aspect;
  } else {
    w = bh * aspect;
    h = bh;
  }
  w = w * (1 + margin);
  h = h * (1 + margin);
  if (std::fmin(w, h) < kMinCropPx) {
    const double grow = kMinCropPx / std::fmin(w, h);
    w = w * grow;
    h = h * grow;
  }
  w = std::fmin(w, static_cast<double>(frame_w));
  h = std::fmin(h, static_cast<double>(frame_h));
  if (w / h > aspect) {
    w = std::fmax(h * aspect, std::fmin(bw, static_cast<double>(frame_w)));
  } else if (w / h < aspect) {
    h = std::fmax(w / aspect, std::fmin(bh, static_cast<double>(frame_h)));
  }
  return place(cx, cy, w, h, frame_w, frame_h);
}

namespace {

inline void pixel_at(const uint8_t* f, int i, PixelFormat fmt, uint8_t* gray, uint8_t rgb[3]) {
  switch (fmt) {
    case PixelFormat::kGray8:
      *gray = f[i];
      rgb[0] = rgb[1] = rgb[2] = f[i];
      return;
    case PixelFormat::kBgr888:
      rgb[0] = f[3 * i + 2]; rgb[1] = f[3 * i + 1]; rgb[2] = f[3 * i];
      break;
    case PixelFormat::kRgb888:
      rgb[0] = f[3 * i]; rgb[1] = f[3 * i + 1]; rgb[2] = f[3 * i + 2];
      break;
    case PixelFormat::kRgb565: {
      const unsigned v = (static_cast<unsigned>(f[2 * i]) << 8) | f[2 * i + 1];
      const unsigned r5 = (v >> 11) & 31u, g6 = (v >> 5) & 63u, b5 = v & 31u;
      rgb[0] = static_cast<uint8_t>((r5 << 3) | (r5 >> 2));
      rgb[1] = static_cast<uint8_t>((g6 << 2) | (g6 >> 4));
      rgb[2] = static_cast<uint8_t>((b5 << 3) | (b5 >> 2));
      break;
    }
  }
  *gray = bgr_to_y(rgb[2], rgb[1], rgb[0]);
}

}  // namespace

namespace {

// One output row/column's footprint along an axis: source pixels [first, end) and the weight
// of source pixel s, all in units of 1/n of a source pixel (docs/gate-algorithm.md §6).
struct Span {
  uint32_t lo, hi;  // the output pixel covers [lo, hi) = [o * c, (o + 1) * c)
  int first, end;
};

inline Span span(int o, int c, int n) {
  const uint32_t lo = static_cast<uint32_t>(o) * static_cast<uint32_t>(c);
  const uint32_t hi = lo + static_cast<uint32_t>(c);
  const uint32_t un = static_cast<uint32_t>(n);
  return Span{lo, hi, static_cast<int>(lo / un), static_cast<int>((hi + un - 1) / un)};
}

inline uint32_t weight(const Span& sp, int s, int n) {
  const uint32_t a = static_cast<uint32_t>(s) * static_cast<uint32_t>(n);
  const uint32_t b = a + static_cast<uint32_t>(n);
  return (sp.hi < b ? sp.hi : b) - (sp.lo > a ? sp.lo : a);
}

}  // namespace

Status crop_resize_quantize(const uint8_t* frame, int frame_w, int frame_h, PixelFormat fmt,
                            CropRect r, const InputSpec& spec, const int8_t table[256],
                            int8_t* out) {
  if (frame == nullptr || table == nullptr || out == nullptr) return Status::kNullArgument;
  if (spec.width < 1 || spec.height < 1 || (spec.channels != 1 && spec.channels != 3)) return Status::kModelIo;
  if (r.x0 < 0 || r.y0 < 0 || r.x1 > frame_w || r.y1 > frame_h || r.x1 <= r.x0 || r.y1 <= r.y0) {
    return Status::kFrameSize;
  }
  const int cw = r.x1 - r.x0, ch = r.y1 - r.y0;
  // Sums are at most 255 * cw * ch and the scaled edges (o + 1) * c: 32 bits must hold them.
  if (static_cast<uint64_t>(cw) * static_cast<uint64_t>(ch) > 0xFFFFFFFFull / 255u ||
      (static_cast<uint64_t>(spec.width) + 1) * static_cast<uint64_t>(cw) > 0xFFFFFFFFull ||
      (static_cast<uint64_t>(spec.height) + 1) * static_cast<uint64_t>(ch) > 0xFFFFFFFFull) {
    return Status::kFrameSize;
  }
  const uint32_t total = static_cast<uint32_t>(cw) * static_cast<uint32_t>(ch);
  // Colour frames are resized per channel and converted after (§6: resize, then colour).
  const bool gray_src = fmt == PixelFormat::kGray8;
  for (int oy = 0; oy < spec.height; ++oy) {
    const Span sy = span(oy, ch, spec.height);
    for (int ox = 0; ox < spec.width; ++ox) {
      const Span sx = span(ox, cw, spec.width);
      uint32_t sum[3] = {0, 0, 0};
      for (int y = sy.first; y < sy.end; ++y) {
        const uint32_t wy = weight(sy, y, spec.height);
        for (int x = sx.first; x < sx.end; ++x) {
          const uint32_t w = wy * weight(sx, x, spec.width);
          uint8_t g = 0, rgb[3] = {0, 0, 0};
          pixel_at(frame, (r.y0 + y) * frame_w + r.x0 + x, fmt, &g, rgb);
          if (gray_src) {
            sum[0] += w * g;
          } else {
            sum[0] += w * rgb[0];
            sum[1] += w * rgb[1];
            sum[2] += w * rgb[2];
          }
        }
      }
      int8_t* px = out + (oy * spec.width + ox) * spec.channels;
      if (gray_src) {
        const uint8_t v = static_cast<uint8_t>((sum[0] + total / 2) / total);
        for (int c = 0; c < spec.channels; ++c) px[c] = table[v];
        continue;
      }
      uint8_t rgb[3];
      for (int c = 0; c < 3; ++c) rgb[c] = static_cast<uint8_t>((sum[c] + total / 2) / total);
      if (spec.channels == 1) {
        px[0] = table[bgr_to_y(rgb[2], rgb[1], rgb[0])];
      } else {
        for (int c = 0; c < 3; ++c) px[c] = table[rgb[c]];
      }
    }
  }
  return Status::kOk;
}

}  // namespace ve

#include "ve/events.h"

namespace ve {

int rank_outputs(const int8_t* q, int count, double scale, int zero_point, double threshold,
                 const bool* ignore, int top_k, Prediction* out, int out_cap) {
  if (q == nullptr || out == nullptr || count <= 0 || top_k <= 0 || out_cap <= 0) return 0;
  int written = 0;
  const int limit = top_k < out_cap ? top_k : out_cap;
  bool used[256] = {};
  const int n = count < 256 ? count : 256;
  while (written < limit) {
    int best = -1;
    for (int i = 0; i < n; ++i) {
      if (used[i] || (ignore != nullptr && ignore[i])) continue;
      if (best < 0 || q[i] > q[best]) best = i;  // strict: ties keep the lower index
    }
    if (best < 0) break;
    used[best] = true;
    const float score = static_cast<float>(q[best] - zero_point) * static_cast<float>(scale);
    if (static_cast<double>(score) < threshold) break;  // the rest are lower still
    out[written++] = Prediction{best, round_decimals(static_cast<double>(score), 6)};
  }
  return written;
}

}  // namespace ve
