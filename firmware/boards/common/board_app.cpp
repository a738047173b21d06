#include "board_app.h"

#include <cstdio>
#include <cstring>

namespace ve {
namespace {

// objects.mode = "object": the motion events still run (the motion state) but are not sent.
class NullSink final : public EventSink {
 public:
  Status publish(const char*, size_t) override { return Status::kOk; }
};
NullSink g_null_sink;

}  // namespace

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
  if (st != Status::kOk) {
    std::snprintf(why, why_cap, "event parameters rejected");
    return st;
  }
  const ObjectParams op = ve_config::object_params();
  mode_ = op.mode;
  if (mode_ == ObjectMode::kMotion) return Status::kOk;
  st = objects_.configure(op, ep, gate_.params(), rng);
  if (st != Status::kOk) std::snprintf(why, why_cap, "gate_config.h: object parameters rejected");
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
  EventSink& motion_sink = mode_ == ObjectMode::kObject ? static_cast<EventSink&>(g_null_sink) : sink;
  const uint32_t started = tracker_.events_started();
  st = tracker_.on_gate(FrameInfo{index, ts_ms, ""}, r, motion_sink);
  if (st != Status::kOk) return st;
  if (tracker_.events_started() != started) last_classified_ = -1000000;  // a new event, a new budget
  if (mode_ != ObjectMode::kObject) {
    st = step_motion_classify(index, r, motion_sink);
    if (st != Status::kOk) return st;
  }
  return mode_ == ObjectMode::kMotion ? Status::kOk : step_objects(index, ts_ms, r, sink);
}

Status BoardApp::step_objects(uint32_t index, uint32_t ts_ms, const GateResult& r, EventSink& sink) {
  // Regions where the daemon's gate makes them: changed pixels, not rejected, gate open.
  const GateParams& g = gate_.params();
  const int n = (r.has_box && r.motion)
                    ? regions_.find(changed_, g.plane_w, g.plane_h, ve_config::kMinRegionPixels, boxes_, kMaxRegions)
                    : 0;
  objects_.track(FrameInfo{index, ts_ms, ""}, boxes_, n, r.reason != Reason::kNone && !r.opened);
  if (classify_) {
    ObjectPick picks[kMaxClassifyPerFrame];
    const int k = objects_.due(ve_config::kClassifyEveryNFrames, ve_config::kClassifyMaxPerEvent, picks,
                               kMaxClassifyPerFrame);
    for (int i = 0; i < k; ++i) {
      const double box[4] = {round_decimals(static_cast<double>(picks[i].box.x0) / g.plane_w, 4),
                             round_decimals(static_cast<double>(picks[i].box.y0) / g.plane_h, 4),
                             round_decimals(static_cast<double>(picks[i].box.x1) / g.plane_w, 4),
                             round_decimals(static_cast<double>(picks[i].box.y1) / g.plane_h, 4)};
      Status st = crop(box);
      if (st != Status::kOk) return st;
      ++classifications_;
#ifdef VE_WITH_TFLM
      st = classifier_.invoke();
      if (st != Status::kOk) return st;
      Prediction top[kMaxTop];
      const TensorInfo& o = classifier_.output_info();
      const int m = rank_outputs(classifier_.output(), o.count, o.scale, o.zero_point, ve_config::kClassifyThreshold,
                                 ignore_, ve_config::kTopK, top, kMaxTop);
      st = objects_.classified(picks[i].id, top, m);
      if (st != Status::kOk) return st;
#endif
    }
  }
  return objects_.emit(sink);
}

Status BoardApp::crop(const double box[4]) {
  const CropRect rect = crop_rect(box, VE_CAMERA_W, VE_CAMERA_H, static_cast<double>(spec_.width) / spec_.height,
                                  ve_config::kClassifyMargin);
#ifdef VE_WITH_TFLM
  int8_t* input = classifier_.input();
#else
  int8_t* input = reinterpret_cast<int8_t*>(arena_);
#endif
  return crop_resize_quantize(frame_, VE_CAMERA_W, VE_CAMERA_H, PixelFormat::kGray8, rect, spec_, table_, input);
}

Status BoardApp::step_motion_classify(uint32_t index, const GateResult& r, EventSink& sink) {
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
  const Status st = crop(box);
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
  EventSink& motion_sink = mode_ == ObjectMode::kObject ? static_cast<EventSink&>(g_null_sink) : sink;
  const Status st = tracker_.finish(ts_ms, index, EndReason::kStopped, motion_sink);
  if (st != Status::kOk || mode_ == ObjectMode::kMotion) return st;
  return objects_.finish(index, ts_ms, "stopped", sink);
}

}  // namespace ve
