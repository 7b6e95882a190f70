#include "idp/cred.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/mem.h"
#include "base/rand.h"

static const char secret_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_~.-";

/* Uniform characters from the 66-symbol alphabet by rejection sampling (198 = 3 * 66). */
static rg_err fill_random_chars(char *out, size_t n)
{
    unsigned char r[64];
    size_t used = sizeof r;

    for (size_t i = 0; i < n;) {
        if (used == sizeof r) {
            if (rg_random_bytes(r, sizeof r))
                return RG_ERR_CRYPTO;
            used = 0;
        }
        if (r[used] < 198)
            out[i++] = secret_alphabet[r[used] % 66];
        used++;
    }
    rg_wipe(r, sizeof r);
    return RG_OK;
}

rg_err rg_idp_secret_generate(char out[RG_IDP_SECRET_LEN + 1])
{
    if (fill_random_chars(out, 3) || fill_random_chars(out + 6, 34))
        return RG_ERR_CRYPTO;
    out[3] = '8';
    out[4] = 'Q';
    out[5] = '~';
    out[RG_IDP_SECRET_LEN] = '\0';
    return RG_OK;
}

rg_err rg_idp_secret_digest(const char *secret, const unsigned char salt[16],
                            unsigned char out[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    rg_err e = RG_ERR_CRYPTO;

    if (ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
        EVP_DigestUpdate(ctx, salt, 16) == 1 &&
        EVP_DigestUpdate(ctx, secret, strlen(secret)) == 1 &&
        EVP_DigestFinal_ex(ctx, out, &len) == 1 && len == 32)
        e = RG_OK;
    EVP_MD_CTX_free(ctx);
    return e;
}

static rg_err pbkdf2(const char *pw, const unsigned char *salt, size_t saltlen, unsigned iter,
                     unsigned char out[32])
{
    if (PKCS5_PBKDF2_HMAC(pw, (int)strlen(pw), salt, (int)saltlen, (int)iter, EVP_sha256(), 32,
                          out) != 1)
        return RG_ERR_CRYPTO;
    return RG_OK;
}

rg_err rg_idp_password_hash(const char *pw, char **out)
{
    unsigned char salt[16], dk[32];
    char *s64 = NULL, *h64 = NULL;
    rg_err e;

    *out = NULL;
    e = rg_random_bytes(salt, sizeof salt);
    if (!e)
        e = pbkdf2(pw, salt, sizeof salt, RG_IDP_PBKDF2_ITER, dk);
    if (e)
        goto out;
    s64 = rg_b64url_encode(salt, sizeof salt);
    h64 = rg_b64url_encode(dk, sizeof dk);
    if (!s64 || !h64 ||
        asprintf(out, "$pbkdf2-sha256$%u$%s$%s", (unsigned)RG_IDP_PBKDF2_ITER, s64, h64) < 0) {
        *out = NULL;
        e = RG_ERR_NOMEM;
    }
out:
    rg_wipe(dk, sizeof dk);
    free(s64);
    rg_free_secret(h64);
    return e;
}

struct pw_parsed {
    unsigned iter;
    unsigned char *salt;
    size_t saltlen;
    unsigned char *hash;
    size_t hashlen;
};

static void parsed_free(struct pw_parsed *p)
{
    free(p->salt);
    if (p->hash)
        rg_wipe(p->hash, p->hashlen);
    free(p->hash);
}

static rg_err parse_hash(const char *stored, struct pw_parsed *p)
{
    static const char prefix[] = "$pbkdf2-sha256$";
    const char *s, *d1, *d2;
    unsigned long iter = 0;

    memset(p, 0, sizeof *p);
    if (!stored || strlen(stored) > RG_IDP_PW_HASH_MAX ||
        strncmp(stored, prefix, sizeof prefix - 1) != 0)
        return RG_ERR_INVALID;
    s = stored + sizeof prefix - 1;
    d1 = strchr(s, '$');
    if (!d1 || d1 == s || d1 - s > 8)
        return RG_ERR_INVALID;
    for (const char *c = s; c < d1; c++) {
        if (*c < '0' || *c > '9')
            return RG_ERR_INVALID;
        iter = iter * 10 + (unsigned long)(*c - '0');
    }
    /* a floor keeps a tampered state file from turning hashes into plain SHA-256 */
    if (iter < 10000 || iter > 10000000)
        return RG_ERR_INVALID;
    d2 = strchr(d1 + 1, '$');
    if (!d2)
        return RG_ERR_INVALID;
    p->iter = (unsigned)iter;
    if (rg_b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &p->salt, &p->saltlen) ||
        rg_b64url_decode(d2 + 1, strlen(d2 + 1), &p->hash, &p->hashlen) || p->saltlen < 16 ||
        p->hashlen != 32) {
        parsed_free(p);
        return RG_ERR_INVALID;
    }
    return RG_OK;
}

bool rg_idp_password_hash_ok(const char *stored)
{
    struct pw_parsed p;
    if (parse_hash(stored, &p))
        return false;
    parsed_free(&p);
    return true;
}

rg_err rg_idp_password_verify(const char *pw, const char *stored)
{
    struct pw_parsed p;
    unsigned char dk[32];
    rg_err e;

    e = parse_hash(stored, &p);
    if (e)
        return e;
    e = pbkdf2(pw, p.salt, p.saltlen, p.iter, dk);
    if (!e && !rg_ct_eq(dk, sizeof dk, p.hash, p.hashlen))
        e = RG_ERR_AUTH;
    rg_wipe(dk, sizeof dk);
    parsed_free(&p);
    return e;
}

void rg_idp_password_burn(const char *pw)
{
    static const unsigned char salt[16] = "realmgate-idp-bu";
    unsigned char dk[32];
    (void)pbkdf2(pw ? pw : "", salt, sizeof salt, RG_IDP_PBKDF2_ITER, dk);
    rg_wipe(dk, sizeof dk);
}
