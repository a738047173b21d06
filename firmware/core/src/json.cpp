#include "ve/json.h"

#include <cstdio>
#include <cstring>

#include "ve/format.h"

namespace ve {

JsonWriter::JsonWriter(char* buf, size_t cap) : buf_(buf), cap_(cap) {
  if (buf_ == nullptr || cap_ == 0) {
    overflow_ = true;
    cap_ = 0;
  } else {
    buf_[0] = '\0';
  }
}

void JsonWriter::raw(const char* s, size_t n) {
  if (overflow_) return;
  if (len_ + n + 1 > cap_) {
    overflow_ = true;
    buf_[0] = '\0';
    len_ = 0;
    return;
  }
  std::memcpy(buf_ + len_, s, n);
  len_ += n;
  buf_[len_] = '\0';
}

void JsonWriter::raw(const char* s) { raw(s, std::strlen(s)); }

void JsonWriter::comma() {
  if (need_comma_) raw(",", 1);
  need_comma_ = true;
}

void JsonWriter::begin_object() { comma(); raw("{", 1); need_comma_ = false; }
void JsonWriter::end_object() { raw("}", 1); need_comma_ = true; }
void JsonWriter::begin_array() { comma(); raw("[", 1); need_comma_ = false; }
void JsonWriter::end_array() { raw("]", 1); need_comma_ = true; }

void JsonWriter::key(const char* k) {
  string(k);
  raw(":", 1);
  need_comma_ = false;
}

void JsonWriter::string(const char* s) {
  comma();
  raw("\"", 1);
  for (const char* p = s; p != nullptr && *p != '\0'; ++p) {
    const unsigned char c = static_cast<unsigned char>(*p);
    switch (c) {
      case '"': raw("\\\"", 2); break;
      case '\\': raw("\\\\", 2); break;
      case '\n': raw("\\n", 2); break;
      case '\r': raw("\\r", 2); break;
      case '\t': raw("\\t", 2); break;
      case '\b': raw("\\b", 2); break;
      case '\f': raw("\\f", 2); break;
      default:
        if (c < 0x20) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\u%04x", c);
          raw(esc, 6);
        } else {
          raw(p, 1);  // UTF-8 bytes pass through (ensure_ascii=False)
        }
    }
  }
  raw("\"", 1);
}

void JsonWriter::integer(int64_t v) {
  comma();
  // By hand: newlib-nano's printf has no %lld.
  char b[24];
  int n = 0;
  uint64_t mag = v < 0 ? 0u - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  do {
    b[sizeof b - 1 - n++] = static_cast<char>('0' + mag % 10u);
    mag /= 10u;
  } while (mag != 0 && n < 21);
  if (v < 0) b[sizeof b - 1 - n++] = '-';
  raw(b + sizeof b - n, static_cast<size_t>(n));
}

void JsonWriter::boolean(bool v) { comma(); raw(v ? "true" : "false"); }
void JsonWriter::null() { comma(); raw("null", 4); }

void JsonWriter::decimal(double v, int decimals) {
  comma();
  char b[48];
  if (format_decimal(v, decimals, b, sizeof b) == 0) {
    bad_number_ = true;  // NaN/inf never reach a payload; or printf lacks float support
    return;
  }
  raw(b);
}

}  // namespace ve
