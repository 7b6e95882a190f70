/* provider.h — OpenID provider metadata (OIDC Discovery 1.0) and its key set, cached.
 *
 * Discovery: GET `<issuer-url>/.well-known/openid-configuration` (ONE trailing '/' of the
 * issuer URL is stripped before appending). The document's `issuer` must equal the
 * configured issuer URL byte for byte (Discovery §4.3; no trailing-slash or case tolerance,
 * both strings are logged on a mismatch). Required: authorization_endpoint, token_endpoint,
 * jwks_uri. Every endpoint URL, and the issuer URL itself, must be https:// — or http:// only
 * when the host is a loopback address (127.0.0.0/8, [::1], localhost) — and carry no
 * fragment. If response_types_supported is given it must contain "code".
 * id_token_signing_alg_values_supported is kept minus "none" (absent -> {"RS256"}; present but
 * empty after that -> refused).
 *
 * Cache: struct rg_oidc_cache maps issuer URL -> immutable snapshot (discovery + JWKS),
 * shared by threads through reference counts (no lock is held while using a snapshot, and
 * none during network I/O). A snapshot older than the TTL (1 h) is refetched; if that fails
 * the request fails (stale keys are not used past the TTL). rg_oidc_provider_refresh_keys is
 * for a token naming an unknown kid: it refetches only the JWKS, at most once per cooldown
 * (60 s) per issuer; a failed refetch leaves the last good keys in place.
 *
 * Errors: RG_ERR_CONFIG (document refused: issuer mismatch, missing/insecure endpoint, ...),
 * RG_ERR_NET / RG_ERR_LIMIT (fetch failed / too large), RG_ERR_INVALID (not JSON / bad
 * JWKS), RG_ERR_BUSY (key refetch throttled), RG_ERR_NOMEM. msg says which, with the URL.
 *
 * Ownership: rg_oidc_discovery_parse fills a struct the caller clears with
 * rg_oidc_discovery_clear. Snapshots returned by rg_oidc_provider_get/refresh_keys are
 * references: give each back with rg_oidc_provider_release. */
#ifndef RG_OIDC_PROVIDER_H
#define RG_OIDC_PROVIDER_H

#include <stddef.h>
#include <time.h>

#include "base/err.h"
#include "jose/jwk.h"

#define RG_OIDC_DISCOVERY_MAX (512 * 1024)
#define RG_OIDC_JWKS_MAX (512 * 1024)
#define RG_OIDC_CACHE_TTL 3600
#define RG_OIDC_REFETCH_COOLDOWN 60
#define RG_OIDC_CACHE_MAX_ISSUERS 256
#define RG_OIDC_MAX_ALGS 16

struct rg_oidc_discovery {
    char *issuer;
    char *authorization_endpoint;
    char *token_endpoint;
    char *jwks_uri;
    char *userinfo_endpoint;        /* NULL when not advertised */
    char *end_session_endpoint;     /* NULL when not advertised */
    char *id_token_algs[RG_OIDC_MAX_ALGS + 1]; /* NULL-terminated, never contains "none" */
    int auth_methods_listed;        /* token_endpoint_auth_methods_supported present */
    int auth_basic;                 /* ... lists client_secret_basic */
    int auth_post;                  /* ... lists client_secret_post */
    int auth_pkjwt;                 /* ... lists private_key_jwt */
    int auth_algs_listed;           /* token_endpoint_auth_signing_alg_values_supported present */
    int auth_alg_ps256;             /* ... lists PS256 */
    int auth_alg_rs256;             /* ... lists RS256 */
    int iss_in_response;            /* authorization_response_iss_parameter_supported: true
                                     * (RFC 9207: the callback must then carry iss) */
};

/* Validates a discovery document (text, len bytes) fetched for issuer_url. */
rg_err rg_oidc_discovery_parse(const char *text, size_t len, const char *issuer_url,
                               struct rg_oidc_discovery *out, struct rg_msg *msg);
void rg_oidc_discovery_clear(struct rg_oidc_discovery *d);



/* Writes "<issuer without one trailing '/'>/.well-known/openid-configuration" into out. */
rg_err rg_oidc_discovery_url(const char *issuer_url, char *out, size_t outsz);

struct rg_oidc_provider {
    struct rg_oidc_discovery disc;
    struct rg_jwks keys;
    time_t fetched;                 /* when the discovery document was fetched */
    time_t keys_fetched;
    int refs;                       /* internal (guarded by the cache lock) */
    char *ca_file;                  /* PEM bundle trusted for this provider (NULL = system
                                     * store); also used for its token and userinfo calls */
};

struct rg_oidc_cache;

/* ca_file: PEM bundle for TLS instead of the system store (NULL = system); copied. */
rg_err rg_oidc_cache_new(const char *ca_file, struct rg_oidc_cache **out);
void rg_oidc_cache_free(struct rg_oidc_cache *c);
/* The CA file given to rg_oidc_cache_new (NULL = system store); valid while c lives. */
const char *rg_oidc_cache_ca_file(const struct rg_oidc_cache *c);
/* For tests: the clock the cache uses (default time()). */
void rg_oidc_cache_set_clock(struct rg_oidc_cache *c, time_t (*now)(void));

/* ca_file: the CA bundle the realm trusts for this issuer (NULL = the cache's default);
 * cached per (issuer, CA bundle). */
rg_err rg_oidc_provider_get(struct rg_oidc_cache *c, const char *issuer_url,
                            const char *ca_file, const struct rg_oidc_provider **out,
                            struct rg_msg *msg);
/* `stale` is the snapshot whose keys lacked the kid. If another thread already installed a
 * newer snapshot, that one is returned without a fetch. RG_ERR_BUSY when throttled. */
rg_err rg_oidc_provider_refresh_keys(struct rg_oidc_cache *c, const struct rg_oidc_provider *stale,
                                     const struct rg_oidc_provider **out, struct rg_msg *msg);
void rg_oidc_provider_release(struct rg_oidc_cache *c, const struct rg_oidc_provider *p);

#endif
