/* snap.h — the read-only view of the state that `serve` answers from. Owner: idp.
 *
 * A snapshot is the parsed state plus each tenant's loaded private keys and its JWKS text.
 * Worker threads take a reference (rg_idp_snaps_get), use it for the whole request, and
 * drop it (rg_idp_snap_put); nothing in a snapshot changes after it is built. On every
 * get, the stamp of idp.json is compared with the current snapshot's; if the file changed
 * (a CLI command ran), a new snapshot is built and swapped in, and the old one is freed
 * when its last reader drops it. A state file that fails to load is logged once and the
 * previous snapshot stays in service. A key that fails to load is logged and left out
 * (its tenant then cannot sign, and says so at /token).
 *
 * Errors: rg_idp_snaps_init fails (RG_ERR_INVALID/IO, msg) if the first load fails. */
#ifndef RG_IDP_SNAP_H
#define RG_IDP_SNAP_H

#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>

#include "base/err.h"
#include "idp/model.h"
#include "idp/store.h"

struct rg_idp_snap {
    atomic_int refs;
    struct rg_idp_state st;
    struct rg_idp_stamp stamp;
    EVP_PKEY ***pkeys;   /* [tenant][key], NULL where a key did not load */
    char **jwks;         /* [tenant] JWKS document text */
};

struct rg_idp_snaps {
    pthread_mutex_t mu;
    struct rg_idp_snap *cur;
    const struct rg_idp_store *store;
    const char *issuer_base;       /* borrowed, lives as long as the server */
    struct rg_idp_stamp bad_stamp; /* stamp of a file that failed (logged once) */
};

rg_err rg_idp_snaps_init(struct rg_idp_snaps *m, const struct rg_idp_store *store,
                         const char *issuer_base, struct rg_msg *msg);
void rg_idp_snaps_destroy(struct rg_idp_snaps *m);
/* Current snapshot with a reference taken (never NULL after a successful init). */
struct rg_idp_snap *rg_idp_snaps_get(struct rg_idp_snaps *m);
void rg_idp_snap_put(struct rg_idp_snap *s);

/* The tenant's signing key (newest key that loaded and whose activation time has come),
 * with its kid; NULL if none. */
EVP_PKEY *rg_idp_snap_signer(const struct rg_idp_snap *s, const struct rg_idp_tenant *t,
                             const char **kid);
const char *rg_idp_snap_jwks(const struct rg_idp_snap *s, const struct rg_idp_tenant *t);
/* "<issuer base>/<tid>/v2.0" into out. */
void rg_idp_issuer(const char *base, const char *tid, char *out, size_t outsz);

#endif
