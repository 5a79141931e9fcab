/* log.c - see log.h. Lines go to stderr, one write per line. */
#include "log.h"
#include "buf.h"
#include "clock.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

log_level_t log_min_level = LOG_INFO;
static int log_json;
static char log_server_id[64] = "server-1";

static const char *level_names[] = {"debug", "info", "warn", "error"};

void log_setup(log_level_t level, int json, const char *server_id)
{
    log_min_level = level;
    log_json = json;
    snprintf(log_server_id, sizeof(log_server_id), "%s", server_id);
}

int log_level_parse(const char *s, log_level_t *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (log_level_t)i;
            return 0;
        }
    }
    if (strcmp(s, "warning") == 0) {
        *out = LOG_WARN;
        return 0;
    }
    return -1;
}

void log_write(log_level_t level, const char *subject, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    uint64_t ms = clock_wall_ms();
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char ts[64];
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));

    buf_t b;
    buf_init(&b);
    if (log_json) {
        buf_puts(&b, "{\"ts\":");
        buf_json_str(&b, ts);
        buf_puts(&b, ",\"level\":");
        buf_json_str(&b, level_names[level]);
        buf_puts(&b, ",\"server\":");
        buf_json_str(&b, log_server_id);
        buf_puts(&b, ",\"subject\":");
        buf_json_str(&b, subject ? subject : "-");
        buf_puts(&b, ",\"msg\":");
        buf_json_str(&b, msg);
        buf_puts(&b, "}\n");
    } else {
        buf_printf(&b, "%s %-5s [%s] %s: %s\n", ts, level_names[level], log_server_id,
                   subject ? subject : "-", msg);
    }
    ssize_t w = write(STDERR_FILENO, b.data, b.len);
    (void)w;
    buf_free(&b);
}
