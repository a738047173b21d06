#include "ve/status.h"

namespace ve {

const char* status_name(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kFrameSize: return "frame_size";
    case Status::kPlaneTooLarge: return "plane_too_large";
    case Status::kBadConfig: return "bad_config";
    case Status::kModelSchema: return "model_schema";
    case Status::kModelOps: return "model_ops";
    case Status::kArenaTooSmall: return "arena_too_small";
    case Status::kModelIo: return "model_io";
    case Status::kInvoke: return "invoke";
    case Status::kBufferFull: return "buffer_full";
    case Status::kIo: return "io";
    case Status::kParse: return "parse";
    case Status::kNullArgument: return "null_argument";
    case Status::kFormat: return "format";
  }
  return "unknown";
}

const char* status_message(Status s) {
  switch (s) {
    case Status::kOk: return "ok";
    case Status::kFrameSize:
      return "frame size differs from the configured motion plane; regenerate gate_config.h "
             "with `visionedge firmware config` for this camera resolution";
    case Status::kPlaneTooLarge:
      return "motion plane larger than the compile-time buffers; rebuild with a larger "
             "VE_MAX_PLANE_W/VE_MAX_PLANE_H or lower gate.width";
    case Status::kBadConfig:
      return "gate/event parameters out of range; regenerate the header from a config that "
             "`visionedge config check` accepts";
    case Status::kModelSchema:
      return "model schema version is not the one TFLite Micro reads; re-export the model "
             "with `visionedge model export`";
    case Status::kModelOps:
      return "model uses an operator the resolver does not hold; regenerate model_ops.h "
             "from the model card";
    case Status::kArenaTooSmall:
      return "tensor arena too small for the model; raise VE_ARENA_BYTES to the card's "
             "arena size";
    case Status::kModelIo:
      return "model input/output is not int8 of the expected shape; use the shipped int8 "
             "model or re-export it";
    case Status::kInvoke: return "TFLite Micro Invoke() failed; see the message above";
    case Status::kBufferFull:
      return "output buffer too small for the event JSON; raise VE_JSON_BYTES";
    case Status::kIo: return "cannot read a file; check the path";
    case Status::kParse:
      return "malformed input file; regenerate it with visionedge (firmware config / replay "
             "--export-frames)";
    case Status::kNullArgument: return "a required argument was null (programming error)";
    case Status::kFormat:
      return "a number could not be formatted; with newlib-nano link with -u _printf_float";
  }
  return "unknown status";
}

}  // namespace ve
