#include "manifest.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace ve {
namespace {

enum class Tok { kEnd, kError, kLBrace, kRBrace, kLBracket, kRBracket, kColon, kComma, kString, kNumber, kLiteral };

struct Lexer {
  FILE* f;
  char text[128];
  int peeked = -2;

  int get() {
    if (peeked != -2) {
      const int c = peeked;
      peeked = -2;
      return c;
    }
    return std::fgetc(f);
  }
  void unget(int c) { peeked = c; }

  Tok next() {
    int c;
    do {
      c = get();
    } while (c == ' ' || c == '\n' || c == '\r' || c == '\t');
    switch (c) {
      case EOF: return Tok::kEnd;
      case '{': return Tok::kLBrace;
      case '}': return Tok::kRBrace;
      case '[': return Tok::kLBracket;
      case ']': return Tok::kRBracket;
      case ':': return Tok::kColon;
      case ',': return Tok::kComma;
      case '"': {
        size_t n = 0;
        for (;;) {
          c = get();
          if (c == EOF) return Tok::kError;
          if (c == '"') break;
          if (c == '\\') {
            c = get();
            if (c == EOF) return Tok::kError;
            if (c == 'u') {  // keep escapes verbatim-ish: ids are ASCII file names
              for (int i = 0; i < 4; ++i) get();
              c = '?';
            }
          }
          if (n + 1 < sizeof text) text[n++] = static_cast<char>(c);
        }
        text[n] = '\0';
        return Tok::kString;
      }
      default: {
        size_t n = 0;
        while (c != EOF && c != ',' && c != '}' && c != ']' && c != ' ' && c != '\n' && c != '\r' && c != '\t' && c != ':') {
          if (n + 1 < sizeof text) text[n++] = static_cast<char>(c);
          c = get();
        }
        unget(c);
        text[n] = '\0';
        if (n == 0) return Tok::kError;
        const char first = text[0];
        return (first == '-' || (first >= '0' && first <= '9')) ? Tok::kNumber : Tok::kLiteral;
      }
    }
  }
};

struct Parser {
  Lexer lx;
  Manifest* m;
  bool error = false;
  bool too_many = false;

  // path: the keys from the root to the value being parsed ("" for array elements).
  const char* path[8];
  char keys[8][32];
  int depth = 0;

  void scalar(Tok t) {
    if (t != Tok::kString && t != Tok::kNumber && t != Tok::kLiteral) return;
    const double num = t == Tok::kNumber ? std::strtod(lx.text, nullptr) : 0.0;
    if (depth == 1) {
      if (std::strcmp(path[0], "clip_id") == 0 && t == Tok::kString) {
        std::snprintf(m->clip_id, sizeof m->clip_id, "%s", lx.text);
      } else if (std::strcmp(path[0], "fps") == 0 && t == Tok::kNumber) {
        m->fps = num;
      } else if (std::strcmp(path[0], "width") == 0 && t == Tok::kNumber) {
        m->width = static_cast<int>(num);
      } else if (std::strcmp(path[0], "height") == 0 && t == Tok::kNumber) {
        m->height = static_cast<int>(num);
      }
      return;
    }
    if (depth >= 3 && std::strcmp(path[0], "frames") == 0 && m->count > 0 && t == Tok::kNumber) {
      ManifestFrame& fr = m->frames[m->count - 1];
      if (depth == 3 && std::strcmp(path[2], "index") == 0) fr.index = static_cast<uint32_t>(num);
      else if (depth == 3 && std::strcmp(path[2], "ts_ms") == 0) fr.ts_ms = static_cast<uint32_t>(num);
      else if (depth == 4 && std::strcmp(path[2], "metadata") == 0) {
        if (std::strcmp(path[3], "ExposureTime") == 0) fr.exposure_time = num;
        else if (std::strcmp(path[3], "AnalogueGain") == 0) fr.analogue_gain = num;
      }
    }
  }

  // Parses one value whose first token is `t`.
  void value(Tok t) {
    if (error) return;
    if (t == Tok::kLBrace) {
      if (depth == 2 && std::strcmp(path[0], "frames") == 0) {
        if (m->count >= VE_MAX_MANIFEST_FRAMES) {
          too_many = error = true;
          return;
        }
        const double nan = std::numeric_limits<double>::quiet_NaN();
        m->frames[m->count++] = ManifestFrame{0, 0, nan, nan};
      }
      Tok k = lx.next();
      if (k == Tok::kRBrace) return;
      for (;;) {
        if (k != Tok::kString || depth >= 7) { error = true; return; }
        std::snprintf(keys[depth], sizeof keys[depth], "%s", lx.text);
        path[depth] = keys[depth];
        if (lx.next() != Tok::kColon) { error = true; return; }
        ++depth;
        value(lx.next());
        --depth;
        if (error) return;
        const Tok sep = lx.next();
        if (sep == Tok::kRBrace) return;
        if (sep != Tok::kComma) { error = true; return; }
        k = lx.next();
      }
    }
    if (t == Tok::kLBracket) {
      Tok v = lx.next();
      if (v == Tok::kRBracket) return;
      for (;;) {
        if (depth >= 7) { error = true; return; }
        path[depth] = "";
        ++depth;
        value(v);
        --depth;
        if (error) return;
        const Tok sep = lx.next();
        if (sep == Tok::kRBracket) return;
        if (sep != Tok::kComma) { error = true; return; }
        v = lx.next();
      }
    }
    if (t == Tok::kString || t == Tok::kNumber || t == Tok::kLiteral) {
      scalar(t);
      return;
    }
    error = true;
  }
};

}  // namespace

Status read_manifest(const char* path, Manifest* out, char* why, size_t why_cap) {
  if (path == nullptr || out == nullptr || why == nullptr) return Status::kNullArgument;
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::snprintf(why, why_cap, "cannot open %s", path);
    return Status::kIo;
  }
  out->clip_id[0] = '\0';
  out->fps = 0.0;
  out->width = out->height = 0;
  out->count = 0;
  static Parser p;
  p = Parser{};
  p.lx.f = f;
  p.m = out;
  const Tok first = p.lx.next();
  if (first != Tok::kLBrace) p.error = true;
  else p.value(first);
  std::fclose(f);
  if (p.too_many) {
    std::snprintf(why, why_cap, "%s lists more than %d frames; rebuild with a larger VE_MAX_MANIFEST_FRAMES",
                  path, VE_MAX_MANIFEST_FRAMES);
    return Status::kParse;
  }
  if (p.error || !(out->fps > 0.0)) {
    std::snprintf(why, why_cap, "%s is not a manifest written by `visionedge replay --export-frames`", path);
    return Status::kParse;
  }
  return Status::kOk;
}

}  // namespace ve
