// The object tracker of docs/gate-algorithm.md §7 (T1-T8), a port of
// visionedge/objects/track.py: motion regions (plane pixels, largest first) in, tracked objects
// with stable ids out. Integer only, static storage only: the table holds at most
// VE_MAX_OBJECTS tracks (objects.max_objects must not exceed it).
//
// One frame is two calls, so that the table never needs room for ended and newborn tracks at
// once: update() runs T1-T8 but only *reserves* the births (ids included); the caller reads
// the live and ended tracks (object events), then commit() drops the ended tracks and places
// the newborns. The result is the table Python's update() leaves.
#pragma once

#include <cstdint>

#include "ve/gate.h"
#include "ve/status.h"

#ifndef VE_MAX_OBJECTS
#define VE_MAX_OBJECTS 64
#endif

namespace ve {

constexpr int kMaxObjects = VE_MAX_OBJECTS;
// Regions of one frame: the 8-connected components of the §6 cell grid number at most
// ceil(gw / 2) * ceil(gh / 2) (a plane too small for the grid has one region).
constexpr int kMaxRegions =
    ((kMaxPlaneW / 8 + 1) / 2) * ((kMaxPlaneH / 8 + 1) / 2) > 0 ? ((kMaxPlaneW / 8 + 1) / 2) * ((kMaxPlaneH / 8 + 1) / 2) : 1;

// floor(a / b) for b > 0 (C++ '/' truncates toward zero; Python's '//' floors).
inline int64_t floor_div(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

inline int64_t box_area(const PixelBox& b) {
  const int64_t w = b.x1 - b.x0, h = b.y1 - b.y0;
  return (w > 0 ? w : 0) * (h > 0 ? h : 0);
}
int64_t box_intersection(const PixelBox& a, const PixelBox& b);
int64_t iou_pm(const PixelBox& a, const PixelBox& b);

enum class TrackState : uint8_t { kSeen = 0, kMerged, kMissing };
const char* track_state_name(TrackState s);  // "seen", "merged", "missing"

enum class TrackEnd : uint8_t { kNone = 0, kLeft, kLost, kStationaryTimeout };
const char* track_end_name(TrackEnd e);  // "", "left", "lost", "stationary_timeout"

// [objects] settings of the tracker; times already in ms as milli(seconds) (§7).
struct TrackerParams {
  int min_hits = 3;
  int coast_frames = 5;
  int64_t lost_ms = 1500;
  int merge_frames = 30;
  int64_t stationary_after_ms = 10000;
  int64_t stationary_max_ms = 3600000;
  int max_objects = 64;
};

struct Track {
  uint32_t serial = 0;
  uint32_t id = 0;  // 0 while tentative
  PixelBox box, seen_box, meas_box;
  uint32_t first_frame = 0, first_ts = 0;
  uint32_t last_seen_frame = 0, last_seen_ts = 0;
  uint32_t meas_frame = 0;
  int32_t vx = 0, vy = 0;  // 1/16 px per frame
  int32_t hits = 1;
  int32_t merged_run = 0;
  int32_t anchor_x = 0, anchor_y = 0;  // doubled centre
  PixelBox anchor_box;                 // the box when the anchor was set
  uint32_t still_since = 0;
  TrackState state = TrackState::kSeen;
  TrackEnd ended = TrackEnd::kNone;
  bool stationary = false;
  uint8_t held = 0;  // 0 never held; 1 held (unseen, kept where it stood, T7); 2 seen again since
  bool confirmed() const { return id > 0; }
};

// A birth update() reserved: the region's box and the id it gets (0: tentative).
struct Birth {
  PixelBox box;
  uint32_t id = 0;
};

class ObjectTracker {
 public:
  ObjectTracker();  // out of line: a static tracker stays in .bss
  ObjectTracker(const ObjectTracker&) = delete;
  ObjectTracker& operator=(const ObjectTracker&) = delete;

  // Validates (max_objects <= kMaxObjects, ...) and empties the table; ids restart at 1.
  Status configure(const TrackerParams& params, int plane_w, int plane_h);
  // T1-T8 for one frame (regions in plane pixels, the gate's order; T1 drops the empty ones
  // in place, so the array is the caller's scratch, at most kMaxRegions). `blind`: a frame the
  // gate rejected; nothing changes. Afterwards live()/ended()/births() describe the frame.
  void update(PixelBox* regions, int count, uint32_t frame, uint32_t ts_ms, bool blind);
  // Drop the ended tracks and place the reserved births (call once after each update()).
  void commit();

  // Live confirmed tracks of this frame (not ended), by id (table order on a blind frame).
  int live_count() const { return live_n_; }
  Track& live(int i) { return slots_[live_[i]]; }
  int live_slot(int i) const { return live_[i]; }
  // Confirmed tracks that ended this frame, in table order.
  int ended_count() const { return ended_n_; }
  Track& ended(int i) { return slots_[ended_[i]]; }
  int ended_slot(int i) const { return ended_[i]; }
  // Births reserved by update(); after commit(), born_slot(i) is where birth i lives.
  int birth_count() const { return birth_n_; }
  const Birth& birth(int i) const { return births_[i]; }
  int born_slot(int i) const { return born_slot_[i]; }
  Track& slot(int s) { return slots_[s]; }
  // Every confirmed live track by id, then the table is emptied (the pipeline stops).
  int finish(int* slots_out);
  void clear();
  int table_size() const { return count_; }
  const Track& at(int i) const { return slots_[order_[i]]; }  // table order
  int width() const { return w_; }
  int height() const { return h_; }

 private:
  PixelBox predict(const Track& t, uint32_t frame) const;
  bool at_edge(const PixelBox& b) const;
  bool outside(const PixelBox& b) const;
  void measured(Track& t, const PixelBox& m, uint32_t frame, uint32_t ts);
  void stillness(Track& t, uint32_t ts);
  void sort_live_by_id();

  TrackerParams p_{};
  int w_ = 0, h_ = 0;
  uint32_t serial_ = 0, next_id_ = 1;

  Track slots_[kMaxObjects];
  bool used_[kMaxObjects] = {};
  int16_t order_[kMaxObjects] = {};  // table (creation) order: slot indices
  int count_ = 0;

  // Per-frame scratch, static like everything else.
  PixelBox* regions_ = nullptr;  // the caller's array, during update()
  int region_n_ = 0;
  PixelBox pred_[kMaxObjects];
  int16_t track_region_[kMaxObjects] = {};  // by table position: matched region or -1
  int16_t merged_into_[kMaxObjects] = {};   // by table position: merged region or -1
  bool swallowed_[kMaxObjects] = {};
  PixelBox measure_[kMaxObjects];
  int16_t region_track_[kMaxRegions] = {};  // matched table position or -1
  bool shared_[kMaxRegions] = {};

  int16_t live_[kMaxObjects] = {};
  int live_n_ = 0;
  int16_t ended_[kMaxObjects] = {};
  int ended_n_ = 0;
  int16_t newborn_[kMaxRegions] = {};
  Birth births_[kMaxObjects];
  uint32_t birth_frame_ = 0, birth_ts_ = 0;
  int16_t born_slot_[kMaxObjects] = {};
  int birth_n_ = 0;
};

}  // namespace ve
