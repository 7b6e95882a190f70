/* assets.h — the web GUI files compiled into the server by scripts/embed.cmake.
 * rg_assets ends with an entry whose path is NULL. Data is static and read-only. */
#ifndef RG_API_ASSETS_H
#define RG_API_ASSETS_H

#include <stddef.h>

struct rg_asset {
    const char *path; /* "/index.html" */
    const unsigned char *data;
    size_t len;
};

extern const struct rg_asset rg_assets[];

#endif
