// Error codes of the firmware core: every failure is one of these plus a one-line message.
//
// Nothing in the core throws (built with -fno-exceptions) and nothing is left undefined:
// functions that can fail return a Status, and ve::status_message() says what to fix.
#pragma once

#include <cstdint>

namespace ve {

enum class Status : uint8_t {
  kOk = 0,
  kFrameSize = 1,        // a frame/plane of the wrong size for the configured gate
  kPlaneTooLarge = 2,    // the configured plane does not fit the compile-time buffers
  kBadConfig = 3,        // gate/event parameters out of range
  kModelSchema = 4,      // model flatbuffer schema version is not the one TFLM reads
  kModelOps = 5,         // the model uses an operator the resolver does not hold
  kArenaTooSmall = 6,    // the tensor arena cannot hold the model's tensors
  kModelIo = 7,          // model input/output tensor type or shape not as expected
  kInvoke = 8,           // interpreter Invoke() failed
  kBufferFull = 9,       // an output buffer (JSON line) is too small
  kIo = 10,              // a file could not be read (host/semihosting runner)
  kParse = 11,           // a params/manifest/PGM file is malformed
  kNullArgument = 12,    // a required pointer argument is null
  kFormat = 13,          // a number could not be formatted (NaN/inf, or printf without floats)
};

// Short stable name, e.g. "frame_size".
const char* status_name(Status s);
// One line saying what went wrong and what to do about it.
const char* status_message(Status s);

}  // namespace ve
