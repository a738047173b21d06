// A line-by-line port of visionedge/objects/events.py (docs/gate-algorithm.md §7 E0-E6: the
// per-object state, counting, updates, ends) and of TrackingStage._classify (stage.py); see
// those files for the why. The integer measures are in object_measures.cpp, the payload in
// object_message.cpp.
#include "ve/objects.h"

#include <cstdio>
#include <cstring>

#include "ve/object_measures.h"
#include "ve/sha1.h"

namespace ve {
namespace {

int64_t abs64(int64_t v) { return v < 0 ? -v : v; }

}  // namespace

const char* object_mode_name(ObjectMode m) {
  switch (m) {
    case ObjectMode::kMotion: return "motion";
    case ObjectMode::kObject: return "object";
    case ObjectMode::kBoth: return "both";
  }
  return "motion";
}

bool parse_object_mode(const char* text, ObjectMode* out) {
  if (text == nullptr || out == nullptr) return false;
  static const ObjectMode kModes[] = {ObjectMode::kMotion, ObjectMode::kObject, ObjectMode::kBoth};
  for (ObjectMode m : kModes) {
    if (std::strcmp(text, object_mode_name(m)) == 0) {
      *out = m;
      return true;
    }
  }
  return false;
}

ObjectStage::ObjectStage() {}

size_t ObjectStage::state_bytes() { return sizeof(ObjState); }

Status ObjectStage::configure(const ObjectParams& params, const EventParams& events, const GateParams& gate,
                              RandomBytes rng) {
  if (events.device == nullptr || events.camera == nullptr || events.update_every < 1 ||
      events.label_count < 0 || events.label_count > kMaxLabels ||
      (events.label_count > 0 && events.labels == nullptr) || (!events.deterministic_ids && rng == nullptr) ||
      (events.classify && (events.model_name == nullptr || events.model_sha256 == nullptr)) ||
      params.path_points < 2 || params.path_points > kMaxPathPoints || params.classify_per_frame < 0 ||
      params.settle_after < 0 || params.recheck_ms <= 0 || params.backoff_after < 0 ||
      (events.classify && params.classify_per_frame > kMaxClassifyPerFrame) || params.min_travel_m < 0 ||
      params.min_travel_pct_m < 0 || !(params.still_min_score >= 0.0 && params.still_min_score <= 1.0) ||
      params.still_min_votes < 1 || params.label_count < 0 || (params.label_count > 0 && params.labels == nullptr) ||
      params.filter_count < 0 || (params.filter_count > 0 && params.filters == nullptr) ||
      params.required_count < 0 || (params.required_count > 0 && params.required_zones == nullptr) ||
      gate.zone_count > kMaxZones) {
    return Status::kBadConfig;
  }
  if (params.zones != nullptr) {
    for (int z = 0; z < gate.zone_count; ++z) {
      const ObjectZone& oz = params.zones[z];
      if (oz.points < 0 || oz.points > kMaxZonePoints || (oz.points > 0 && oz.xy == nullptr) ||
          oz.label_count < 0 || (oz.label_count > 0 && oz.labels == nullptr)) {
        return Status::kBadConfig;
      }
    }
  }
  const Status st = tracker_.configure(params.tracker, gate.plane_w, gate.plane_h);
  if (st != Status::kOk) return st;
  p_ = params;
  ev_ = events;
  gate_ = gate;
  rng_ = rng;
  // Required zones by gate zone index (a name no gate zone has is never entered).
  required_mask_ = 0;
  for (int i = 0; i < p_.required_count; ++i) {
    for (int z = 0; z < gate_.zone_count; ++z) {
      if (std::strcmp(p_.required_zones[i], gate_.zones[z].name) == 0) required_mask_ |= 1u << z;
    }
  }
  for (int s = 0; s < kMaxObjects; ++s) objs_[s].active = false;
  pending_n_ = 0;
  configured_ = true;
  return Status::kOk;
}

void ObjectStage::track(const FrameInfo& frame, PixelBox* regions, int count, bool blind) {
  frame_ = frame.index;
  ts_ = frame.ts_ms;
  const char* src = (frame.source != nullptr && frame.source[0] != '\0') ? frame.source : ev_.camera;
  std::snprintf(source_, sizeof source_, "%s", src);
  pending_n_ = 0;
  tracker_.update(regions, count, frame.index, frame.ts_ms, blind);
}

int ObjectStage::due(int every_n_frames, int max_per_event, ObjectPick* out, int cap) {
  // Candidates: (classification count, id) of seen objects within their budget and cadence;
  // the step's tracks are the live ones (by id) and then the confirmed births.
  struct Cand {
    int count;
    uint32_t id;
    PixelBox box;
  };
  Cand cand[kMaxObjects];
  int n = 0;
  for (int i = 0; i < tracker_.live_count(); ++i) {
    const Track& t = tracker_.live(i);
    if (t.state != TrackState::kSeen) continue;
    const ObjState& o = objs_[tracker_.live_slot(i)];
    const bool known = o.active && o.id == t.id;
    const int count = known ? o.vote.count : 0;
    if (count >= max_per_event) continue;
    if (known && o.has_classified && settled(o) &&
        static_cast<int64_t>(ts_) - static_cast<int64_t>(o.last_classified_ts) < p_.recheck_ms) {
      continue;  // settled: only a re-check, recheck_ms after the last classification
    }
    if (known && o.has_classified && !cadence_due(o, every_n_frames)) continue;
    cand[n++] = Cand{count, t.id, t.box};
  }
  for (int i = 0; i < tracker_.birth_count() && n < kMaxObjects; ++i) {
    const Birth& b = tracker_.birth(i);
    if (b.id == 0 || max_per_event <= 0) continue;
    cand[n++] = Cand{0, b.id, b.box};
  }
  int limit = p_.classify_per_frame < cap ? p_.classify_per_frame : cap;
  if (limit > kMaxClassifyPerFrame) limit = kMaxClassifyPerFrame;
  // Pick the `limit` smallest (count, id), then report them in the step's order.
  bool chosen[kMaxObjects] = {};
  for (int k = 0; k < limit; ++k) {
    int best = -1;
    for (int i = 0; i < n; ++i) {
      if (chosen[i]) continue;
      if (best < 0 || cand[i].count < cand[best].count ||
          (cand[i].count == cand[best].count && cand[i].id < cand[best].id)) {
        best = i;
      }
    }
    if (best < 0) break;
    chosen[best] = true;
  }
  int m = 0;
  for (int i = 0; i < n; ++i) {
    if (chosen[i]) out[m++] = ObjectPick{cand[i].id, cand[i].box};
  }
  return m;
}

Status ObjectStage::classified(uint32_t id, const Prediction* top, int count) {
  if (count < 0 || (count > 0 && top == nullptr)) return Status::kNullArgument;
  if (pending_n_ >= kMaxClassifyPerFrame || count > kMaxTop) return Status::kBadConfig;
  for (int i = 0; i < count; ++i) {
    if (top[i].label < 0 || top[i].label >= ev_.label_count) return Status::kModelIo;
  }
  Pending& p = pending_[pending_n_++];
  p.id = id;
  p.count = count;
  for (int i = 0; i < count; ++i) p.top[i] = top[i];
  return Status::kOk;
}

const ObjectStage::Pending* ObjectStage::pending_for(uint32_t id) const {
  for (int i = 0; i < pending_n_; ++i) {
    if (pending_[i].id == id) return &pending_[i];
  }
  return nullptr;
}

ObjectStage::ObjState& ObjectStage::state_for(int slot, const Track& t) {
  ObjState& o = objs_[slot];
  if (!o.active || o.id != t.id) {
    o = ObjState{};
    o.active = true;
    o.id = t.id;
    o.first_frame = t.first_frame;
    o.first_ts = t.first_ts;
    o.last_ts = t.first_ts;
  }
  return o;
}

bool ObjectStage::label(const ObjState& o, int* idx, double* score) const {
  if (!ev_.classify || o.vote.count == 0) return false;
  int bi = -1;
  for (int i = 0; i < ev_.label_count; ++i) {
    if (!o.vote.seen[i]) continue;
    if (bi < 0 || o.vote.sums[i] > o.vote.sums[bi] ||
        (o.vote.sums[i] == o.vote.sums[bi] && std::strcmp(ev_.labels[i], ev_.labels[bi]) < 0)) {
      bi = i;
    }
  }
  if (bi < 0) return false;
  *idx = bi;
  *score = o.vote.sums[bi] / o.vote.count;
  return true;
}

bool ObjectStage::settled(const ObjState& o) const {
  // LabelVote.settled: the streak is long enough and the vote says the streak's label.
  // A run of no-label answers never settles (streak_label -1 would otherwise equal the -1 of
  // "no vote label" below).
  if (p_.settle_after <= 0 || o.vote.streak < p_.settle_after || o.vote.streak_label < 0) return false;
  int idx = -1;
  double score = 0.0;
  if (!label(o, &idx, &score)) idx = -1;
  return idx == o.vote.streak_label;
}

bool ObjectStage::cadence_due(const ObjState& o, int every_n_frames) const {
  // stage.py _cadence_due: every_n_frames, stretched by the back-off on a run of no-label answers.
  const int64_t gap = static_cast<int64_t>(frame_) - o.last_classified;
  if (gap < every_n_frames) return false;
  if (p_.backoff_after <= 0 || o.vote.streak_label != -1 || o.vote.streak < p_.backoff_after) return true;
  int doublings = o.vote.streak - p_.backoff_after + 1;
  if (doublings > kMaxBackoffDoublings) doublings = kMaxBackoffDoublings;
  if (gap >= (static_cast<int64_t>(every_n_frames) << doublings)) return true;
  return static_cast<int64_t>(ts_) - static_cast<int64_t>(o.last_classified_ts) >= p_.recheck_ms;
}

bool ObjectStage::label_in(int idx, const char* const* names, int n) const {
  if (idx < 0) return false;
  for (int i = 0; i < n; ++i) {
    if (std::strcmp(names[i], ev_.labels[idx]) == 0) return true;
  }
  return false;
}

bool ObjectStage::qualifies(const ObjState& o) const {
  int li = -1;
  double score = 0.0;
  const bool has = label(o, &li, &score);
  // Not travelled: counts only when the classifier is sure of it (events.py _sure_still).
  if (!o.travelled && !(p_.still_min_score > 0.0 && has && score >= p_.still_min_score &&
                        o.vote.wins[li] >= p_.still_min_votes)) {
    return false;
  }
  const char* name = has ? ev_.labels[li] : "";
  // filters.get(label or "", filters.get("*"))
  const ObjectFilter* f = nullptr;
  for (int i = 0; i < p_.filter_count && f == nullptr; ++i) {
    if (std::strcmp(p_.filters[i].label, name) == 0) f = &p_.filters[i];
  }
  for (int i = 0; i < p_.filter_count && f == nullptr; ++i) {
    if (std::strcmp(p_.filters[i].label, "*") == 0) f = &p_.filters[i];
  }
  if (f != nullptr) {
    const int64_t a = box_area(o.largest) * 100000;
    const int64_t fa = static_cast<int64_t>(gate_.plane_w) * gate_.plane_h;
    if (!(a >= f->min_area_m * fa && a <= f->max_area_m * fa)) return false;
  }
  if (p_.label_count > 0 && (!has || !label_in(li, p_.labels, p_.label_count))) return false;
  if (f != nullptr && f->min_score > 0.0 && (!has || score < f->min_score)) return false;
  return p_.required_count == 0 || (o.entered_mask & required_mask_) != 0;
}

void ObjectStage::add_path(ObjState& o, const PixelBox& b) {
  if (o.path_seen % o.path_stride == 0) {
    o.path[o.path_n][0] = static_cast<int16_t>(b.x0 + b.x1);
    o.path[o.path_n][1] = static_cast<int16_t>(b.y0 + b.y1);
    ++o.path_n;
    if (o.path_n > p_.path_points) {  // keep every other point (the first kept), double the stride
      int k = 0;
      for (int i = 0; i < o.path_n; i += 2) {
        o.path[k][0] = o.path[i][0];
        o.path[k][1] = o.path[i][1];
        ++k;
      }
      o.path_n = k;
      o.path_stride *= 2;
    }
  }
  ++o.path_seen;
}

void ObjectStage::observe(ObjState& o, const Track& t, const Pending* c) {
  const int w = gate_.plane_w, h = gate_.plane_h;
  o.frames += t.state != TrackState::kMissing ? 1u : 0u;
  int li = -1;
  double score = 0.0;
  const bool has = label(o, &li, &score);
  // E1: zones of the box's bottom centre.
  uint32_t now = 0;
  if (p_.zones != nullptr) {
    const int64_t ax = (static_cast<int64_t>(t.box.x0) + t.box.x1) * 8, ay = static_cast<int64_t>(t.box.y1) * 16;
    for (int z = 0; z < gate_.zone_count; ++z) {
      const ObjectZone& oz = p_.zones[z];
      if (oz.label_count > 0 && !(has && label_in(li, oz.labels, oz.label_count))) continue;
      if (inside_polygon(ax, ay, oz.xy, oz.points)) now |= 1u << z;
    }
  }
  const int64_t dt = static_cast<int64_t>(ts_) - o.last_ts;
  for (int z = 0; z < gate_.zone_count; ++z) {
    if ((o.zones & now) & (1u << z)) o.dwell[z] += dt;
  }
  uint32_t fresh = now & ~o.zones;
  while (fresh != 0) {  // in name order, like sorted(now - zones)
    int pick = -1;
    for (int z = 0; z < gate_.zone_count; ++z) {
      if ((fresh & (1u << z)) && (pick < 0 || std::strcmp(gate_.zones[z].name, gate_.zones[pick].name) < 0)) pick = z;
    }
    if (pick < 0) break;
    fresh &= ~(1u << pick);
    if (!(o.entered_mask & (1u << pick))) {
      o.entered_mask |= 1u << pick;
      o.dwell[pick] = 0;
      o.entered[o.entered_n++] = static_cast<uint8_t>(pick);
    }
  }
  o.zones = now;
  o.last_ts = ts_;
  if (t.state != TrackState::kSeen) return;
  // E2: travel.
  int64_t tx = 0, ty = 0;
  const bool step = o.has_origin && travel_step(o.origin, t.box, w, h, &tx, &ty);
  if (!o.has_first) {
    o.first = t.box;
    o.has_first = true;
  }
  if (step && !o.travelled) {
    o.tx += tx;
    o.ty += ty;
    const PixelBox& f = o.first;
    const int64_t nx = abs64(static_cast<int64_t>(t.box.x0) + t.box.x1 - f.x0 - f.x1) / 2;
    const int64_t ny = abs64(static_cast<int64_t>(t.box.y0) + t.box.y1 - f.y0 - f.y1) / 2;
    o.travelled = travelled(o.tx, o.ty, t.box, w, h, p_.min_travel_m, p_.min_travel_pct_m) &&
                  travelled(nx, ny, t.box, w, h, p_.min_travel_m, p_.min_travel_pct_m);
  }
  o.origin = t.box;
  o.has_origin = true;
  if (box_area(t.box) > box_area(o.largest)) o.largest = t.box;
  add_path(o, t.box);
  // E5: best view.
  const bool top = c != nullptr && c->count > 0;
  int whole = 0;
  int64_t key = 0;
  best_key(t.box, w, h, top ? milli(c->top[0].score) : 0, &whole, &key);
  if (!o.has_best || whole > o.best_whole || (whole == o.best_whole && key > o.best_key)) {
    o.has_best = true;
    o.best_whole = whole;
    o.best_key = key;
    o.best_frame = t.last_seen_frame;
    o.best_ts = t.last_seen_ts;
    o.best_box = t.box;
    o.best_label = top ? c->top[0].label : -1;
    o.best_score = top ? round_decimals(c->top[0].score, 4) : 0.0;
  }
}

Status ObjectStage::observe_and_emit(int slot, Track& t, EventSink& sink) {
  ObjState& o = state_for(slot, t);
  const Pending* c = pending_for(t.id);
  if (c != nullptr) {
    const int top = c->count > 0 ? c->top[0].label : -1;
    if (o.vote.streak > 0 && top == o.vote.streak_label) {
      ++o.vote.streak;
    } else {
      o.vote.streak_label = top;
      o.vote.streak = 1;
    }
    ++o.vote.count;
    if (top >= 0) ++o.vote.wins[top];
    for (int i = 0; i < c->count; ++i) {
      o.vote.sums[c->top[i].label] += c->top[i].score;
      o.vote.seen[c->top[i].label] = true;
    }
    o.has_classified = true;
    o.last_classified = frame_;
    o.last_classified_ts = ts_;
  }
  observe(o, t, c);
  if (!o.counts && qualifies(o)) {
    o.counts = true;
    char name[160];
    const int n = std::snprintf(name, sizeof name, "%s#%u:%u", source_, static_cast<unsigned>(t.id),
                                static_cast<unsigned>(t.first_frame));
    if (ev_.deterministic_ids) {
      uuid5(kEventIdNamespace, name, n > 0 ? static_cast<size_t>(n) : 0, o.event_id);
    } else {
      uint8_t b[16];
      rng_(b, sizeof b);
      uuid_format(b, 4, o.event_id);
    }
    ++started_;
    return message(o, t, "start", nullptr, sink);
  }
  if (o.counts) {
    int li = -1;
    double score = 0.0;
    const int label_now = label(o, &li, &score) ? li : -1;
    const bool due = static_cast<int64_t>(frame_) - o.sent_frame >= ev_.update_every && !t.stationary;
    if (due || label_now != o.sent_label || o.zones != o.sent_zones || t.stationary != o.sent_stationary) {
      return message(o, t, "update", nullptr, sink);
    }
  }
  return Status::kOk;
}

Status ObjectStage::emit(EventSink& sink) {
  if (!configured_) return Status::kBadConfig;
  Status st = Status::kOk;
  for (int i = 0; i < tracker_.live_count() && st == Status::kOk; ++i) {
    st = observe_and_emit(tracker_.live_slot(i), tracker_.live(i), sink);
  }
  for (int i = 0; i < tracker_.ended_count() && st == Status::kOk; ++i) {
    ObjState& o = objs_[tracker_.ended_slot(i)];
    const Track& t = tracker_.ended(i);
    if (o.active && o.id == t.id) {
      o.active = false;
      if (o.counts) st = message(o, t, "end", track_end_name(t.ended), sink);
    }
  }
  tracker_.commit();
  // Births confirmed at once (min_hits <= 1) are observed on their first frame; they cannot
  // count yet (no travel without a previous sighting), so nothing is published for them.
  for (int i = 0; i < tracker_.birth_count() && st == Status::kOk; ++i) {
    if (tracker_.birth(i).id == 0) continue;
    const int slot = tracker_.born_slot(i);
    st = observe_and_emit(slot, tracker_.slot(slot), sink);
  }
  pending_n_ = 0;
  return st;
}

Status ObjectStage::finish(uint32_t frame, uint32_t ts_ms, const char* reason, EventSink& sink) {
  if (!configured_) return Status::kBadConfig;
  frame_ = frame;
  ts_ = ts_ms;
  int slots[kMaxObjects];
  const int n = tracker_.finish(slots);
  Status st = Status::kOk;
  for (int i = 0; i < n; ++i) {
    ObjState& o = objs_[slots[i]];
    const Track& t = tracker_.slot(slots[i]);
    if (o.active && o.id == t.id) {
      o.active = false;
      if (o.counts && st == Status::kOk) st = message(o, t, "end", reason, sink);
    }
  }
  for (int s = 0; s < kMaxObjects; ++s) objs_[s].active = false;
  return st;
}

}  // namespace ve
