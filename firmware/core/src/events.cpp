// A line-by-line port of visionedge/events/tracker.py; see that file for the why.
#include "ve/events.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "ve/json.h"
#include "ve/sha1.h"

namespace ve {

const char* end_reason_name(EndReason r) {
  switch (r) {
    case EndReason::kQuiet: return "quiet";
    case EndReason::kMaxDuration: return "max_duration";
    case EndReason::kStopped: return "stopped";
    case EndReason::kEndOfClip: return "end_of_clip";
  }
  return "stopped";
}

double round_decimals(double v, int decimals) {
  // printf's %.Nf is correctly rounded and strtod reads the nearest double back: the two
  // steps CPython's round() takes.
  char b[64];
  const int n = std::snprintf(b, sizeof b, "%.*f", decimals, v);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof b) return v;
  return std::strtod(b, nullptr);
}

Status EventTracker::configure(const EventParams& params, const GateParams& gate, RandomBytes rng) {
  if (params.device == nullptr || params.camera == nullptr || params.update_every < 1 ||
      !(params.max_duration_s > 0.0) || params.min_frames < 1 || params.label_count < 0 ||
      params.label_count > kMaxLabels || (params.label_count > 0 && params.labels == nullptr) ||
      (!params.deterministic_ids && rng == nullptr) ||
      (params.classify && (params.model_name == nullptr || params.model_sha256 == nullptr))) {
    return Status::kBadConfig;
  }
  p_ = params;
  gate_ = gate;
  rng_ = rng;
  configured_ = true;
  open_ = false;
  return Status::kOk;
}

bool EventTracker::box(double out[4]) const {
  if (!open_ || !has_box_) return false;
  for (int i = 0; i < 4; ++i) out[i] = box_[i];
  return true;
}

void EventTracker::start(const FrameInfo& f, const char* reason, const char* continues) {
  const char* src = (f.source != nullptr && f.source[0] != '\0') ? f.source : p_.camera;
  std::snprintf(source_, sizeof source_, "%s", src);
  if (p_.deterministic_ids) {
    char name[128];
    const int n = std::snprintf(name, sizeof name, "%s:%u", source_, static_cast<unsigned>(f.index));
    uuid5(kEventIdNamespace, name, n > 0 ? static_cast<size_t>(n) : 0, id_);
  } else {
    uint8_t b[16];
    rng_(b, sizeof b);
    uuid_format(b, 4, id_);
  }
  has_continues_ = continues != nullptr;
  if (has_continues_) std::memcpy(continues_, continues, sizeof continues_);
  reason_ = reason;
  start_frame_ = frame_ = sent_frame_ = f.index;
  start_ts_ = ts_ = f.ts_ms;
  seq_ = frames_ = measured_ = 0;
  pct_sum_ = peak_ = last_pct_ = 0.0;
  has_box_ = false;
  zones_ = sent_zones_ = 0;
  sent_label_ = -1;
  vote_count_ = 0;
  for (int i = 0; i < kMaxLabels; ++i) {
    vote_sums_[i] = 0.0;
    vote_seen_[i] = false;
  }
  open_ = true;
  ++started_;
}

void EventTracker::add_frame(const FrameInfo& f, const GateResult& r) {
  const double pct = round_decimals(r.changed_pct, 3);
  frame_ = f.index;
  ts_ = f.ts_ms;
  ++frames_;
  last_pct_ = pct;
  if (r.reason != Reason::kNone && !r.opened) return;  // rejected frames: no statistics
  ++measured_;
  pct_sum_ += pct;
  if (pct > peak_) peak_ = pct;
  if (r.has_box) {
    const double b[4] = {
        round_decimals(static_cast<double>(r.box.x0) / gate_.plane_w, 4),
        round_decimals(static_cast<double>(r.box.y0) / gate_.plane_h, 4),
        round_decimals(static_cast<double>(r.box.x1) / gate_.plane_w, 4),
        round_decimals(static_cast<double>(r.box.y1) / gate_.plane_h, 4)};
    if (!has_box_) {
      for (int i = 0; i < 4; ++i) box_[i] = b[i];
      has_box_ = true;
    } else {
      if (b[0] < box_[0]) box_[0] = b[0];
      if (b[1] < box_[1]) box_[1] = b[1];
      if (b[2] > box_[2]) box_[2] = b[2];
      if (b[3] > box_[3]) box_[3] = b[3];
    }
  }
  zones_ |= r.zones;
}

bool EventTracker::best(int* label, double* score) const {
  if (!p_.classify || vote_count_ == 0) return false;
  int bi = -1;
  for (int i = 0; i < p_.label_count; ++i) {
    if (!vote_seen_[i]) continue;
    if (bi < 0 || vote_sums_[i] > vote_sums_[bi] ||
        (vote_sums_[i] == vote_sums_[bi] && std::strcmp(p_.labels[i], p_.labels[bi]) < 0)) {
      bi = i;
    }
  }
  if (bi < 0) return false;
  *label = bi;
  *score = vote_sums_[bi] / vote_count_;
  return true;
}

Status EventTracker::message(const char* kind, const char* end_reason, EventSink& sink) {
  const bool ended = std::strcmp(kind, "end") == 0;
  int label = -1;
  double score = 0.0;
  const bool has_label = best(&label, &score);
  JsonWriter j(json_, sizeof json_);
  j.begin_object();
  j.key("schema"); j.integer(kSchemaVersion);
  j.key("type"); j.string(kind);
  j.key("event_id"); j.string(id_);
  j.key("seq"); j.integer(seq_);
  j.key("device"); j.string(p_.device);
  j.key("camera"); j.string(p_.camera);
  j.key("source"); j.string(source_);
  j.key("reason"); j.string(reason_);
  j.key("continues"); if (has_continues_) j.string(continues_); else j.null();
  j.key("start_frame"); j.integer(start_frame_);
  j.key("start_ts_ms"); j.integer(start_ts_);
  j.key("frame"); j.integer(frame_);
  j.key("ts_ms"); j.integer(ts_);
  j.key("end_frame"); if (ended) j.integer(frame_); else j.null();
  j.key("end_ts_ms"); if (ended) j.integer(ts_); else j.null();
  j.key("duration_ms"); j.integer(static_cast<int64_t>(ts_) - static_cast<int64_t>(start_ts_));
  j.key("frames"); j.integer(frames_);
  j.key("end_reason"); if (end_reason != nullptr) j.string(end_reason); else j.null();
  j.key("short"); j.boolean(ended && frames_ < static_cast<uint32_t>(p_.min_frames));
  j.key("changed_pct"); j.decimal(last_pct_, 3);
  j.key("peak_changed_pct"); j.decimal(peak_, 3);
  j.key("mean_changed_pct"); j.decimal(measured_ ? round_decimals(pct_sum_ / measured_, 3) : 0.0, 3);
  j.key("box");
  if (has_box_) {
    j.begin_array();
    for (double v : box_) j.decimal(v, 4);
    j.end_array();
  } else {
    j.null();
  }
  j.key("zones");
  j.begin_array();
  // Sorted by name, like Python's sorted(set).
  uint32_t left = zones_;
  while (left != 0) {
    int pick = -1;
    for (int z = 0; z < gate_.zone_count; ++z) {
      if ((left & (1u << z)) && (pick < 0 || std::strcmp(gate_.zones[z].name, gate_.zones[pick].name) < 0)) pick = z;
    }
    if (pick < 0) break;
    j.string(gate_.zones[pick].name);
    left &= ~(1u << pick);
  }
  j.end_array();
  j.key("label"); if (has_label) j.string(p_.labels[label]); else j.null();
  j.key("score"); if (has_label) j.decimal(round_decimals(score, 4), 4); else j.null();
  j.key("classified_frames"); j.integer(p_.classify ? vote_count_ : 0);
  j.key("model");
  if (p_.classify) {
    j.begin_object();
    j.key("name"); j.string(p_.model_name);
    j.key("sha256"); j.string(p_.model_sha256);
    j.end_object();
  } else {
    j.null();
  }
  j.end_object();
  ++seq_;
  sent_frame_ = frame_;
  sent_zones_ = zones_;
  sent_label_ = has_label ? label : -1;
  if (j.status() != Status::kOk) return j.status();
  return sink.publish(j.c_str(), j.size());
}

Status EventTracker::on_gate(const FrameInfo& f, const GateResult& r, EventSink& sink) {
  if (!configured_) return Status::kBadConfig;
  if (!open_) {
    if (!r.motion) return Status::kOk;
    start(f, r.reason != Reason::kNone ? reason_name(r.reason) : "motion", nullptr);
    add_frame(f, r);
    return message("start", nullptr, sink);
  }
  add_frame(f, r);
  if (!r.motion) {
    open_ = false;
    return message("end", "quiet", sink);
  }
  if (static_cast<double>(f.ts_ms) - static_cast<double>(start_ts_) >= p_.max_duration_s * 1000.0) {
    open_ = false;
    Status st = message("end", "max_duration", sink);
    if (st != Status::kOk) return st;
    char old[37];
    std::memcpy(old, id_, sizeof old);
    start(f, "continued", old);
    add_frame(f, r);
    return message("start", nullptr, sink);
  }
  const bool due = f.index - sent_frame_ >= static_cast<uint32_t>(p_.update_every);
  if (due || zones_ != sent_zones_) return message("update", nullptr, sink);
  return Status::kOk;
}

Status EventTracker::on_classification(const Prediction* top, int count, EventSink& sink) {
  if (!open_) return Status::kOk;
  if (count < 0 || (count > 0 && top == nullptr)) return Status::kNullArgument;
  ++vote_count_;
  for (int i = 0; i < count; ++i) {
    const int l = top[i].label;
    if (l < 0 || l >= p_.label_count) return Status::kModelIo;
    vote_sums_[l] += top[i].score;
    vote_seen_[l] = true;
  }
  int label = -1;
  double score = 0.0;
  if (!best(&label, &score)) label = -1;
  if (label != sent_label_) return message("update", nullptr, sink);
  return Status::kOk;
}

Status EventTracker::finish(uint32_t ts_ms, uint32_t frame_index, EndReason reason, EventSink& sink) {
  if (!open_) return Status::kOk;
  if (frame_index >= frame_) {
    frame_ = frame_index;
    ts_ = ts_ms;
  }
  open_ = false;
  return message("end", end_reason_name(reason), sink);
}

}  // namespace ve
