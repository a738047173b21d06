/* Vector table and reset for QEMU's mps2-an386 (Cortex-M4F). Reset enables the FPU and hands
 * over to newlib's rdimon crt0 (_start), which sets up semihosting stdio, argv (QEMU's
 * -semihosting-config arg=...), zeroes .bss, runs constructors and calls main(). A fault
 * prints its name through semihosting and exits non-zero, so a test never hangs on it.
 *
 * Stack and heap reserves: crt0 takes the stack from QEMU's SYS_HEAPINFO (the top of QEMU's
 * RAM), not from the linker script's .stack, and sbrk's limit from the same call, so under
 * QEMU a program never runs out of either where a board would. A constructor therefore paints
 * the linker's stack reserve (__stack_size) plus a 64 KB guard below the stack top crt0 chose,
 * and at exit the deepest word written and sbrk's break are compared with __stack_size and
 * __heap_size: over either, the image prints "error reserves: ..." and exits with status 5.
 * Every run prints the figures on stderr ("reserves: stack S of R B, heap H of R B"). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

extern uint32_t __stack_top;
extern void _start(void);

void Reset_Handler(void) {
  /* CPACR: full access to CP10/CP11 (the FPU), before any floating-point instruction. */
  volatile uint32_t* cpacr = (volatile uint32_t*)0xE000ED88u;
  *cpacr |= (0xFu << 20);
  __asm volatile("dsb\n isb" ::: "memory");
  _start();
  for (;;) {
  }
}

static void fault(const char* what) {
  printf("error fault (%s): the firmware crashed; this is a bug\n", what);
  exit(3);
}

void NMI_Handler(void) { fault("nmi"); }
void HardFault_Handler(void) { fault("hardfault"); }
void MemManage_Handler(void) { fault("memmanage"); }
void BusFault_Handler(void) { fault("busfault"); }
void UsageFault_Handler(void) { fault("usagefault"); }
void Default_Handler(void) { fault("unexpected interrupt"); }

extern char __stack_size[], __heap_size[], end[];  /* linker script symbols */

#define VE_PAINT 0xC5A3C5A3u
#define VE_GUARD_BYTES (64u * 1024u)
static uint32_t* s_paint_lo;
static uint32_t* s_paint_hi;
static uintptr_t s_stack_top;

static void check_reserves(void) {
  const uint32_t* p = s_paint_lo;
  while (p < s_paint_hi && *p == VE_PAINT) ++p;
  /* Words above the painted area are crt0's and this frame's: counted as used. */
  const unsigned long stack_used = (unsigned long)(s_stack_top - (uintptr_t)p);
  const unsigned long stack_res = (unsigned long)(uintptr_t)__stack_size;
  const unsigned long heap_used = (unsigned long)((uintptr_t)sbrk(0) - (uintptr_t)end);
  const unsigned long heap_res = (unsigned long)(uintptr_t)__heap_size;
  const int guard_hit = p == s_paint_lo;
  fprintf(stderr, "reserves: stack %lu of %lu B, heap %lu of %lu B\n", stack_used, stack_res, heap_used, heap_res);
  if (stack_used > stack_res || guard_hit) {
    printf("error reserves: the stack used %s%lu bytes, over the %lu-byte reserve of the linker script; "
           "raise __stack_size (-Wl,--defsym) or use less stack\n", guard_hit ? "at least " : "", stack_used,
           stack_res);
    fflush(stdout);
    _exit(5);
  }
  if (heap_used > heap_res) {
    printf("error reserves: the heap grew to %lu bytes, over the %lu-byte reserve of the linker script; "
           "raise __heap_size (-Wl,--defsym) or allocate less\n", heap_used, heap_res);
    fflush(stdout);
    _exit(5);
  }
}

__attribute__((constructor)) static void paint_stack(void) {
  uintptr_t sp;
  __asm volatile("mov %0, sp" : "=r"(sp));
  s_stack_top = sp;
  s_paint_hi = (uint32_t*)((sp - 256u) & ~(uintptr_t)3u); /* spare this frame and its callees */
  s_paint_lo = (uint32_t*)((sp - (uintptr_t)__stack_size - VE_GUARD_BYTES) & ~(uintptr_t)3u);
  for (uint32_t* p = s_paint_lo; p < s_paint_hi; ++p) *p = VE_PAINT;
  atexit(check_reserves);
}

typedef void (*vector_t)(void);

__attribute__((section(".vectors"), used)) const vector_t g_vectors[16] = {
    (vector_t)(uintptr_t)&__stack_top,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,
    Default_Handler, /* SVCall */
    Default_Handler, /* DebugMonitor */
    0,
    Default_Handler, /* PendSV */
    Default_Handler, /* SysTick */
};
