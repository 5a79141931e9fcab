/* llm.c - see llm.h. */
#include "llm.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"
#include "../net/httpc.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define LLM_MAX_NPCS 1024 /* cooldown slots (zone, npc) */

typedef struct llm_cool_s {
    char zone_id[64];
    int npc_index;
    double until_ms; /* monotonic */
} llm_cool_t;

struct llm_s {
    uv_loop_t *loop;
    httpc_url_t url;
    char headers[320];
    char model[128];
    int timeout_ms, cooldown_ms, per_minute;
    double tokens, refilled_ms; /* rate cap: a bucket of per_minute requests */
    llm_cool_t *cool;
    int n_cool;
    int in_flight, closing;
    llm_reply_fn fn;
    void *ud;
};

typedef struct llm_job_s {
    llm_t *l;
    char zone_id[64];
    int npc_index;
} llm_job_t;

llm_t *llm_new(uv_loop_t *loop, const config_t *cfg, llm_reply_fn fn, void *ud)
{
    if (!cfg->llm_base_url[0]) return NULL;
    llm_t *l = wod_calloc(1, sizeof(*l));
    char url[300];
    size_t n = strlen(cfg->llm_base_url);
    (void)snprintf(url, sizeof(url), "%s%schat/completions", cfg->llm_base_url,
                   n && cfg->llm_base_url[n - 1] == '/' ? "" : "/");
    if (httpc_parse_url(url, &l->url) < 0) {
        log_error("llm", "LLM_BASE_URL %s is not an http:// URL; LLM NPCs are off",
                  cfg->llm_base_url);
        free(l);
        return NULL;
    }
    if (cfg->llm_api_key[0])
        (void)snprintf(l->headers, sizeof(l->headers), "Authorization: Bearer %s\r\n",
                       cfg->llm_api_key);
    (void)snprintf(l->model, sizeof(l->model), "%s", cfg->llm_model);
    l->loop = loop;
    l->timeout_ms = cfg->llm_timeout_ms;
    l->cooldown_ms = cfg->llm_cooldown_ms;
    l->per_minute = cfg->llm_max_per_minute;
    l->tokens = l->per_minute;
    l->refilled_ms = clock_mono_ms();
    l->cool = wod_calloc(LLM_MAX_NPCS, sizeof(*l->cool));
    l->fn = fn;
    l->ud = ud;
    log_info("llm", "NPCs voiced by %s (model %s)", url, l->model);
    return l;
}

static void destroy(llm_t *l)
{
    free(l->cool);
    free(l);
}

void llm_free(llm_t *l)
{
    if (!l) return;
    l->closing = 1;
    if (!l->in_flight) destroy(l);
}

/* The NPC's cooldown slot (oldest reused when full). */
static llm_cool_t *cool_slot(llm_t *l, const char *zone_id, int npc_index)
{
    llm_cool_t *oldest = NULL;
    for (int i = 0; i < l->n_cool; i++) {
        llm_cool_t *c = &l->cool[i];
        if (c->npc_index == npc_index && strcmp(c->zone_id, zone_id) == 0) return c;
        if (!oldest || c->until_ms < oldest->until_ms) oldest = c;
    }
    llm_cool_t *c = l->n_cool < LLM_MAX_NPCS ? &l->cool[l->n_cool++] : oldest;
    (void)snprintf(c->zone_id, sizeof(c->zone_id), "%s", zone_id);
    c->npc_index = npc_index;
    c->until_ms = 0;
    return c;
}

static void on_done(void *ud, int status, const char *body, size_t len)
{
    llm_job_t *j = ud;
    llm_t *l = j->l;
    l->in_flight--;
    if (!l->closing) {
        char text[LLM_REPLY_MAX + 1];
        int outcome = -1;
        if (status == 200) outcome = llm_parse_reply(body, len, text, sizeof(text));
        if (outcome < 0)
            log_warn("llm", "%s npc-%d: no answer (HTTP %d)", j->zone_id, j->npc_index, status);
        l->fn(l->ud, j->zone_id, j->npc_index, outcome, outcome > 0 ? text : NULL);
    } else if (!l->in_flight) {
        destroy(l);
    }
    free(j);
}

int llm_ask(llm_t *l, const char *zone_id, int npc_index, const char *npc_name,
            const char *npc_description, const char *speaker, const char *text)
{
    double now = clock_mono_ms();
    l->tokens += (now - l->refilled_ms) * l->per_minute / 60000.0;
    if (l->tokens > l->per_minute) l->tokens = l->per_minute;
    l->refilled_ms = now;
    llm_cool_t *c = cool_slot(l, zone_id, npc_index);
    if (now < c->until_ms || l->tokens < 1) return -1;

    char system[1024], user[700];
    (void)snprintf(system, sizeof(system),
                   "You are %s, a character in a dark, modern-gothic role-playing world. %s "
                   "Stay in character. Answer the player in one or two short sentences as "
                   "\"SAY: <words>\", or reply NONE to stay silent.",
                   npc_name, npc_description);
    (void)snprintf(user, sizeof(user), "%s [say]: %s\nWhat do you say?", speaker, text);
    json_t *req = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s}], s:i, s:f}", "model", l->model,
                            "messages", "role", "system", "content", system, "role", "user",
                            "content", user, "max_tokens", 150, "temperature", 0.8);
    char *body = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!body) return -1;
    llm_job_t *j = wod_calloc(1, sizeof(*j));
    j->l = l;
    (void)snprintf(j->zone_id, sizeof(j->zone_id), "%s", zone_id);
    j->npc_index = npc_index;
    int rc =
        httpc_post(l->loop, &l->url, l->headers, body, strlen(body), l->timeout_ms, on_done, j);
    free(body);
    if (rc < 0) {
        free(j);
        return -1;
    }
    l->in_flight++;
    l->tokens -= 1;
    c->until_ms = now + l->cooldown_ms;
    return 0;
}

/* ---- reply parsing (untrusted) */

int llm_parse_reply(const char *body, size_t len, char *out, size_t cap)
{
    if (cap < 2) return -1;
    json_t *root = json_loadb(body, len, 0, NULL);
    json_t *content = json_object_get(
        json_object_get(json_array_get(json_object_get(root, "choices"), 0), "message"), "content");
    if (!json_is_string(content)) {
        json_decref(root);
        return -1;
    }
    const char *s = json_string_value(content);
    while (*s && isspace((unsigned char)*s))
        s++;
    if (strncasecmp(s, "SAY:", 4) == 0) s += 4;
    while (*s && isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        n--;
    int said = n > 0 && !(n >= 4 && strncasecmp(s, "NONE", 4) == 0 && n < 8);
    if (said) {
        if (n > cap - 1) {
            n = cap - 1;
            while (n && ((unsigned char)s[n] & 0xC0) == 0x80) /* not inside a UTF-8 character */
                n--;
        }
        memcpy(out, s, n);
        out[n] = '\0';
    }
    json_decref(root);
    return said ? 1 : 0;
}
