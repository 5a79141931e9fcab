/* clock.h - wall and monotonic time in milliseconds. */
#ifndef WOD_CLOCK_H
#define WOD_CLOCK_H

#include <stdint.h>

/* Milliseconds since the Unix epoch (for protocol timestamps). */
uint64_t clock_wall_ms(void);
/* Monotonic milliseconds with sub-ms precision (for tick timing). */
double clock_mono_ms(void);

#endif
