// A JSON object writer into a fixed buffer: compact separators like Python's
// json.dumps(separators=(",", ":"), ensure_ascii=False). Overflow is sticky and reported as
// kBufferFull by status(), never written past the end.
#pragma once

#include <cstddef>
#include <cstdint>

#include "ve/status.h"

namespace ve {

class JsonWriter {
 public:
  JsonWriter(char* buf, size_t cap);
  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(const char* k);
  void string(const char* s);
  void integer(int64_t v);
  void boolean(bool v);
  void null();
  void decimal(double v, int decimals);  // Python's repr of round(v, decimals)
  Status status() const {
    return bad_number_ ? Status::kFormat : (overflow_ ? Status::kBufferFull : Status::kOk);
  }
  const char* c_str() const { return buf_; }
  size_t size() const { return len_; }

 private:
  void comma();
  void raw(const char* s, size_t n);
  void raw(const char* s);
  char* buf_;
  size_t cap_;
  size_t len_ = 0;
  bool overflow_ = false;
  bool bad_number_ = false;
  bool need_comma_ = false;
};

}  // namespace ve
