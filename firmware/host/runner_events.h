// The runner's event side: feeds gate results to the core's event tracker and prints events.
#pragma once

#include <cstddef>

#include "ve/gate.h"
#include "ve/status.h"

namespace ve {

class RunnerEvents {
 public:
  Status configure(const char* params_path, const char* frames_dir, char* why, size_t why_cap);
  Status on_gate(const GateResult& r, const GateParams& p);
  Status finish(uint32_t last_index);
};

}  // namespace ve
