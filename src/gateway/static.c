/* static.c - see static.h. */
#include "static.h"

#include <string.h>

const web_asset_t *web_asset_find(const char *path)
{
    if (strcmp(path, "/") == 0) path = "/index.html";
    if (strcmp(path, "/admin") == 0 || strcmp(path, "/admin/") == 0) path = "/admin.html";
    for (const web_asset_t *a = web_assets; a->path; a++)
        if (strcmp(a->path, path) == 0) return a;
    return NULL;
}
