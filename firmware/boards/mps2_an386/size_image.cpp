// The firmware as a board links it, for bench/firmware_size.py: the sketches' own ve::BoardApp
// (boards/common/board_app.h: camera frame buffer = motion plane, gate, changed mask and
// region finder, event tracker, quantization table, the model card's tensor arena) plus the
// shipped model as const data (also without TFLM, so flash is counted) and the TFLM classifier
// when it is built. It runs synthetic frames under QEMU so nothing is optimised away and the
// image is known to work; stack and heap are checked by the semihosting runner (startup.c).
#include <cstdio>

#include "board_app.h"

namespace {

ve::BoardApp g_app;

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
  char why[160];
  ve::Status st = g_app.init(nullptr, why, sizeof why);
  if (st != ve::Status::kOk) return fail(why, st);
  uint32_t sum = 0;
  for (size_t i = 0; i < ve_model_data_len; ++i) sum = sum * 31u + ve_model_data[i];
  constexpr uint32_t kFrames = 48;
  for (uint32_t t = 0; t < kFrames; ++t) {
    uint8_t* f = g_app.frame();
    for (int i = 0; i < VE_CAMERA_W * VE_CAMERA_H; ++i) {
      // A bright block that walks in from the left after frame 4 and out on the right (an
      // object event in object mode, a motion event in motion mode).
      const int x = i % VE_CAMERA_W, y = i / VE_CAMERA_W;
      const int x0 = (static_cast<int>(t) - 4) * 5 - 30;
      const bool object = t > 4 && x >= x0 && x < x0 + 30 && y >= 40 && y < 100;
      f[i] = static_cast<uint8_t>((i * 7 + (object ? 90 : 0)) & 0xff);
    }
    st = g_app.step(t, t * 100u, sink);
    if (st != ve::Status::kOk) return fail("frame", st);
  }
  st = g_app.finish(kFrames * 100u, kFrames - 1, sink);
  if (st != ve::Status::kOk) return fail("finish", st);
  std::printf("size image ok: model %u bytes (hash %08x), %d events, %d classifications, app %u bytes, "
              "object stage %u bytes for %d objects (per object: track %u + event state %u)\n",
              static_cast<unsigned>(ve_model_data_len), static_cast<unsigned>(sum), sink.count,
              g_app.classifications(), static_cast<unsigned>(sizeof g_app),
              static_cast<unsigned>(sizeof(ve::ObjectStage)), ve::kMaxObjects,
              static_cast<unsigned>(sizeof(ve::Track)), static_cast<unsigned>(ve::ObjectStage::state_bytes()));
  return 0;
}
