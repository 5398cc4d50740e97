/*
 * Start-up and semihosting for QEMU's mps2-an386 (Cortex-M4F), without a C library: the vector
 * table, the reset handler (copies .data, zeroes .bss, enables the FPU, calls main), a SysTick
 * handler that counts wraps, and the semihosting calls the node uses (write a string, exit).
 */
#include <stdint.h>

#include "startup.h"

extern uint32_t _data_load, _data_start, _data_end, _bss_start, _bss_end, _stack_top;
int main(void);

volatile uint32_t systick_wraps;

void reset_handler(void);
static void systick_handler(void) { systick_wraps++; }
static void fault_handler(void)
{
    semihost_write("fault\n");
    semihost_exit(1);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))&_stack_top, reset_handler, fault_handler, fault_handler, fault_handler,
    fault_handler, fault_handler, 0, 0, 0, 0, fault_handler, fault_handler, 0, fault_handler,
    systick_handler,
};

void reset_handler(void)
{
    uint32_t *src = &_data_load, *dst = &_data_start;
    while (dst < &_data_end)
        *dst++ = *src++;
    for (dst = &_bss_start; dst < &_bss_end;)
        *dst++ = 0;
    /* Full access to the FPU (CP10, CP11), before any floating-point instruction. */
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20;
    __asm volatile("dsb\n isb");
    semihost_exit(main());
}

/* ARM semihosting: operation in r0, argument in r1, BKPT 0xAB. */
static uint32_t semihost(uint32_t op, const void *arg)
{
    register uint32_t r0 __asm("r0") = op;
    register const void *r1 __asm("r1") = arg;
    __asm volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* SYS_WRITE to the handle SYS_OPEN gives for ":tt" in mode "w": the host's standard output. */
void semihost_write(const char *s)
{
    static uint32_t handle;
    static int opened;
    if (!opened) {
        const uint32_t open_block[3] = {(uint32_t)(uintptr_t)":tt", 4 /* "w" */, 3};
        handle = semihost(0x01 /* SYS_OPEN */, open_block);
        opened = 1;
    }
    uint32_t len = 0;
    while (s[len])
        len++;
    const uint32_t write_block[3] = {handle, (uint32_t)(uintptr_t)s, len};
    semihost(0x05 /* SYS_WRITE */, write_block);
}

void semihost_exit(int status)
{
    /* SYS_EXIT: ADP_Stopped_ApplicationExit (exit code 0) or ADP_Stopped_RunTimeErrorUnknown. */
    semihost(0x18, (const void *)(uintptr_t)(status == 0 ? 0x20026 : 0x20023));
    for (;;) {
    }
}

/* SysTick: the core clock, the largest reload, its interrupt counting wraps. */
void ticks_start(void)
{
    volatile uint32_t *syst = (volatile uint32_t *)0xE000E010;
    syst[1] = 0x00FFFFFF; /* RVR */
    syst[2] = 0;          /* CVR */
    syst[0] = 7;          /* CSR: enable, interrupt, core clock */
}

uint64_t ticks(void)
{
    volatile uint32_t *cvr = (volatile uint32_t *)0xE000E018;
    for (;;) {
        uint32_t before = systick_wraps;
        uint32_t current = *cvr;
        if (systick_wraps == before)
            return ((uint64_t)before << 24) + (0x00FFFFFF - current);
    }
}

void calibration_loop(void)
{
    uint32_t count = 1000000;
    __asm volatile("1: subs %0, #1\n bne 1b" : "+r"(count));
}
