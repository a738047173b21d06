// A line-by-line port of visionedge/objects/track.py (docs/gate-algorithm.md §7 T1-T8); see
// that file for the why of each rule.
#include "ve/track.h"

namespace ve {
namespace {

int64_t abs64(int64_t v) { return v < 0 ? -v : v; }
int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }
int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

PixelBox shift(const PixelBox& b, int64_t dx, int64_t dy) {
  return PixelBox{static_cast<int>(b.x0 + dx), static_cast<int>(b.y0 + dy), static_cast<int>(b.x1 + dx),
                  static_cast<int>(b.y1 + dy)};
}

// Step 3's second sort key: doubled centres' L1 distance plus twice the sizes' L1 difference.
int64_t distance_key(const PixelBox& p, const PixelBox& r) {
  const int64_t dc = abs64(static_cast<int64_t>(p.x0) + p.x1 - r.x0 - r.x1) +
                     abs64(static_cast<int64_t>(p.y0) + p.y1 - r.y0 - r.y1);
  const int64_t ds = abs64(static_cast<int64_t>(p.x1) - p.x0 - r.x1 + r.x0) +
                     abs64(static_cast<int64_t>(p.y1) - p.y0 - r.y1 + r.y0);
  return dc + 2 * ds;
}

// Whether b lies inside a grown by (a.w + a.h) / 16 on every side (T6's stillness).
bool inside(const PixelBox& b, const PixelBox& a) {
  const int64_t g = ((static_cast<int64_t>(a.x1) - a.x0) + (static_cast<int64_t>(a.y1) - a.y0)) / 16;
  return b.x0 >= a.x0 - g && b.y0 >= a.y0 - g && b.x1 <= a.x1 + g && b.y1 <= a.y1 + g;
}

PixelBox clamp_into(const PixelBox& p, const PixelBox& r) {
  int64_t dx = 0, dy = 0;
  if (p.x1 - p.x0 <= r.x1 - r.x0) dx = max64(r.x0 - p.x0, 0) + min64(r.x1 - p.x1, 0);
  if (p.y1 - p.y0 <= r.y1 - r.y0) dy = max64(r.y0 - p.y0, 0) + min64(r.y1 - p.y1, 0);
  return shift(p, dx, dy);
}

}  // namespace

int64_t box_intersection(const PixelBox& a, const PixelBox& b) {
  const int64_t w = min64(a.x1, b.x1) - max64(a.x0, b.x0);
  const int64_t h = min64(a.y1, b.y1) - max64(a.y0, b.y0);
  return (w > 0 && h > 0) ? w * h : 0;
}

int64_t iou_pm(const PixelBox& a, const PixelBox& b) {
  const int64_t inter = box_intersection(a, b);
  if (inter == 0) return 0;
  return 1000 * inter / (box_area(a) + box_area(b) - inter);  // non-negative: '/' floors
}

const char* track_state_name(TrackState s) {
  switch (s) {
    case TrackState::kSeen: return "seen";
    case TrackState::kMerged: return "merged";
    case TrackState::kMissing: return "missing";
  }
  return "missing";
}

const char* track_end_name(TrackEnd e) {
  switch (e) {
    case TrackEnd::kNone: return "";
    case TrackEnd::kLeft: return "left";
    case TrackEnd::kLost: return "lost";
    case TrackEnd::kStationaryTimeout: return "stationary_timeout";
  }
  return "lost";
}

ObjectTracker::ObjectTracker() {}

Status ObjectTracker::configure(const TrackerParams& params, int plane_w, int plane_h) {
  if (params.min_hits < 1 || params.coast_frames < 0 || params.lost_ms <= 0 || params.merge_frames < 0 ||
      params.stationary_after_ms <= 0 || params.stationary_max_ms <= 0 || params.max_objects < 1 ||
      params.max_objects > kMaxObjects || plane_w < 1 || plane_h < 1 || plane_w > kMaxPlaneW ||
      plane_h > kMaxPlaneH) {
    return Status::kBadConfig;
  }
  p_ = params;
  w_ = plane_w;
  h_ = plane_h;
  clear();
  serial_ = 0;
  next_id_ = 1;
  return Status::kOk;
}

void ObjectTracker::clear() {
  for (int s = 0; s < kMaxObjects; ++s) used_[s] = false;
  count_ = live_n_ = ended_n_ = birth_n_ = 0;
}

PixelBox ObjectTracker::predict(const Track& t, uint32_t frame) const {
  const int64_t k = min64(static_cast<int64_t>(frame) - t.last_seen_frame, p_.coast_frames);
  return shift(t.seen_box, floor_div(static_cast<int64_t>(t.vx) * k, 16), floor_div(static_cast<int64_t>(t.vy) * k, 16));
}

bool ObjectTracker::at_edge(const PixelBox& b) const {
  const int m = w_ / 64 > 2 ? w_ / 64 : 2;
  return b.x0 <= m || b.y0 <= m || b.x1 >= w_ - m || b.y1 >= h_ - m;
}

bool ObjectTracker::outside(const PixelBox& b) const {
  const int64_t cx = static_cast<int64_t>(b.x0) + b.x1, cy = static_cast<int64_t>(b.y0) + b.y1;
  return cx < 0 || cy < 0 || cx >= 2 * static_cast<int64_t>(w_) || cy >= 2 * static_cast<int64_t>(h_);
}

void ObjectTracker::measured(Track& t, const PixelBox& m, uint32_t frame, uint32_t ts) {
  const int64_t dt = static_cast<int64_t>(frame) - t.meas_frame;
  if (dt > 0) {
    const int64_t ox = static_cast<int64_t>(t.meas_box.x0) + t.meas_box.x1;
    const int64_t oy = static_cast<int64_t>(t.meas_box.y0) + t.meas_box.y1;
    const int64_t nx = static_cast<int64_t>(m.x0) + m.x1, ny = static_cast<int64_t>(m.y0) + m.y1;
    const int64_t mvx = floor_div((nx - ox) * 8, dt), mvy = floor_div((ny - oy) * 8, dt);
    if (t.hits == 1) {
      t.vx = static_cast<int32_t>(mvx);
      t.vy = static_cast<int32_t>(mvy);
    } else {
      t.vx = static_cast<int32_t>(floor_div(t.vx + mvx, 2));
      t.vy = static_cast<int32_t>(floor_div(t.vy + mvy, 2));
    }
  }
  t.box = t.seen_box = t.meas_box = m;
  t.meas_frame = frame;
  t.last_seen_frame = frame;
  t.last_seen_ts = ts;
  t.hits += 1;
  t.merged_run = 0;
  t.state = TrackState::kSeen;
}

void ObjectTracker::stillness(Track& t, uint32_t ts) {
  if (t.state == TrackState::kMissing) return;
  const int64_t cx = static_cast<int64_t>(t.box.x0) + t.box.x1, cy = static_cast<int64_t>(t.box.y0) + t.box.y1;
  const int64_t size = (static_cast<int64_t>(t.box.x1) - t.box.x0) + (static_cast<int64_t>(t.box.y1) - t.box.y0);
  if (8 * (abs64(cx - t.anchor_x) + abs64(cy - t.anchor_y)) > size && !inside(t.box, t.anchor_box)) {
    t.anchor_x = static_cast<int32_t>(cx);
    t.anchor_y = static_cast<int32_t>(cy);
    t.anchor_box = t.box;
    t.still_since = ts;
    t.stationary = false;
  } else if (static_cast<int64_t>(ts) - t.still_since >= p_.stationary_after_ms) {
    t.stationary = true;
  }
}

void ObjectTracker::sort_live_by_id() {
  for (int i = 1; i < live_n_; ++i) {  // insertion sort: a few dozen entries at most
    const int16_t v = live_[i];
    int j = i - 1;
    while (j >= 0 && slots_[live_[j]].id > slots_[v].id) {
      live_[j + 1] = live_[j];
      --j;
    }
    live_[j + 1] = v;
  }
}

void ObjectTracker::update(PixelBox* regions, int count, uint32_t frame, uint32_t ts, bool blind) {
  live_n_ = ended_n_ = birth_n_ = 0;
  if (blind) {
    for (int i = 0; i < count_; ++i) {
      if (slots_[order_[i]].confirmed()) live_[live_n_++] = order_[i];
    }
    return;
  }
  // T1: regions with an area (kept in order, in place).
  regions_ = regions;
  region_n_ = 0;
  for (int i = 0; i < count && i < kMaxRegions; ++i) {
    if (box_area(regions[i]) > 0) regions_[region_n_++] = regions[i];
  }
  const int n = count_;
  // T2: predictions (by table position).
  for (int i = 0; i < n; ++i) {
    pred_[i] = predict(slots_[order_[i]], frame);
    track_region_[i] = -1;
    merged_into_[i] = -1;
    swallowed_[i] = false;
  }
  for (int r = 0; r < region_n_; ++r) {
    region_track_[r] = -1;
    shared_[r] = false;
  }
  // T3: greedy matching in the total order (iou desc, key asc, serial asc, region asc). Taking
  // the smallest pair whose track and region are both free, round after round, is the same as
  // walking the sorted candidate list, without storing it.
  for (;;) {
    int bt = -1, br = -1;
    int64_t b_iou = 0, b_key = 0;
    for (int i = 0; i < n; ++i) {
      if (track_region_[i] >= 0) continue;
      const Track& t = slots_[order_[i]];
      const PixelBox& p = pred_[i];
      const int64_t missed = max64(static_cast<int64_t>(frame) - t.last_seen_frame - 1, t.merged_run);
      const int64_t size = (static_cast<int64_t>(p.x1) - p.x0) + (static_cast<int64_t>(p.y1) - p.y0);
      // A stationary object is matched by overlap only (-1: no distance qualifies).
      const int64_t reach = t.stationary ? -1 : floor_div(size * (2 + min64(missed, 4)), 2);
      const int64_t floor4 = t.stationary ? box_area(p) : 0;  // and only a region >= 1/4 of it
      for (int r = 0; r < region_n_; ++r) {
        if (region_track_[r] >= 0) continue;
        const PixelBox& rb = regions_[r];
        const int64_t iou = iou_pm(p, rb);
        const int64_t d = abs64(static_cast<int64_t>(p.x0) + p.x1 - rb.x0 - rb.x1) +
                          abs64(static_cast<int64_t>(p.y0) + p.y1 - rb.y0 - rb.y1);
        if (!(iou > 0 || d <= reach) || 4 * box_area(rb) < floor4) continue;
        const int64_t key = distance_key(p, rb);
        bool better = bt < 0;
        if (!better) {
          if (iou != b_iou) better = iou > b_iou;
          else if (key != b_key) better = key < b_key;
          else if (t.serial != slots_[order_[bt]].serial) better = t.serial < slots_[order_[bt]].serial;
          else better = r < br;
        }
        if (better) {
          bt = i;
          br = r;
          b_iou = iou;
          b_key = key;
        }
      }
    }
    if (bt < 0) break;
    track_region_[bt] = static_cast<int16_t>(br);
    region_track_[br] = static_cast<int16_t>(bt);
  }
  // T4: merges, then swallowed.
  for (int i = 0; i < n; ++i) {
    const Track& t = slots_[order_[i]];
    if (track_region_[i] >= 0 || !t.confirmed() || t.merged_run >= p_.merge_frames) continue;
    const PixelBox& p = pred_[i];
    int best_r = -1;
    int64_t best_inter = 0;
    for (int r = 0; r < region_n_; ++r) {
      if (region_track_[r] < 0) continue;
      const int64_t inter = box_intersection(p, regions_[r]);
      if (2 * inter >= box_area(p) && inter > best_inter) {
        best_r = r;
        best_inter = inter;
      }
    }
    if (best_r >= 0) {
      merged_into_[i] = static_cast<int16_t>(best_r);
      // A piece of the region's owner (a quarter of its predicted area at most, 3/4 inside
      // that prediction grown by half its longer side) leaves the owner measured.
      // Neither ever held (T7): a parked car is an object of its own, and the owner's
      // region may be the background it uncovered.
      const int oi = region_track_[best_r];
      const PixelBox& o = pred_[oi];
      const int64_t ow = o.x1 - o.x0, oh = o.y1 - o.y0;
      const int64_t e = (ow > oh ? ow : oh) / 2;
      const PixelBox g = PixelBox{static_cast<int>(o.x0 - e), static_cast<int>(o.y0 - e),
                                  static_cast<int>(o.x1 + e), static_cast<int>(o.y1 + e)};
      const int64_t half = box_area(p);
      const bool piece = t.held == 0 && slots_[order_[oi]].held == 0 && 4 * half <= box_area(o) &&
                         4 * box_intersection(p, g) >= 3 * half;
      if (!piece) shared_[best_r] = true;
    }
  }
  for (int i = 0; i < n; ++i) {
    const Track& t = slots_[order_[i]];
    const int r = track_region_[i];
    swallowed_[i] = r >= 0 && t.confirmed() && t.merged_run < p_.merge_frames &&
                    box_area(regions_[r]) > 4 * box_area(pred_[i]) && !at_edge(pred_[i]);
  }
  // T5: pieces and newborns (newborn region indices kept in region order).
  for (int i = 0; i < n; ++i) {
    if (track_region_[i] >= 0) measure_[i] = regions_[track_region_[i]];
  }
  int newborn_n = 0;
  for (int r = 0; r < region_n_; ++r) {
    if (region_track_[r] >= 0) continue;
    const PixelBox& rb = regions_[r];
    int best_i = -1;
    int64_t best_inter = 0;
    for (int i = 0; i < n; ++i) {  // table position order = Python's sorted(track_region)
      const int own_r = track_region_[i];
      if (own_r < 0 || shared_[own_r] || swallowed_[i]) continue;
      const PixelBox& own = regions_[own_r];
      const int64_t ow = own.x1 - own.x0, oh = own.y1 - own.y0;
      const int64_t e = (ow > oh ? ow : oh) / 2;
      const PixelBox g = PixelBox{static_cast<int>(own.x0 - e), static_cast<int>(own.y0 - e),
                                  static_cast<int>(own.x1 + e), static_cast<int>(own.y1 + e)};
      const int64_t inter = box_intersection(g, rb);
      const bool piece = 4 * inter >= 3 * box_area(rb) && 4 * box_area(rb) <= box_area(own);
      if (piece && inter > best_inter) {
        best_i = i;
        best_inter = inter;
      }
    }
    if (best_i >= 0) {
      PixelBox& m = measure_[best_i];
      m = PixelBox{m.x0 < rb.x0 ? m.x0 : rb.x0, m.y0 < rb.y0 ? m.y0 : rb.y0, m.x1 > rb.x1 ? m.x1 : rb.x1,
                   m.y1 > rb.y1 ? m.y1 : rb.y1};
      continue;
    }
    bool hidden = false;
    for (int i = 0; i < n && !hidden; ++i) {
      if (merged_into_[i] >= 0 && 2 * box_intersection(pred_[i], rb) >= box_area(rb)) hidden = true;
    }
    if (!hidden) newborn_[newborn_n++] = static_cast<int16_t>(r);
  }
  // T6: update.
  for (int i = 0; i < n; ++i) {
    Track& t = slots_[order_[i]];
    const int r = track_region_[i];
    if (r >= 0 && !shared_[r] && !swallowed_[i]) {
      measured(t, measure_[i], frame, ts);
    } else if (r >= 0 || merged_into_[i] >= 0) {
      const int rr = r >= 0 ? r : merged_into_[i];
      t.box = t.seen_box = clamp_into(pred_[i], regions_[rr]);
      t.last_seen_frame = frame;
      t.last_seen_ts = ts;
      t.merged_run += 1;
      t.hits += 1;
      t.state = TrackState::kMerged;
    } else {
      t.box = pred_[i];
      t.merged_run = 0;
      t.state = TrackState::kMissing;
      if (!t.confirmed()) t.ended = TrackEnd::kLost;  // a tentative speck: no event
    }
    if (t.held == 1 && t.state != TrackState::kMissing) {
      // Seen again where it was held: moving again (or its uncovered background); never held again.
      t.held = 2;
      t.anchor_x = t.box.x0 + t.box.x1;
      t.anchor_y = t.box.y0 + t.box.y1;
      t.anchor_box = t.box;
      t.still_since = ts;
      t.stationary = false;
    }
    stillness(t, ts);
  }
  // T7: ends of unseen tracks.
  for (int i = 0; i < n; ++i) {
    Track& t = slots_[order_[i]];
    if (t.state != TrackState::kMissing || t.ended != TrackEnd::kNone) continue;
    const int64_t gone = static_cast<int64_t>(ts) - t.last_seen_ts;
    if (outside(t.box)) {
      t.ended = TrackEnd::kLeft;
    } else if (t.held == 1) {
      if (gone >= p_.stationary_max_ms) t.ended = TrackEnd::kStationaryTimeout;
    } else if (gone >= p_.lost_ms) {
      if (at_edge(t.seen_box)) {
        t.ended = TrackEnd::kLeft;
      } else if (t.held == 0 &&
                 (t.stationary || 2 * (static_cast<int64_t>(t.last_seen_ts) - t.still_since) >= p_.stationary_after_ms)) {
        // Learnt into the background where it stood (a parked car): held there, stationary.
        t.held = 1;
        t.stationary = true;
        t.box = t.seen_box = t.meas_box = t.anchor_box;
        t.vx = t.vy = 0;
      } else {
        t.ended = TrackEnd::kLost;
      }
    }
  }
  // T8: confirmations (table order), ended lists; births reserved for commit().
  int kept = 0;
  for (int i = 0; i < n; ++i) {
    Track& t = slots_[order_[i]];
    if (t.ended != TrackEnd::kNone) {
      if (t.confirmed()) ended_[ended_n_++] = order_[i];
      continue;
    }
    if (!t.confirmed() && t.hits >= p_.min_hits) t.id = next_id_++;
    if (t.confirmed()) live_[live_n_++] = order_[i];
    ++kept;
  }
  sort_live_by_id();
  for (int k = 0; k < newborn_n && kept < p_.max_objects; ++k, ++kept) {
    Birth& b = births_[birth_n_++];
    b.box = regions_[newborn_[k]];
    b.id = p_.min_hits <= 1 ? next_id_++ : 0;
  }
  birth_frame_ = frame;
  birth_ts_ = ts;
}

void ObjectTracker::commit() {
  // Ended tracks (tentative ones included) leave the table.
  int out = 0;
  for (int i = 0; i < count_; ++i) {
    const int s = order_[i];
    if (slots_[s].ended != TrackEnd::kNone) {
      used_[s] = false;
    } else {
      order_[out++] = static_cast<int16_t>(s);
    }
  }
  count_ = out;
  for (int k = 0; k < birth_n_; ++k) {
    int s = 0;
    while (s < kMaxObjects && used_[s]) ++s;
    if (s >= kMaxObjects) {  // cannot happen: births were capped at max_objects <= kMaxObjects
      birth_n_ = k;
      break;
    }
    used_[s] = true;
    Track& t = slots_[s];
    t = Track{};
    t.serial = ++serial_;
    t.id = births_[k].id;
    t.box = t.seen_box = t.meas_box = births_[k].box;
    t.first_frame = t.last_seen_frame = t.meas_frame = birth_frame_;
    t.first_ts = t.last_seen_ts = t.still_since = birth_ts_;
    t.anchor_x = births_[k].box.x0 + births_[k].box.x1;
    t.anchor_y = births_[k].box.y0 + births_[k].box.y1;
    t.anchor_box = births_[k].box;
    order_[count_++] = static_cast<int16_t>(s);
    born_slot_[k] = static_cast<int16_t>(s);
  }
  ended_n_ = 0;
}

int ObjectTracker::finish(int* slots_out) {
  live_n_ = 0;
  for (int i = 0; i < count_; ++i) {
    if (slots_[order_[i]].confirmed()) live_[live_n_++] = order_[i];
  }
  sort_live_by_id();
  for (int i = 0; i < live_n_; ++i) slots_out[i] = live_[i];
  const int n = live_n_;
  clear();
  return n;
}

}  // namespace ve
