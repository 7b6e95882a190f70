#include "api/ratelimit.h"

#include <stdint.h>
#include <string.h>

void rg_ratelimit_init(struct rg_ratelimit *rl, unsigned per_minute)
{
    memset(rl, 0, sizeof *rl);
    pthread_mutex_init(&rl->lock, NULL);
    rl->per_minute = per_minute;
}

void rg_ratelimit_destroy(struct rg_ratelimit *rl)
{
    pthread_mutex_destroy(&rl->lock);
}

/* FNV-1a: addresses are not attacker-chosen beyond the address itself, which the attacker
 * cannot vary freely without owning many addresses. */
static uint32_t hash_addr(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

bool rg_ratelimit_allow(struct rg_ratelimit *rl, const char *addr, time_t now)
{
    size_t i = hash_addr(addr) % RG_RATELIMIT_SLOTS;
    time_t window = now / 60;
    bool ok;

    pthread_mutex_lock(&rl->lock);
    if (rl->slot[i].window != window) {
        rl->slot[i].window = window;
        rl->slot[i].count = 0;
    }
    ok = rl->slot[i].count < rl->per_minute;
    if (ok)
        rl->slot[i].count++;
    pthread_mutex_unlock(&rl->lock);
    return ok;
}
