// ve_host / ve_qemu: run the firmware core over a clip's motion planes and print, per frame,
// the gate decision, and the events as JSON lines. The same source runs on the host (g++)
// and on the Cortex-M4 under QEMU, where stdio goes through newlib semihosting.
//
//   ve_host --params FILE --frames DIR          DIR/frame_000000.pgm ... (replay --export-frames)
//   ve_host --params FILE [--raw WxH] FILE...   PGM (or raw 8-bit) files in order
//   ... --classifications FILE --labels a,b,c [--model-name N --model-sha256 H]
//       feed classifications (lines "FRAME LABEL_INDEX:SCORE ...") after the gate on those
//       frames, as the Python pipeline does, to check the label vote of the event payloads
//   ve_host --burn-stack BYTES | --burn-heap BYTES
//       use that much stack (recursion) or heap (malloc) and exit: the test of the QEMU image's
//       stack/heap reserve check (boards/mps2_an386/startup.c)
//   ... --images DIR --image-size WxH --input WxHxC --quant SCALE,ZP,MEAN,STD [--dump-inputs DIR]
//       the classifier input of docs/gate-algorithm.md §6 from the camera images
//       DIR/image_%06u.bgr (raw BGR888): one "input ..." line per frame the daemon classifies
//       (runner_input.h), and the int8 tensors as DIR/input_%06u.bin with --dump-inputs
//
// Per frame:   frame <i> pct=<changed_pct %.3f> motion=<0|1> frame_motion=<0|1> opened=<0|1>
//              closed=<0|1> reason=<reason|-> box=<x0,y0,x1,y1|-> zones=<a,b|-> tamper=<ok|reason>
// Events:      one JSON object per line (starts with '{').
// Errors:      "error <name> (<code>): <what>; <fix>" on stdout and stderr, exit status 1.
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "params_file.h"
#include "pgm.h"
#include "runner_events.h"
#include "runner_input.h"
#include "runner_objects.h"
#include "ve/format.h"
#include "ve/gate.h"

namespace {

// Touches about `bytes` of stack, 512 at a time; the volatile sum keeps every frame.
int burn_stack(long bytes) {
  volatile uint8_t block[512];
  for (unsigned i = 0; i < sizeof block; ++i) block[i] = static_cast<uint8_t>(i);
  const int below = bytes > 512 ? burn_stack(bytes - 512) : 0;
  return below + block[bytes % 512];
}

ve::MotionGate g_gate;
uint8_t g_plane[ve::kMaxPlanePixels];
char g_path[1024];

int fail(ve::Status st, const char* what) {
  // stdout too: under QEMU the tests read one stream.
  std::printf("error %s (%d): %s; %s\n", ve::status_name(st), static_cast<int>(st), what,
              ve::status_message(st));
  std::fprintf(stderr, "error %s (%d): %s; %s\n", ve::status_name(st), static_cast<int>(st), what,
               ve::status_message(st));
  std::fflush(stdout);
  return 1;
}

void print_frame(const ve::GateResult& r, const ve::GateParams& p) {
  char pct[32];
  ve::format_decimal(r.changed_pct, 3, pct, sizeof pct);
  std::printf("frame %u pct=%s motion=%d frame_motion=%d opened=%d closed=%d reason=%s box=",
              static_cast<unsigned>(r.index), pct, r.motion ? 1 : 0, r.frame_motion ? 1 : 0,
              r.opened ? 1 : 0, r.closed ? 1 : 0,
              r.reason == ve::Reason::kNone ? "-" : ve::reason_name(r.reason));
  if (r.has_box) {
    const double c[4] = {static_cast<double>(r.box.x0) / p.plane_w, static_cast<double>(r.box.y0) / p.plane_h,
                         static_cast<double>(r.box.x1) / p.plane_w, static_cast<double>(r.box.y1) / p.plane_h};
    for (int i = 0; i < 4; ++i) {
      char b[32];
      ve::format_decimal(c[i], 4, b, sizeof b);
      std::printf("%s%s", i ? "," : "", b);
    }
  } else {
    std::printf("-");
  }
  std::printf(" zones=");
  bool any = false;
  for (int z = 0; z < p.zone_count; ++z) {
    if (r.zones & (1u << z)) {
      std::printf("%s%s", any ? "," : "", p.zones[z].name);
      any = true;
    }
  }
  std::printf("%s tamper=%s\n", any ? "" : "-", r.tampered ? ve::tamper_reason_name(r.tamper_reason) : "ok");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--burn-stack") == 0) {
    std::printf("burned %d\n", burn_stack(std::strtol(argv[2], nullptr, 10)));
    return 0;
  }
  if (argc == 3 && std::strcmp(argv[1], "--burn-heap") == 0) {
    const size_t n = static_cast<size_t>(std::strtol(argv[2], nullptr, 10));
    auto* p = static_cast<volatile uint8_t*>(std::malloc(n));  // kept: newlib may trim on free
    if (p == nullptr) return fail(ve::Status::kIo, "malloc failed");
    for (size_t i = 0; i < n; i += 256) p[i] = 1;
    std::printf("allocated %u\n", static_cast<unsigned>(n));
    return 0;
  }
  const char* params_path = nullptr;
  const char* frames_dir = nullptr;
  int raw_w = 0, raw_h = 0;
  long max_frames = -1;
  double fps = 10.0;
  const char* classifications = nullptr;
  const char* model_name = "model";
  const char* model_sha = "";
  const char* labels = "";
  const char* clip_id = "";
  ve::InputOptions input_opt;
  int first_file = argc;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--params") == 0 && i + 1 < argc) {
      params_path = argv[++i];
    } else if (std::strcmp(argv[i], "--frames") == 0 && i + 1 < argc) {
      frames_dir = argv[++i];
    } else if (std::strcmp(argv[i], "--raw") == 0 && i + 1 < argc) {
      if (std::sscanf(argv[++i], "%dx%d", &raw_w, &raw_h) != 2 || raw_w < 1 || raw_h < 1) {
        return fail(ve::Status::kParse, "--raw needs WxH, e.g. --raw 160x120");
      }
    } else if (std::strcmp(argv[i], "--fps") == 0 && i + 1 < argc) {
      fps = std::strtod(argv[++i], nullptr);
    } else if (std::strcmp(argv[i], "--clip-id") == 0 && i + 1 < argc) {
      clip_id = argv[++i];
    } else if (std::strcmp(argv[i], "--classifications") == 0 && i + 1 < argc) {
      classifications = argv[++i];
    } else if (std::strcmp(argv[i], "--model-name") == 0 && i + 1 < argc) {
      model_name = argv[++i];
    } else if (std::strcmp(argv[i], "--model-sha256") == 0 && i + 1 < argc) {
      model_sha = argv[++i];
    } else if (std::strcmp(argv[i], "--labels") == 0 && i + 1 < argc) {
      labels = argv[++i];
    } else if (std::strcmp(argv[i], "--images") == 0 && i + 1 < argc) {
      input_opt.images_dir = argv[++i];
    } else if (std::strcmp(argv[i], "--image-size") == 0 && i + 1 < argc) {
      if (std::sscanf(argv[++i], "%dx%d", &input_opt.image_w, &input_opt.image_h) != 2) {
        return fail(ve::Status::kParse, "--image-size needs WxH, e.g. --image-size 320x180");
      }
    } else if (std::strcmp(argv[i], "--input") == 0 && i + 1 < argc) {
      ve::InputSpec& s = input_opt.spec;
      if (std::sscanf(argv[++i], "%dx%dx%d", &s.width, &s.height, &s.channels) != 3 || s.width < 1 ||
          s.height < 1 || (s.channels != 1 && s.channels != 3)) {
        return fail(ve::Status::kParse, "--input needs WxHxC with C 1 or 3, e.g. --input 96x96x1");
      }
    } else if (std::strcmp(argv[i], "--quant") == 0 && i + 1 < argc) {
      ve::InputSpec& s = input_opt.spec;
      if (std::sscanf(argv[++i], "%lf,%d,%lf,%lf", &s.scale, &s.zero_point, &s.mean, &s.std) != 4) {
        return fail(ve::Status::kParse, "--quant needs SCALE,ZERO_POINT,MEAN,STD");
      }
    } else if (std::strcmp(argv[i], "--dump-inputs") == 0 && i + 1 < argc) {
      input_opt.dump_dir = argv[++i];
    } else if (std::strcmp(argv[i], "--max-frames") == 0 && i + 1 < argc) {
      max_frames = std::strtol(argv[++i], nullptr, 10);
    } else if (argv[i][0] == '-' && argv[i][1] == '-') {
      std::printf("usage: %s --params FILE (--frames DIR | [--raw WxH] [--fps F] [--clip-id ID] FILE...) [--max-frames N] [--classifications FILE --labels a,b,...]\n", argv[0]);
      return 2;
    } else {
      first_file = i;
      break;
    }
  }
  if (params_path == nullptr || (frames_dir == nullptr && first_file >= argc)) {
    std::printf("usage: %s --params FILE (--frames DIR | [--raw WxH] [--fps F] [--clip-id ID] FILE...) [--max-frames N] [--classifications FILE --labels a,b,...]\n", argv[0]);
    return 2;
  }
  static ve::LoadedParams params;
  char why[1400];
  ve::Status st = ve::load_params_file(params_path, &params, why, sizeof why);
  if (st != ve::Status::kOk) return fail(st, why);
  st = g_gate.configure(params.gate);
  if (st != ve::Status::kOk) return fail(st, "gate parameters rejected");
  static ve::RunnerEvents events;
  st = events.configure(params.events, params.gate, frames_dir, clip_id, fps, why, sizeof why);
  if (st != ve::Status::kOk) return fail(st, why);
  static ve::RunnerInput input;
  st = input.configure(input_opt, params.classify, &g_gate, why, sizeof why);
  if (st != ve::Status::kOk) return fail(st, why);
  if (classifications != nullptr) {
    st = events.load_classifications(classifications, model_name, model_sha, labels, why, sizeof why);
    if (st != ve::Status::kOk) return fail(st, why);
  }
  // objects.mode: "object" publishes object events only, "both" motion events then object events.
  events.set_quiet(params.objects.mode == ve::ObjectMode::kObject);
  static ve::RunnerObjects objects;
  st = objects.configure(params, events, &g_gate, params.classify.every_n_frames, params.classify.max_per_event,
                         &input, why, sizeof why);
  if (st != ve::Status::kOk) return fail(st, why);

  uint32_t last_index = 0;
  bool any = false;
  for (uint32_t index = 0;; ++index) {
    if (max_frames >= 0 && static_cast<long>(index) >= max_frames) break;
    const char* path;
    int w = raw_w, h = raw_h;
    if (frames_dir != nullptr) {
      std::snprintf(g_path, sizeof g_path, "%s/frame_%06u.pgm", frames_dir, static_cast<unsigned>(index));
      path = g_path;
    } else {
      if (first_file + static_cast<int>(index) >= argc) break;
      path = argv[first_file + static_cast<int>(index)];
    }
    if (raw_w > 0) {
      st = ve::read_raw(path, g_plane, sizeof g_plane, w, h);
    } else {
      st = ve::read_pgm(path, g_plane, sizeof g_plane, &w, &h);
    }
    if (st == ve::Status::kIo && frames_dir != nullptr && index > 0) break;  // end of the clip
    if (st != ve::Status::kOk) {
      std::snprintf(why, sizeof why, "frame %u (%s) unreadable", static_cast<unsigned>(index), path);
      return fail(st, why);
    }
    ve::GateResult r;
    st = g_gate.process(g_plane, w, h, index, events.exposure(index), &r);
    if (st != ve::Status::kOk) {
      std::snprintf(why, sizeof why, "frame %u (%s) is %dx%d but the gate is configured for %dx%d",
                    static_cast<unsigned>(index), path, w, h, params.gate.plane_w, params.gate.plane_h);
      return fail(st, why);
    }
    print_frame(r, params.gate);
    st = events.on_gate(r);
    if (st != ve::Status::kOk) return fail(st, "event JSON");
    // The motion event's classifier input (not in object mode: the objects' inputs print after it).
    if (params.objects.mode != ve::ObjectMode::kObject) {
      st = input.on_frame(index, r, events.tracker(), why, sizeof why);
      if (st != ve::Status::kOk) return fail(st, why);
    }
    st = objects.on_frame(events.frame_info(index), r, why, sizeof why);
    if (st != ve::Status::kOk) return fail(st, why);
    last_index = index;
    any = true;
  }
  st = any ? events.finish(last_index) : ve::Status::kOk;
  if (st != ve::Status::kOk) return fail(st, "event JSON");
  st = any ? objects.finish(events.frame_info(last_index), "end_of_clip") : ve::Status::kOk;
  if (st != ve::Status::kOk) return fail(st, "object event JSON");
  if (objects.enabled() && events.unused_object_classification() >= 0) {
    return fail(ve::Status::kParse, "the classifications file has an object line for an object the stage never picked");
  }
  std::fflush(stdout);
  return 0;
}
