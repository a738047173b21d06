#include "board_app.h"

#include <cstdio>
#include <cstring>

namespace ve {

BoardApp::BoardApp() {}

Status BoardApp::init(RandomBytes rng, char* why, size_t why_cap) {
  gate_.set_changed_output(changed_);
  Status st = gate_.configure(ve_config::gate_params());
  if (st != Status::kOk) {
    std::snprintf(why, why_cap, "gate_config.h: gate parameters rejected");
    return st;
  }
  EventParams ep = ve_config::event_params();
  ep.deterministic_ids = rng == nullptr;
#ifdef VE_WITH_TFLM
  if (ve_config::kClassifierEnabled) {
    st = classifier_.init(ve_model_data, ve_model_data_len, arena_, sizeof arena_, why, why_cap);
    if (st != Status::kOk) return st;
    spec_ = classifier_.input_spec();
    for (int i = 0; i < ve_model::kLabelCount; ++i) {
      ignore_[i] = false;
      for (int k = 0; k < ve_config::kIgnoreCount; ++k) {
        if (std::strcmp(ve_config::kIgnoreLabels[k], ve_model::kLabels[i]) == 0) ignore_[i] = true;
      }
    }
    ep.classify = true;
    ep.model_name = ve_model::kName;
    ep.model_sha256 = ve_model::kSha256;
    ep.labels = ve_model::kLabels;
    ep.label_count = ve_model::kLabelCount;
    classify_ = true;
  }
#else
  // No TFLM: crop, resize and quantize into the arena (where TFLM keeps the input tensor).
  classify_ = ve_config::kClassifierEnabled &&
              static_cast<size_t>(spec_.width) * spec_.height * spec_.channels <= sizeof arena_;
#endif
  st = build_quant_table(spec_, table_);
  if (st != Status::kOk) {
    std::snprintf(why, why_cap, "input quantization");
    return st;
  }
  st = tracker_.configure(ep, gate_.params(), rng);
  if (st != Status::kOk) std::snprintf(why, why_cap, "event parameters rejected");
  return st;
}

Status BoardApp::step(uint32_t index, uint32_t ts_ms, EventSink& sink) {
#ifdef VE_PLANE_IS_CAMERA
  const uint8_t* plane = frame_;
  const int pw = VE_CAMERA_W, ph = VE_CAMERA_H;
#else
  int pw = 0, ph = 0;
  Status pst = to_motion_plane(frame_, VE_CAMERA_W, VE_CAMERA_H, PixelFormat::kGray8,
                               plane_factor(VE_CAMERA_W, VE_PLANE_W), plane_, static_cast<int>(sizeof plane_), &pw, &ph);
  if (pst != Status::kOk) return pst;
  const uint8_t* plane = plane_;
#endif
  GateResult r;
  Status st = gate_.process(plane, pw, ph, index, ExposureInfo::none(), &r);
  if (st != Status::kOk) return st;
  const uint32_t started = tracker_.events_started();
  st = tracker_.on_gate(FrameInfo{index, ts_ms, ""}, r, sink);
  if (st != Status::kOk) return st;
  if (tracker_.events_started() != started) last_classified_ = -1000000;  // a new event, a new budget
  if (!classify_ || !classification_due(r, tracker_) ||
      tracker_.classified_frames() >= ve_config::kClassifyMaxPerEvent ||
      static_cast<int>(index) - last_classified_ < ve_config::kClassifyEveryNFrames) {
    return Status::kOk;
  }
  double box[4];
  if (classify_box(regions_, changed_, r, gate_.params(), ve_config::kMinRegionPixels, tracker_, box) ==
      CropSource::kNone) {
    return Status::kOk;
  }
  const CropRect rect = crop_rect(box, VE_CAMERA_W, VE_CAMERA_H, static_cast<double>(spec_.width) / spec_.height,
                                  ve_config::kClassifyMargin);
#ifdef VE_WITH_TFLM
  int8_t* input = classifier_.input();
#else
  int8_t* input = reinterpret_cast<int8_t*>(arena_);
#endif
  st = crop_resize_quantize(frame_, VE_CAMERA_W, VE_CAMERA_H, PixelFormat::kGray8, rect, spec_, table_, input);
  if (st != Status::kOk) return st;
  last_classified_ = static_cast<int>(index);
  ++classifications_;
  return classify(index, sink);
}

Status BoardApp::classify(uint32_t index, EventSink& sink) {
  (void)index;
#ifdef VE_WITH_TFLM
  Status st = classifier_.invoke();
  if (st != Status::kOk) return st;
  Prediction top[8];
  const TensorInfo& o = classifier_.output_info();
  const int n = rank_outputs(classifier_.output(), o.count, o.scale, o.zero_point, ve_config::kClassifyThreshold,
                             ignore_, ve_config::kTopK, top, 8);
  return tracker_.on_classification(top, n, sink);
#else
  (void)sink;
  return Status::kOk;
#endif
}

Status BoardApp::finish(uint32_t ts_ms, uint32_t index, EventSink& sink) {
  return tracker_.finish(ts_ms, index, EndReason::kStopped, sink);
}

}  // namespace ve
