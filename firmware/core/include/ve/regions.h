// The classifier's crop box: the largest motion region of a frame (docs/gate-algorithm.md §6),
// exactly visionedge/gate/regions.py RegionFinder.find()[0], from the gate's changed mask.
//
// The mask is reduced to a grid of 8x8-pixel cells (a cell is set when any of its pixels
// changed; trailing rows/columns that do not fill a cell are outside the grid), cells that
// touch (8-connected) form one region, a region touching the grid's last row/column also owns
// the leftover pixels, and its box is tightened to the changed pixels inside that rectangle.
// Regions whose box covers fewer than min_area pixels are dropped; the largest box wins, ties
// to the smaller y0, then x0, then the region found first in raster order. Static storage
// only: 2 bytes per cell of labels plus a 2-byte-per-cell fill stack.
#pragma once

#include <cstdint>

#include "ve/events.h"
#include "ve/gate.h"

namespace ve {

constexpr int kRegionCell = 8;
constexpr int kMaxGridW = kMaxPlaneW / kRegionCell;
constexpr int kMaxGridH = kMaxPlaneH / kRegionCell;

class RegionFinder {
 public:
  // `changed_bits`: the w x h changed mask, bit-packed (MotionGate::set_changed_output()).
  // Returns false (and leaves `out` alone) when no region is at least min_area pixels.
  bool largest(const uint8_t* changed_bits, int w, int h, int min_area, PixelBox* out);
  // Every region of at least min_area pixels, in RegionFinder.find()'s order (largest first,
  // then smaller y0, x0, then raster order): the object tracker's input. Returns how many were
  // written (at most `cap`; kMaxRegions always holds them all).
  int find(const uint8_t* changed_bits, int w, int h, int min_area, PixelBox* out, int cap);

 private:
  uint16_t label_[kMaxGridW * kMaxGridH > 0 ? kMaxGridW * kMaxGridH : 1] = {};
  uint16_t stack_[kMaxGridW * kMaxGridH > 0 ? kMaxGridW * kMaxGridH : 1] = {};
};

// §6: does the daemon classify this frame? An open event, the gate open, not a rejected frame
// (the per-event budget and cadence are the caller's).
bool classification_due(const GateResult& r, const EventTracker& tracker);

enum class CropSource : uint8_t { kNone = 0, kRegion, kEvent };

// §6: the normalised box the classifier crops on a due frame: the frame's largest motion region
// (min_area plane pixels at least; rounded to 4 decimals like every gate box), else the open
// event's union box. kNone: neither (do not classify). `changed_bits` is this frame's mask.
CropSource classify_box(RegionFinder& finder, const uint8_t* changed_bits, const GateResult& r,
                        const GateParams& gate, int min_area, const EventTracker& tracker, double box[4]);

// Bounding box of the set bits of `bits` inside [x0, x1) x [y0, y1); false when none is set.
bool bitmap_bounds(const uint8_t* bits, int w, int x0, int y0, int x1, int y1, PixelBox* out);

}  // namespace ve
