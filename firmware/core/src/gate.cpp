// docs/gate-algorithm.md, step by step; the step numbers in comments refer to §2 and §3 there.
#include "ve/gate.h"

#include <cmath>
#include <cstring>
#include <limits>

namespace ve {

const char* reason_name(Reason r) {
  switch (r) {
    case Reason::kNone: return "";
    case Reason::kMotion: return "motion";
    case Reason::kGlobalChange: return "global_change";
    case Reason::kExposureChange: return "exposure_change";
  }
  return "";
}

const char* tamper_reason_name(TamperReason r) {
  switch (r) {
    case TamperReason::kNone: return "";
    case TamperReason::kDark: return "dark";
    case TamperReason::kFlat: return "flat";
    case TamperReason::kDefocused: return "defocused";
    case TamperReason::kSceneChanged: return "scene_changed";
  }
  return "";
}

ExposureInfo ExposureInfo::none() {
  return ExposureInfo{std::numeric_limits<double>::quiet_NaN(),
                      std::numeric_limits<double>::quiet_NaN()};
}

namespace {

inline int reflect101(int i, int n) {
  if (n == 1) return 0;
  if (i < 0) return -i;
  if (i >= n) return 2 * n - 2 - i;
  return i;
}

inline int absdiff(int a, int b) { return a > b ? a - b : b - a; }

bool finite_positive(double v) { return std::isfinite(v) && v > 0.0; }

}  // namespace

MotionGate::MotionGate() = default;

Status MotionGate::configure(const GateParams& params) {
  if (params.plane_w < 1 || params.plane_h < 1) return Status::kBadConfig;
  if (params.plane_w > kMaxPlaneW || params.plane_h > kMaxPlaneH) return Status::kPlaneTooLarge;
  if (params.n < 1 || params.n > kMaxWindow || params.k < 1 || params.k > params.n ||
      params.close_after < 1 || params.pixel_threshold < 0 || params.pixel_threshold > 255 ||
      params.background_step < 1 || params.background_step > 255 ||
      params.zone_count < 0 || params.zone_count > kMaxZones ||
      (params.zone_count > 0 && params.zones == nullptr) ||
      params.tamper.check_every < 1 || params.tamper.persist_frames < 1 ||
      !(params.start_pct > 0.0) || !(params.stop_pct >= 0.0) || !(params.global_pct > 0.0) ||
      !(params.exposure_jump > 0.0)) {
    return Status::kBadConfig;
  }
  for (int z = 0; z < params.zone_count; ++z) {
    if (params.zones[z].bits == nullptr || params.zones[z].name == nullptr) return Status::kBadConfig;
  }
  p_ = params;
  const int n = p_.plane_w * p_.plane_h;
  active_total_ = 0;
  for (int i = 0; i < n; ++i) active_total_ += active(i) ? 1 : 0;
  for (int z = 0; z < kMaxZones; ++z) zone_total_[z] = 0;
  for (int z = 0; z < p_.zone_count; ++z) {
    int zt = 0;
    for (int i = 0; i < n; ++i) zt += (bitmap_get(p_.zones[z].bits, i) && active(i)) ? 1 : 0;
    zone_total_[z] = zt;
  }
  configured_ = true;
  reset();
  return Status::kOk;
}

void MotionGate::reset() {
  t_ = 0;
  open_ = false;
  quiet_ = 0;
  for (bool& w : window_) w = false;
  window_pos_ = 0;
  have_e0_ = false;
  e0_ = 0.0;
  tampered_ = false;
  tamper_reason_ = TamperReason::kNone;
  tamper_count_ = 0;
  snapshot_held_ = false;
  snapshot_age_ = 0;
}

void MotionGate::blur_into(const uint8_t* plane, uint8_t* out) const {
  const int w = p_.plane_w, h = p_.plane_h;
  static constexpr int kW[3] = {1, 2, 1};
  for (int y = 0; y < h; ++y) {
    const uint8_t* rows[3] = {plane + reflect101(y - 1, h) * w, plane + y * w,
                              plane + reflect101(y + 1, h) * w};
    for (int x = 0; x < w; ++x) {
      const int xs[3] = {reflect101(x - 1, w), x, reflect101(x + 1, w)};
      int sum = 0;
      for (int i = 0; i < 3; ++i) {
        for (int j = 0; j < 3; ++j) sum += kW[i] * kW[j] * rows[i][xs[j]];
      }
      out[y * w + x] = static_cast<uint8_t>((sum + 8) >> 4);
    }
  }
}

TamperReason MotionGate::tamper_check(const uint8_t* plane, const uint8_t* blurred) {
  const TamperParams& tp = p_.tamper;
  const int w = p_.plane_w, h = p_.plane_h;
  const int64_t n = static_cast<int64_t>(w) * h;
  if (snapshot_held_ && snapshot_age_ > 10u * static_cast<uint32_t>(tp.persist_frames)) {
    snapshot_held_ = false;
  }
  int64_t s = 0, ss = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t v = plane[i];
    s += v;
    ss += v * v;
  }
  const double mean = static_cast<double>(s) / static_cast<double>(n);
  const double var = static_cast<double>(n * ss - s * s) / (static_cast<double>(n) * static_cast<double>(n));
  const double stdev = std::sqrt(var);
  if (mean <= static_cast<double>(tp.dark_level)) return TamperReason::kDark;
  if (stdev < tp.flat_std) return TamperReason::kFlat;
  if (tp.focus_min > 0.0) {
    double lap_var = 0.0;
    const int64_t m = (h >= 3 && w >= 3) ? static_cast<int64_t>(h - 2) * (w - 2) : 0;
    if (m > 0) {
      int64_t sl = 0, sll = 0;
      for (int y = 1; y < h - 1; ++y) {
        for (int x = 1; x < w - 1; ++x) {
          const int i = y * w + x;
          const int64_t l = static_cast<int64_t>(plane[i - w]) + plane[i + w] + plane[i - 1] +
                            plane[i + 1] - 4 * static_cast<int64_t>(plane[i]);
          sl += l;
          sll += l * l;
        }
      }
      lap_var = static_cast<double>(m * sll - sl * sl) / (static_cast<double>(m) * static_cast<double>(m));
    }
    if (lap_var < tp.focus_min) return TamperReason::kDefocused;
  }
  if (snapshot_held_) {
    const int thr = p_.pixel_threshold;
    int64_t strong = 0, agree = 0;
    auto pair = [&](int pi, int qi) {
      const int ds = static_cast<int>(snapshot_[qi]) - snapshot_[pi];
      if (ds > thr || -ds > thr) {
        ++strong;
        const int db = static_cast<int>(blurred[qi]) - blurred[pi];
        const int adb = db < 0 ? -db : db;
        if (static_cast<int64_t>(ds) * db > 0 && 4 * adb > thr) ++agree;
      }
    };
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x + 1 < w; ++x) pair(y * w + x, y * w + x + 1);
    }
    for (int y = 0; y + 1 < h; ++y) {
      for (int x = 0; x < w; ++x) pair(y * w + x, (y + 1) * w + x);
    }
    if (strong == 0 || 2 * agree >= strong) {
      snapshot_held_ = false;  // the scene has come back
      return TamperReason::kNone;
    }
    return TamperReason::kSceneChanged;
  }
  return TamperReason::kNone;
}

void MotionGate::tamper_update(TamperReason found) {
  const TamperParams& tp = p_.tamper;
  const int need = (tp.persist_frames + tp.check_every - 1) / tp.check_every;
  if (!tampered_) {
    tamper_count_ = (found != TamperReason::kNone) ? tamper_count_ + 1 : 0;
    if (tamper_count_ >= need) {
      tampered_ = true;
      tamper_reason_ = found;
      tamper_count_ = 0;
    }
  } else {
    if (found != TamperReason::kNone) {
      tamper_reason_ = found;
      tamper_count_ = 0;
    } else {
      tamper_count_ += 1;
      if (tamper_count_ >= need) {
        tampered_ = false;
        tamper_reason_ = TamperReason::kNone;
        tamper_count_ = 0;
      }
    }
  }
}

Status MotionGate::process(const uint8_t* plane, int w, int h, uint32_t index,
                           ExposureInfo exposure, GateResult* out) {
  if (plane == nullptr || out == nullptr) return Status::kNullArgument;
  if (!configured_) return Status::kBadConfig;
  if (w != p_.plane_w || h != p_.plane_h) return Status::kFrameSize;
  const int n = w * h;
  GateResult r;
  r.index = index;
  if (changed_out_ != nullptr) std::memset(changed_out_, 0, static_cast<size_t>(bitmap_bytes(w, h)));

  // 1. Blur.
  if (p_.blur) {
    blur_into(plane, cur_);
  } else {
    std::memcpy(cur_, plane, static_cast<size_t>(n));
  }

  const bool first = (t_ == 0);
  bool rejected = false;
  int bx0 = w, by0 = h, bx1 = -1, by1 = -1;
  int zone_changed[kMaxZones] = {};
  if (first) {
    // 2. First frame: baseline.
    std::memcpy(prev_, cur_, static_cast<size_t>(n));
    std::memcpy(bg_, cur_, static_cast<size_t>(n));
    r.changed_pct = 0.0;
  } else {
    // 3.-5. Difference, changed mask, percentage (and the box/zone counts in the same pass).
    const int thr = p_.pixel_threshold;
    int changed = 0;
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) {
        const int i = y * w + x;
        const int b = cur_[i];
        int d;
        switch (p_.reference) {
          case Reference::kPrevious: d = absdiff(b, prev_[i]); break;
          case Reference::kBackground: d = absdiff(b, bg_[i]); break;
          default: {
            const int dp = absdiff(b, prev_[i]);
            const int db = absdiff(b, bg_[i]);
            d = dp < db ? dp : db;
          }
        }
        if (d > thr && active(i)) {
          ++changed;
          if (changed_out_ != nullptr) changed_out_[i >> 3] = static_cast<uint8_t>(changed_out_[i >> 3] | (1u << (i & 7)));
          if (x < bx0) bx0 = x;
          if (x > bx1) bx1 = x;
          if (y < by0) by0 = y;
          if (y > by1) by1 = y;
          for (int z = 0; z < p_.zone_count; ++z) {
            if (bitmap_get(p_.zones[z].bits, i)) ++zone_changed[z];
          }
        }
      }
    }
    r.changed_pct = active_total_ == 0 ? 0.0
                                       : (100.0 * static_cast<double>(changed)) /
                                             static_cast<double>(active_total_);
    // 6. Global change.
    if (r.changed_pct > p_.global_pct) {
      rejected = true;
      r.reason = Reason::kGlobalChange;
    }
  }
  // 6. Exposure bookkeeping (also on the first frame, which is never rejected).
  const bool have_meta = finite_positive(exposure.exposure_time) && finite_positive(exposure.analogue_gain);
  if (have_meta) {
    const double e = exposure.exposure_time * exposure.analogue_gain;
    if (!first && !rejected && have_e0_ && std::fabs(std::log2(e / e0_)) > p_.exposure_jump) {
      rejected = true;
      r.reason = Reason::kExposureChange;
    }
    e0_ = e;
    have_e0_ = true;
  }
  if (rejected && p_.tamper.enabled && !snapshot_held_) {
    std::memcpy(snapshot_, prev_, static_cast<size_t>(n));
    snapshot_held_ = true;
    snapshot_age_ = 0;
  }
  // §3 Tamper check, between steps 6 and 7.
  if (p_.tamper.enabled && (t_ % static_cast<uint32_t>(p_.tamper.check_every)) == 0) {
    tamper_update(tamper_check(plane, cur_));
  }
  // 7. Frame motion into the k-of-n window.
  r.frame_motion = !rejected && !tampered_ && r.changed_pct >= p_.start_pct;
  window_[window_pos_] = r.frame_motion;
  window_pos_ = (window_pos_ + 1) % p_.n;
  // 8. Hysteresis.
  if (!open_) {
    int trues = 0;
    for (int i = 0; i < p_.n; ++i) trues += window_[i] ? 1 : 0;
    if (trues >= p_.k) {
      open_ = true;
      r.opened = true;
      r.reason = Reason::kMotion;
      quiet_ = 0;
    }
  } else {
    const bool quiet = rejected || tampered_ || r.changed_pct < p_.stop_pct;
    quiet_ = quiet ? quiet_ + 1 : 0;
    if (quiet_ >= p_.close_after) {
      open_ = false;
      r.closed = true;
      quiet_ = 0;
      for (int i = 0; i < kMaxWindow; ++i) window_[i] = false;
    }
  }
  r.motion = open_;
  // 9. Update.
  if (rejected) {
    std::memcpy(prev_, cur_, static_cast<size_t>(n));
    std::memcpy(bg_, cur_, static_cast<size_t>(n));
  } else if (!first) {
    const int step = p_.background_step;
    for (int i = 0; i < n; ++i) {
      const int b = cur_[i];
      int g = bg_[i];
      int d = b - g;
      if (d > step) d = step;
      if (d < -step) d = -step;
      g += d;
      bg_[i] = static_cast<uint8_t>(g);
    }
    std::memcpy(prev_, cur_, static_cast<size_t>(n));
  }
  t_ += 1;
  if (snapshot_held_) snapshot_age_ += 1;
  // 10.-11. Box and zones (not on rejected frames).
  if (!rejected && bx1 >= 0) {
    r.has_box = true;
    r.box = PixelBox{bx0, by0, bx1 + 1, by1 + 1};
  }
  if (!rejected && !first) {
    for (int z = 0; z < p_.zone_count; ++z) {
      const int zt = zone_total_[z];
      if (zt > 0 && (100.0 * static_cast<double>(zone_changed[z])) / static_cast<double>(zt) >= p_.start_pct) {
        r.zones |= (1u << z);
      }
    }
  }
  r.tampered = tampered_;
  r.tamper_reason = tampered_ ? tamper_reason_ : TamperReason::kNone;
  *out = r;
  return Status::kOk;
}

}  // namespace ve
