/* ratelimit.h — per-client-address request budgets (fixed one-minute windows).
 *
 * Used where an unauthenticated client can make the server keep state or do work for it
 * (OpenID auth-url stores a pending login). Addresses hash into a fixed table, so memory is
 * bounded whatever the number of clients; two addresses sharing a slot share a budget, which
 * errs on the side of refusing. Thread-safe (one short mutex). */
#ifndef RG_API_RATELIMIT_H
#define RG_API_RATELIMIT_H

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#define RG_RATELIMIT_SLOTS 4096

struct rg_ratelimit {
    pthread_mutex_t lock;
    unsigned per_minute;
    struct {
        time_t window;   /* minute this slot counts */
        unsigned count;
    } slot[RG_RATELIMIT_SLOTS];
};

void rg_ratelimit_init(struct rg_ratelimit *rl, unsigned per_minute);
void rg_ratelimit_destroy(struct rg_ratelimit *rl);
/* Counts one request from addr at time now; false when the address's budget is spent. */
bool rg_ratelimit_allow(struct rg_ratelimit *rl, const char *addr, time_t now);

#endif
