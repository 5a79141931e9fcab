/* bot.h - one simulated player of wod-bench.
 *
 * A bot is a WebSocket client (wsc.h) on the shared libuv loop. It speaks the
 * native /ws protocol (docs/PROTOCOL.md): handshake, guest auth and
 * character_create are sent at once on connect; after world_entry it
 * walks to a random point of the --spread square with position moves at
 * run speed, then roams there with one short position move per 1/--move-hz,
 * says "b<id>:<sent_us>" every 1/--chat-hz, shouts "s<id>:<sent_us>" every
 * 1/--shout-hz, crosses a zone border every --travel seconds and pings
 * every 1/--ping-hz.
 * Bots hearing another bot's chat record the latency from the embedded
 * send time (one process, one monotonic clock).
 *
 * All bots live in one array owned by main.c; each embeds its uv timer,
 * so the array is freed only after every timer's close callback ran. */
#ifndef WOD_BENCH_BOT_H
#define WOD_BENCH_BOT_H
#include "bench.h"
#include "wsc.h"

#include <stdint.h>
#include <uv.h>

typedef enum {
    BOT_IDLE,       /* not connected yet */
    BOT_CONNECTING, /* TCP/WebSocket handshake in progress */
    BOT_OPEN,       /* WebSocket open, waiting for world_entry */
    BOT_IN_WORLD,   /* playing */
    BOT_CLOSED,     /* closed at the end of the run */
    BOT_FAILED      /* connect error, refusal or early disconnect */
} bot_state_t;

typedef struct bot_s bot_t;

/* Allocates `n` bots bound to run `b`; their timers are initialised on b->loop. */
bot_t *bots_new(bench_t *b, int n);
/* Starts the connection of bot `i`. Failure is counted, never fatal. */
void bot_connect(bot_t *bots, int i);
/* Asks every open bot to close its WebSocket (normal close). */
void bots_close_all(bot_t *bots, int n);
/* Closes every bot timer and socket; `done` runs once the last handle has
 * closed, after which bots_free() may be called. */
void bots_close_handles(bot_t *bots, int n, void (*done)(void));
/* Frees the array and the bots' buffers. */
void bots_free(bot_t *bots, int n);
/* State of bot `i` (for the final count). */
bot_state_t bot_state(const bot_t *bots, int i);

#endif
