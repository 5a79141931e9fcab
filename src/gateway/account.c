/* account.c - the requests a gateway answers with the store, off the loop:
 * auth (guest, credentials, token), character_create and character_select,
 * and putting the chosen character into the world. Each runs as one
 * store_async job that names its connection by id; a client gone by the
 * time the job ends is simply not answered.
 *
 * Logins with a password are the exception: argon2id is slow and big on
 * purpose, so those jobs run on the gateway's own small hashing pool
 * (hashpool.h), never on libuv's worker pool where guest logins, token
 * logins, character jobs and (in `all` mode) saves run. Before any work
 * an auth request passes the abuse limits (throttle.h): per-address
 * buckets for account creation, failed logins and bad tokens, and a
 * per-account lockout checked before argon2 runs at all. Refusals are
 * auth_error with reason BUSY, LOCKED or RATE_LIMITED (docs/PROTOCOL.md). */
#include "gw.h"
#include "auth.h"
#include "hashpool.h"
#include "throttle.h"
#include "../bus/envelope.h"
#include "../core/alloc.h"
#include "../core/clock.h"
#include "../core/log.h"

#include <stdio.h>
#include <string.h>

#define ACCOUNT_MAX_CHARS_LIST 100
#define ACCOUNT_ADDR_MAX       64
#define ACCOUNT_MINUTE_MS      60000.0
#define ACCOUNT_HOUR_MS        3600000.0
#define ACCOUNT_HASH_MS        200 /* rough cost of one password job, for BUSY's retryAfterMs */

static const char *const limit_names[GW_LIMIT_KINDS] = {"login", "token", "guest"};

/* retry_after_ms > 0 adds "retryAfterMs". A refusal the client caused
 * (not BUSY, not a server error) counts towards AUTH_MAX_FAILS_PER_CONN. */
static void send_auth_error(gw_conn_t *c, const char *reason, const char *message, int retry,
                            double retry_after_ms)
{
    gw_t *gw = c->gw;
    buf_t b;
    buf_init(&b);
    buf_puts(&b, "{\"reason\":");
    buf_json_str(&b, reason);
    buf_puts(&b, ",\"message\":");
    buf_json_str(&b, message);
    buf_printf(&b, ",\"canRetry\":%s", retry ? "true" : "false");
    if (retry_after_ms > 0) buf_printf(&b, ",\"retryAfterMs\":%.0f", retry_after_ms);
    buf_putc(&b, '}');
    gw_conn_send(c, "auth_error", b.data, b.len);
    buf_free(&b);
    gw->auth_fail++;
    if (strcmp(reason, "BUSY") == 0 || strcmp(reason, "SERVER_ERROR") == 0) return;
    if (++c->auth_fails >= gw->cfg.auth_max_fails_per_conn) {
        /* One connection must not be a free guessing channel. */
        gw->auth_conn_cut++;
        log_info(gw_conn_subject(c), "closing after %d refused auth attempts", c->auth_fails);
        gw_conn_close(c, LWS_CLOSE_STATUS_POLICY_VIOLATION, "too many failed auth attempts");
    }
}

typedef struct job_s {
    gw_t *gw;
    uint64_t conn_id;
    gw_account_done_fn done; /* told once the answer is sent */
    msg_t msg;
    int64_t account_id;
    int max_chars;
    int token_ttl_hours;
    /* results */
    const char *err_code; /* NULL = success */
    char err_msg[160];
    int is_auth_error;
    int can_retry;
    char token[AUTH_TOKEN_LEN + 1];
    character_t chars[ACCOUNT_MAX_CHARS_LIST];
    int n_chars;
    character_t ch;
    zonedef_t spawn; /* where new characters start */
    double started;
    char addr[ACCOUNT_ADDR_MAX]; /* the client's address, for the auth throttles */
    double retry_after_ms;       /* set when a failure starts a lockout */
} job_t;

static void job_fail(job_t *j, const char *code, const char *msg)
{
    j->err_code = code;
    (void)snprintf(j->err_msg, sizeof(j->err_msg), "%s", msg);
}

static int issue_token(store_t *s, job_t *j)
{
    char sel[STORE_SELECTOR_HEX + 1], vh[STORE_HASH_HEX + 1];
    auth_token_new(j->token, sel, vh);
    int64_t exp = (int64_t)clock_wall_ms() + (int64_t)j->token_ttl_hours * 3600 * 1000;
    return store_token_put(s, sel, vh, j->account_id, exp);
}

static void work_auth(store_t *s, void *arg)
{
    job_t *j = arg;
    msg_auth_t *a = &j->msg.u.auth;
    int rc;
    j->is_auth_error = 1;
    j->can_retry = 1;
    if (a->method == AUTH_GUEST) {
        const char *name = a->guest_name[0] ? a->guest_name : "Guest";
        if (store_account_create(s, NULL, NULL, name, &j->account_id) != STORE_OK ||
            issue_token(s, j) != STORE_OK)
            return job_fail(j, "SERVER_ERROR", "could not create a guest account; try again");
    } else if (a->method == AUTH_CREDENTIALS) {
        const char *why;
        if (auth_username_check(a->username, &why) < 0) return job_fail(j, "INVALID_USERNAME", why);
        if (a->register_account) {
            char hash[STORE_PWHASH_MAX];
            if (strlen(a->password) < AUTH_PASSWORD_MIN)
                return job_fail(j, "WEAK_PASSWORD", "password must be at least 8 characters");
            if (auth_hash_password(a->password, hash) != 0)
                return job_fail(j, "SERVER_ERROR", "could not hash the password");
            rc = store_account_create(s, a->username, hash, a->username, &j->account_id);
            if (rc == STORE_ERR_EXISTS)
                return job_fail(j, "USERNAME_TAKEN", "that username is already registered");
            if (rc != STORE_OK) return job_fail(j, "SERVER_ERROR", "could not create the account");
        } else {
            char hash[STORE_PWHASH_MAX];
            rc = store_account_find(s, a->username, &j->account_id, hash, sizeof(hash));
            if (rc == STORE_ERR) return job_fail(j, "SERVER_ERROR", "storage unavailable");
            /* Same answer for unknown user and wrong password. */
            if (rc == STORE_ERR_NOTFOUND || auth_verify_password(hash, a->password) != 0)
                return job_fail(j, "INVALID_CREDENTIALS", "wrong username or password");
        }
        if (issue_token(s, j) != STORE_OK)
            return job_fail(j, "SERVER_ERROR", "could not create a session token");
    } else {
        char sel[STORE_SELECTOR_HEX + 1], vh[STORE_HASH_HEX + 1], stored[STORE_HASH_HEX + 1];
        j->can_retry = 0;
        if (auth_token_parse(a->token, sel, vh) < 0)
            return job_fail(j, "INVALID_TOKEN", "the token is malformed");
        rc = store_token_get(s, sel, (int64_t)clock_wall_ms(), &j->account_id, stored);
        if (rc == STORE_ERR) return job_fail(j, "SERVER_ERROR", "storage unavailable");
        if (rc != STORE_OK || !auth_hash_equal(vh, stored))
            return job_fail(j, "INVALID_TOKEN", "the token is unknown or expired");
        memcpy(j->token, a->token, AUTH_TOKEN_LEN + 1); /* length checked by parse */
    }
    if (store_characters_list(s, j->account_id, j->chars, ACCOUNT_MAX_CHARS_LIST, &j->n_chars) !=
        STORE_OK)
        return job_fail(j, "SERVER_ERROR", "could not list characters");
    j->is_auth_error = 0;
}

static void work_create(store_t *s, void *arg)
{
    job_t *j = arg;
    const char *why;
    if (character_name_check(j->msg.u.create.name, &why) < 0)
        return job_fail(j, "INVALID_NAME", why);
    if (store_characters_list(s, j->account_id, j->chars, ACCOUNT_MAX_CHARS_LIST, &j->n_chars) !=
        STORE_OK)
        return job_fail(j, "SERVER_ERROR", "storage unavailable");
    if (j->n_chars >= j->max_chars)
        return job_fail(j, "CHARACTER_LIMIT", "this account has the maximum number of characters");
    character_init(&j->ch, j->account_id, j->msg.u.create.name, j->msg.u.create.description,
                   j->spawn.id, j->spawn.spawn_x, j->spawn.spawn_y, j->spawn.spawn_z);
    j->ch.last_played = (int64_t)clock_wall_ms();
    int rc = store_character_create(s, &j->ch);
    if (rc == STORE_ERR_EXISTS) return job_fail(j, "NAME_TAKEN", "that name is already taken");
    if (rc != STORE_OK) return job_fail(j, "SERVER_ERROR", "could not create the character");
}

static void work_select(store_t *s, void *arg)
{
    job_t *j = arg;
    int rc = store_character_get(s, j->msg.u.select.character_id, &j->ch);
    if (rc == STORE_ERR) return job_fail(j, "SERVER_ERROR", "storage unavailable");
    /* Another account's character is reported as unknown: ids leak nothing. */
    if (rc != STORE_OK || j->ch.account_id != j->account_id)
        return job_fail(j, "CHARACTER_NOT_FOUND", "no such character on this account");
}

static void enter_world(gw_conn_t *c, character_t *ch)
{
    gw_t *gw = c->gw;
    const zonedef_t *z = NULL;
    for (int i = 0; i < gw->n_zones; i++)
        if (strcmp(gw->zones[i].id, ch->zone_id) == 0) z = &gw->zones[i];
    if (!z && gw->n_zones) {
        /* The character's zone no longer exists: start over at the first spawn. */
        z = &gw->zones[0];
        for (int i = 0; i < gw->n_zones; i++)
            if (strcmp(gw->zones[i].id, "zone-crossroads") == 0) z = &gw->zones[i];
        (void)snprintf(ch->zone_id, sizeof(ch->zone_id), "%s", z->id);
        ch->x = z->spawn_x;
        ch->y = z->spawn_y;
        ch->z = z->spawn_z;
    }
    /* Same character already playing here: the newer connection takes over.
     * The old one leaves the world without a LEAVE, so the zone keeps the
     * live entity and hands it to the new route, then KICKs the old one,
     * exactly as when the two connections are on different gateways. */
    for (uint32_t i = 0; i < gw->n_slots; i++) {
        gw_conn_t *o = gw->slots[i];
        if (o && o != c && o->state == ST_IN_WORLD && o->character_id == ch->id)
            o->state = ST_AUTHED;
    }
    c->character_id = ch->id;
    c->character = *ch;
    (void)snprintf(c->character_name, sizeof(c->character_name), "%s", ch->name);
    (void)snprintf(c->zone, sizeof(c->zone), "%s", ch->zone_id);
    c->state = ST_IN_WORLD;
    env_rec_t r;
    memset(&r, 0, sizeof(r));
    r.kind = ENV_ENTER;
    r.u.enter.ch = *ch;
    r.u.enter.max_update_rate = c->max_update_rate;
    r.u.enter.client_flags = c->client_flags;
    r.u.enter.entry = ENV_ENTRY_LOGIN;
    gw_route_record(c, &r);
    log_info(gw_conn_subject(c), "character %lld '%s' enters %s", (long long)ch->id, ch->name,
             c->zone);
}

static void limit_key(char *out, size_t n, const char *kind, const char *subject)
{
    (void)snprintf(out, n, "%s:%s", kind, subject);
}

/* Feeds an auth result into the throttles: failed logins and bad tokens
 * drain the address's bucket, failed passwords extend the account's
 * streak (maybe locking it), a good password clears it. Runs even when
 * the client has gone, so hanging up does not dodge the count. */
static void auth_account(job_t *j)
{
    gw_t *gw = j->gw;
    const msg_auth_t *a = &j->msg.u.auth;
    double now = clock_mono_ms();
    char key[THROTTLE_KEY_MAX];
    if (a->method == AUTH_CREDENTIALS && !a->register_account) {
        limit_key(key, sizeof(key), "acct", a->username);
        if (!j->err_code) {
            throttle_success(gw->throttle, key);
            return;
        }
        if (strcmp(j->err_code, "INVALID_CREDENTIALS") != 0) return;
        gw->auth_bad_password++;
        throttle_lockout_t p = {gw->cfg.auth_lockout_failures, gw->cfg.auth_lockout_base_ms,
                                gw->cfg.auth_lockout_max_ms};
        j->retry_after_ms = throttle_fail(gw->throttle, key, &p, now);
        if (j->retry_after_ms > 0) {
            gw->auth_lockouts++;
            log_warn("gateway", "account '%s' locked for %.0f ms after failed logins from %s",
                     a->username, j->retry_after_ms, j->addr);
        }
        limit_key(key, sizeof(key), "login", j->addr);
        throttle_bucket_take(gw->throttle, key, gw->cfg.auth_login_fails_per_min, ACCOUNT_MINUTE_MS,
                             now);
    } else if (a->method == AUTH_TOKEN && j->err_code &&
               strcmp(j->err_code, "INVALID_TOKEN") == 0) {
        gw->auth_bad_token++;
        limit_key(key, sizeof(key), "token", j->addr);
        throttle_bucket_take(gw->throttle, key, gw->cfg.auth_token_fails_per_min, ACCOUNT_MINUTE_MS,
                             now);
    }
}

static void job_done(void *arg)
{
    job_t *j = arg;
    gw_t *gw = j->gw;
    if (j->msg.type == MSG_AUTH) auth_account(j);
    gw->store_ops++;
    gw->store_ms_total += clock_mono_ms() - j->started;
    gw_conn_t *c = gw_conn_find(gw, j->conn_id);
    if (!c || c->closing) { /* the client left while we worked */
        free(j);
        return;
    }
    c->busy = 0;
    if (j->err_code) {
        if (j->msg.type == MSG_AUTH && j->is_auth_error)
            send_auth_error(c, j->err_code, j->err_msg, j->can_retry, j->retry_after_ms);
        else
            gw_conn_error(c, j->err_code, j->err_msg, "error");
        log_info(gw_conn_subject(c), "%s refused: %s", j->msg.type == MSG_AUTH ? "auth" : "request",
                 j->err_code);
    } else if (j->msg.type == MSG_AUTH) {
        c->state = ST_AUTHED;
        c->account_id = j->account_id;
        (void)snprintf(c->token, sizeof(c->token), "%s", j->token);
        gw->auth_ok++;
        buf_t b;
        buf_init(&b);
        buf_printf(&b, "{\"accountId\":\"%lld\",\"token\":", (long long)j->account_id);
        buf_json_str(&b, j->token);
        buf_puts(&b, ",\"characters\":[");
        for (int i = 0; i < j->n_chars; i++) {
            if (i) buf_putc(&b, ',');
            character_summary_json(&b, &j->chars[i]);
        }
        buf_printf(&b, "],\"canCreateCharacter\":%s,\"maxCharacters\":%d}",
                   j->n_chars < gw->cfg.max_characters ? "true" : "false", gw->cfg.max_characters);
        gw_conn_send(c, "auth_success", b.data, b.len);
        buf_free(&b);
        log_info(gw_conn_subject(c), "account %lld authenticated", (long long)j->account_id);
    } else {
        enter_world(c, &j->ch);
    }
    gw_account_done_fn done = j->done;
    free(j);
    done(c);
}

static void hash_work(void *arg)
{
    job_t *j = arg;
    work_auth(j->gw->store, j);
}

static void hash_done(void *arg, int status)
{
    job_t *j = arg;
    if (status < 0) job_fail(j, "SERVER_ERROR", "the server is shutting down");
    job_done(j);
}

static void refuse(gw_conn_t *c, gw_auth_limit_t kind, const char *addr, double wait_ms)
{
    c->gw->auth_limited[kind]++;
    log_debug(gw_conn_subject(c), "auth from %s rate limited (%s), retry in %.0f ms", addr,
              limit_names[kind], wait_ms);
    send_auth_error(c, "RATE_LIMITED", "too many attempts from your address; wait and retry", 1,
                    wait_ms);
}

/* The checks made before an auth costs anything. Returns 0 to go ahead,
 * -1 when the request was refused (and answered). */
static int auth_admit(gw_conn_t *c, const msg_auth_t *a, const char *addr)
{
    gw_t *gw = c->gw;
    const config_t *cfg = &gw->cfg;
    double now = clock_mono_ms();
    char key[THROTTLE_KEY_MAX], key2[THROTTLE_KEY_MAX];
    if (a->method == AUTH_GUEST || (a->method == AUTH_CREDENTIALS && a->register_account)) {
        /* New accounts, guest or registered, share the address's allowance. */
        limit_key(key, sizeof(key), "guest-min", addr);
        limit_key(key2, sizeof(key2), "guest-hour", addr);
        double w = throttle_bucket_wait(gw->throttle, key, cfg->auth_guest_per_min,
                                        ACCOUNT_MINUTE_MS, now);
        double w2 = throttle_bucket_wait(gw->throttle, key2, cfg->auth_guest_per_hour,
                                         ACCOUNT_HOUR_MS, now);
        if (w > 0 || w2 > 0) {
            refuse(c, GW_LIMIT_GUEST, addr, w > w2 ? w : w2);
            return -1;
        }
        throttle_bucket_take(gw->throttle, key, cfg->auth_guest_per_min, ACCOUNT_MINUTE_MS, now);
        throttle_bucket_take(gw->throttle, key2, cfg->auth_guest_per_hour, ACCOUNT_HOUR_MS, now);
        return 0;
    }
    if (a->method == AUTH_TOKEN) {
        limit_key(key, sizeof(key), "token", addr);
        double w = throttle_bucket_wait(gw->throttle, key, cfg->auth_token_fails_per_min,
                                        ACCOUNT_MINUTE_MS, now);
        if (w > 0) {
            refuse(c, GW_LIMIT_TOKEN, addr, w);
            return -1;
        }
        return 0;
    }
    limit_key(key, sizeof(key), "login", addr);
    double w = throttle_bucket_wait(gw->throttle, key, cfg->auth_login_fails_per_min,
                                    ACCOUNT_MINUTE_MS, now);
    if (w > 0) {
        refuse(c, GW_LIMIT_LOGIN, addr, w);
        return -1;
    }
    limit_key(key, sizeof(key), "acct", a->username);
    double locked = throttle_locked_ms(gw->throttle, key, now);
    if (locked > 0) {
        /* Answered without argon2: a locked account costs nothing to ask. */
        send_auth_error(c, "LOCKED", "too many failed logins for this account; wait and retry", 1,
                        locked);
        return -1;
    }
    return 0;
}

static void peer_addr(gw_conn_t *c, char out[ACCOUNT_ADDR_MAX])
{
    /* The TCP peer: behind a proxy this is the proxy (docs/OPERATIONS.md). */
    if (!c->wsi || !lws_get_peer_simple(c->wsi, out, ACCOUNT_ADDR_MAX))
        (void)snprintf(out, ACCOUNT_ADDR_MAX, "unknown");
}

int gw_account_init(gw_t *gw)
{
    int rc =
        hashpool_new(&gw->hashpool, gw->loop, gw->cfg.auth_hash_threads, gw->cfg.auth_hash_queue);
    if (rc < 0) {
        log_error("gateway", "cannot start the password hashing threads: %s", uv_strerror(rc));
        return -1;
    }
    gw->throttle = throttle_new((size_t)gw->cfg.auth_throttle_entries);
    return 0;
}

void gw_account_stop(gw_t *gw)
{
    if (gw->hashpool) hashpool_close(gw->hashpool); /* answers its jobs, which use the throttle */
    gw->hashpool = NULL;
    throttle_free(gw->throttle);
    gw->throttle = NULL;
}

void gw_account_start(gw_conn_t *c, const msg_t *m, gw_account_done_fn done)
{
    char addr[ACCOUNT_ADDR_MAX];
    int hashes = 0;
    if (m->type == MSG_AUTH) {
        peer_addr(c, addr);
        if (auth_admit(c, &m->u.auth, addr) < 0) return;
        hashes = m->u.auth.method == AUTH_CREDENTIALS;
    }
    store_work_fn work = m->type == MSG_AUTH               ? work_auth
                         : m->type == MSG_CHARACTER_CREATE ? work_create
                                                           : work_select;
    gw_t *gw = c->gw;
    job_t *j = wod_calloc(1, sizeof(*j));
    j->gw = gw;
    j->conn_id = c->id;
    j->done = done;
    j->msg = *m;
    j->account_id = c->account_id;
    j->max_chars = gw->cfg.max_characters;
    j->token_ttl_hours = gw->cfg.token_ttl_hours;
    j->started = clock_mono_ms();
    for (int i = 0; i < gw->n_zones; i++)
        if (strcmp(gw->zones[i].id, "zone-crossroads") == 0 || i == 0) j->spawn = gw->zones[i];
    if (m->type == MSG_AUTH) memcpy(j->addr, addr, sizeof(j->addr));
    if (hashes) {
        if (hashpool_submit(gw->hashpool, hash_work, hash_done, j) < 0) {
            free(j);
            gw->auth_busy++;
            double wait = ACCOUNT_HASH_MS *
                          (1.0 + (double)hashpool_depth(gw->hashpool) / gw->cfg.auth_hash_threads);
            send_auth_error(c, "BUSY", "the server is busy with other logins; retry shortly", 1,
                            wait);
            return;
        }
    } else if (store_async(gw->store, gw->loop, work, job_done, j) < 0) {
        free(j);
        gw_conn_error(c, "SERVER_ERROR", "could not schedule the request", "error");
        return;
    }
    c->busy = 1;
}
