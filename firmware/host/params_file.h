// Reader of the text parameter file `visionedge firmware config --params FILE` writes: the
// same values as gate_config.h, read at run time so one host/QEMU binary serves every
// config in the parity tests. Static storage only.
#pragma once

#include <cstdio>

#include "ve/events.h"
#include "ve/gate.h"
#include "ve/objects.h"
#include "ve/status.h"

namespace ve {

// The classifier crop of docs/gate-algorithm.md §6 (gate_config.h kMinRegionPixels,
// kClassifyMargin).
struct ClassifyParams {
  int min_region_px = 0;  // ceil(gate.min_region_pct * h * w / 100)
  double margin = 0.15;   // classifier.margin
  int every_n_frames = 5;  // classifier.every_n_frames (objects: per object)
  int max_per_event = 20;  // classifier.max_per_event (objects: per object)
};

struct LoadedParams {
  GateParams gate;
  EventParams events;
  ClassifyParams classify;
  ObjectParams objects;  // [objects] (mode, tracker, filters, zone polygons)
};

// Parse `path`; on error returns the status and writes a one-line reason into `why`.
Status load_params_file(const char* path, LoadedParams* out, char* why, size_t why_cap);

}  // namespace ve
