/* tokens.h — API-token secrets: `priv/token.cfg` (spec §7).
 *
 * Proxmox keeps one line `<full-token-id> <secret>` per token, sorted, in PLAIN TEXT. We keep
 * the same line structure but store a salted hash instead of the secret:
 *
 *     <full-token-id> $hmac-sha256$<salt>$<mac>
 *
 * salt = 16 random bytes, mac = HMAC-SHA256(key = salt, message = secret), both base64url
 * without padding (22 and 43 characters). Why a fast MAC and not crypt(): the secrets are
 * server-generated UUIDs (122 random bits), so there is nothing for a slow hash to protect
 * against brute force; a fast check keeps token authentication cheap on every request. The
 * salt makes equal secrets (e.g. an imported file) hash differently.
 *
 * Import: a Proxmox line whose secret does not start with '$' is a plain secret; it is
 * accepted by the parser and verified by constant-time comparison, and the writer always
 * emits the hashed form, so the next write of the file converts it (rg_tokens_* write the file
 * on every change; `realmgate serve` converts at start with rg_tokens_convert; `realmgate
 * user token list` does not write).
 *
 * Parse rules: lines are trimmed; empty lines are skipped; a line without a valid full token
 * id, without a secret, with a secret over RG_TOKEN_SECRET_MAX bytes, with control characters
 * or with a malformed hash is dropped with a warning; a repeated id replaces the earlier line
 * (with a warning: Proxmox would accept either secret, we keep the later one).
 * Entries are kept sorted by id (byte-wise), which is also the written order.
 *
 * Errors: RG_ERR_LIMIT (file over RG_TOKENCFG_FILE_MAX), RG_ERR_NOMEM, RG_ERR_CRYPTO (random
 * or MAC failure), RG_ERR_NOTFOUND (no entry), RG_ERR_AUTH (secret does not match), RG_ERR_BUSY
 * (lock timeout) and RG_ERR_IO from the store-level functions. Secrets are never logged and
 * never put into messages; plain secrets held in memory are wiped when freed.
 *
 * Ownership: struct rg_tokencfg owns its strings. The parsed file is part of every store
 * snapshot (store.h: snap->tokens), so a token request verifies against memory without
 * reading or parsing a file. The rg_tokens_* functions change the file: they lock
 * priv/lock/token.cfg.lck (across processes), re-read the file inside the lock, write it
 * atomically and refresh the store's snapshot. Thread-safe. */
#ifndef RG_ACCESS_TOKENS_H
#define RG_ACCESS_TOKENS_H

#include <stddef.h>

#include "access/ids.h"
#include "base/buf.h"
#include "base/err.h"

#define RG_TOKENCFG_FILE_MAX (4 * 1024 * 1024)
#define RG_TOKEN_SECRET_MAX 128   /* longest plain secret accepted (header or import) */
#define RG_TOKEN_SECRET_LEN 36    /* generated secrets: UUID text */

struct rg_token_secret {
    char id[RG_TOKENID_MAX + 1];
    char *stored;   /* "$hmac-sha256$..." or a plain imported secret */
};

struct rg_tokencfg {
    struct rg_token_secret *entries; /* sorted by id */
    size_t n;
    size_t cap;
};

void rg_tokencfg_init(struct rg_tokencfg *tc);
void rg_tokencfg_free(struct rg_tokencfg *tc);
/* *out is initialised here. */
rg_err rg_tokencfg_parse(const char *text, size_t len, struct rg_tokencfg *out,
                         rg_cfg_warn_fn *warn, void *warn_ctx);
/* Appends the file text (hashed form only; plain entries are hashed with a fresh salt). */
rg_err rg_tokencfg_write(const struct rg_tokencfg *tc, struct rg_buf *out);
/* Stores the hash of secret for tokenid (replacing an older entry). */
rg_err rg_tokencfg_set(struct rg_tokencfg *tc, const char *tokenid, const char *secret);
/* RG_OK if removed, RG_ERR_NOTFOUND if absent. */
rg_err rg_tokencfg_remove(struct rg_tokencfg *tc, const char *tokenid);
/* Removes every token of userid; returns how many. */
size_t rg_tokencfg_remove_user(struct rg_tokencfg *tc, const char *userid);
/* How many entries hold a plain (imported, not yet hashed) secret. */
size_t rg_tokencfg_nplain(const struct rg_tokencfg *tc);
/* Stored value of tokenid (borrowed) or NULL. */
const char *rg_tokencfg_get(const struct rg_tokencfg *tc, const char *tokenid);
/* RG_OK when secret matches the entry of tokenid; RG_ERR_NOTFOUND without entry;
 * RG_ERR_AUTH on mismatch. */
rg_err rg_tokencfg_verify(const struct rg_tokencfg *tc, const char *tokenid, const char *secret);

/* The primitives: a fresh "$hmac-sha256$salt$mac" (malloc'd) and the check of a secret against
 * a stored value (hashed or plain), constant-time: RG_OK, RG_ERR_AUTH, RG_ERR_INVALID for a
 * malformed hashed value. */
rg_err rg_token_secret_hash(const char *secret, char **out);
rg_err rg_token_secret_check(const char *secret, const char *stored);

/* ---- on the config directory of st ---- */
struct rg_store;
/* Generates a new UUID secret for tokenid, stores its hash (replacing an old one) and returns
 * the secret in `secret` (the only time it exists in clear; the caller wipes it). */
rg_err rg_tokens_generate(struct rg_store *st, const char *tokenid,
                          char secret[RG_TOKEN_SECRET_LEN + 1], struct rg_msg *msg);
/* Removes the secret of tokenid (absent is fine). */
rg_err rg_tokens_delete(struct rg_store *st, const char *tokenid, struct rg_msg *msg);
/* Removes the secrets of every token of userid (user delete). */
rg_err rg_tokens_delete_user(struct rg_store *st, const char *userid, struct rg_msg *msg);
/* Rewrites the file in hashed form if it still holds plain (imported) secrets; *converted
 * (may be NULL) tells how many lines were plain. When the current snapshot holds none, the
 * file is neither locked nor read again. */
rg_err rg_tokens_convert(struct rg_store *st, size_t *converted, struct rg_msg *msg);

#endif
