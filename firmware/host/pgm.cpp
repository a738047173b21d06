#include "pgm.h"

#include <cstdio>

namespace ve {
namespace {

// Next header integer, skipping whitespace and '#' comments.
bool header_int(FILE* f, int* out) {
  int c = std::fgetc(f);
  for (;;) {
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = std::fgetc(f);
    if (c == '#') {
      while (c != '\n' && c != EOF) c = std::fgetc(f);
      continue;
    }
    break;
  }
  if (c < '0' || c > '9') return false;
  long v = 0;
  while (c >= '0' && c <= '9') {
    v = v * 10 + (c - '0');
    if (v > 1000000) return false;
    c = std::fgetc(f);
  }
  // Exactly one whitespace byte ends the header's last field; it has been consumed.
  if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

Status read_pgm(const char* path, uint8_t* out, size_t cap, int* w, int* h) {
  if (path == nullptr || out == nullptr || w == nullptr || h == nullptr) return Status::kNullArgument;
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return Status::kIo;
  Status st = Status::kOk;
  int maxval = 0;
  if (std::fgetc(f) != 'P' || std::fgetc(f) != '5' || !header_int(f, w) || !header_int(f, h) ||
      !header_int(f, &maxval) || maxval != 255 || *w < 1 || *h < 1) {
    st = Status::kParse;
  } else if (static_cast<size_t>(*w) * static_cast<size_t>(*h) > cap) {
    st = Status::kPlaneTooLarge;
  } else {
    const size_t n = static_cast<size_t>(*w) * static_cast<size_t>(*h);
    if (std::fread(out, 1, n, f) != n) st = Status::kParse;
  }
  std::fclose(f);
  return st;
}

Status read_raw(const char* path, uint8_t* out, size_t cap, int w, int h) {
  if (path == nullptr || out == nullptr) return Status::kNullArgument;
  if (w < 1 || h < 1) return Status::kBadConfig;
  const size_t n = static_cast<size_t>(w) * static_cast<size_t>(h);
  if (n > cap) return Status::kPlaneTooLarge;
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) return Status::kIo;
  const size_t got = std::fread(out, 1, n, f);
  const bool extra = std::fgetc(f) != EOF;
  std::fclose(f);
  if (got != n || extra) return Status::kFrameSize;
  return Status::kOk;
}

}  // namespace ve
