// Number formatting that matches Python's output for the same doubles.
#pragma once

#include <cstddef>

namespace ve {

// Write `v` rounded to `decimals` places (correctly rounded, as printf "%.Nf" and Python's
// round(v, N) both do), then drop trailing zeros but keep one digit after the point, which is
// how Python's json/repr prints round(v, N): 12.5 -> "12.5", 3.0 -> "3.0", 0.0625 @3 -> "0.062".
// Returns the length, or 0 when `cap` is too small (out is then "").
size_t format_decimal(double v, int decimals, char* out, size_t cap);

}  // namespace ve
