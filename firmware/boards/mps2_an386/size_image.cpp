// The firmware as a board would link it, for bench/firmware_size.py: the gate with its
// buffers at the header's plane size, the event tracker, a camera frame buffer, the model
// input path, the tensor arena of the model card and the shipped model as const data (also
// without TFLM, so flash is counted), plus the TFLM classifier when it is built. It runs a few
// synthetic frames under QEMU so nothing is optimised away and the image is known to work.
#include <cstdio>
#include <cstring>

#include "gate_config.h"
#include "ve/events.h"
#include "ve/gate.h"
#include "ve/plane.h"
#include "ve/quantize.h"

#ifdef VE_WITH_TFLM
#include "classifier.h"
#endif

extern const uint8_t ve_model_data[];
extern const size_t ve_model_data_len;

#ifndef VE_CAMERA_W
#define VE_CAMERA_W VE_PLANE_W
#endif
#ifndef VE_CAMERA_H
#define VE_CAMERA_H VE_PLANE_H
#endif
#ifndef VE_ARENA_BYTES
#define VE_ARENA_BYTES 73728
#endif

namespace {

ve::MotionGate g_gate;
ve::EventTracker g_events;
uint8_t g_camera[VE_CAMERA_W * VE_CAMERA_H];  // gray camera frame (the capture buffer)
#if VE_CAMERA_W == VE_PLANE_W && VE_CAMERA_H == VE_PLANE_H
// A camera that delivers the plane size (e.g. QQVGA gray for a 160x120 plane) needs no
// second buffer: the motion plane of factor 1 is the frame itself.
#define VE_PLANE_IS_CAMERA 1
#else
uint8_t g_plane[VE_PLANE_W * VE_PLANE_H];
#endif
alignas(16) uint8_t g_arena[VE_ARENA_BYTES];
#ifdef VE_WITH_TFLM
ve::Classifier g_classifier;
#else
int8_t g_input[96 * 96];
#endif

class CountSink final : public ve::EventSink {
 public:
  ve::Status publish(const char* json, size_t len) override {
    std::fwrite(json, 1, len, stdout);
    std::fputc('\n', stdout);
    ++count;
    return ve::Status::kOk;
  }
  int count = 0;
};

int fail(const char* what, ve::Status st) {
  std::printf("error %s (%d): %s; %s\n", ve::status_name(st), static_cast<int>(st), what, ve::status_message(st));
  return 1;
}

}  // namespace

int main() {
  CountSink sink;
  ve::Status st = g_gate.configure(ve_config::gate_params());
  if (st != ve::Status::kOk) return fail("gate", st);
  st = g_events.configure(ve_config::event_params(), g_gate.params());
  if (st != ve::Status::kOk) return fail("events", st);
  uint32_t sum = 0;
  for (size_t i = 0; i < ve_model_data_len; ++i) sum = sum * 31u + ve_model_data[i];
#ifdef VE_WITH_TFLM
  char why[160];
  st = g_classifier.init(ve_model_data, ve_model_data_len, g_arena, sizeof g_arena, why, sizeof why);
  if (st != ve::Status::kOk) return fail(why, st);
  const ve::InputSpec spec = g_classifier.input_spec();
  int8_t* input = g_classifier.input();
#else
  std::memset(g_arena, 0, sizeof g_arena);
  ve::InputSpec spec;
  int8_t* input = g_input;
#endif
  int8_t table[256];
  st = ve::build_quant_table(spec, table);
  if (st != ve::Status::kOk) return fail("quantization table", st);
  const int factor = ve::plane_factor(VE_CAMERA_W, VE_PLANE_W);
  for (uint32_t t = 0; t < 12; ++t) {
    for (int i = 0; i < VE_CAMERA_W * VE_CAMERA_H; ++i) g_camera[i] = static_cast<uint8_t>((i * 7 + (t > 4 && (i % VE_CAMERA_W) < 40 ? 90 : 0)) & 0xff);
    int w = 0, h = 0;
#ifdef VE_PLANE_IS_CAMERA
    (void)factor;
    const uint8_t* plane = g_camera;
    w = VE_CAMERA_W;
    h = VE_CAMERA_H;
#else
    st = ve::to_motion_plane(g_camera, VE_CAMERA_W, VE_CAMERA_H, ve::PixelFormat::kGray8, factor, g_plane,
                             static_cast<int>(sizeof g_plane), &w, &h);
    if (st != ve::Status::kOk) return fail("motion plane", st);
    const uint8_t* plane = g_plane;
#endif
    ve::GateResult r;
    st = g_gate.process(plane, w, h, t, ve::ExposureInfo::none(), &r);
    if (st != ve::Status::kOk) return fail("gate", st);
    st = g_events.on_gate(ve::FrameInfo{t, t * 100u, "size"}, r, sink);
    if (st != ve::Status::kOk) return fail("events", st);
    if (r.motion) {
      double box[4] = {0, 0, 1, 1};
      g_events.box(box);
      const ve::CropRect rect = ve::crop_rect(box, VE_CAMERA_W, VE_CAMERA_H, 1.0, 0.15);
      st = ve::crop_resize_quantize(g_camera, VE_CAMERA_W, VE_CAMERA_H, ve::PixelFormat::kGray8, rect, spec, table, input);
      if (st != ve::Status::kOk) return fail("crop", st);
#ifdef VE_WITH_TFLM
      st = g_classifier.invoke();
      if (st != ve::Status::kOk) return fail("invoke", st);
#endif
    }
  }
  g_events.finish(1200, 11, ve::EndReason::kStopped, sink);
  std::printf("size image ok: model %u bytes (hash %08x), %d events, arena %u bytes\n",
              static_cast<unsigned>(ve_model_data_len), static_cast<unsigned>(sum), sink.count,
              static_cast<unsigned>(sizeof g_arena));
  return 0;
}
