/* strpool.h — interned strings: one copy of each distinct string, pointers stay put.
 *
 * A pool owns every string it hands out; they live until rg_strpool_free. Interning the same
 * bytes twice returns the same pointer, so two interned strings of one pool are equal exactly
 * when their pointers are. Strings are packed into large chunks (no allocation per string)
 * and found through an open-addressing hash table; each is preceded by its 32-bit number
 * (rg_strpool_id). A zeroed struct is an empty pool.
 *
 * Errors: rg_strpool_intern returns NULL when memory runs out or len exceeds
 * RG_STRPOOL_STR_MAX. Not thread-safe: a pool is filled by one thread, then only read. */
#ifndef RG_BASE_STRPOOL_H
#define RG_BASE_STRPOOL_H

#include <stddef.h>
#include <stdint.h>

#define RG_STRPOOL_STR_MAX (1024 * 1024)

struct rg_strpool_slot {
    const char *s; /* NULL = empty slot */
    uint32_t hash;
    uint32_t len;
};

struct rg_strpool {
    char **chunks;                 /* every chunk, the current one last */
    size_t nchunks;
    size_t used, cap;              /* bytes used / available in the current chunk */
    struct rg_strpool_slot *slots; /* power-of-two sized, at most 3/4 full */
    size_t nslots, count;
};

/* The interned copy of s[0..len) (NUL-terminated), or NULL (out of memory, too long, or
 * UINT32_MAX strings in the pool already). */
const char *rg_strpool_intern(struct rg_strpool *p, const char *s, size_t len);
/* rg_strpool_intern(p, s, strlen(s)). */
const char *rg_strpool_add(struct rg_strpool *p, const char *s);
/* The number of a string this pool returned: 0 for the first distinct string interned,
 * 1 for the next, ... (always below p->count). Lets callers keep per-string data in arrays. */
uint32_t rg_strpool_id(const char *interned);
/* Releases every string of the pool and leaves it empty (zeroed). */
void rg_strpool_free(struct rg_strpool *p);

#endif
