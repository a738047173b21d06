/* Vector table and reset for QEMU's mps2-an386 (Cortex-M4F). Reset enables the FPU and hands
 * over to newlib's rdimon crt0 (_start), which sets up semihosting stdio, argv (QEMU's
 * -semihosting-config arg=...), zeroes .bss, runs constructors and calls main(). A fault
 * prints its name through semihosting and exits non-zero, so a test never hangs on it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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
