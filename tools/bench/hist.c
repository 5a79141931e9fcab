/* hist.c - see hist.h. */
#include "hist.h"

#include <string.h>

static unsigned bucket_of(uint64_t v)
{
    if (v < HIST_SUB) return (unsigned)v;
    unsigned k = 63u - (unsigned)__builtin_clzll(v); /* v in [2^k, 2^(k+1)) */
    unsigned sub = (unsigned)(v >> (k - HIST_SUB_BITS)) & (HIST_SUB - 1);
    unsigned idx = (k - HIST_SUB_BITS + 1) * HIST_SUB + sub;
    return idx < HIST_BUCKETS ? idx : HIST_BUCKETS - 1;
}

/* Upper edge of a bucket: reporting the edge never flatters a percentile. */
static uint64_t bucket_top(unsigned idx)
{
    if (idx < HIST_SUB) return idx;
    unsigned k = idx / HIST_SUB + HIST_SUB_BITS - 1, sub = idx % HIST_SUB;
    uint64_t step = 1ull << (k - HIST_SUB_BITS);
    return (1ull << k) + (sub + 1) * step - 1;
}

void hist_reset(hist_t *h)
{
    memset(h, 0, sizeof(*h));
}

void hist_record(hist_t *h, uint64_t us)
{
    h->bucket[bucket_of(us)]++;
    h->count++;
    if (us > h->max_us) h->max_us = us;
}

void hist_merge(hist_t *dst, const hist_t *src)
{
    for (unsigned i = 0; i < HIST_BUCKETS; i++)
        dst->bucket[i] += src->bucket[i];
    dst->count += src->count;
    if (src->max_us > dst->max_us) dst->max_us = src->max_us;
}

uint64_t hist_percentile(const hist_t *h, double pct)
{
    if (!h->count) return 0;
    if (pct >= 100) return h->max_us;
    uint64_t rank = (uint64_t)(pct / 100.0 * (double)h->count);
    if (rank >= h->count) rank = h->count - 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += h->bucket[i];
        if (seen > rank) {
            uint64_t top = bucket_top(i);
            return top < h->max_us ? top : h->max_us;
        }
    }
    return h->max_us;
}
