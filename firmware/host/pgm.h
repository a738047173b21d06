// Binary PGM (P5, maxval 255) and raw gray frame reading into caller-owned buffers.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ve/status.h"

namespace ve {

// Reads a P5 PGM into `out` (capacity `cap` bytes). kIo when the file cannot be opened,
// kParse for a malformed header or short data, kPlaneTooLarge when it does not fit.
Status read_pgm(const char* path, uint8_t* out, size_t cap, int* w, int* h);
// Reads exactly w*h bytes of a raw 8-bit gray file.
Status read_raw(const char* path, uint8_t* out, size_t cap, int w, int h);

}  // namespace ve
