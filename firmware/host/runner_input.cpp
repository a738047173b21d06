#include "runner_input.h"

#include <cstdio>

#include "ve/events.h"
#include "ve/format.h"
#include "ve/sha1.h"

namespace ve {

Status RunnerInput::configure(const InputOptions& opt, const ClassifyParams& cls, MotionGate* gate,
                              char* why, size_t why_cap) {
  opt_ = opt;
  cls_ = cls;
  if (opt.images_dir == nullptr) return Status::kOk;
  if (opt.image_w < 1 || opt.image_h < 1 ||
      static_cast<long>(opt.image_w) * opt.image_h * 3 > static_cast<long>(sizeof image_)) {
    std::snprintf(why, why_cap, "--image-size %dx%d: give the camera image size (at most %d bytes of BGR)",
                  opt.image_w, opt.image_h, static_cast<int>(sizeof image_));
    return Status::kFrameSize;
  }
  if (static_cast<long>(opt.spec.width) * opt.spec.height * opt.spec.channels > static_cast<long>(sizeof tensor_)) {
    std::snprintf(why, why_cap, "--input %dx%dx%d is larger than the runner's tensor buffer", opt.spec.width,
                  opt.spec.height, opt.spec.channels);
    return Status::kModelIo;
  }
  const Status st = build_quant_table(opt.spec, table_);
  if (st != Status::kOk) {
    std::snprintf(why, why_cap, "--quant: scale and std must be positive");
    return st;
  }
  gate_ = gate->params();
  gate->set_changed_output(changed_);
  return Status::kOk;
}

Status RunnerInput::on_frame(uint32_t index, const GateResult& r, const EventTracker& tracker, char* why,
                             size_t why_cap) {
  if (!enabled() || !classification_due(r, tracker)) return Status::kOk;
  double box[4];
  const CropSource source = classify_box(regions_, changed_, r, gate_, cls_.min_region_px, tracker, box);
  if (source == CropSource::kNone) return Status::kOk;
  return emit(index, source == CropSource::kRegion ? "region" : "event", box, why, why_cap);
}

Status RunnerInput::emit(uint32_t index, const char* from, const double box[4], char* why, size_t why_cap) {
  if (!enabled()) return Status::kOk;
  char path[1024];
  std::snprintf(path, sizeof path, "%s/image_%06u.bgr", opt_.images_dir, static_cast<unsigned>(index));
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::snprintf(why, why_cap, "cannot open camera image %s", path);
    return Status::kIo;
  }
  const size_t want = static_cast<size_t>(opt_.image_w) * opt_.image_h * 3;
  const size_t got = std::fread(image_, 1, want, f);
  std::fclose(f);
  if (got != want) {
    std::snprintf(why, why_cap, "%s has %u bytes, not %dx%d BGR", path, static_cast<unsigned>(got), opt_.image_w,
                  opt_.image_h);
    return Status::kFrameSize;
  }
  const CropRect rect = crop_rect(box, opt_.image_w, opt_.image_h,
                                  static_cast<double>(opt_.spec.width) / opt_.spec.height, cls_.margin);
  Status st = crop_resize_quantize(image_, opt_.image_w, opt_.image_h, PixelFormat::kBgr888, rect, opt_.spec,
                                   table_, tensor_);
  if (st != Status::kOk) {
    std::snprintf(why, why_cap, "frame %u: crop %d,%d,%d,%d", static_cast<unsigned>(index), rect.x0, rect.y0,
                  rect.x1, rect.y1);
    return st;
  }
  const size_t n = static_cast<size_t>(opt_.spec.width) * opt_.spec.height * opt_.spec.channels;
  Sha1 sha;
  sha.update(tensor_, n);
  uint8_t digest[20];
  sha.finish(digest);
  char hex[41];
  for (int i = 0; i < 20; ++i) std::snprintf(hex + 2 * i, 3, "%02x", digest[i]);
  std::printf("input %u from=%s box=", static_cast<unsigned>(index), from);
  for (int i = 0; i < 4; ++i) {
    char b[32];
    format_decimal(box[i], 4, b, sizeof b);
    std::printf("%s%s", i ? "," : "", b);
  }
  std::printf(" rect=%d,%d,%d,%d sha1=%s\n", rect.x0, rect.y0, rect.x1, rect.y1, hex);
  if (opt_.dump_dir != nullptr) {
    std::snprintf(path, sizeof path, "%s/input_%06u.bin", opt_.dump_dir, static_cast<unsigned>(index));
    FILE* out = std::fopen(path, "wb");
    const bool ok = out != nullptr && std::fwrite(tensor_, 1, n, out) == n;
    if (out != nullptr && std::fclose(out) != 0) return Status::kIo;
    if (!ok) {
      std::snprintf(why, why_cap, "cannot write %s", path);
      return Status::kIo;
    }
  }
  return Status::kOk;
}

}  // namespace ve
