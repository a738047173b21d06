#include "ve/format.h"

#include <cmath>
#include <cstdio>

namespace ve {

size_t format_decimal(double v, int decimals, char* out, size_t cap) {
  if (out == nullptr || cap == 0) return 0;
  out[0] = '\0';
  if (!std::isfinite(v) || decimals < 1 || decimals > 9) return 0;
  char buf[64];
  const int n = std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof buf) return 0;
  int end = n;
  while (end > 0 && buf[end - 1] == '0') --end;
  if (end > 0 && buf[end - 1] == '.') ++end;  // keep one zero after the point
  // "-0.0" (a negative value rounding to zero) prints as "-0.0" in Python too; keep it.
  if (static_cast<size_t>(end) + 1 > cap) return 0;
  for (int i = 0; i < end; ++i) out[i] = buf[i];
  out[end] = '\0';
  return static_cast<size_t>(end);
}

}  // namespace ve
