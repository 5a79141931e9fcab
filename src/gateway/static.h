/* static.h - the web client and admin console files, embedded at build
 * time from web/ (cmake/webassets.cmake) and served by every gateway. */
#ifndef WOD_GW_STATIC_H
#define WOD_GW_STATIC_H

#include <stddef.h>

typedef struct web_asset_s {
    const char *path;         /* "/index.html" */
    const char *content_type; /* "text/html; charset=utf-8" */
    const char *etag;         /* quoted, "\"3fa9…\"" */
    const unsigned char *data;
    size_t len;
} web_asset_t;

/* The generated table, ended by an entry with path NULL. */
extern const web_asset_t web_assets[];

/* The asset for a request path ("/" is /index.html, "/admin" is
 * /admin.html), or NULL. */
const web_asset_t *web_asset_find(const char *path);

#endif
