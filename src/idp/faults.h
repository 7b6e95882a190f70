/* faults.h — test-only fault switches for realmgate-idp (the misbehaving-OP switches of
 * the relying-party test catalogue, oidc-rp-tests.md §2). Owner: idp.
 *
 * Off unless `serve --test-faults` called rg_idp_faults_enable() (main.c refuses that flag
 * on a non-loopback listen address). While off, every hook below is a no-op and
 * rg_idp_faults_route() handles nothing, so no request can reach a fault.
 *
 * Control endpoint (only when enabled):
 *   POST /_test/faults  form parameter faults = a JSON object of switches; replaces the whole set and zeroes
 *                       the counters; {} resets everything. 200 {"ok":true} or 400.
 *   GET  /_test/faults  200 {"faults":{...},"counters":{"discovery":n,"jwks":n,"token":n,
 *                       "userinfo":n}}
 * Switches (each applies to every following response until the next POST):
 *   "claims":     {name: json|null}  ID token claims replaced (null removes the claim)
 *   "claims_rel": {name: seconds}    claim set to now + seconds (exp/nbf/iat in the past/future)
 *   "header":     {name: json|null}  JWS header members replaced or removed (alg, kid, typ, crit…)
 *   "sign":       "key" (default) | "none" (empty signature) | "hmac_pubkey" (HS256 keyed with
 *                 the tenant key's public PEM) | "hmac" (HS256 keyed with "hmac_secret") |
 *                 "extra" (RS256 with the extra key) | "zero64" (64 zero bytes)
 *   "corrupt_sig": true              one signature byte flipped
 *   "id_token_append": "str"         appended to the compact ID token (segment count faults)
 *   "jwks":       "extra" (tenant keys plus the extra key) | "rotate" (only the extra key, and
 *                 ID tokens are signed with it: key rotation with the old key removed)
 *   "extra_bits": 1024..4096 (RSA size of the extra key, default 2048)
 *   "extra_kid":  kid of the extra key (default "rg-test-extra")
 *   "extra_key_set": {…}  members merged into the extra key's JWK (e.g. "use":"enc")
 *   "jwks_add":   [JWK…]  objects appended to the JWKS as given (unparseable keys)
 *   "jwks_status": n      the JWKS endpoint answers n with a text body
 *   "discovery":  {name: json|null}  discovery document members replaced or removed
 *   "token":      {name: json|null}  token response members replaced or removed
 *   "token_status": n, "token_body": "raw"  the token endpoint answers n with that body
 *   "userinfo":   {name: json|null}  userinfo members replaced or removed
 *   "userinfo_status": n  userinfo answers n; "userinfo_jwt": true  userinfo as a signed JWT
 *   "id_token_replay": true  the last ID token issued (by any earlier login) is sent again
 * Thread safety: one mutex around the switch set and counters. */
#ifndef RG_IDP_FAULTS_H
#define RG_IDP_FAULTS_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stdbool.h>

#include "idp/web.h"

#define RG_IDP_FAULTS_MAX_BODY (16 * 1024) /* the web layer caps all parameters at 16 KiB */

enum rg_idp_fault_ep {
    RG_IDP_FAULT_DISCOVERY,
    RG_IDP_FAULT_JWKS,
    RG_IDP_FAULT_TOKEN,
    RG_IDP_FAULT_USERINFO,
    RG_IDP_FAULT_N
};

void rg_idp_faults_enable(void);
/* Handles /_test/faults when enabled; false (nothing answered) otherwise. */
bool rg_idp_faults_route(struct rg_idp_rq *rq, const char *path);
void rg_idp_faults_count(enum rg_idp_fault_ep ep);
/* Applies "discovery" to the document. */
void rg_idp_faults_discovery(json_t *doc);
/* True if the JWKS response was answered here (status fault or altered key set). */
bool rg_idp_faults_jwks(struct rg_idp_rq *rq, const char *doc);
/* True if the token endpoint was answered here ("token_status"). */
bool rg_idp_faults_token_status(struct rg_idp_rq *rq);
/* 0: no ID token fault set, caller signs normally; 1: *out is the faulted compact token
 * (malloc'd); -1: failure. claims are altered in place. */
int rg_idp_faults_id_token(json_t *claims, EVP_PKEY *key, const char *kid, char **out);
/* Applies "token" to the token response object. */
void rg_idp_faults_token_json(json_t *o);
/* Applies the userinfo faults; true if the response was answered here. */
bool rg_idp_faults_userinfo(struct rg_idp_rq *rq, json_t *claims, EVP_PKEY *key,
                            const char *kid);

#endif
