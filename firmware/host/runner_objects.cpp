#include "runner_objects.h"

#include <cstdio>
#include <cstdlib>

namespace ve {

Status RunnerObjects::configure(const LoadedParams& params, const RunnerEvents& events, MotionGate* gate,
                                int every_n_frames, int max_per_event, RunnerInput* input, char* why,
                                size_t why_cap) {
  input_ = input;
  enabled_ = params.objects.mode != ObjectMode::kMotion;
  if (!enabled_) return Status::kOk;
  trace_ = std::getenv("VE_TRACE_OBJECTS") != nullptr;
  gate_ = gate->params();
  min_region_px_ = params.classify.min_region_px;
  every_n_ = every_n_frames;
  max_per_event_ = max_per_event;
  if (gate->changed_output() == nullptr) gate->set_changed_output(own_changed_);
  changed_ = gate->changed_output();
  const EventParams& ev = events.params();
  classify_ = ev.classify;
  const Status st = stage_.configure(params.objects, ev, gate_);
  if (st != Status::kOk) {
    std::snprintf(why, why_cap,
                  "object parameters rejected (max_objects <= %d, path_points <= %d, classify_per_frame <= %d, "
                  "zone polygons of <= %d points)",
                  kMaxObjects, kMaxPathPoints, kMaxClassifyPerFrame, kMaxZonePoints);
  }
  return st;
}

Status RunnerObjects::on_frame(const FrameInfo& f, const GateResult& r, char* why, size_t why_cap) {
  if (!enabled_) return Status::kOk;
  // Regions exist where the Python gate makes them: changed pixels on a frame that is not
  // rejected, while the gate is open. A rejected frame is blind.
  int n = 0;
  if (r.has_box && r.motion) n = finder_.find(changed_, gate_.plane_w, gate_.plane_h, min_region_px_, regions_, kMaxRegions);
  const bool blind = r.reason != Reason::kNone && !r.opened;
  stage_.track(f, regions_, n, blind);
  if (classify_) {
    ObjectPick picks[kMaxClassifyPerFrame];
    const int k = stage_.due(every_n_, max_per_event_, picks, kMaxClassifyPerFrame);
    for (int i = 0; i < k; ++i) {
      int count = 0;
      const Prediction* top = RunnerEvents::object_classification(f.index, picks[i].id, &count);
      if (top == nullptr) {
        std::snprintf(why, why_cap, "frame %u: object %u is due for classification but the classifications file has no '%u #%u' line",
                      static_cast<unsigned>(f.index), static_cast<unsigned>(picks[i].id), static_cast<unsigned>(f.index),
                      static_cast<unsigned>(picks[i].id));
        return Status::kParse;
      }
      if (input_ != nullptr && input_->enabled()) {
        // The crop box is the object's box, normalised and rounded like every gate box.
        const PixelBox& b = picks[i].box;
        const double box[4] = {round_decimals(static_cast<double>(b.x0) / gate_.plane_w, 4),
                               round_decimals(static_cast<double>(b.y0) / gate_.plane_h, 4),
                               round_decimals(static_cast<double>(b.x1) / gate_.plane_w, 4),
                               round_decimals(static_cast<double>(b.y1) / gate_.plane_h, 4)};
        char from[32];
        std::snprintf(from, sizeof from, "object:%u", static_cast<unsigned>(picks[i].id));
        const Status ist = input_->emit(f.index, from, box, why, why_cap);
        if (ist != Status::kOk) return ist;
      }
      const Status st = stage_.classified(picks[i].id, top, count);
      if (st != Status::kOk) {
        std::snprintf(why, why_cap, "frame %u: classification of object %u rejected", static_cast<unsigned>(f.index),
                      static_cast<unsigned>(picks[i].id));
        return st;
      }
    }
  }
  const Status st = stage_.emit(*this);
  if (st != Status::kOk) std::snprintf(why, why_cap, "object event JSON");
  if (trace_) {
    std::printf("objects %u", static_cast<unsigned>(f.index));
    for (int i = 0; i < n; ++i) std::printf(" r%d,%d,%d,%d", regions_[i].x0, regions_[i].y0, regions_[i].x1, regions_[i].y1);
    const ObjectTracker& t = stage_.tracker();
    for (int i = 0; i < t.table_size(); ++i) {
      const Track& k = t.at(i);
      std::printf(" %u/%u:%d,%d,%d,%d:%s", static_cast<unsigned>(k.serial), static_cast<unsigned>(k.id), k.box.x0,
                  k.box.y0, k.box.x1, k.box.y1, track_state_name(k.state));
    }
    std::printf("\n");
  }
  return st;
}

Status RunnerObjects::finish(const FrameInfo& last, const char* reason) {
  if (!enabled_) return Status::kOk;
  return stage_.finish(last.index, last.ts_ms, reason, *this);
}

Status RunnerObjects::publish(const char* json, size_t len) {
  std::fwrite(json, 1, len, stdout);
  std::fputc('\n', stdout);
  return Status::kOk;
}

}  // namespace ve
