// The runner's clip side: frame timestamps and camera metadata (from the export manifest, or
// derived from --fps for bare files), and the event tracker whose payloads it prints.
#pragma once

#include <cstddef>

#include "manifest.h"
#include "ve/events.h"
#include "ve/gate.h"
#include "ve/status.h"

namespace ve {

class RunnerEvents final : public EventSink {
 public:
  // `frames_dir` may be null (bare files: clip id from `clip_id`, ts from `fps`).
  Status configure(const EventParams& params, const GateParams& gate, const char* frames_dir,
                   const char* clip_id, double fps, char* why, size_t why_cap);
  FrameInfo frame_info(uint32_t index) const;
  ExposureInfo exposure(uint32_t index) const;
  Status on_gate(const GateResult& r);
  // Optional: classifications to feed after the gate on given frames (see main.cpp --classifications),
  // and the model/labels the payloads name.
  Status load_classifications(const char* path, const char* model_name, const char* model_sha256,
                              const char* labels_csv, char* why, size_t why_cap);
  Status finish(uint32_t last_index);
  const EventTracker& tracker() const { return tracker_; }
  const EventParams& params() const { return params_; }
  // Keep the motion events to itself (objects.mode = "object": they drive nothing printed).
  void set_quiet(bool quiet) { quiet_ = quiet; }
  // The classifications file's "FRAME #ID ..." line for object `id` on `frame` (marked used);
  // nullptr when there is none.
  static const Prediction* object_classification(uint32_t frame, uint32_t id, int* count);
  // Index of an object classification line never asked for (-1: none).
  int unused_object_classification() const;
  Status publish(const char* json, size_t len) override;

 private:
  const ManifestFrame* find(uint32_t index) const;
  EventTracker tracker_;
  EventParams params_{};
  GateParams gate_{};
  bool have_manifest_ = false;
  char clip_id_[96] = {};
  double fps_ = 10.0;
  bool quiet_ = false;
};

}  // namespace ve
