/* hist.h - latency histogram for wod-bench.
 *
 * Log-linear buckets (HdrHistogram style): values below 64 us are exact,
 * above that each power of two is split in 64 steps, so a percentile is
 * within ~1.6% of the true sample. Fixed size, no allocation: recording
 * is a few instructions, which matters when a run takes millions of
 * samples. The exact maximum is kept beside the buckets. */
#ifndef WOD_BENCH_HIST_H
#define WOD_BENCH_HIST_H
#include <stdint.h>

#define HIST_SUB_BITS 6
#define HIST_SUB      (1u << HIST_SUB_BITS)
#define HIST_BUCKETS  (HIST_SUB * 40) /* up to 2^45 us, far beyond any run */

typedef struct hist_s {
    uint64_t count;                /* samples recorded */
    uint64_t max_us;               /* largest sample */
    uint64_t bucket[HIST_BUCKETS]; /* samples per bucket */
} hist_t;

/* Empties the histogram. */
void hist_reset(hist_t *h);
/* Records one sample in microseconds. */
void hist_record(hist_t *h, uint64_t us);
/* Adds every sample of `src` to `dst`. */
void hist_merge(hist_t *dst, const hist_t *src);
/* The value (us) below which `pct` percent of the samples lie; 0 if empty.
 * pct 100 gives the exact maximum. */
uint64_t hist_percentile(const hist_t *h, double pct);

#endif
