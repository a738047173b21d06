// The motion gate of docs/gate-algorithm.md, in integer C++ with compile-time buffers.
//
// One MotionGate holds every per-pixel buffer it needs (prev, background, current blurred
// plane, tamper snapshot: 4 bytes per plane pixel), sized by VE_MAX_PLANE_W x VE_MAX_PLANE_H,
// so it never allocates. Place it in static storage on a microcontroller. Masks and zones
// are not rasterised here: they arrive as bit-packed bitmaps made by the Python rasteriser
// (`visionedge firmware config`), so both targets agree on which pixels a polygon covers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ve/status.h"

#ifndef VE_MAX_PLANE_W
#define VE_MAX_PLANE_W 320
#endif
#ifndef VE_MAX_PLANE_H
#define VE_MAX_PLANE_H 240
#endif
#ifndef VE_MAX_ZONES
#define VE_MAX_ZONES 8
#endif

namespace ve {

constexpr int kMaxPlaneW = VE_MAX_PLANE_W;
constexpr int kMaxPlaneH = VE_MAX_PLANE_H;
constexpr int kMaxPlanePixels = kMaxPlaneW * kMaxPlaneH;
constexpr int kMaxZones = VE_MAX_ZONES;
constexpr int kMaxWindow = 64;  // gate.n is at most 64 (config.py)

enum class Reference : uint8_t { kPrevious = 0, kBackground = 1, kBoth = 2 };

// Why a frame opened the gate or was ignored (GateResult.reason in Python).
enum class Reason : uint8_t { kNone = 0, kMotion, kGlobalChange, kExposureChange };
const char* reason_name(Reason r);  // "", "motion", "global_change", "exposure_change"

enum class TamperReason : uint8_t { kNone = 0, kDark, kFlat, kDefocused, kSceneChanged };
const char* tamper_reason_name(TamperReason r);  // "", "dark", "flat", "defocused", "scene_changed"

// Bit-packed bitmap of a plane: bit (i & 7) of byte (i >> 3) is pixel i = y * w + x.
inline bool bitmap_get(const uint8_t* bits, int i) { return ((bits[i >> 3] >> (i & 7)) & 1u) != 0; }
constexpr int bitmap_bytes(int w, int h) { return (w * h + 7) / 8; }

struct Zone {
  const char* name;      // as in the config, e.g. "driveway"
  const uint8_t* bits;   // 1 inside the zone polygon (not yet ANDed with the active area)
};

struct TamperParams {
  bool enabled = true;
  int check_every = 5;
  int dark_level = 16;
  double flat_std = 4.0;
  double focus_min = 8.0;
  double focus_ratio = 0.03;  // defocused also needs lap_var < focus_ratio * (std * std)
  int persist_frames = 15;
};

// The [gate] section of the config, for one plane size (see gate_config.h).
struct GateParams {
  int plane_w = 0;
  int plane_h = 0;
  bool blur = true;
  Reference reference = Reference::kBackground;
  int background_step = 1;
  int pixel_threshold = 25;
  double start_pct = 0.5;
  double stop_pct = 0.25;
  int k = 2;
  int n = 3;
  int close_after = 15;
  double global_pct = 50.0;
  double exposure_jump = 0.4;
  const uint8_t* mask_bits = nullptr;  // 1 = masked (ignored); nullptr = nothing masked
  const Zone* zones = nullptr;
  int zone_count = 0;
  TamperParams tamper;
};

// Integer box in plane pixels, end-exclusive: [x0, x1) x [y0, y1).
struct PixelBox {
  int x0 = 0, y0 = 0, x1 = 0, y1 = 0;
};

struct GateResult {
  uint32_t index = 0;
  double changed_pct = 0.0;  // unrounded; report with format_fixed(.., 3)
  bool motion = false;       // gate state after this frame (open)
  bool frame_motion = false; // this frame alone counted as moving
  bool opened = false;
  bool closed = false;
  Reason reason = Reason::kNone;
  bool has_box = false;
  PixelBox box;              // bounding box of the changed pixels (valid when has_box)
  uint32_t zones = 0;        // bit z set: zone z moved on this frame
  bool tampered = false;
  TamperReason tamper_reason = TamperReason::kNone;
};

// Camera metadata of one frame; NaN (or <= 0) means "not known".
struct ExposureInfo {
  double exposure_time;
  double analogue_gain;
  static ExposureInfo none();
};

struct PlaneSums;  // ve/gate_pass.h

class MotionGate {
 public:
  // Defined out of line on purpose: a non-constexpr constructor keeps a static MotionGate in
  // .bss (zero pages) instead of a 4-bytes-per-pixel image in .data (flash on an MCU).
  MotionGate();
  MotionGate(const MotionGate&) = delete;
  MotionGate& operator=(const MotionGate&) = delete;

  // Validate and take the parameters (bitmaps are referenced, not copied); resets the state.
  Status configure(const GateParams& params);
  // Forget all history: the next frame becomes the new baseline (§5).
  void reset();
  // Run the gate on one w x h plane (row-major uint8, stride w). A plane of another size than
  // configured returns kFrameSize and leaves the state untouched.
  Status process(const uint8_t* plane, int w, int h, uint32_t index, ExposureInfo exposure,
                 GateResult* out);

  // Also write each frame's changed mask C (§2 step 4) into `bits` (bitmap_bytes(w, h)
  // bytes, bit-packed like the masks; all clear on a first frame), for the classifier's
  // region crop (ve/regions.h). nullptr (the default) turns it off.
  void set_changed_output(uint8_t* bits) { changed_out_ = bits; }
  uint8_t* changed_output() const { return changed_out_; }

  const GateParams& params() const { return p_; }
  int zone_total(int z) const { return zone_total_[z]; }
  int active_total() const { return active_total_; }

 private:
  bool active(int i) const { return p_.mask_bits == nullptr || !bitmap_get(p_.mask_bits, i); }
  friend struct GateRowSink;
  // §3: returns the condition found by this check (kNone when none), from the sums of P the
  // frame's pass accumulated (ve/gate_pass.h).
  TamperReason tamper_check(const PlaneSums& sums, const uint8_t* blurred);
  void tamper_update(TamperReason found);

  GateParams p_{};
  bool configured_ = false;
  uint8_t* changed_out_ = nullptr;
  int active_total_ = 0;
  int zone_total_[kMaxZones] = {};

  // State (§2).
  uint32_t t_ = 0;
  bool open_ = false;
  int quiet_ = 0;
  bool window_[kMaxWindow] = {};
  int window_pos_ = 0;
  bool have_e0_ = false;
  double e0_ = 0.0;
  bool tampered_ = false;
  TamperReason tamper_reason_ = TamperReason::kNone;
  int tamper_count_ = 0;  // consecutive checks with (while OK) / without (while tampered) a condition
  bool snapshot_held_ = false;
  uint32_t snapshot_age_ = 0;

  // prev and the current blurred plane swap roles every frame (no copy); see ve/gate_pass.h.
  uint8_t plane_a_[kMaxPlanePixels] = {};
  uint8_t plane_b_[kMaxPlanePixels] = {};
  uint8_t* prev_ = plane_a_;
  uint8_t* cur_ = plane_b_;
  uint8_t bg_[kMaxPlanePixels] = {};
  uint8_t snapshot_[kMaxPlanePixels] = {};
  // One row of scratch each for the fused pass: vertical blur sums, the C row, the active row.
  uint16_t row_vsum_[kMaxPlaneW] = {};
  uint8_t row_changed_[kMaxPlaneW] = {};
  uint8_t row_active_[kMaxPlaneW] = {};
};

}  // namespace ve
