#include "runner_events.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace ve {
namespace {
Manifest g_manifest;
char g_manifest_path[1100];

constexpr int kMaxClassified = 4096;
constexpr int kMaxTop = 8;
struct Classified {
  uint32_t frame;
  uint32_t object;  // 0: the motion event's classification; else "FRAME #ID ..." of an object
  bool used;
  int count;
  Prediction top[kMaxTop];
};
Classified g_classified[kMaxClassified];
int g_classified_count = 0;
char g_label_text[kMaxLabels][33];
const char* g_labels[kMaxLabels];
char g_model_name[65];
char g_model_sha[65];
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
  params_ = p;
  gate_ = gate;
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

Status RunnerEvents::load_classifications(const char* path, const char* model_name, const char* model_sha256,
                                          const char* labels_csv, char* why, size_t why_cap) {
  int n = 0;
  for (const char* p = labels_csv; *p != '\0' && n < kMaxLabels;) {
    size_t len = 0;
    while (p[len] != '\0' && p[len] != ',') ++len;
    if (len == 0 || len >= sizeof g_label_text[n]) {
      std::snprintf(why, why_cap, "--labels: empty or too long label");
      return Status::kParse;
    }
    std::memcpy(g_label_text[n], p, len);
    g_label_text[n][len] = '\0';
    g_labels[n] = g_label_text[n];
    ++n;
    p += len + (p[len] == ',' ? 1 : 0);
  }
  std::snprintf(g_model_name, sizeof g_model_name, "%s", model_name);
  std::snprintf(g_model_sha, sizeof g_model_sha, "%s", model_sha256);
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::snprintf(why, why_cap, "cannot open classifications file %s", path);
    return Status::kIo;
  }
  char line[512];
  g_classified_count = 0;
  Status st = Status::kOk;
  while (st == Status::kOk && std::fgets(line, sizeof line, f) != nullptr) {
    char* cur = line;
    char* end = nullptr;
    const unsigned long frame = std::strtoul(cur, &end, 10);
    if (end == cur) continue;  // blank line
    if (g_classified_count >= kMaxClassified) {
      std::snprintf(why, why_cap, "%s: more than %d classified frames", path, kMaxClassified);
      st = Status::kParse;
      break;
    }
    Classified& c = g_classified[g_classified_count++];
    c.frame = static_cast<uint32_t>(frame);
    c.object = 0;
    c.used = false;
    c.count = 0;
    cur = end;
    while (*cur == ' ') ++cur;
    if (*cur == '#') {
      const unsigned long id = std::strtoul(cur + 1, &end, 10);
      if (end == cur + 1 || id == 0) {
        std::snprintf(why, why_cap, "%s: bad object id near '%.20s' (want #ID)", path, cur);
        st = Status::kParse;
        break;
      }
      c.object = static_cast<uint32_t>(id);
      cur = end;
    }
    for (;;) {
      while (*cur == ' ') ++cur;
      if (*cur == '\0' || *cur == '\n' || *cur == '\r') break;
      const long label = std::strtol(cur, &end, 10);
      if (end == cur || *end != ':' || label < 0 || label >= n || c.count >= kMaxTop) {
        std::snprintf(why, why_cap, "%s: bad prediction near '%.20s' (want LABEL_INDEX:SCORE)", path, cur);
        st = Status::kParse;
        break;
      }
      cur = end + 1;
      const double score = std::strtod(cur, &end);
      if (end == cur) {
        std::snprintf(why, why_cap, "%s: bad score near '%.20s'", path, cur);
        st = Status::kParse;
        break;
      }
      c.top[c.count++] = Prediction{static_cast<int>(label), score};
      cur = end;
    }
  }
  std::fclose(f);
  if (st != Status::kOk) return st;
  params_.classify = true;
  params_.model_name = g_model_name;
  params_.model_sha256 = g_model_sha;
  params_.labels = g_labels;
  params_.label_count = n;
  st = tracker_.configure(params_, gate_);
  if (st != Status::kOk) std::snprintf(why, why_cap, "classification parameters rejected");
  return st;
}

Status RunnerEvents::on_gate(const GateResult& r) {
  Status st = tracker_.on_gate(frame_info(r.index), r, *this);
  // Like the Python pipeline: a frame's classification follows its gate result.
  for (int i = 0; st == Status::kOk && i < g_classified_count; ++i) {
    if (g_classified[i].frame == r.index && g_classified[i].object == 0) st = tracker_.on_classification(g_classified[i].top, g_classified[i].count, *this);
  }
  return st;
}

Status RunnerEvents::finish(uint32_t last_index) {
  const FrameInfo f = frame_info(last_index);
  return tracker_.finish(f.ts_ms, last_index, EndReason::kEndOfClip, *this);
}

const Prediction* RunnerEvents::object_classification(uint32_t frame, uint32_t id, int* count) {
  for (int i = 0; i < g_classified_count; ++i) {
    Classified& c = g_classified[i];
    if (c.frame == frame && c.object == id) {
      c.used = true;
      *count = c.count;
      return c.top;
    }
  }
  return nullptr;
}

int RunnerEvents::unused_object_classification() const {
  for (int i = 0; i < g_classified_count; ++i) {
    if (g_classified[i].object != 0 && !g_classified[i].used) return i;
  }
  return -1;
}

Status RunnerEvents::publish(const char* json, size_t len) {
  if (quiet_) return Status::kOk;  // objects.mode = "object": motion events are not published
  std::fwrite(json, 1, len, stdout);
  std::fputc('\n', stdout);
  return Status::kOk;
}

}  // namespace ve
