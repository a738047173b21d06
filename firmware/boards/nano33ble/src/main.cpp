// Arduino Nano 33 BLE Sense + OV7675: gate, events and classifier of firmware/core on QQVGA
// gray frames; events as JSON lines on the USB serial port (what a serial bridge forwards).
#include <Arduino.h>
#include <Arduino_OV767X.h>

#include "classifier.h"
#include "gate_config.h"
#include "model_ops.h"
#include "ve/events.h"
#include "ve/gate.h"
#include "ve/plane.h"
#include "ve/quantize.h"

extern const uint8_t ve_model_data[];
extern const size_t ve_model_data_len;

namespace {

constexpr int kCamW = 160, kCamH = 120;  // QQVGA
uint8_t g_frame[kCamW * kCamH];
uint8_t g_plane[VE_PLANE_W * VE_PLANE_H];
alignas(16) uint8_t g_arena[ve_model::kArenaBytes];
int8_t g_table[256];
bool g_ignore[ve_model::kLabelCount];
ve::MotionGate g_gate;
ve::EventTracker g_tracker;
ve::Classifier g_classifier;
uint32_t g_index = 0;
int g_last_classified = -1000000;
bool g_ok = false;

class SerialSink final : public ve::EventSink {
 public:
  ve::Status publish(const char* json, size_t len) override {
    Serial.write(reinterpret_cast<const uint8_t*>(json), len);
    Serial.write('\n');
    return ve::Status::kOk;
  }
} g_sink;

void random_bytes(uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(random(256));
}

void report(const char* what, ve::Status st) {
  Serial.print("error ");
  Serial.print(ve::status_name(st));
  Serial.print(" (");
  Serial.print(static_cast<int>(st));
  Serial.print("): ");
  Serial.print(what);
  Serial.print("; ");
  Serial.println(ve::status_message(st));
}

}  // namespace

void setup() {
  Serial.begin(115200);
  while (!Serial && millis() < 3000) {
  }
  randomSeed(analogRead(A0) ^ micros());
  if (!Camera.begin(QQVGA, GRAYSCALE, 5, OV7675)) {
    report("OV7675 camera not found; check the TinyML shield connection", ve::Status::kIo);
    return;
  }
  ve::Status st = g_gate.configure(ve_config::gate_params());
  if (st != ve::Status::kOk) return report("gate_config.h", st);
  ve::EventParams ep = ve_config::event_params();
  ep.deterministic_ids = false;
  if (ve_config::kClassifierEnabled) {
    char why[160];
    st = g_classifier.init(ve_model_data, ve_model_data_len, g_arena, sizeof g_arena, why, sizeof why);
    if (st != ve::Status::kOk) return report(why, st);
    st = ve::build_quant_table(g_classifier.input_spec(), g_table);
    if (st != ve::Status::kOk) return report("input quantization", st);
    for (int i = 0; i < ve_model::kLabelCount; ++i) {
      g_ignore[i] = false;
      for (int k = 0; k < ve_config::kIgnoreCount; ++k) {
        if (strcmp(ve_config::kIgnoreLabels[k], ve_model::kLabels[i]) == 0) g_ignore[i] = true;
      }
    }
    ep.classify = true;
    ep.model_name = ve_model::kName;
    ep.model_sha256 = ve_model::kSha256;
    ep.labels = ve_model::kLabels;
    ep.label_count = ve_model::kLabelCount;
  }
  st = g_tracker.configure(ep, g_gate.params(), &random_bytes);
  if (st != ve::Status::kOk) return report("event parameters", st);
  g_ok = true;
}

void loop() {
  if (!g_ok) {
    delay(1000);
    return;
  }
  Camera.readFrame(g_frame);
  int pw = 0, ph = 0;
  ve::Status st = ve::to_motion_plane(g_frame, kCamW, kCamH, ve::PixelFormat::kGray8,
                                      ve::plane_factor(kCamW, VE_PLANE_W), g_plane,
                                      static_cast<int>(sizeof g_plane), &pw, &ph);
  ve::GateResult r;
  if (st == ve::Status::kOk) st = g_gate.process(g_plane, pw, ph, g_index, ve::ExposureInfo::none(), &r);
  if (st != ve::Status::kOk) {
    report("frame", st);
    return;
  }
  g_tracker.on_gate(ve::FrameInfo{g_index, static_cast<uint32_t>(millis()), ""}, r, g_sink);
  if (ve_config::kClassifierEnabled && g_tracker.is_open() && r.motion &&
      g_tracker.classified_frames() < ve_config::kClassifyMaxPerEvent &&
      static_cast<int>(g_index) - g_last_classified >= ve_config::kClassifyEveryNFrames) {
    double box[4];
    const bool has_box = g_tracker.box(box);
    const ve::InputSpec spec = g_classifier.input_spec();
    const ve::CropRect rect = ve::crop_rect(has_box ? box : nullptr, kCamW, kCamH,
                                            static_cast<double>(spec.width) / spec.height, ve_config::kClassifyMargin);
    if (ve::crop_resize_quantize(g_frame, kCamW, kCamH, ve::PixelFormat::kGray8, rect, spec, g_table,
                                 g_classifier.input()) == ve::Status::kOk &&
        g_classifier.invoke() == ve::Status::kOk) {
      ve::Prediction top[8];
      const ve::TensorInfo& o = g_classifier.output_info();
      const int n = ve::rank_outputs(g_classifier.output(), o.count, o.scale, o.zero_point,
                                     ve_config::kClassifyThreshold, g_ignore, ve_config::kTopK, top, 8);
      g_tracker.on_classification(top, n, g_sink);
      g_last_classified = static_cast<int>(g_index);
    }
  }
  if (!g_tracker.is_open()) g_last_classified = -1000000;
  ++g_index;
}
