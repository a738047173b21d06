// Declarations-only stand-in for the Arduino core, so tests/firmware/test_board_ram.py can
// compile the Nano 33 BLE sketch with arm-none-eabi-g++ and count its static RAM (no hardware
// here; the object is never linked or run).
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>

struct SerialPort {
  void begin(unsigned long baud);
  explicit operator bool() const;
  size_t write(const uint8_t* data, size_t len);
  size_t write(uint8_t c);
  size_t print(const char* s);
  size_t print(int v);
  size_t println(const char* s);
};
extern SerialPort Serial;
unsigned long millis();
unsigned long micros();
long random(long max);
void randomSeed(unsigned long seed);
int analogRead(int pin);
void delay(unsigned long ms);
constexpr int A0 = 14;
