#include "classifier.h"

#include <cstdio>

#include "flatbuffers/flatbuffers.h"
#include "tensorflow/lite/schema/schema_generated.h"
#include "tensorflow/lite/schema/schema_utils.h"

namespace ve {

void Classifier::release() {
  if (interp_ != nullptr) {
    interp_->~MicroInterpreter();
    interp_ = nullptr;
  }
}

Status Classifier::init(const uint8_t* model, size_t model_len, uint8_t* arena, size_t arena_len,
                        char* why, size_t why_cap) {
  release();
  if (model == nullptr || arena == nullptr || why == nullptr) return Status::kNullArgument;
  why[0] = '\0';
  flatbuffers::Verifier verifier(model, model_len);
  if (model_len < 8 || !tflite::VerifyModelBuffer(verifier)) {
    std::snprintf(why, why_cap, "the model (%u bytes) is not a valid TFLite flatbuffer",
                  static_cast<unsigned>(model_len));
    return Status::kModelSchema;
  }
  const tflite::Model* m = tflite::GetModel(model);
  if (m->version() != TFLITE_SCHEMA_VERSION) {
    std::snprintf(why, why_cap, "model schema version %u, TFLite Micro reads version %d",
                  static_cast<unsigned>(m->version()), TFLITE_SCHEMA_VERSION);
    return Status::kModelSchema;
  }
  if (!ops_registered_) {
    if (ve_model::register_ops(resolver_) != kTfLiteOk) {
      std::snprintf(why, why_cap, "cannot register the model card's operators (%s)", ve_model::kOpNames);
      return Status::kModelOps;
    }
    ops_registered_ = true;
  }
  const auto* codes = m->operator_codes();
  for (flatbuffers::uoffset_t i = 0; codes != nullptr && i < codes->size(); ++i) {
    const tflite::BuiltinOperator op = tflite::GetBuiltinCode(codes->Get(i));
    if (op == tflite::BuiltinOperator_CUSTOM) {
      const auto* name = codes->Get(i)->custom_code();
      std::snprintf(why, why_cap, "custom operator '%s' is not in the resolver",
                    name != nullptr ? name->c_str() : "?");
      return Status::kModelOps;
    }
    if (resolver_.FindOp(op) == nullptr) {
      std::snprintf(why, why_cap, "operator %s is not in the resolver (card lists: %s)",
                    tflite::EnumNameBuiltinOperator(op), ve_model::kOpNames);
      return Status::kModelOps;
    }
  }
  // Below the card's measured arena TFLM may not fail cleanly: some kernels abort or crash
  // when their scratch tensors do not fit (seen with the MobileNet students between 12 and
  // 28 KB), so a smaller arena is refused before TFLM sees it.
  if (arena_len < ve_model::kArenaBytes) {
    std::snprintf(why, why_cap, "a %u-byte arena is below the model card's %u bytes",
                  static_cast<unsigned>(arena_len), static_cast<unsigned>(ve_model::kArenaBytes));
    return Status::kArenaTooSmall;
  }
  interp_ = new (storage_) tflite::MicroInterpreter(m, resolver_, arena, arena_len);
  if (interp_->AllocateTensors() != kTfLiteOk) {
    std::snprintf(why, why_cap, "AllocateTensors failed with a %u-byte arena (the card says %u)",
                  static_cast<unsigned>(arena_len), static_cast<unsigned>(ve_model::kArenaBytes));
    release();
    return Status::kArenaTooSmall;
  }
  TfLiteTensor* in = interp_->input(0);
  TfLiteTensor* out = interp_->output(0);
  if (in == nullptr || out == nullptr || in->type != kTfLiteInt8 || out->type != kTfLiteInt8 ||
      in->dims->size != 4 || in->dims->data[0] != 1 || out->dims->size != 2 || out->dims->data[0] != 1) {
    std::snprintf(why, why_cap, "model input/output are not int8 [1,H,W,C] / [1,N]");
    release();
    return Status::kModelIo;
  }
  in_.height = in->dims->data[1];
  in_.width = in->dims->data[2];
  in_.channels = in->dims->data[3];
  in_.scale = in->params.scale;
  in_.zero_point = in->params.zero_point;
  out_.count = out->dims->data[1];
  out_.scale = out->params.scale;
  out_.zero_point = out->params.zero_point;
  if (in_.height != ve_model::kInputHeight || in_.width != ve_model::kInputWidth ||
      in_.channels != ve_model::kInputChannels || out_.count != ve_model::kLabelCount) {
    std::snprintf(why, why_cap, "model is %dx%dx%d -> %d classes, the card says %dx%dx%d -> %d",
                  in_.height, in_.width, in_.channels, out_.count, ve_model::kInputHeight,
                  ve_model::kInputWidth, ve_model::kInputChannels, ve_model::kLabelCount);
    release();
    return Status::kModelIo;
  }
  return Status::kOk;
}

int8_t* Classifier::input() { return interp_ != nullptr ? interp_->input(0)->data.int8 : nullptr; }

const int8_t* Classifier::output() const {
  return interp_ != nullptr ? const_cast<tflite::MicroInterpreter*>(interp_)->output(0)->data.int8 : nullptr;
}

Status Classifier::invoke() {
  if (interp_ == nullptr) return Status::kBadConfig;
  return interp_->Invoke() == kTfLiteOk ? Status::kOk : Status::kInvoke;
}

InputSpec Classifier::input_spec() const {
  InputSpec s;
  s.width = in_.width;
  s.height = in_.height;
  s.channels = in_.channels;
  s.scale = in_.scale;
  s.zero_point = in_.zero_point;
  const double lo = ve_model::kRealRangeLo, hi = ve_model::kRealRangeHi;
  s.std = 255.0 / (hi - lo);
  s.mean = -lo * s.std;
  return s;
}

size_t Classifier::arena_used() const { return interp_ != nullptr ? interp_->arena_used_bytes() : 0; }

int Classifier::top1() const {
  const int8_t* o = output();
  if (o == nullptr) return -1;
  int best = 0;
  for (int i = 1; i < out_.count; ++i) {
    if (o[i] > o[best]) best = i;
  }
  return best;
}

}  // namespace ve
