// ve_tflm_host / ve_tflm_qemu: run the classifier on model-size gray crops (PGM) and print the
// raw int8 outputs, for the parity test against tflite-runtime.
//
//   ve_tflm_host [--model FILE.tflite] [--arena BYTES] CROP.pgm...
//   ve_tflm_host [--model FILE.tflite] [--arena BYTES] --raw-inputs TENSOR.bin...
//       (int8 input tensors as the parity runner's --dump-inputs writes them)
//
// Prints "model <name> ops=<...> arena=<given> arena_used=<bytes>", then per crop
// "crop <i> out=<q0,q1,...> top=<index>". Errors: "error <name> (<code>): <what>; <fix>".
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "classifier.h"
#include "model_ops.h"
#include "pgm.h"
#include "ve/quantize.h"

extern const uint8_t ve_model_data[];
extern const size_t ve_model_data_len;

namespace {

constexpr size_t kMaxArena = 512 * 1024;
constexpr size_t kMaxModel = 1024 * 1024;
alignas(16) uint8_t g_arena[kMaxArena];
alignas(16) uint8_t g_model[kMaxModel];
uint8_t g_crop[320 * 320];
ve::Classifier g_classifier;

int fail(ve::Status st, const char* what) {
  std::printf("error %s (%d): %s; %s\n", ve::status_name(st), static_cast<int>(st), what, ve::status_message(st));
  std::fflush(stdout);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const uint8_t* model = ve_model_data;
  size_t model_len = ve_model_data_len;
  size_t arena = ve_model::kArenaBytes;
  int first = 1;
  bool raw_inputs = false;
  char why[512];
  while (first < argc && std::strncmp(argv[first], "--", 2) == 0) {
    if (std::strcmp(argv[first], "--model") == 0 && first + 1 < argc) {
      FILE* f = std::fopen(argv[first + 1], "rb");
      if (f == nullptr) {
        std::snprintf(why, sizeof why, "cannot open model %s", argv[first + 1]);
        return fail(ve::Status::kIo, why);
      }
      model_len = std::fread(g_model, 1, kMaxModel, f);
      const bool too_big = std::fgetc(f) != EOF;
      std::fclose(f);
      if (too_big) return fail(ve::Status::kModelIo, "model larger than the runner's 1 MB buffer");
      model = g_model;
      first += 2;
    } else if (std::strcmp(argv[first], "--raw-inputs") == 0) {
      raw_inputs = true;
      first += 1;
    } else if (std::strcmp(argv[first], "--arena") == 0 && first + 1 < argc) {
      arena = static_cast<size_t>(std::strtoul(argv[first + 1], nullptr, 10));
      if (arena > kMaxArena) return fail(ve::Status::kArenaTooSmall, "--arena above the runner's 512 KB");
      first += 2;
    } else {
      std::printf("usage: %s [--model FILE.tflite] [--arena BYTES] [--raw-inputs] CROP.pgm|TENSOR.bin...\n", argv[0]);
      return 2;
    }
  }
  ve::Status st = g_classifier.init(model, model_len, g_arena, arena, why, sizeof why);
  if (st != ve::Status::kOk) return fail(st, why);
  std::printf("model %s ops=%s arena=%u arena_used=%u\n", ve_model::kName, ve_model::kOpNames,
              static_cast<unsigned>(arena), static_cast<unsigned>(g_classifier.arena_used()));
  const ve::InputSpec spec = g_classifier.input_spec();
  int8_t table[256];
  st = ve::build_quant_table(spec, table);
  if (st != ve::Status::kOk) return fail(st, "input quantization");
  if (spec.channels != 1 && !raw_inputs) {
    return fail(ve::Status::kModelIo, "this runner feeds gray crops; the model wants 3 channels");
  }
  for (int i = first; i < argc; ++i) {
    if (raw_inputs) {
      const size_t want = static_cast<size_t>(spec.width) * spec.height * spec.channels;
      FILE* f = std::fopen(argv[i], "rb");
      if (f == nullptr) {
        std::snprintf(why, sizeof why, "cannot open tensor %s", argv[i]);
        return fail(ve::Status::kIo, why);
      }
      const size_t got = std::fread(g_classifier.input(), 1, want, f);
      const bool longer = std::fgetc(f) != EOF;
      std::fclose(f);
      if (got != want || longer) {
        std::snprintf(why, sizeof why, "tensor %s is not %u bytes", argv[i], static_cast<unsigned>(want));
        return fail(ve::Status::kFrameSize, why);
      }
    } else {
      int w = 0, h = 0;
      st = ve::read_pgm(argv[i], g_crop, sizeof g_crop, &w, &h);
      if (st != ve::Status::kOk) {
        std::snprintf(why, sizeof why, "crop %s unreadable", argv[i]);
        return fail(st, why);
      }
      if (w != spec.width || h != spec.height) {
        std::snprintf(why, sizeof why, "crop %s is %dx%d, the model takes %dx%d", argv[i], w, h, spec.width, spec.height);
        return fail(ve::Status::kFrameSize, why);
      }
      st = ve::crop_resize_quantize(g_crop, w, h, ve::PixelFormat::kGray8, ve::CropRect{0, 0, w, h}, spec,
                                    table, g_classifier.input());
      if (st != ve::Status::kOk) return fail(st, "crop");
    }
    st = g_classifier.invoke();
    if (st != ve::Status::kOk) return fail(st, "invoke");
    const int8_t* out = g_classifier.output();
    std::printf("crop %d out=", i - first);
    for (int k = 0; k < g_classifier.output_info().count; ++k) std::printf("%s%d", k ? "," : "", out[k]);
    std::printf(" top=%d\n", g_classifier.top1());
  }
  std::fflush(stdout);
  return 0;
}
