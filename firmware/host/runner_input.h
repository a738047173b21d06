// The runner's classifier-input side (docs/gate-algorithm.md §6): on every frame the daemon
// would classify, pick the crop box (the frame's largest motion region, else the event's union
// box), cut and area-resize that box of the full camera image into the model's int8 input and
// print it as "input <frame> from=<region|event> box=<x0,y0,x1,y1> rect=<x0,y0,x1,y1>
// sha1=<hex of the tensor bytes>" (optionally also writing the tensor to a file).
#pragma once

#include <cstddef>
#include <cstdint>

#include "params_file.h"
#include "ve/events.h"
#include "ve/gate.h"
#include "ve/quantize.h"
#include "ve/regions.h"
#include "ve/status.h"

#ifndef VE_MAX_IMAGE_BYTES
#define VE_MAX_IMAGE_BYTES (640 * 480 * 3)
#endif

namespace ve {

struct InputOptions {
  const char* images_dir = nullptr;  // DIR/image_%06u.bgr: raw BGR888 camera images
  int image_w = 0, image_h = 0;
  InputSpec spec;                    // model input: size, channels, quantization
  const char* dump_dir = nullptr;    // write DIR/input_%06u.bin (the int8 tensor) when set
};

class RunnerInput {
 public:
  Status configure(const InputOptions& opt, const ClassifyParams& cls, MotionGate* gate, char* why,
                   size_t why_cap);
  bool enabled() const { return opt_.images_dir != nullptr; }
  // After the gate and the event tracker saw frame `index`: print its input line when due.
  Status on_frame(uint32_t index, const GateResult& r, const EventTracker& tracker, char* why, size_t why_cap);
  // Crop `box` (normalised) of frame `index`'s camera image into the model input and print its
  // input line with from=`from` (the object mode's picks: "object:<id>").
  Status emit(uint32_t index, const char* from, const double box[4], char* why, size_t why_cap);

 private:
  InputOptions opt_{};
  ClassifyParams cls_{};
  GateParams gate_{};
  int8_t table_[256] = {};
  RegionFinder regions_;
  uint8_t changed_[bitmap_bytes(kMaxPlaneW, kMaxPlaneH)] = {};
  uint8_t image_[VE_MAX_IMAGE_BYTES] = {};
  int8_t tensor_[320 * 320 * 3] = {};
};

}  // namespace ve
