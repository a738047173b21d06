// The runner's object side (objects.mode = "object" or "both"): the gate's motion regions
// into the tracker and per-object events (ve/objects.h), printed as JSON lines after the
// frame's motion events, as the Python pipeline publishes them. With a classifications file,
// the objects the stage picks on a frame take their "FRAME #ID ..." line from it.
#pragma once

#include <cstddef>
#include <cstdint>

#include "params_file.h"
#include "runner_events.h"
#include "runner_input.h"
#include "ve/gate.h"
#include "ve/objects.h"
#include "ve/regions.h"
#include "ve/status.h"

namespace ve {

class RunnerObjects final : public EventSink {
 public:
  // After RunnerEvents is configured (and its classifications loaded): takes its event
  // parameters (model, labels). Makes the gate write its changed mask when nobody else does.
  // `input` (may be disabled): the classifier input of each picked object is printed too.
  Status configure(const LoadedParams& params, const RunnerEvents& events, MotionGate* gate,
                   int every_n_frames, int max_per_event, RunnerInput* input, char* why, size_t why_cap);
  bool enabled() const { return enabled_; }
  Status on_frame(const FrameInfo& f, const GateResult& r, char* why, size_t why_cap);
  Status finish(const FrameInfo& last, const char* reason);
  Status publish(const char* json, size_t len) override;

 private:
  bool enabled_ = false;
  bool classify_ = false;
  bool trace_ = false;  // VE_TRACE_OBJECTS set: an "objects ..." line per frame (regions, table)
  int every_n_ = 5, max_per_event_ = 20;
  int min_region_px_ = 0;
  GateParams gate_{};
  RunnerInput* input_ = nullptr;
  const uint8_t* changed_ = nullptr;
  ObjectStage stage_;
  RegionFinder finder_;
  PixelBox regions_[kMaxRegions];
  uint8_t own_changed_[bitmap_bytes(kMaxPlaneW, kMaxPlaneH)] = {};
};

}  // namespace ve
