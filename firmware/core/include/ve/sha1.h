// SHA-1 (FIPS 180-4) and RFC 4122 name-based UUIDv5, for replay event ids that equal
// Python's uuid.uuid5(NAMESPACE, f"{source}:{start_frame}").
#pragma once

#include <cstddef>
#include <cstdint>

namespace ve {

class Sha1 {
 public:
  Sha1();
  void update(const void* data, size_t len);
  void finish(uint8_t digest[20]);

 private:
  void block(const uint8_t* p);
  uint32_t h_[5];
  uint8_t buf_[64];
  size_t buf_len_ = 0;
  uint64_t total_ = 0;
};

// The 16 bytes of the replay-id namespace 5b0f7c1e-8a53-4d2b-9a57-3f1e6c0d9b42
// (visionedge/events/ids.py NAMESPACE).
extern const uint8_t kEventIdNamespace[16];

// Sets the version and RFC 4122 variant bits of b (16 bytes) and writes it as a 36-character
// lowercase UUID plus a NUL into out[37]. With random bytes and version 4: a UUIDv4.
void uuid_format(uint8_t b[16], unsigned version, char out[37]);

// Writes the 36-character lowercase UUIDv5 of `name` in `ns` plus a NUL into out[37].
void uuid5(const uint8_t ns[16], const char* name, size_t name_len, char out[37]);

}  // namespace ve
