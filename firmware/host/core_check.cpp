// ve_core_check: small entry points into the core for the tests (Python compares the output):
//   ve_core_check quant-table SCALE ZERO_POINT MEAN STD      256 int8 values
//   ve_core_check crop-rect FW FH ASPECT MARGIN [X0 Y0 X1 Y1] x0 y0 x1 y1
//   ve_core_check uuid5 NAME                                  the replay event id of NAME
//   ve_core_check uuid4 HEX32                                 the live event id from 16 random bytes
//   ve_core_check plane FACTOR IN.pgm OUT.pgm                 to_motion_plane of a gray PGM
//   ve_core_check plane-bgr FACTOR W H IN.raw OUT.pgm         the same from raw BGR888 bytes
//   ve_core_check rank SCALE ZP THRESHOLD TOPK Q0,Q1,... IGNORE(0/1 per output, e.g. 0100)
//                                                             "index:score" per prediction
//   ve_core_check crop-quantize FILE.pgm X0 Y0 X1 Y1 W H SCALE ZP MEAN STD   W*H int8 values
//   ve_core_check region W H MIN_AREA HEXBITS                 the largest motion region of a
//                                                             bit-packed changed mask: x0 y0 x1 y1, or -
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "pgm.h"
#include "ve/events.h"
#include "ve/format.h"
#include "ve/plane.h"
#include "ve/quantize.h"
#include "ve/regions.h"
#include "ve/sha1.h"

namespace {
uint8_t g_img[1920 * 1080];
uint8_t g_out[1920 * 1080];
int8_t g_q[320 * 320 * 3];

double num(const char* s) { return std::strtod(s, nullptr); }

int fail(ve::Status st) {
  std::printf("error %s (%d): %s\n", ve::status_name(st), static_cast<int>(st), ve::status_message(st));
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc >= 6 && std::strcmp(argv[1], "quant-table") == 0) {
    ve::InputSpec s;
    s.scale = num(argv[2]);
    s.zero_point = std::atoi(argv[3]);
    s.mean = num(argv[4]);
    s.std = num(argv[5]);
    int8_t t[256];
    const ve::Status st = ve::build_quant_table(s, t);
    if (st != ve::Status::kOk) return fail(st);
    for (int i = 0; i < 256; ++i) std::printf("%d%c", t[i], i == 255 ? '\n' : ' ');
    return 0;
  }
  if ((argc == 6 || argc == 10) && std::strcmp(argv[1], "crop-rect") == 0) {
    double box[4];
    const bool has_box = argc == 10;
    for (int i = 0; has_box && i < 4; ++i) box[i] = num(argv[6 + i]);
    const ve::CropRect r = ve::crop_rect(has_box ? box : nullptr, std::atoi(argv[2]), std::atoi(argv[3]),
                                         num(argv[4]), num(argv[5]));
    std::printf("%d %d %d %d\n", r.x0, r.y0, r.x1, r.y1);
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "uuid5") == 0) {
    char id[37];
    ve::uuid5(ve::kEventIdNamespace, argv[2], std::strlen(argv[2]), id);
    std::printf("%s\n", id);
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "uuid4") == 0 && std::strlen(argv[2]) == 32) {
    uint8_t b[16];
    for (int i = 0; i < 16; ++i) {
      char hx[3] = {argv[2][2 * i], argv[2][2 * i + 1], '\0'};
      b[i] = static_cast<uint8_t>(std::strtoul(hx, nullptr, 16));
    }
    char id[37];
    ve::uuid_format(b, 4, id);
    std::printf("%s\n", id);
    return 0;
  }
  if (argc == 5 && std::strcmp(argv[1], "plane") == 0) {
    int w = 0, h = 0, ow = 0, oh = 0;
    ve::Status st = ve::read_pgm(argv[3], g_img, sizeof g_img, &w, &h);
    if (st != ve::Status::kOk) return fail(st);
    st = ve::to_motion_plane(g_img, w, h, ve::PixelFormat::kGray8, std::atoi(argv[2]), g_out,
                             static_cast<int>(sizeof g_out), &ow, &oh);
    if (st != ve::Status::kOk) return fail(st);
    FILE* f = std::fopen(argv[4], "wb");
    if (f == nullptr) return fail(ve::Status::kIo);
    std::fprintf(f, "P5\n%d %d\n255\n", ow, oh);
    const size_t n = static_cast<size_t>(ow) * oh;
    const bool ok = std::fwrite(g_out, 1, n, f) == n;
    return (std::fclose(f) == 0 && ok) ? 0 : fail(ve::Status::kIo);
  }
  if (argc == 13 && std::strcmp(argv[1], "crop-quantize") == 0) {
    int w = 0, h = 0;
    ve::Status st = ve::read_pgm(argv[2], g_img, sizeof g_img, &w, &h);
    if (st != ve::Status::kOk) return fail(st);
    const ve::CropRect r{std::atoi(argv[3]), std::atoi(argv[4]), std::atoi(argv[5]), std::atoi(argv[6])};
    ve::InputSpec s;
    s.width = std::atoi(argv[7]);
    s.height = std::atoi(argv[8]);
    s.channels = 1;
    s.scale = num(argv[9]);
    s.zero_point = std::atoi(argv[10]);
    s.mean = num(argv[11]);
    s.std = num(argv[12]);
    if (s.width < 1 || s.height < 1 || s.width * s.height > static_cast<int>(sizeof g_q)) return fail(ve::Status::kModelIo);
    int8_t t[256];
    st = ve::build_quant_table(s, t);
    if (st != ve::Status::kOk) return fail(st);
    st = ve::crop_resize_quantize(g_img, w, h, ve::PixelFormat::kGray8, r, s, t, g_q);
    if (st != ve::Status::kOk) return fail(st);
    for (int i = 0; i < s.width * s.height; ++i) std::printf("%d%c", g_q[i], i + 1 == s.width * s.height ? '\n' : ' ');
    return 0;
  }
  if (argc == 7 && std::strcmp(argv[1], "plane-bgr") == 0) {
    const int w = std::atoi(argv[3]), h = std::atoi(argv[4]);
    static uint8_t bgr[640 * 480 * 3];
    if (w < 1 || h < 1 || static_cast<size_t>(w) * h * 3 > sizeof bgr) return fail(ve::Status::kPlaneTooLarge);
    FILE* in = std::fopen(argv[5], "rb");
    if (in == nullptr) return fail(ve::Status::kIo);
    const size_t want = static_cast<size_t>(w) * h * 3;
    const size_t got = std::fread(bgr, 1, want, in);
    std::fclose(in);
    if (got != want) return fail(ve::Status::kFrameSize);
    int ow = 0, oh = 0;
    const ve::Status st = ve::to_motion_plane(bgr, w, h, ve::PixelFormat::kBgr888, std::atoi(argv[2]), g_out,
                                              static_cast<int>(sizeof g_out), &ow, &oh);
    if (st != ve::Status::kOk) return fail(st);
    FILE* f = std::fopen(argv[6], "wb");
    if (f == nullptr) return fail(ve::Status::kIo);
    std::fprintf(f, "P5\n%d %d\n255\n", ow, oh);
    const size_t n = static_cast<size_t>(ow) * oh;
    const bool ok = std::fwrite(g_out, 1, n, f) == n;
    return (std::fclose(f) == 0 && ok) ? 0 : fail(ve::Status::kIo);
  }
  if (argc == 8 && std::strcmp(argv[1], "rank") == 0) {
    int8_t q[64];
    bool ignore[64] = {};
    int n = 0;
    for (const char* p = argv[6]; *p != '\0' && n < 64;) {
      char* end = nullptr;
      q[n++] = static_cast<int8_t>(std::strtol(p, &end, 10));
      p = (*end == ',') ? end + 1 : end;
    }
    for (int i = 0; i < n && argv[7][i] != '\0'; ++i) ignore[i] = argv[7][i] == '1';
    ve::Prediction top[64];
    const int k = ve::rank_outputs(q, n, num(argv[2]), std::atoi(argv[3]), num(argv[4]), ignore,
                                   std::atoi(argv[5]), top, 64);
    for (int i = 0; i < k; ++i) {
      char score[40];
      ve::format_decimal(top[i].score, 6, score, sizeof score);
      std::printf("%d:%s%c", top[i].label, score, i + 1 == k ? '\n' : ' ');
    }
    if (k == 0) std::printf("\n");
    return 0;
  }
  if (argc == 6 && std::strcmp(argv[1], "region") == 0) {
    const int w = std::atoi(argv[2]), h = std::atoi(argv[3]);
    if (w < 1 || h < 1 || w > ve::kMaxPlaneW || h > ve::kMaxPlaneH) return fail(ve::Status::kPlaneTooLarge);
    static uint8_t bits[ve::bitmap_bytes(ve::kMaxPlaneW, ve::kMaxPlaneH)];
    const int nbytes = ve::bitmap_bytes(w, h);
    if (static_cast<int>(std::strlen(argv[5])) != 2 * nbytes) return fail(ve::Status::kParse);
    for (int i = 0; i < nbytes; ++i) {
      unsigned v = 0;
      if (std::sscanf(argv[5] + 2 * i, "%2x", &v) != 1) return fail(ve::Status::kParse);
      bits[i] = static_cast<uint8_t>(v);
    }
    static ve::RegionFinder finder;
    ve::PixelBox b;
    if (finder.largest(bits, w, h, std::atoi(argv[4]), &b)) {
      std::printf("%d %d %d %d\n", b.x0, b.y0, b.x1, b.y1);
    } else {
      std::printf("-\n");
    }
    return 0;
  }
  std::printf("usage: %s quant-table|crop-rect|uuid5|uuid4|plane|crop-quantize|rank|region ...\n", argv[0]);
  return 2;
}
