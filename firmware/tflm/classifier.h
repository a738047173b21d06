// The int8 classifier over TensorFlow Lite Micro: a MicroInterpreter built in place (no heap)
// over a caller-owned arena, with a MicroMutableOpResolver holding exactly the operators the
// model card lists (model_ops.h, generated from card.json by CMake).
//
// init() checks, in order, and reports an error code plus a message instead of failing later:
// the flatbuffer verifies (kModelSchema), its schema version is TFLITE_SCHEMA_VERSION
// (kModelSchema), every operator it uses is in the resolver (kModelOps, naming the operator),
// the tensors fit the arena (kArenaTooSmall), and the input/output are int8 of the card's shape
// (kModelIo).
#pragma once

#include <cstddef>
#include <cstdint>
#include <new>

#include "model_ops.h"
#include "tensorflow/lite/micro/micro_interpreter.h"
#include "ve/quantize.h"
#include "ve/status.h"

namespace ve {

struct TensorInfo {
  int height = 0, width = 0, channels = 0;  // input only
  int count = 0;                            // output only: number of classes
  double scale = 0.0;
  int zero_point = 0;
};

class Classifier {
 public:
  Classifier() = default;
  Classifier(const Classifier&) = delete;
  Classifier& operator=(const Classifier&) = delete;
  ~Classifier() { release(); }

  Status init(const uint8_t* model, size_t model_len, uint8_t* arena, size_t arena_len,
              char* why, size_t why_cap);
  // The input tensor (input_info() describes it); fill it, then invoke().
  int8_t* input();
  Status invoke();
  const int8_t* output() const;
  const TensorInfo& input_info() const { return in_; }
  const TensorInfo& output_info() const { return out_; }
  // The InputSpec for crop_resize_quantize(): the card's real range and the tensor's scale.
  InputSpec input_spec() const;
  size_t arena_used() const;
  // Index of the largest output (ties: the lowest index, like numpy.argmax).
  int top1() const;

 private:
  void release();
  ve_model::OpResolver resolver_;
  bool ops_registered_ = false;
  alignas(tflite::MicroInterpreter) unsigned char storage_[sizeof(tflite::MicroInterpreter)];
  tflite::MicroInterpreter* interp_ = nullptr;
  TensorInfo in_{}, out_{};
};

}  // namespace ve
