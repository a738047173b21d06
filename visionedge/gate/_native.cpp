// visionedge.gate._native: the firmware core's fused gate pass (firmware/core/include/ve/
// gate_pass.h), plane downscale (ve/plane.h) and motion regions (ve/regions.h, compiled from
// firmware/core/src/regions.cpp by setup.py), for the Python gate. Nothing here re-implements
// the core: this file only adapts buffers (byte masks in, Python tuples out).
//
// Plain CPython C API, so building needs only a C++17 compiler and the Python headers (no
// pybind11/nanobind at build time). Buffers arrive through the buffer protocol (numpy arrays);
// the Python side (visionedge/gate/native.py) allocates them and checks shapes and dtypes,
// this side checks sizes again so a wrong call raises instead of reading out of bounds.
// The GIL is kept: a call lasts 10-100 µs, and a thread that gives the GIL up that briefly
// waits up to the 5 ms switch interval to get it back from a busy thread (the file source's
// prefetch): measured, releasing it made a whole replay 1.6x slower in wall time.
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <cstdint>
#include <cstring>

#include "ve/gate_pass.h"
#include "ve/plane.h"
#include "ve/regions.h"

namespace {

// Releases the buffers of PyArg_ParseTuple's "y*"/"w*" on every return path.
struct Buffers {
  Py_buffer* items[8] = {};
  int count = 0;
  void add(Py_buffer* b) { items[count++] = b; }
  ~Buffers() {
    for (int i = 0; i < count; ++i) {
      if (items[i]->obj != nullptr) PyBuffer_Release(items[i]);
    }
  }
};

bool need(const Py_buffer& b, Py_ssize_t bytes, const char* name) {
  if (b.len < bytes) {
    PyErr_Format(PyExc_ValueError, "%s holds %zd bytes; the plane needs %zd", name, b.len, bytes);
    return false;
  }
  return true;
}

// The gate's masks as 0/255 byte planes (MaskSet in visionedge/gate/masks.py).
struct ByteSink {
  const uint8_t* active;  // nullptr: nothing masked
  uint8_t* changed;       // the whole C plane, or nullptr: C rows go to `row` only
  uint8_t* row;           // w bytes of scratch
  const uint8_t* zones;   // zone_count planes of zone AND active, 0/255
  int zone_count;
  int w;
  int64_t plane;
  int64_t* zone_changed;

  const uint8_t* active_row(int y) { return active == nullptr ? nullptr : active + static_cast<int64_t>(y) * w; }
  uint8_t* changed_row(int y) { return changed != nullptr ? changed + static_cast<int64_t>(y) * w : row; }
  void row_done(int y, const uint8_t* c, uint32_t count) {
    if (count == 0) return;
    for (int z = 0; z < zone_count; ++z) {
      const uint8_t* zr = zones + z * plane + static_cast<int64_t>(y) * w;
      uint32_t n = 0;
      for (int x = 0; x < w; ++x) n += (c[x] & zr[x]) & 1u;
      zone_changed[z] += n;
    }
  }
};

constexpr int kMaxZones = 64;

// On x86-64 the pass is compiled twice, for AVX2 and for the baseline (SSE2), and the loader
// picks one per machine (GCC function multi-versioning; flatten inlines the loops into each
// version). AVX2 works on 32 pixels at a time: measured ~1.6x faster. Arm64 has NEON in its
// baseline, so one version serves.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define VE_MULTIVERSION __attribute__((target_clones("avx2", "default"), flatten, noinline))
#else
#define VE_MULTIVERSION
#endif

VE_MULTIVERSION ve::PassResult run_pass(const ve::PassArgs& a, ByteSink& sink) {
  return ve::gate_pass(a, sink);
}

VE_MULTIVERSION void run_downscale(const uint8_t* src, int stride, int w, int h, int f, bool full,
                                   uint8_t* out, uint32_t* colsum) {
  ve::downscale_gray(src, stride, w, h, f, full, out, colsum);
}

PyObject* gate_pass(PyObject*, PyObject* args) {
  Py_buffer plane{}, cur{}, prev{}, bg{}, changed{}, active{}, zones{};
  Buffers hold;
  int w = 0, h = 0, zone_count = 0, threshold = 0, step = 0, reference = 0, blur = 0, first = 0,
      sums_wanted = 0, keep_changed = 0;
  PyObject* active_obj = nullptr;
  PyObject* zones_obj = nullptr;
  if (!PyArg_ParseTuple(args, "y*w*y*w*w*OOiiiiiippp|p:gate_pass", &plane, &cur, &prev, &bg, &changed,
                        &active_obj, &zones_obj, &w, &h, &zone_count, &threshold, &step, &reference,
                        &blur, &first, &sums_wanted, &keep_changed)) {
    return nullptr;
  }
  hold.add(&plane);
  hold.add(&cur);
  hold.add(&prev);
  hold.add(&bg);
  hold.add(&changed);
  if (w < 1 || h < 1 || zone_count < 0 || zone_count > kMaxZones || reference < 0 || reference > 2) {
    PyErr_SetString(PyExc_ValueError, "gate_pass: bad plane size, zone count or reference");
    return nullptr;
  }
  const Py_ssize_t n = static_cast<Py_ssize_t>(w) * h;
  if (!need(plane, n, "plane") || !need(cur, n, "cur") || !need(prev, n, "prev") ||
      !need(bg, n, "bg") || !need(changed, n, "changed")) {
    return nullptr;
  }
  if (active_obj != Py_None) {
    if (PyObject_GetBuffer(active_obj, &active, PyBUF_SIMPLE) != 0) return nullptr;
    hold.add(&active);
    if (!need(active, n, "active")) return nullptr;
  }
  if (zone_count > 0) {
    if (PyObject_GetBuffer(zones_obj, &zones, PyBUF_SIMPLE) != 0) return nullptr;
    hold.add(&zones);
    if (!need(zones, n * zone_count, "zones")) return nullptr;
  }
  int64_t zone_changed[kMaxZones] = {};
  ve::PlaneSums sums;
  ve::PassArgs a;
  a.plane = static_cast<const uint8_t*>(plane.buf);
  a.stride = w;
  a.w = w;
  a.h = h;
  a.cur = static_cast<uint8_t*>(cur.buf);
  a.prev = static_cast<const uint8_t*>(prev.buf);
  a.bg = static_cast<uint8_t*>(bg.buf);
  a.blur = blur != 0;
  a.first = first != 0;
  a.reference = static_cast<ve::Reference>(reference);
  a.threshold = threshold;
  a.step = step;
  a.sums = sums_wanted ? &sums : nullptr;
  ve::PassResult r;
  // Without keep_changed nobody reads C after this call (the box and zone counts come from here),
  // so it is not written out: one plane less of memory traffic on most frames.
  uint8_t* row = static_cast<uint8_t*>(PyMem_RawMalloc(static_cast<size_t>(w)));
  if (row == nullptr) return PyErr_NoMemory();
  ByteSink sink{active.obj != nullptr ? static_cast<const uint8_t*>(active.buf) : nullptr,
                keep_changed ? static_cast<uint8_t*>(changed.buf) : nullptr, row,
                zones.obj != nullptr ? static_cast<const uint8_t*>(zones.buf) : nullptr,
                zone_count, w, n, zone_changed};
  uint16_t small[1024];
  uint16_t* vsum = w <= 1024 ? small : static_cast<uint16_t*>(PyMem_RawMalloc(sizeof(uint16_t) * w));
  if (vsum == nullptr) {
    PyMem_RawFree(row);
    return PyErr_NoMemory();
  }
  a.vsum = vsum;
  r = run_pass(a, sink);
  if (vsum != small) PyMem_RawFree(vsum);
  PyMem_RawFree(row);
  PyObject* zc = PyTuple_New(zone_count);
  if (zc == nullptr) return nullptr;
  for (int z = 0; z < zone_count; ++z) PyTuple_SET_ITEM(zc, z, PyLong_FromLongLong(zone_changed[z]));
  PyObject* st;
  if (sums_wanted) {
    st = Py_BuildValue("(LLLLLL)", static_cast<long long>(sums.n), static_cast<long long>(sums.s),
                       static_cast<long long>(sums.ss), static_cast<long long>(sums.m),
                       static_cast<long long>(sums.sl), static_cast<long long>(sums.sll));
  } else {
    st = Py_NewRef(Py_None);
  }
  return Py_BuildValue("(LiiiiNN)", static_cast<long long>(r.changed), r.x0, r.y0, r.x1, r.y1, zc, st);
}

PyObject* structure_counts(PyObject*, PyObject* args) {
  Py_buffer snap{}, blurred{};
  Buffers hold;
  int w = 0, h = 0, thr = 0;
  if (!PyArg_ParseTuple(args, "y*y*iii:structure_counts", &snap, &blurred, &w, &h, &thr)) return nullptr;
  hold.add(&snap);
  hold.add(&blurred);
  if (w < 1 || h < 1) {
    PyErr_SetString(PyExc_ValueError, "structure_counts: bad plane size");
    return nullptr;
  }
  const Py_ssize_t n = static_cast<Py_ssize_t>(w) * h;
  if (!need(snap, n, "snapshot") || !need(blurred, n, "blurred")) return nullptr;
  int64_t strong = 0, agree = 0;
  ve::structure_counts(static_cast<const uint8_t*>(snap.buf), static_cast<const uint8_t*>(blurred.buf),
                       w, h, thr, &strong, &agree);
  return Py_BuildValue("(LL)", static_cast<long long>(strong), static_cast<long long>(agree));
}

// downscale(image, factor, full_range, out): §1's box means (+ the full -> limited table) of a
// 2-D uint8 image whose rows may be padded (a decoder's Y plane with its line size).
PyObject* downscale(PyObject*, PyObject* args) {
  PyObject* src_obj = nullptr;
  Py_buffer out{};
  int factor = 1, full = 0;
  Buffers hold;
  if (!PyArg_ParseTuple(args, "Oipw*:downscale", &src_obj, &factor, &full, &out)) return nullptr;
  hold.add(&out);
  Py_buffer src{};
  if (PyObject_GetBuffer(src_obj, &src, PyBUF_STRIDES | PyBUF_FORMAT) != 0) return nullptr;
  hold.add(&src);
  if (src.ndim != 2 || src.itemsize != 1 || src.strides[1] != 1 || src.strides[0] < src.shape[1]) {
    PyErr_SetString(PyExc_ValueError, "downscale: the image must be 2-D uint8 with contiguous rows");
    return nullptr;
  }
  const int sw = static_cast<int>(src.shape[1]), sh = static_cast<int>(src.shape[0]);
  if (factor < 1 || sw / factor < 1 || sh / factor < 1 || factor > 255) {
    PyErr_SetString(PyExc_ValueError, "downscale: factor out of range for this image");
    return nullptr;
  }
  const Py_ssize_t n = static_cast<Py_ssize_t>(sw / factor) * (sh / factor);
  if (!need(out, n, "out")) return nullptr;
  uint32_t small[2048];
  const int cols = (sw / factor) * factor;
  uint32_t* scratch = cols <= 2048 ? small : static_cast<uint32_t*>(PyMem_RawMalloc(sizeof(uint32_t) * cols));
  if (scratch == nullptr) return PyErr_NoMemory();
  run_downscale(static_cast<const uint8_t*>(src.buf), static_cast<int>(src.strides[0]), sw, sh,
                factor, full != 0, static_cast<uint8_t*>(out.buf), scratch);
  if (scratch != small) PyMem_RawFree(scratch);
  Py_RETURN_NONE;
}

// The extension's plane limit for the regions: ve::RegionFinder keeps its labels and fill stack
// in uint16 cells (ve/regions.h), so its grid must stay within 65,536 cells; setup.py sets
// VE_MAX_PLANE_W/H (2048 x 2048: 256 x 256 cells). Larger planes take the numpy path.
static_assert(ve::kMaxGridW * ve::kMaxGridH <= 65536, "RegionFinder indexes its cells in 16 bits");

// Static so the ~256 KB of labels and stack are not zeroed per call (find() overwrites every
// cell it reads); the GIL serialises the calls.
ve::RegionFinder g_finder;

// C (0/255 bytes) -> the core's bit-packed mask: bit (i & 7) of byte (i >> 3) is pixel i.
void pack_bits(const uint8_t* c, int64_t n, uint8_t* bits) {
  int64_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // Eight bytes at a time: keep bit 0 of each, and one multiply gathers byte k's bit into bit
  // k of the top byte (the partial products never overlap, so nothing carries).
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    std::memcpy(&v, c + i, 8);
    bits[i >> 3] = static_cast<uint8_t>(((v & 0x0101010101010101ull) * 0x0102040810204080ull) >> 56);
  }
#endif
  for (; i < n; i += 8) {
    uint8_t b = 0;
    for (int k = 0; k < 8 && i + k < n; ++k) b = static_cast<uint8_t>(b | ((c[i + k] & 1u) << k));
    bits[i >> 3] = b;
  }
}

// regions(changed, w, h, min_area) -> [(x0, y0, x1, y1), ...] largest first: §6 steps 1-4 by
// the firmware's own ve::RegionFinder::find (RegionFinder.find in visionedge/gate/regions.py
// is the same on the numpy path).
PyObject* regions(PyObject*, PyObject* args) {
  Py_buffer changed{};
  Buffers hold;
  int w = 0, h = 0, min_area = 0;
  if (!PyArg_ParseTuple(args, "y*iii:regions", &changed, &w, &h, &min_area)) return nullptr;
  hold.add(&changed);
  if (w < 1 || h < 1 || w > ve::kMaxPlaneW || h > ve::kMaxPlaneH) {
    PyErr_Format(PyExc_ValueError, "regions: a %dx%d plane is outside 1x1..%dx%d", w, h,
                 ve::kMaxPlaneW, ve::kMaxPlaneH);
    return nullptr;
  }
  const int64_t n = static_cast<int64_t>(w) * h;
  if (!need(changed, static_cast<Py_ssize_t>(n), "changed")) return nullptr;
  // Regions of an 8-connected grid are at least one empty cell apart: at most ceil(gw/2) x
  // ceil(gh/2) of them (one, the whole plane, below one cell).
  const int gw = ((w / 2) / 2) / 2, gh = ((h / 2) / 2) / 2;
  const int cap = gw < 1 || gh < 1 ? 1 : ((gw + 1) / 2) * ((gh + 1) / 2);
  const size_t nbytes = static_cast<size_t>(ve::bitmap_bytes(w, h));
  void* mem = PyMem_RawMalloc(nbytes + sizeof(ve::PixelBox) * static_cast<size_t>(cap));
  if (mem == nullptr) return PyErr_NoMemory();
  auto* boxes = static_cast<ve::PixelBox*>(mem);
  uint8_t* bits = static_cast<uint8_t*>(mem) + sizeof(ve::PixelBox) * static_cast<size_t>(cap);
  pack_bits(static_cast<const uint8_t*>(changed.buf), n, bits);
  const int count = g_finder.find(bits, w, h, min_area, boxes, cap);
  PyObject* out = PyList_New(count);
  if (out != nullptr) {
    for (int i = 0; i < count; ++i) {
      PyObject* t = Py_BuildValue("(iiii)", boxes[i].x0, boxes[i].y0, boxes[i].x1, boxes[i].y1);
      if (t == nullptr) {
        Py_DECREF(out);
        out = nullptr;
        break;
      }
      PyList_SET_ITEM(out, i, t);
    }
  }
  PyMem_RawFree(mem);
  return out;
}

PyMethodDef kMethods[] = {
    {"gate_pass", gate_pass, METH_VARARGS,
     "gate_pass(plane, cur, prev, bg, changed, active, zones, w, h, zone_count, threshold, step,\n"
     "reference, blur, first, sums[, keep_changed]) -> (changed, x0, y0, x1, y1, zone_counts,\n"
     "sums | None); the C plane is written to `changed` only with keep_changed (the regions\n"
     "read it)"},
    {"structure_counts", structure_counts, METH_VARARGS,
     "structure_counts(snapshot, blurred, w, h, threshold) -> (strong, agree)"},
    {"downscale", downscale, METH_VARARGS, "downscale(image, factor, full_range, out) -> None"},
    {"regions", regions, METH_VARARGS,
     "regions(changed, w, h, min_area) -> [(x0, y0, x1, y1), ...], largest first"},
    {nullptr, nullptr, 0, nullptr},
};

PyModuleDef kModule = {PyModuleDef_HEAD_INIT, "_native",
                       "The firmware core's fused gate pass, plane downscale and motion regions (C++).", -1,
                       kMethods, nullptr, nullptr, nullptr, nullptr};

}  // namespace

// REGIONS_MAX_W/H: the largest plane regions() takes (setup.py's VE_MAX_PLANE_W/H).
PyMODINIT_FUNC PyInit__native(void) {
  PyObject* m = PyModule_Create(&kModule);
  if (m == nullptr) return nullptr;
  if (PyModule_AddIntConstant(m, "REGIONS_MAX_W", ve::kMaxPlaneW) < 0 ||
      PyModule_AddIntConstant(m, "REGIONS_MAX_H", ve::kMaxPlaneH) < 0) {
    Py_DECREF(m);
    return nullptr;
  }
  return m;
}
