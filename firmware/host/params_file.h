// Reader of the text parameter file `visionedge firmware config --params FILE` writes: the
// same values as gate_config.h, read at run time so one host/QEMU binary serves every
// config in the parity tests. Static storage only.
#pragma once

#include <cstdio>

#include "ve/events.h"
#include "ve/gate.h"
#include "ve/status.h"

namespace ve {

struct LoadedParams {
  GateParams gate;
  EventParams events;
};

// Parse `path`; on error returns the status and writes a one-line reason into `why`.
Status load_params_file(const char* path, LoadedParams* out, char* why, size_t why_cap);

}  // namespace ve
