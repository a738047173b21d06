// Arduino Nano 33 BLE Sense + OV7675: gate, events and classifier of firmware/core on QQVGA
// gray frames; events as JSON lines on the USB serial port (what a serial bridge forwards).
// All buffers are in one static ve::BoardApp (boards/common/board_app.h), the same object the
// size report (bench/firmware_size.py) measures: the camera writes into its frame buffer, which
// is also the 160x120 motion plane (one 19,200-byte buffer, not two).
#include <Arduino.h>
#include <Arduino_OV767X.h>

#include "board_app.h"

namespace {

ve::BoardApp g_app;
uint32_t g_index = 0;
bool g_ok = false;

class SerialSink final : public ve::EventSink {
 public:
  ve::Status publish(const char* json, size_t len) override {
    Serial.write(reinterpret_cast<const uint8_t*>(json), len);
    Serial.write('\n');
    return ve::Status::kOk;
  }
} g_sink;

void random_bytes(uint8_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(random(256));
}

void report(const char* what, ve::Status st) {
  Serial.print("error ");
  Serial.print(ve::status_name(st));
  Serial.print(" (");
  Serial.print(static_cast<int>(st));
  Serial.print("): ");
  Serial.print(what);
  Serial.print("; ");
  Serial.println(ve::status_message(st));
}

}  // namespace

void setup() {
  Serial.begin(115200);
  while (!Serial && millis() < 3000) {
  }
  randomSeed(analogRead(A0) ^ micros());
  if (!Camera.begin(QQVGA, GRAYSCALE, 5, OV7675)) {
    report("OV7675 camera not found; check the TinyML shield connection", ve::Status::kIo);
    return;
  }
  char why[160];
  const ve::Status st = g_app.init(&random_bytes, why, sizeof why);
  if (st != ve::Status::kOk) return report(why, st);
  g_ok = true;
}

void loop() {
  if (!g_ok) {
    delay(1000);
    return;
  }
  Camera.readFrame(g_app.frame());  // QQVGA gray: VE_CAMERA_W x VE_CAMERA_H bytes
  const ve::Status st = g_app.step(g_index, static_cast<uint32_t>(millis()), g_sink);
  if (st != ve::Status::kOk) report("frame", st);
  ++g_index;
}
