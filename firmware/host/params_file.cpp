#include "params_file.h"

#include <cstdlib>
#include <cstring>

namespace ve {
namespace {

constexpr int kBitmapBytes = bitmap_bytes(kMaxPlaneW, kMaxPlaneH);
uint8_t g_mask_bits[kBitmapBytes];
uint8_t g_zone_bits[kMaxZones][kBitmapBytes];
char g_zone_names[kMaxZones][33];
Zone g_zones[kMaxZones];
char g_device[65] = "visionedge";
// [objects]: label names, filters, zone polygons (1/16 px) and zone label rules.
constexpr int kMaxNames = 16;
char g_obj_labels[kMaxNames][33];
const char* g_obj_label_ptrs[kMaxNames];
char g_filter_labels[kMaxNames][33];
ObjectFilter g_filters[kMaxNames];
char g_required[kMaxZones][33];
const char* g_required_ptrs[kMaxZones];
int32_t g_zone_xy[kMaxZones][2 * kMaxZonePoints];
char g_zone_rule_text[kMaxZones][kMaxNames][33];
const char* g_zone_rule_ptrs[kMaxZones][kMaxNames];
ObjectZone g_obj_zones[kMaxZones];
char g_camera[65] = "cam0";

// Reads one whitespace-separated token (at most cap-1 chars). Returns false at EOF or when
// the token is longer than the buffer.
bool next_token(FILE* f, char* buf, size_t cap, bool* too_long) {
  int c;
  *too_long = false;
  do {
    c = std::fgetc(f);
  } while (c == ' ' || c == '\t' || c == '\n' || c == '\r');
  if (c == EOF) return false;
  size_t n = 0;
  while (c != EOF && c != ' ' && c != '\t' && c != '\n' && c != '\r') {
    if (n + 1 >= cap) {
      *too_long = true;
      return false;
    }
    buf[n++] = static_cast<char>(c);
    c = std::fgetc(f);
  }
  buf[n] = '\0';
  return true;
}

// Hex digits are read one by one so a bitmap never needs a token buffer of its size.
bool read_hex_bitmap(FILE* f, uint8_t* out, int nbytes) {
  int c;
  do {
    c = std::fgetc(f);
  } while (c == ' ' || c == '\t');
  for (int i = 0; i < nbytes; ++i) {
    int v = 0;
    for (int k = 0; k < 2; ++k) {
      if (k == 1) c = std::fgetc(f);
      int d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return false;
      v = v * 16 + d;
    }
    out[i] = static_cast<uint8_t>(v);
    c = std::fgetc(f);
  }
  return c == '\n' || c == EOF || c == '\r' || c == ' ';
}

bool parse_int(const char* s, int* out) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < -1000000000L || v > 1000000000L) return false;
  *out = static_cast<int>(v);
  return true;
}

bool parse_int64(const char* s, int64_t* out) {
  char* end = nullptr;
  const long long v = std::strtoll(s, &end, 10);
  if (end == s || *end != '\0' || v < 0 || v > 1000000000000LL) return false;
  *out = static_cast<int64_t>(v);
  return true;
}

// A name into a fixed slot; false when it is too long.
bool copy_name(char* dst, size_t cap, const char* src) {
  if (std::strlen(src) + 1 > cap) return false;
  std::snprintf(dst, cap, "%s", src);
  return true;
}

bool parse_double(const char* s, double* out) {
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  if (end == s || *end != '\0') return false;
  *out = v;
  return true;
}

}  // namespace

Status load_params_file(const char* path, LoadedParams* out, char* why, size_t why_cap) {
  if (path == nullptr || out == nullptr || why == nullptr) return Status::kNullArgument;
  why[0] = '\0';
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::snprintf(why, why_cap, "cannot open params file %s", path);
    return Status::kIo;
  }
  char key[64], val[128];
  bool too_long = false;
  Status st = Status::kOk;
  if (!next_token(f, key, sizeof key, &too_long) || std::strcmp(key, "visionedge-firmware-params") != 0 ||
      !next_token(f, val, sizeof val, &too_long) || std::strcmp(val, "1") != 0) {
    std::snprintf(why, why_cap, "%s is not a visionedge firmware params file (version 1)", path);
    std::fclose(f);
    return Status::kParse;
  }
  GateParams g;
  EventParams ev;
  ClassifyParams cl;
  int zones = 0;
  bool have_mask = false;
  ObjectParams ob;
  for (int z = 0; z < kMaxZones; ++z) g_obj_zones[z] = ObjectZone{};
  bool have_polys = false;
  while (st == Status::kOk && next_token(f, key, sizeof key, &too_long)) {
    bool ok = true;
    if (std::strcmp(key, "mask") == 0 || std::strcmp(key, "zone") == 0) {
      const int nbytes = bitmap_bytes(g.plane_w, g.plane_h);
      if (g.plane_w < 1 || g.plane_h < 1 || g.plane_w > kMaxPlaneW || g.plane_h > kMaxPlaneH) {
        std::snprintf(why, why_cap, "%s: '%s' before a valid plane_w/plane_h (max %dx%d)", path, key,
                      kMaxPlaneW, kMaxPlaneH);
        st = Status::kPlaneTooLarge;
        break;
      }
      if (key[0] == 'm') {
        ok = read_hex_bitmap(f, g_mask_bits, nbytes);
        have_mask = true;
      } else {
        if (zones >= kMaxZones) {
          std::snprintf(why, why_cap, "%s: more than %d zones; rebuild with a larger VE_MAX_ZONES", path, kMaxZones);
          st = Status::kBadConfig;
          break;
        }
        ok = next_token(f, g_zone_names[zones], sizeof g_zone_names[zones], &too_long) &&
             read_hex_bitmap(f, g_zone_bits[zones], nbytes);
        g_zones[zones] = Zone{g_zone_names[zones], g_zone_bits[zones]};
        ++zones;
      }
    } else if (!next_token(f, val, sizeof val, &too_long)) {
      ok = false;
    } else if (std::strcmp(key, "plane_w") == 0) ok = parse_int(val, &g.plane_w);
    else if (std::strcmp(key, "plane_h") == 0) ok = parse_int(val, &g.plane_h);
    else if (std::strcmp(key, "blur") == 0) { int b = 0; ok = parse_int(val, &b); g.blur = b != 0; }
    else if (std::strcmp(key, "reference") == 0) {
      if (std::strcmp(val, "previous") == 0) g.reference = Reference::kPrevious;
      else if (std::strcmp(val, "background") == 0) g.reference = Reference::kBackground;
      else if (std::strcmp(val, "both") == 0) g.reference = Reference::kBoth;
      else ok = false;
    }
    else if (std::strcmp(key, "background_step") == 0) ok = parse_int(val, &g.background_step);
    else if (std::strcmp(key, "pixel_threshold") == 0) ok = parse_int(val, &g.pixel_threshold);
    else if (std::strcmp(key, "start_pct") == 0) ok = parse_double(val, &g.start_pct);
    else if (std::strcmp(key, "stop_pct") == 0) ok = parse_double(val, &g.stop_pct);
    else if (std::strcmp(key, "k") == 0) ok = parse_int(val, &g.k);
    else if (std::strcmp(key, "n") == 0) ok = parse_int(val, &g.n);
    else if (std::strcmp(key, "close_after") == 0) ok = parse_int(val, &g.close_after);
    else if (std::strcmp(key, "global_pct") == 0) ok = parse_double(val, &g.global_pct);
    else if (std::strcmp(key, "exposure_jump") == 0) ok = parse_double(val, &g.exposure_jump);
    else if (std::strcmp(key, "tamper_enabled") == 0) { int b = 0; ok = parse_int(val, &b); g.tamper.enabled = b != 0; }
    else if (std::strcmp(key, "tamper_check_every") == 0) ok = parse_int(val, &g.tamper.check_every);
    else if (std::strcmp(key, "tamper_dark_level") == 0) ok = parse_int(val, &g.tamper.dark_level);
    else if (std::strcmp(key, "tamper_flat_std") == 0) ok = parse_double(val, &g.tamper.flat_std);
    else if (std::strcmp(key, "tamper_focus_min") == 0) ok = parse_double(val, &g.tamper.focus_min);
    else if (std::strcmp(key, "tamper_focus_ratio") == 0) ok = parse_double(val, &g.tamper.focus_ratio);
    else if (std::strcmp(key, "tamper_persist_frames") == 0) ok = parse_int(val, &g.tamper.persist_frames);
    else if (std::strcmp(key, "device") == 0) std::snprintf(g_device, sizeof g_device, "%s", val);
    else if (std::strcmp(key, "camera") == 0) std::snprintf(g_camera, sizeof g_camera, "%s", val);
    else if (std::strcmp(key, "events_update_every") == 0) ok = parse_int(val, &ev.update_every);
    else if (std::strcmp(key, "events_max_duration_s") == 0) ok = parse_double(val, &ev.max_duration_s);
    else if (std::strcmp(key, "events_min_frames") == 0) ok = parse_int(val, &ev.min_frames);
    else if (std::strcmp(key, "obj_mode") == 0) ok = parse_object_mode(val, &ob.mode);
    else if (std::strcmp(key, "obj_min_hits") == 0) ok = parse_int(val, &ob.tracker.min_hits);
    else if (std::strcmp(key, "obj_coast_frames") == 0) ok = parse_int(val, &ob.tracker.coast_frames);
    else if (std::strcmp(key, "obj_lost_ms") == 0) ok = parse_int64(val, &ob.tracker.lost_ms);
    else if (std::strcmp(key, "obj_merge_frames") == 0) ok = parse_int(val, &ob.tracker.merge_frames);
    else if (std::strcmp(key, "obj_stationary_after_ms") == 0) ok = parse_int64(val, &ob.tracker.stationary_after_ms);
    else if (std::strcmp(key, "obj_stationary_max_ms") == 0) ok = parse_int64(val, &ob.tracker.stationary_max_ms);
    else if (std::strcmp(key, "obj_max_objects") == 0) {
      ok = parse_int(val, &ob.tracker.max_objects);
      if (ok && ob.tracker.max_objects > kMaxObjects) {
        std::snprintf(why, why_cap, "%s: objects.max_objects %d exceeds this build's VE_MAX_OBJECTS %d; lower it or rebuild with -DVE_MAX_OBJECTS=%d",
                      path, ob.tracker.max_objects, kMaxObjects, ob.tracker.max_objects);
        st = Status::kBadConfig;
        break;
      }
    }
    else if (std::strcmp(key, "obj_classify_per_frame") == 0) ok = parse_int(val, &ob.classify_per_frame);
    else if (std::strcmp(key, "obj_settle_after") == 0) ok = parse_int(val, &ob.settle_after) && ob.settle_after >= 0;
    else if (std::strcmp(key, "obj_backoff_after") == 0) ok = parse_int(val, &ob.backoff_after) && ob.backoff_after >= 0;
    else if (std::strcmp(key, "obj_recheck_ms") == 0) ok = parse_int64(val, &ob.recheck_ms) && ob.recheck_ms > 0;
    else if (std::strcmp(key, "obj_min_travel_m") == 0) ok = parse_int64(val, &ob.min_travel_m);
    else if (std::strcmp(key, "obj_min_travel_pct_m") == 0) ok = parse_int64(val, &ob.min_travel_pct_m);
    else if (std::strcmp(key, "obj_still_min_score") == 0) ok = parse_double(val, &ob.still_min_score);
    else if (std::strcmp(key, "obj_still_min_votes") == 0) ok = parse_int(val, &ob.still_min_votes);
    else if (std::strcmp(key, "obj_path_points") == 0) {
      ok = parse_int(val, &ob.path_points);
      if (ok && ob.path_points > kMaxPathPoints) {
        std::snprintf(why, why_cap, "%s: objects.path_points %d exceeds this build's VE_MAX_PATH_POINTS %d; lower it or rebuild with -DVE_MAX_PATH_POINTS=%d",
                      path, ob.path_points, kMaxPathPoints, ob.path_points);
        st = Status::kBadConfig;
        break;
      }
    }
    else if (std::strcmp(key, "obj_label") == 0) {
      ok = ob.label_count < kMaxNames && copy_name(g_obj_labels[ob.label_count], sizeof g_obj_labels[0], val);
      if (ok) {
        g_obj_label_ptrs[ob.label_count] = g_obj_labels[ob.label_count];
        ++ob.label_count;
      }
    }
    else if (std::strcmp(key, "obj_required_zone") == 0) {
      ok = ob.required_count < kMaxZones && copy_name(g_required[ob.required_count], sizeof g_required[0], val);
      if (ok) {
        g_required_ptrs[ob.required_count] = g_required[ob.required_count];
        ++ob.required_count;
      }
    }
    else if (std::strcmp(key, "obj_filter") == 0) {
      // obj_filter LABEL MIN_SCORE MIN_AREA_M MAX_AREA_M
      const int i = ob.filter_count;
      char a[64], b[64], c[64];
      ok = i < kMaxNames && copy_name(g_filter_labels[i], sizeof g_filter_labels[0], val) &&
           next_token(f, a, sizeof a, &too_long) && next_token(f, b, sizeof b, &too_long) &&
           next_token(f, c, sizeof c, &too_long) && parse_double(a, &g_filters[i].min_score) &&
           parse_int64(b, &g_filters[i].min_area_m) && parse_int64(c, &g_filters[i].max_area_m);
      if (ok) {
        g_filters[i].label = g_filter_labels[i];
        ++ob.filter_count;
      }
    }
    else if (std::strcmp(key, "zone_poly") == 0) {
      // zone_poly INDEX N x0 y0 ... (1/16 plane pixels, made by visionedge firmware config)
      int zi = -1, npts = 0;
      char num[32];
      ok = parse_int(val, &zi) && zi >= 0 && zi < kMaxZones && next_token(f, num, sizeof num, &too_long) &&
           parse_int(num, &npts) && npts >= 0 && npts <= kMaxZonePoints;
      for (int k = 0; ok && k < 2 * npts; ++k) {
        int v = 0;
        ok = next_token(f, num, sizeof num, &too_long) && parse_int(num, &v);
        g_zone_xy[zi][k] = v;
      }
      if (ok) {
        g_obj_zones[zi].xy = g_zone_xy[zi];
        g_obj_zones[zi].points = npts;
        have_polys = true;
      }
    }
    else if (std::strcmp(key, "obj_zone_label") == 0) {
      // obj_zone_label INDEX LABEL
      int zi = -1;
      char name[64];
      ok = parse_int(val, &zi) && zi >= 0 && zi < kMaxZones && next_token(f, name, sizeof name, &too_long);
      if (ok) {
        ObjectZone& oz = g_obj_zones[zi];
        ok = oz.label_count < kMaxNames && copy_name(g_zone_rule_text[zi][oz.label_count], 33, name);
        if (ok) {
          g_zone_rule_ptrs[zi][oz.label_count] = g_zone_rule_text[zi][oz.label_count];
          oz.labels = g_zone_rule_ptrs[zi];
          ++oz.label_count;
        }
      }
    }
    else if (std::strcmp(key, "classify_every_n_frames") == 0) ok = parse_int(val, &cl.every_n_frames) && cl.every_n_frames >= 1;
    else if (std::strcmp(key, "classify_max_per_event") == 0) ok = parse_int(val, &cl.max_per_event) && cl.max_per_event >= 1;
    else if (std::strcmp(key, "min_region_px") == 0) ok = parse_int(val, &cl.min_region_px) && cl.min_region_px >= 0;
    else if (std::strcmp(key, "classify_margin") == 0) ok = parse_double(val, &cl.margin) && cl.margin >= 0.0;
    else {
      std::snprintf(why, why_cap, "%s: unknown key '%s'; regenerate it with this version of visionedge", path, key);
      st = Status::kParse;
      break;
    }
    if (!ok) {
      std::snprintf(why, why_cap, "%s: bad value for '%s'", path, key);
      st = Status::kParse;
    }
  }
  if (st == Status::kOk && too_long) {
    std::snprintf(why, why_cap, "%s: a token is too long", path);
    st = Status::kParse;
  }
  std::fclose(f);
  if (st != Status::kOk) return st;
  g.mask_bits = have_mask ? g_mask_bits : nullptr;
  g.zones = zones > 0 ? g_zones : nullptr;
  g.zone_count = zones;
  out->gate = g;
  ev.device = g_device;
  ev.camera = g_camera;
  out->events = ev;
  out->classify = cl;
  ob.labels = ob.label_count > 0 ? g_obj_label_ptrs : nullptr;
  ob.filters = ob.filter_count > 0 ? g_filters : nullptr;
  ob.required_zones = ob.required_count > 0 ? g_required_ptrs : nullptr;
  ob.zones = have_polys ? g_obj_zones : nullptr;
  out->objects = ob;
  return Status::kOk;
}

}  // namespace ve
