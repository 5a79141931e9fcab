/* log.h - leveled logging. The level check happens before the arguments
 * are evaluated, so a filtered-out debug line costs one comparison.
 * Every line carries the server id and a subject (client, zone, ...). */
#ifndef WOD_LOG_H
#define WOD_LOG_H

typedef enum { LOG_DEBUG = 0, LOG_INFO, LOG_WARN, LOG_ERROR } log_level_t;

extern log_level_t log_min_level;

/* server_id is copied; json selects one-JSON-object-per-line output. */
void log_setup(log_level_t level, int json, const char *server_id);
/* Parse "debug|info|warn|error"; returns -1 on an unknown name. */
int log_level_parse(const char *s, log_level_t *out);
void log_write(log_level_t level, const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define wlog(level, subject, ...)                                                                  \
    do {                                                                                           \
        if ((level) >= log_min_level) log_write((level), (subject), __VA_ARGS__);                  \
    } while (0)
#define log_debug(subject, ...) wlog(LOG_DEBUG, subject, __VA_ARGS__)
#define log_info(subject, ...)  wlog(LOG_INFO, subject, __VA_ARGS__)
#define log_warn(subject, ...)  wlog(LOG_WARN, subject, __VA_ARGS__)
#define log_error(subject, ...) wlog(LOG_ERROR, subject, __VA_ARGS__)

#endif
