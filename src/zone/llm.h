/* llm.h - LLM-voiced NPCs: a player's /say that names a talking NPC
 * becomes one chat-completions request to an OpenAI-compatible endpoint
 * (LLM_BASE_URL, http:// only, see httpc.h), sent asynchronously on the
 * loop with a timeout, at most one per NPC per LLM_NPC_COOLDOWN_MS and
 * LLM_MAX_PER_MINUTE per zone server. Off when LLM_BASE_URL is empty.
 * docs/GAME.md "NPCs and AI". */
#ifndef WOD_ZONE_LLM_H
#define WOD_ZONE_LLM_H

#include "../core/config.h"

#include <stddef.h>
#include <uv.h>

#define LLM_REPLY_MAX 300 /* bytes of a reply kept */

typedef struct llm_s llm_t;

/* outcome 1: say `text`; 0: the model chose silence (NONE); -1: failed
 * or timed out (the caller falls back to a scripted line). */
typedef void (*llm_reply_fn)(void *ud, const char *zone_id, int npc_index, int outcome,
                             const char *text);

/* NULL when LLM_BASE_URL is empty (or invalid: logged). */
llm_t *llm_new(uv_loop_t *loop, const config_t *cfg, llm_reply_fn fn, void *ud);
/* Frees now, or once the requests in flight have ended (their replies
 * are then dropped). */
void llm_free(llm_t *l);

/* Asks for the NPC's answer. Returns 0 if a request went out (the reply
 * comes through fn), -1 if refused (cooldown, rate cap, failure). */
int llm_ask(llm_t *l, const char *zone_id, int npc_index, const char *npc_name,
            const char *npc_description, const char *speaker, const char *text);

/* Extracts choices[0].message.content from a response body into out:
 * returns 1 (text to say, a leading "SAY:" removed, cut to cap at a
 * character boundary), 0 (NONE or empty) or -1 (malformed). Untrusted
 * input: fuzzed (fuzz_llm.c). */
int llm_parse_reply(const char *body, size_t len, char *out, size_t cap);

#endif
