// The event state machine of visionedge/events/tracker.py: gate results (and
// classifications) in, start/update/end JSON payloads out, with the same keys in the same
// order, the same rounding and, in replay, the same UUIDv5 event ids as Python.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ve/gate.h"
#include "ve/status.h"

#ifndef VE_JSON_BYTES
#define VE_JSON_BYTES 1024
#endif
#ifndef VE_MAX_LABELS
#define VE_MAX_LABELS 16
#endif

namespace ve {

constexpr int kSchemaVersion = 1;  // visionedge/events/payload.py SCHEMA_VERSION
constexpr int kMaxLabels = VE_MAX_LABELS;
constexpr size_t kJsonBytes = VE_JSON_BYTES;

struct EventParams {
  const char* device = "visionedge";  // device.name
  const char* camera = "cam0";        // device.camera
  int update_every = 10;              // events.update_every
  double max_duration_s = 300.0;      // events.max_duration_s
  int min_frames = 1;                 // events.min_frames
  bool classify = false;              // classifier.enabled and a model is loaded
  const char* model_name = "";
  const char* model_sha256 = "";
  const char* const* labels = nullptr;  // label names by output index
  int label_count = 0;
  bool deterministic_ids = true;      // UUIDv5 of "<source>:<start_frame>" (replay)
};

enum class EndReason : uint8_t { kQuiet, kMaxDuration, kStopped, kEndOfClip };
const char* end_reason_name(EndReason r);

struct FrameInfo {
  uint32_t index;
  uint32_t ts_ms;
  const char* source;  // clip id in replay; empty: device.camera is used
};

struct Prediction {
  int label;     // output index
  double score;  // dequantized, 0..1, already past the thresholds
};

// Receives each finished payload (one JSON object, no newline).
class EventSink {
 public:
  virtual Status publish(const char* json, size_t len) = 0;

 protected:
  ~EventSink() = default;
};

// Source of UUIDv4s for live ids (a hardware RNG on a board); unused in replay.
using RandomBytes = void (*)(uint8_t* out, size_t n);

class EventTracker {
 public:
  Status configure(const EventParams& params, const GateParams& gate, RandomBytes rng = nullptr);
  Status on_gate(const FrameInfo& frame, const GateResult& r, EventSink& sink);
  Status on_classification(const Prediction* top, int count, EventSink& sink);
  Status finish(uint32_t ts_ms, uint32_t frame_index, EndReason reason, EventSink& sink);
  bool is_open() const { return open_; }
  const char* event_id() const { return open_ ? id_ : ""; }
  uint32_t events_started() const { return started_; }
  int classified_frames() const { return open_ ? vote_count_ : 0; }
  // Union box of the event so far in normalised coordinates; false when none.
  bool box(double out[4]) const;

 private:
  void start(const FrameInfo& f, const char* reason, const char* continues);
  void add_frame(const FrameInfo& f, const GateResult& r);
  Status message(const char* kind, const char* end_reason, EventSink& sink);
  bool best(int* label, double* score) const;

  EventParams p_{};
  GateParams gate_{};
  RandomBytes rng_ = nullptr;
  bool configured_ = false;
  uint32_t started_ = 0;

  bool open_ = false;
  char id_[37] = {};
  char continues_[37] = {};
  bool has_continues_ = false;
  char source_[96] = {};
  const char* reason_ = "";
  uint32_t start_frame_ = 0, start_ts_ = 0, frame_ = 0, ts_ = 0;
  uint32_t seq_ = 0, frames_ = 0, measured_ = 0;
  double pct_sum_ = 0.0, peak_ = 0.0, last_pct_ = 0.0;
  bool has_box_ = false;
  double box_[4] = {};
  uint32_t zones_ = 0;
  uint32_t sent_frame_ = 0, sent_zones_ = 0;
  int sent_label_ = -1;
  int vote_count_ = 0;
  double vote_sums_[kMaxLabels] = {};
  bool vote_seen_[kMaxLabels] = {};
  char json_[kJsonBytes] = {};
};

// Python's round(v, decimals) for the values payloads carry (correctly rounded).
double round_decimals(double v, int decimals);

}  // namespace ve
