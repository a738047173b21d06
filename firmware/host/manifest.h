// Reader of DIR/manifest.json written by `visionedge replay --export-frames DIR`: the clip
// id, the rate, and per frame its timestamp and camera metadata (exposure, gain).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ve/status.h"

#ifndef VE_MAX_MANIFEST_FRAMES
#define VE_MAX_MANIFEST_FRAMES 4096
#endif

namespace ve {

struct ManifestFrame {
  uint32_t index;
  uint32_t ts_ms;
  double exposure_time;  // NaN when the frame had no metadata
  double analogue_gain;
};

struct Manifest {
  char clip_id[96];
  double fps;
  int width, height;
  int count;  // frames listed
  ManifestFrame frames[VE_MAX_MANIFEST_FRAMES];
};

// Parse `path` (a small streaming JSON reader: no allocation). kIo if it cannot be opened,
// kParse if malformed or listing more than VE_MAX_MANIFEST_FRAMES frames.
Status read_manifest(const char* path, Manifest* out, char* why, size_t why_cap);

}  // namespace ve
