// Declarations-only stand-in for arduino-libraries/Arduino_OV767X (see Arduino.h here).
#pragma once
enum { QQVGA = 3 };
enum { GRAYSCALE = 4 };
enum { OV7675 = 1 };
struct OV767X {
  int begin(int resolution, int format, int fps, int model);
  void readFrame(void* buffer);
};
extern OV767X Camera;
