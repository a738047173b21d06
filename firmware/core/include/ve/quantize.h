// From a camera frame and a motion box to the classifier's int8 input tensor.
//
// crop_rect() is visionedge/classify/preprocess.py crop_rect() in the same double arithmetic.
// The resize is the exact integer area resize of docs/gate-algorithm.md §6 (preprocess.py
// area_resize(), byte for byte), per colour channel, and the colour conversion comes after
// it (BT.601 15-bit Y of §1 for a gray model). The quantization table is InputQuantizer's:
// real = (pixel - mean) / std, then q = clamp(round_half_even(real / scale) + zero_point),
// from the model's own scale and zero point.
#pragma once

#include <cstdint>

#include "ve/plane.h"
#include "ve/status.h"

namespace ve {

struct InputSpec {
  int width = 96;
  int height = 96;
  int channels = 1;          // 1: gray, 3: RGB
  double scale = 1.0 / 255;  // input tensor quantization
  int zero_point = -128;
  double mean = 0.0;         // real = (pixel - mean) / std; input_range [lo, hi] gives
  double std = 255.0;        // std = 255 / (hi - lo), mean = -lo * std
};

// Fills table[256] with the int8 value of each pixel value. kBadConfig for a non-positive
// scale/std.
Status build_quant_table(const InputSpec& spec, int8_t table[256]);

struct CropRect {
  int x0, y0, x1, y1;  // end-exclusive
};

constexpr int kMinCropPx = 16;  // preprocess.py MIN_CROP_PX

// `box` is normalised [x0, y0, x1, y1], or nullptr for the centred crop of the model aspect.
CropRect crop_rect(const double* box, int frame_w, int frame_h, double aspect, double margin);

// Crops `r` out of a frame, area-resizes it to spec.width x spec.height (§6) and quantizes it
// into `out` (spec.width * spec.height * spec.channels int8, HWC). kFrameSize for a rect
// outside the frame or a crop above 16.8 M pixels (the 32-bit sums would overflow).
Status crop_resize_quantize(const uint8_t* frame, int frame_w, int frame_h, PixelFormat fmt,
                            CropRect r, const InputSpec& spec, const int8_t table[256],
                            int8_t* out);

}  // namespace ve

namespace ve {

// visionedge/classify/ranking.py rank() on int8 softmax outputs: dequantize
// (q - zero_point) * scale (as float, like the Python backends), drop labels in `ignore`
// (ignore[i] true) and scores below `threshold`, keep the best `top_k`, best first, ties to the
// lower index; scores rounded to 6 decimals. Returns how many were written to `out`.
struct Prediction;
int rank_outputs(const int8_t* q, int count, double scale, int zero_point, double threshold,
                 const bool* ignore, int top_k, Prediction* out, int out_cap);

}  // namespace ve
