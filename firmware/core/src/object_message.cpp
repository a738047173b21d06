// The object event payload (visionedge/objects/events.py _message, objects/payload.py field
// order): the same keys, order and rounding as Python's json.dumps of it.
#include <cstring>

#include "ve/json.h"
#include "ve/object_measures.h"
#include "ve/objects.h"

namespace ve {
namespace {

void write_box(JsonWriter& j, const PixelBox& b, int w, int h) {
  const PixelBox c = clamp_box(b, w, h);
  j.begin_array();
  j.decimal(round_decimals(static_cast<double>(c.x0) / w, 4), 4);
  j.decimal(round_decimals(static_cast<double>(c.y0) / h, 4), 4);
  j.decimal(round_decimals(static_cast<double>(c.x1) / w, 4), 4);
  j.decimal(round_decimals(static_cast<double>(c.y1) / h, 4), 4);
  j.end_array();
}

double unit(int64_t v, int size2) {
  const double x = static_cast<double>(v) / size2;
  return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

}  // namespace

Status ObjectStage::message(ObjState& o, const Track& t, const char* kind, const char* end_reason,
                            EventSink& sink) {
  const int w = gate_.plane_w, h = gate_.plane_h;
  const bool ended = std::strcmp(kind, "end") == 0;
  int li = -1;
  double score = 0.0;
  const bool has = label(o, &li, &score);
  JsonWriter j(json_, sizeof json_);
  j.begin_object();
  j.key("schema"); j.integer(kObjectSchemaVersion);
  j.key("type"); j.string(kind);
  j.key("event_id"); j.string(o.event_id);
  j.key("object_id"); j.integer(o.id);
  j.key("seq"); j.integer(o.seq);
  j.key("device"); j.string(ev_.device);
  j.key("camera"); j.string(ev_.camera);
  j.key("source"); j.string(source_);
  j.key("start_frame"); j.integer(o.first_frame);
  j.key("start_ts_ms"); j.integer(o.first_ts);
  j.key("frame"); j.integer(frame_);
  j.key("ts_ms"); j.integer(ts_);
  j.key("end_frame"); if (ended) j.integer(t.last_seen_frame); else j.null();
  j.key("end_ts_ms"); if (ended) j.integer(t.last_seen_ts); else j.null();
  j.key("duration_ms"); j.integer(static_cast<int64_t>(t.last_seen_ts) - o.first_ts);
  j.key("frames"); j.integer(o.frames > 0 ? o.frames : 1);
  j.key("end_reason"); if (end_reason != nullptr) j.string(end_reason); else j.null();
  j.key("state"); j.string(track_state_name(t.state));
  j.key("stationary"); j.boolean(t.stationary);
  j.key("box"); write_box(j, t.box, w, h);
  j.key("area_pct");
  j.decimal(round_decimals(100.0 * static_cast<double>(box_area(clamp_box(t.box, w, h))) / (w * h), 3), 3);
  j.key("path");
  j.begin_array();
  if (o.path_n == 0) {
    j.begin_array();
    j.decimal(round_decimals(unit(static_cast<int64_t>(t.box.x0) + t.box.x1, 2 * w), 4), 4);
    j.decimal(round_decimals(unit(static_cast<int64_t>(t.box.y0) + t.box.y1, 2 * h), 4), 4);
    j.end_array();
  }
  for (int i = 0; i < o.path_n; ++i) {
    j.begin_array();
    j.decimal(round_decimals(unit(o.path[i][0], 2 * w), 4), 4);
    j.decimal(round_decimals(unit(o.path[i][1], 2 * h), 4), 4);
    j.end_array();
  }
  j.end_array();
  // Zones by name (sorted), entered zones in entry order, dwell by name.
  uint32_t order[kMaxZones];
  int zn = 0;
  for (uint32_t left = o.entered_mask; left != 0;) {
    int pick = -1;
    for (int z = 0; z < gate_.zone_count; ++z) {
      if ((left & (1u << z)) && (pick < 0 || std::strcmp(gate_.zones[z].name, gate_.zones[pick].name) < 0)) pick = z;
    }
    if (pick < 0) break;
    left &= ~(1u << pick);
    order[zn++] = static_cast<uint32_t>(pick);
  }
  j.key("zones");
  j.begin_array();
  for (int i = 0; i < zn; ++i) {
    if (o.zones & (1u << order[i])) j.string(gate_.zones[order[i]].name);
  }
  j.end_array();
  j.key("entered_zones");
  j.begin_array();
  for (int i = 0; i < o.entered_n; ++i) j.string(gate_.zones[o.entered[i]].name);
  j.end_array();
  j.key("zone_dwell_ms");
  j.begin_object();
  for (int i = 0; i < zn; ++i) {
    j.key(gate_.zones[order[i]].name);
    j.integer(o.dwell[order[i]]);
  }
  j.end_object();
  j.key("label"); if (has) j.string(ev_.labels[li]); else j.null();
  j.key("score"); if (has) j.decimal(round_decimals(score, 4), 4); else j.null();
  j.key("classified_frames"); j.integer(ev_.classify ? o.vote.count : 0);
  j.key("model");
  if (ev_.classify) {
    j.begin_object();
    j.key("name"); j.string(ev_.model_name);
    j.key("sha256"); j.string(ev_.model_sha256);
    j.end_object();
  } else {
    j.null();
  }
  j.key("best");
  if (o.has_best) {
    j.begin_object();
    j.key("frame"); j.integer(o.best_frame);
    j.key("ts_ms"); j.integer(o.best_ts);
    j.key("box"); write_box(j, o.best_box, w, h);
    j.key("label"); if (o.best_label >= 0) j.string(ev_.labels[o.best_label]); else j.null();
    j.key("score"); if (o.best_label >= 0) j.decimal(o.best_score, 4); else j.null();
    j.end_object();
  } else {
    j.null();
  }
  j.end_object();
  ++o.seq;
  o.sent_frame = frame_;
  o.sent_label = has ? li : -1;
  o.sent_zones = o.zones;
  o.sent_stationary = t.stationary;
  if (j.status() != Status::kOk) return j.status();
  return sink.publish(j.c_str(), j.size());
}

}  // namespace ve
