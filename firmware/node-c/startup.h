/* Start-up, semihosting output and SysTick instruction counting (startup.c). */
#ifndef NODE_STARTUP_H
#define NODE_STARTUP_H
#include <stdint.h>

void semihost_write(const char *s);
void semihost_exit(int status);
void ticks_start(void);
uint64_t ticks(void);
/* 1,000,000 iterations of a two-instruction loop. */
void calibration_loop(void);
#endif
