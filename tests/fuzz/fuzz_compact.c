/* fuzz_compact.c - libFuzzer driver for the compact roster decoder
 * (src/proto/compact.c), which wod-bench runs on what a server sends.
 *
 * The input is split into frames at each 0xfe 0xfe pair and applied in
 * order to one view, so sequences (a full frame, then deltas against it)
 * are reached, not only single frames. After every frame the view's
 * bookkeeping must hold: in_view equals the listed entries, and every
 * listed entry has a definition. The decoder source is included rather
 * than linked: the wod library is built without fuzzer instrumentation. */
#include "../../src/proto/compact.c"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    compact_view_t v;
    compact_view_init(&v);
    size_t at = 0;
    while (at <= size) {
        size_t end = at;
        while (end + 1 < size && !(data[end] == 0xfe && data[end + 1] == 0xfe))
            end++;
        if (end + 1 >= size) end = size;
        /* a heap copy of exactly the frame so ASan catches reads past it */
        size_t n = end - at;
        uint8_t *frame = malloc(n ? n : 1);
        if (!frame) break;
        if (n) memcpy(frame, data + at, n);
        char err[96];
        compact_view_apply(&v, frame, n, err, sizeof(err));
        free(frame);
        uint32_t listed = 0;
        for (uint32_t sid = 0; sid < v.n_defs; sid++) {
            if (!v.defs[sid].in_view) continue;
            listed++;
            wod_assert(v.defs[sid].pid != 0 && v.defs[sid].name);
        }
        wod_assert(listed == v.in_view);
        at = end + 2;
    }
    compact_view_free(&v);
    return 0;
}
