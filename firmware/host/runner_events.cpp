#include "runner_events.h"

#include <cmath>
#include <cstdio>

namespace ve {
namespace {
Manifest g_manifest;
char g_manifest_path[1100];
}  // namespace

Status RunnerEvents::configure(const EventParams& params, const GateParams& gate,
                               const char* frames_dir, const char* clip_id, double fps,
                               char* why, size_t why_cap) {
  why[0] = '\0';
  if (frames_dir != nullptr) {
    std::snprintf(g_manifest_path, sizeof g_manifest_path, "%s/manifest.json", frames_dir);
    const Status st = read_manifest(g_manifest_path, &g_manifest, why, why_cap);
    if (st != Status::kOk) return st;
    have_manifest_ = true;
    std::snprintf(clip_id_, sizeof clip_id_, "%s", g_manifest.clip_id);
    fps_ = g_manifest.fps;
  } else {
    std::snprintf(clip_id_, sizeof clip_id_, "%s", clip_id != nullptr ? clip_id : "");
    fps_ = fps;
  }
  if (!(fps_ > 0.0)) {
    std::snprintf(why, why_cap, "frame rate %g is not positive; pass --fps", fps_);
    return Status::kBadConfig;
  }
  EventParams p = params;
  p.deterministic_ids = true;  // replay: UUIDv5 of "<clip>:<start frame>", like Python
  const Status st = tracker_.configure(p, gate);
  if (st != Status::kOk) std::snprintf(why, why_cap, "event parameters rejected");
  return st;
}

const ManifestFrame* RunnerEvents::find(uint32_t index) const {
  if (!have_manifest_) return nullptr;
  // Frames are listed in order and usually by position; fall back to a scan.
  if (index < static_cast<uint32_t>(g_manifest.count) && g_manifest.frames[index].index == index) {
    return &g_manifest.frames[index];
  }
  for (int i = 0; i < g_manifest.count; ++i) {
    if (g_manifest.frames[i].index == index) return &g_manifest.frames[i];
  }
  return nullptr;
}

FrameInfo RunnerEvents::frame_info(uint32_t index) const {
  const ManifestFrame* f = find(index);
  // Without a manifest entry: round(index * 1000 / fps), half to even like Python's round().
  const uint32_t ts = f != nullptr ? f->ts_ms
                                   : static_cast<uint32_t>(std::nearbyint(index * 1000.0 / fps_));
  return FrameInfo{index, ts, clip_id_};
}

ExposureInfo RunnerEvents::exposure(uint32_t index) const {
  const ManifestFrame* f = find(index);
  if (f == nullptr) return ExposureInfo::none();
  return ExposureInfo{f->exposure_time, f->analogue_gain};
}

Status RunnerEvents::on_gate(const GateResult& r) { return tracker_.on_gate(frame_info(r.index), r, *this); }

Status RunnerEvents::finish(uint32_t last_index) {
  const FrameInfo f = frame_info(last_index);
  return tracker_.finish(f.ts_ms, last_index, EndReason::kEndOfClip, *this);
}

Status RunnerEvents::publish(const char* json, size_t len) {
  std::fwrite(json, 1, len, stdout);
  std::fputc('\n', stdout);
  return Status::kOk;
}

}  // namespace ve
