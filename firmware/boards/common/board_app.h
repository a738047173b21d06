// The board loop shared by the camera sketches (boards/nano33ble) and the size image
// (boards/mps2_an386/size_image.cpp), so the size report counts exactly what a board
// allocates: every buffer lives in this one object, placed in static storage by the board.
//
// Per frame (docs/gate-algorithm.md): motion plane (§1; the camera frame itself when the
// camera delivers the plane size, so there is one buffer, not two), gate (§2-§3), events, and
// on the frames the daemon classifies (§6) the crop box, area resize, quantization and the
// classifier, with the header's per-event budget and cadence. With objects.mode "object" or
// "both" (§7) the motion regions also go to the object tracker, the objects the stage picks
// are classified on their own boxes, and object events are published ("object": only them).
//
// Needs gate_config.h (visionedge firmware config) on the include path, and with
// VE_WITH_TFLM the classifier (firmware/tflm) and the generated model_ops.h.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gate_config.h"
#include "ve/events.h"
#include "ve/gate.h"
#include "ve/objects.h"
#include "ve/plane.h"
#include "ve/quantize.h"
#include "ve/regions.h"
#include "ve/status.h"

#ifdef VE_WITH_TFLM
#include "classifier.h"
#include "model_ops.h"
#define VE_APP_ARENA_BYTES ve_model::kArenaBytes
#else
#ifndef VE_ARENA_BYTES
#error "without VE_WITH_TFLM, define VE_ARENA_BYTES (the model card's arena) to reserve it"
#endif
#define VE_APP_ARENA_BYTES VE_ARENA_BYTES
#endif

// The camera frame: QQVGA gray by default (OV7675 / esp32-camera FRAMESIZE_QQVGA).
#ifndef VE_CAMERA_W
#define VE_CAMERA_W 160
#endif
#ifndef VE_CAMERA_H
#define VE_CAMERA_H 120
#endif
#if VE_CAMERA_W == VE_PLANE_W && VE_CAMERA_H == VE_PLANE_H
#define VE_PLANE_IS_CAMERA 1
#endif

extern const uint8_t ve_model_data[];
extern const size_t ve_model_data_len;

namespace ve {

class BoardApp {
 public:
  BoardApp();  // out of line: keeps a static BoardApp in .bss
  BoardApp(const BoardApp&) = delete;
  BoardApp& operator=(const BoardApp&) = delete;

  // Gate and events from gate_config.h; the classifier (with TFLM, when the header enables it)
  // over the linked model. `rng` makes live UUIDv4 ids (nullptr: replay ids from `clip`).
  // On failure returns the status and a one-line reason in `why`.
  Status init(RandomBytes rng, char* why, size_t why_cap);
  // The camera writes its VE_CAMERA_W x VE_CAMERA_H gray frame here before each step().
  uint8_t* frame() { return frame_; }
  // One frame through plane, gate, events and (when due) the classifier; payloads go to `sink`.
  Status step(uint32_t index, uint32_t ts_ms, EventSink& sink);
  Status finish(uint32_t ts_ms, uint32_t index, EventSink& sink);
  const EventTracker& tracker() const { return tracker_; }
  const ObjectStage& objects() const { return objects_; }
  int classifications() const { return classifications_; }

 private:
  Status classify(uint32_t index, EventSink& sink);
  Status crop(const double box[4]);
  Status step_motion_classify(uint32_t index, const GateResult& r, EventSink& sink);
  Status step_objects(uint32_t index, uint32_t ts_ms, const GateResult& r, EventSink& sink);

  alignas(4) uint8_t frame_[VE_CAMERA_W * VE_CAMERA_H];
#ifndef VE_PLANE_IS_CAMERA
  uint8_t plane_[VE_PLANE_W * VE_PLANE_H];
#endif
  uint8_t changed_[bitmap_bytes(VE_PLANE_W, VE_PLANE_H)];
  RegionFinder regions_;
  MotionGate gate_;
  EventTracker tracker_;
  ObjectStage objects_;                 // tracker + object events (§7), VE_MAX_OBJECTS slots
  PixelBox boxes_[kMaxRegions];         // this frame's motion regions, largest first
  int8_t table_[256];
  alignas(16) uint8_t arena_[VE_APP_ARENA_BYTES];  // TFLM's tensors (the model input inside)
#ifdef VE_WITH_TFLM
  Classifier classifier_;
  bool ignore_[ve_model::kLabelCount];
#endif
  InputSpec spec_;
  bool classify_ = false;
  ObjectMode mode_ = ObjectMode::kMotion;
  int last_classified_ = -1000000;
  int classifications_ = 0;
};

}  // namespace ve
