// Per-object events (docs/gate-algorithm.md §7 E1-E6), a port of visionedge/objects/events.py
// and of the per-object classification choice of visionedge/objects/stage.py: the tracker's
// objects in, schema-2 start/update/end payloads out, the same bytes as `visionedge replay`
// (UUIDv5 ids of "<source>#<object id>:<first frame>" in replay).
//
// Per frame: track() (the gate's regions), due() (which objects to classify now),
// classified() for each of them, then emit(). Static storage only: one ObjState per tracker
// slot (VE_MAX_OBJECTS), paths of at most VE_MAX_PATH_POINTS points.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ve/events.h"
#include "ve/gate.h"
#include "ve/status.h"
#include "ve/track.h"

#ifndef VE_MAX_PATH_POINTS
#define VE_MAX_PATH_POINTS 64
#endif
#ifndef VE_MAX_ZONE_POINTS
#define VE_MAX_ZONE_POINTS 32
#endif
#ifndef VE_MAX_CLASSIFY_PER_FRAME
#define VE_MAX_CLASSIFY_PER_FRAME 4
#endif
#ifndef VE_MAX_TOP
#define VE_MAX_TOP 8
#endif

namespace ve {

constexpr int kObjectSchemaVersion = 2;  // visionedge/objects/payload.py OBJECT_SCHEMA_VERSION
constexpr int kMaxPathPoints = VE_MAX_PATH_POINTS;
constexpr int kMaxZonePoints = VE_MAX_ZONE_POINTS;
constexpr int kMaxClassifyPerFrame = VE_MAX_CLASSIFY_PER_FRAME;
// The back-off gap stops doubling here (stage.py _MAX_DOUBLINGS): recheck_ms caps it long before.
constexpr int kMaxBackoffDoublings = 20;
constexpr int kMaxTop = VE_MAX_TOP;
// A payload's longest parts are the path (<= 20 bytes a point) and the zone lists; the rest
// (names of up to 64 characters, ids, the model) fits 1.5 KB. A longer line is kBufferFull.
constexpr size_t kObjectJsonBytes = 1536 + 20 * (kMaxPathPoints + 1) + 120 * kMaxZones;

// objects.mode: which events a run publishes.
enum class ObjectMode : uint8_t { kMotion = 0, kObject, kBoth };
const char* object_mode_name(ObjectMode m);                // "motion", "object", "both"
bool parse_object_mode(const char* text, ObjectMode* out);  // false: not one of those
// The config's default (visionedge/config.py ObjectsConfig.mode; tests/firmware checks they agree).
constexpr ObjectMode kDefaultObjectMode = ObjectMode::kObject;

// objects.filters[label] with milli() of the percentages.
struct ObjectFilter {
  const char* label = "*";
  double min_score = 0.0;
  int64_t min_area_m = 0;       // milli(min_area_pct)
  int64_t max_area_m = 100000;  // milli(max_area_pct)
};

// One gate zone as objects see it: its polygon in 1/16 plane pixels (x, y pairs, made by
// `visionedge firmware config`) and the objects.zones label rule (empty: every object).
struct ObjectZone {
  const int32_t* xy = nullptr;
  int points = 0;
  const char* const* labels = nullptr;
  int label_count = 0;
};

struct ObjectParams {
  ObjectMode mode = kDefaultObjectMode;
  TrackerParams tracker;
  int classify_per_frame = 1;
  // The settle rule (stage.py _classify, spec §7 E0): an object whose last `settle_after`
  // classifications had the same top label (a run of none never settles), which its vote also says,
  // is classified again only `recheck_ms` of stream time after its last one (0: rule off).
  int settle_after = 3;
  int64_t recheck_ms = 2000;  // milli(objects.recheck_s)
  // The back-off (stage.py _cadence_due, spec §7 E0): after `backoff_after` classifications
  // in a row with no label, the gap doubles per further no-label answer (every_n_frames << k,
  // k capped at kMaxBackoffDoublings) or ends recheck_ms after the last one (0: rule off).
  int backoff_after = 2;
  int64_t min_travel_m = 500;       // milli(min_travel)
  int64_t min_travel_pct_m = 5000;  // milli(min_travel_pct)
  // An object that has not travelled counts once its vote's mean score is >= still_min_score
  // and its label topped >= still_min_votes classifications (spec §7 E3; 0.0: off).
  double still_min_score = 0.85;
  int still_min_votes = 3;
  int path_points = 16;
  const char* const* labels = nullptr;  // objects.labels
  int label_count = 0;
  const ObjectFilter* filters = nullptr;
  int filter_count = 0;
  const ObjectZone* zones = nullptr;  // one per gate zone, in gate order (nullptr: no zones)
  const char* const* required_zones = nullptr;
  int required_count = 0;
};

struct ObjectPick {
  uint32_t id;
  PixelBox box;  // plane pixels; the crop box is its normalised, 4-decimal form
};

class ObjectStage {
 public:
  ObjectStage();  // out of line: a static stage stays in .bss
  ObjectStage(const ObjectStage&) = delete;
  ObjectStage& operator=(const ObjectStage&) = delete;

  // `events` gives device, camera, update_every, the model and labels (classify); `gate` the
  // plane size and zone names. Live ids need `rng` unless events.deterministic_ids.
  Status configure(const ObjectParams& params, const EventParams& events, const GateParams& gate,
                   RandomBytes rng = nullptr);
  // The gate's regions of this frame (plane pixels, largest first; the array is scratch, see
  // ObjectTracker::update); blind = a frame the gate rejected.
  void track(const FrameInfo& frame, PixelBox* regions, int count, bool blind);
  // Objects to classify on this frame (stage.py _classify), at most classify_per_frame.
  int due(int every_n_frames, int max_per_event, ObjectPick* out, int cap);
  // The classification of a due object (top predictions, best first; count may be 0).
  Status classified(uint32_t id, const Prediction* top, int count);
  // Publish this frame's payloads and finish the frame (births enter the table).
  Status emit(EventSink& sink);
  // End every object (reason "stopped" / "end_of_clip"); the table is emptied.
  Status finish(uint32_t frame, uint32_t ts_ms, const char* reason, EventSink& sink);
  const ObjectParams& params() const { return p_; }
  uint32_t events_started() const { return started_; }
  const ObjectTracker& tracker() const { return tracker_; }
  // RAM of one object's event state (the size report; a Track adds sizeof(Track)).
  static size_t state_bytes();

 private:
  struct Vote {
    int count = 0;
    double sums[kMaxLabels] = {};
    bool seen[kMaxLabels] = {};
    int wins[kMaxLabels] = {};  // classifications each label topped
    int streak_label = -1;  // top label of the latest classification (-1: it had none)
    int streak = 0;         // classifications in a row, up to the latest, with that top
  };
  struct ObjState {
    bool active = false;
    uint32_t id = 0, first_frame = 0, first_ts = 0;
    char event_id[37] = {};
    bool counts = false;
    uint32_t seq = 0, frames = 0;
    Vote vote;
    bool has_classified = false;
    uint32_t last_classified = 0;
    uint32_t last_classified_ts = 0;
    bool has_best = false;
    int best_whole = 0;
    int64_t best_key = 0;
    uint32_t best_frame = 0, best_ts = 0;
    PixelBox best_box;
    int best_label = -1;
    double best_score = 0.0;
    int16_t path[kMaxPathPoints + 1][2] = {};
    int path_n = 0;
    uint32_t path_stride = 1, path_seen = 0;
    uint32_t zones = 0, entered_mask = 0;
    uint8_t entered[kMaxZones] = {};
    int entered_n = 0;
    int64_t dwell[kMaxZones] = {};
    uint32_t last_ts = 0;
    uint32_t sent_frame = 0;
    int sent_label = -1;
    uint32_t sent_zones = 0;
    bool sent_stationary = false;
    bool has_origin = false, has_first = false;
    PixelBox origin, first, largest;
    bool travelled = false;
    int64_t tx = 0, ty = 0;
  };
  struct Pending {
    uint32_t id = 0;
    int count = 0;
    Prediction top[kMaxTop];
  };

  ObjState& state_for(int slot, const Track& t);
  const Pending* pending_for(uint32_t id) const;
  bool label(const ObjState& o, int* idx, double* score) const;
  bool settled(const ObjState& o) const;
  bool cadence_due(const ObjState& o, int every_n_frames) const;
  bool label_in(int idx, const char* const* names, int n) const;
  bool qualifies(const ObjState& o) const;
  void observe(ObjState& o, const Track& t, const Pending* c);
  void add_path(ObjState& o, const PixelBox& b);
  Status message(ObjState& o, const Track& t, const char* kind, const char* end_reason, EventSink& sink);
  Status observe_and_emit(int slot, Track& t, EventSink& sink);

  ObjectParams p_{};
  EventParams ev_{};
  GateParams gate_{};
  RandomBytes rng_ = nullptr;
  bool configured_ = false;
  uint32_t started_ = 0;
  uint32_t required_mask_ = 0;
  ObjectTracker tracker_;
  ObjState objs_[kMaxObjects];
  Pending pending_[kMaxClassifyPerFrame];
  int pending_n_ = 0;
  uint32_t frame_ = 0, ts_ = 0;
  char source_[96] = {};
  char json_[kObjectJsonBytes] = {};
};

}  // namespace ve
