#include "base/strpool.h"

#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE (64 * 1024)

/* FNV-1a, 32 bits. */
static uint32_t hash_bytes(const char *s, size_t len)
{
    uint32_t h = 2166136261u;

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

static int grow_table(struct rg_strpool *p)
{
    size_t n = p->nslots ? p->nslots * 2 : 256;
    struct rg_strpool_slot *t = calloc(n, sizeof *t);

    if (!t)
        return -1;
    for (size_t i = 0; i < p->nslots; i++) {
        size_t j;
        if (!p->slots[i].s)
            continue;
        for (j = p->slots[i].hash & (n - 1); t[j].s; j = (j + 1) & (n - 1))
            ;
        t[j] = p->slots[i];
    }
    free(p->slots);
    p->slots = t;
    p->nslots = n;
    return 0;
}

/* Room for `need` bytes, 4-aligned: the current chunk, a new chunk, or a chunk of its own. */
static char *reserve(struct rg_strpool *p, size_t need)
{
    char **cs;
    char *c;
    size_t size = need > CHUNK_SIZE ? need : CHUNK_SIZE;

    p->used = (p->used + 3) & ~(size_t)3;
    if (p->nchunks && p->cap > p->used && p->cap - p->used >= need) {
        c = p->chunks[p->nchunks - 1] + p->used;
        p->used += need;
        return c;
    }
    if (!(cs = realloc(p->chunks, (p->nchunks + 1) * sizeof *cs)))
        return NULL;
    p->chunks = cs;
    if (!(c = malloc(size)))
        return NULL;
    if (size > CHUNK_SIZE && p->nchunks) {
        /* an oversized string gets a chunk of its own, kept behind the current one */
        cs[p->nchunks] = cs[p->nchunks - 1];
        cs[p->nchunks - 1] = c;
        p->nchunks++;
        return c;
    }
    cs[p->nchunks++] = c;
    p->used = need;
    p->cap = size;
    return c;
}

const char *rg_strpool_intern(struct rg_strpool *p, const char *s, size_t len)
{
    uint32_t h;
    size_t j;
    char *copy;

    if (len > RG_STRPOOL_STR_MAX || p->count == UINT32_MAX)
        return NULL;
    if ((p->count + 1) * 4 > p->nslots * 3 && grow_table(p) != 0)
        return NULL;
    h = hash_bytes(s, len);
    for (j = h & (p->nslots - 1); p->slots[j].s; j = (j + 1) & (p->nslots - 1)) {
        const struct rg_strpool_slot *sl = &p->slots[j];
        if (sl->hash == h && sl->len == len && memcmp(sl->s, s, len) == 0)
            return sl->s;
    }
    if (!(copy = reserve(p, sizeof(uint32_t) + len + 1)))
        return NULL;
    {
        uint32_t id = (uint32_t)p->count;
        memcpy(copy, &id, sizeof id);
        copy += sizeof id;
    }
    memcpy(copy, s, len);
    copy[len] = '\0';
    p->slots[j].s = copy;
    p->slots[j].hash = h;
    p->slots[j].len = (uint32_t)len;
    p->count++;
    return copy;
}

const char *rg_strpool_add(struct rg_strpool *p, const char *s)
{
    return rg_strpool_intern(p, s, strlen(s));
}

uint32_t rg_strpool_id(const char *interned)
{
    uint32_t id;

    memcpy(&id, interned - sizeof id, sizeof id);
    return id;
}

void rg_strpool_free(struct rg_strpool *p)
{
    for (size_t i = 0; i < p->nchunks; i++)
        free(p->chunks[i]);
    free(p->chunks);
    free(p->slots);
    memset(p, 0, sizeof *p);
}
