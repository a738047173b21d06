// docs/gate-algorithm.md, step by step; the step numbers in comments refer to §2 and §3 there.
#include "ve/gate.h"

#include "ve/gate_pass.h"

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

bool finite_positive(double v) { return std::isfinite(v) && v > 0.0; }

double variance(int64_t n, int64_t s, int64_t ss) {
  if (n == 0) return 0.0;
  return static_cast<double>(n * ss - s * s) / (static_cast<double>(n) * static_cast<double>(n));
}

}  // namespace

// The fused pass's view of the gate's bit-packed masks (ve/gate_pass.h): the active row is
// unpacked into bytes, each C row packed into the changed bitmap and counted per zone.
struct GateRowSink {
  MotionGate& g;
  int w;
  int* zone_changed;

  const uint8_t* active_row(int y) {
    if (g.p_.mask_bits == nullptr) return nullptr;
    uint8_t* row = g.row_active_;
    const int base = y * w;
    for (int x = 0; x < w; ++x) row[x] = bitmap_get(g.p_.mask_bits, base + x) ? 0 : 255;
    return row;
  }
  uint8_t* changed_row(int) { return g.row_changed_; }
  void row_done(int y, const uint8_t* c, uint32_t count) {
    if (count == 0) return;
    const int base = y * w;
    uint8_t* out = g.changed_out_;
    for (int x = 0; x < w; ++x) {
      if (c[x] == 0) continue;
      const int i = base + x;
      if (out != nullptr) out[i >> 3] = static_cast<uint8_t>(out[i >> 3] | (1u << (i & 7)));
      for (int z = 0; z < g.p_.zone_count; ++z) {
        if (bitmap_get(g.p_.zones[z].bits, i)) ++zone_changed[z];
      }
    }
  }
};

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

TamperReason MotionGate::tamper_check(const PlaneSums& sums, const uint8_t* blurred) {
  const TamperParams& tp = p_.tamper;
  const int w = p_.plane_w, h = p_.plane_h;
  if (snapshot_held_ && snapshot_age_ > 10u * static_cast<uint32_t>(tp.persist_frames)) {
    snapshot_held_ = false;
  }
  const double mean = static_cast<double>(sums.s) / static_cast<double>(sums.n);
  const double stdev = std::sqrt(variance(sums.n, sums.s, sums.ss));
  if (mean <= static_cast<double>(tp.dark_level)) return TamperReason::kDark;
  if (stdev < tp.flat_std) return TamperReason::kFlat;
  const double lap_var = variance(sums.m, sums.sl, sums.sll);
  if (tp.focus_min > 0.0 && lap_var < tp.focus_min &&
      (tp.focus_ratio <= 0.0 || lap_var < tp.focus_ratio * (stdev * stdev))) {
    return TamperReason::kDefocused;
  }
  if (snapshot_held_) {
    int64_t strong = 0, agree = 0;
    structure_counts(snapshot_, blurred, w, h, p_.pixel_threshold, &strong, &agree);
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

  // 1.-5. and the background step of 9 in one pass (ve/gate_pass.h); on tamper-check frames
  // the pass also sums P for §3.
  const bool first = (t_ == 0);
  const bool check = p_.tamper.enabled && (t_ % static_cast<uint32_t>(p_.tamper.check_every)) == 0;
  bool rejected = false;
  int zone_changed[kMaxZones] = {};
  PlaneSums sums;
  PassArgs a;
  a.plane = plane;
  a.stride = w;
  a.w = w;
  a.h = h;
  a.cur = cur_;
  a.prev = prev_;
  a.bg = bg_;
  a.blur = p_.blur;
  a.first = first;
  a.reference = p_.reference;
  a.threshold = p_.pixel_threshold;
  a.step = p_.background_step;
  a.sums = check ? &sums : nullptr;
  a.vsum = row_vsum_;
  GateRowSink sink{*this, w, zone_changed};
  const PassResult pass = gate_pass(a, sink);
  int bx0 = pass.x0, by0 = pass.y0, bx1 = pass.x1, by1 = pass.y1;
  if (first) {
    // 2. First frame: baseline (bg = B was written by the pass; prev = B by the swap below).
    r.changed_pct = 0.0;
  } else {
    r.changed_pct = active_total_ == 0 ? 0.0
                                       : (100.0 * static_cast<double>(pass.changed)) /
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
  if (check) tamper_update(tamper_check(sums, cur_));
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
  // 9. Update: the pass stepped bg already; a rejected frame re-baselines it. prev = B.
  if (rejected) std::memcpy(bg_, cur_, static_cast<size_t>(n));
  uint8_t* const old_prev = prev_;
  prev_ = cur_;
  cur_ = old_prev;
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
