/* clientauth.c — private_key_jwt client assertions signed with a certificate's key
 * (see clientauth.h). */
#include "oidc/clientauth.h"

#include <jansson.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/fsutil.h"
#include "base/mem.h"
#include "base/rand.h"
#include "jose/jws.h"

static rg_err read_pem(const char *path, const char *what, struct rg_buf *out, struct rg_msg *msg)
{
    rg_err e = rg_file_read(path, RG_CLIENTAUTH_FILE_MAX, out);
    if (e == RG_ERR_NOTFOUND)
        return rg_fail(msg, e, "%s file '%s' does not exist", what, path);
    if (e == RG_ERR_LIMIT)
        return rg_fail(msg, e, "%s file '%s' is larger than %d bytes", what, path,
                       RG_CLIENTAUTH_FILE_MAX);
    if (e)
        return rg_fail(msg, e, "%s file '%s' cannot be read", what, path);
    return RG_OK;
}

/* base64url of digest md over der into out (capacity outsz). */
static rg_err thumbprint(const unsigned char *der, size_t len, const EVP_MD *md, char *out,
                         size_t outsz)
{
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    char *s;

    if (!EVP_Digest(der, len, h, &hl, md, NULL))
        return RG_ERR_CRYPTO;
    s = rg_b64url_encode(h, hl);
    if (!s)
        return RG_ERR_NOMEM;
    if (strlen(s) >= outsz) {
        free(s);
        return RG_ERR_LIMIT;
    }
    memcpy(out, s, strlen(s) + 1);
    free(s);
    return RG_OK;
}

rg_err rg_clientauth_load(const char *cert_file, const char *key_file, time_t now,
                          struct rg_client_cred *out, struct rg_msg *msg)
{
    struct rg_buf cb, kb;
    BIO *bio = NULL;
    X509 *cert = NULL;
    unsigned char *der = NULL;
    int derlen;
    rg_err e;

    memset(out, 0, sizeof *out);
    rg_buf_init(&cb, RG_CLIENTAUTH_FILE_MAX);
    rg_buf_init(&kb, RG_CLIENTAUTH_FILE_MAX);
    if (!cert_file || !key_file || !*cert_file || !*key_file)
        return rg_fail(msg, RG_ERR_INVALID, "client-cert and client-cert-key must both be set");
    if ((e = read_pem(cert_file, "client-cert", &cb, msg)) ||
        (e = read_pem(key_file, "client-cert-key", &kb, msg)))
        goto out;
    bio = BIO_new_mem_buf(cb.data, (int)cb.len);
    cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    BIO_free(bio);
    if (!cert) {
        e = rg_fail(msg, RG_ERR_INVALID, "client-cert '%s' holds no PEM certificate", cert_file);
        goto out;
    }
    /* no passphrase callback: an encrypted key fails here instead of prompting */
    bio = BIO_new_mem_buf(kb.data, (int)kb.len);
    out->key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"") : NULL;
    BIO_free(bio);
    if (!out->key) {
        e = rg_fail(msg, RG_ERR_INVALID, "client-cert-key '%s' holds no unencrypted PEM private "
                    "key", key_file);
        goto out;
    }
    if (EVP_PKEY_get_base_id(out->key) != EVP_PKEY_RSA ||
        EVP_PKEY_get_bits(out->key) < RG_CLIENTAUTH_MIN_RSA_BITS) {
        e = rg_fail(msg, RG_ERR_INVALID, "client-cert-key '%s' is not an RSA key of at least "
                    "%d bits (Entra certificate credentials are RSA)", key_file,
                    RG_CLIENTAUTH_MIN_RSA_BITS);
        goto out;
    }
    if (X509_check_private_key(cert, out->key) != 1) {
        e = rg_fail(msg, RG_ERR_INVALID, "client-cert-key '%s' does not belong to client-cert "
                    "'%s'", key_file, cert_file);
        goto out;
    }
    if (X509_cmp_time(X509_get0_notBefore(cert), &now) >= 0 ||
        X509_cmp_time(X509_get0_notAfter(cert), &now) <= 0) {
        e = rg_fail(msg, RG_ERR_INVALID, "client-cert '%s' is not valid now (expired or not "
                    "yet valid)", cert_file);
        goto out;
    }
    derlen = i2d_X509(cert, &der);
    if (derlen <= 0) {
        e = rg_fail(msg, RG_ERR_CRYPTO, "client-cert '%s' cannot be encoded", cert_file);
        goto out;
    }
    if ((e = thumbprint(der, (size_t)derlen, EVP_sha1(), out->x5t, sizeof out->x5t)) ||
        (e = thumbprint(der, (size_t)derlen, EVP_sha256(), out->x5t_s256,
                        sizeof out->x5t_s256)))
        rg_fail(msg, e, "cannot compute the thumbprints of client-cert '%s'", cert_file);
out:
    ERR_clear_error();
    OPENSSL_free(der);
    X509_free(cert);
    rg_buf_free(&cb);
    rg_buf_free(&kb);
    if (e)
        rg_clientauth_free(out);
    return e;
}

void rg_clientauth_free(struct rg_client_cred *c)
{
    if (!c)
        return;
    EVP_PKEY_free(c->key);
    memset(c, 0, sizeof *c);
}

const char *rg_clientauth_alg(int listed, int ps256, int rs256)
{
    if (!listed || ps256)
        return "PS256";
    return rs256 ? "RS256" : NULL;
}

rg_err rg_clientauth_assertion(const struct rg_client_cred *c, const char *client_id,
                               const char *token_endpoint, const char *alg, time_t now,
                               char **out, struct rg_msg *msg)
{
    char jti[37];
    json_t *claims = NULL, *hdr = NULL;
    rg_err e;

    *out = NULL;
    if (!c || !c->key || !client_id || !*client_id || !token_endpoint || !*token_endpoint ||
        !alg || (strcmp(alg, "PS256") != 0 && strcmp(alg, "RS256") != 0))
        return rg_fail(msg, RG_ERR_INVALID, "client assertion: missing input or algorithm "
                       "other than PS256/RS256");
    if (rg_random_uuid(jti))
        return rg_fail(msg, RG_ERR_CRYPTO, "client assertion: random generator failed");
    claims = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "aud", token_endpoint, "iss", client_id,
                       "sub", client_id, "jti", jti, "nbf", (json_int_t)now, "iat",
                       (json_int_t)now, "exp", (json_int_t)(now + RG_CLIENTAUTH_LIFETIME));
    hdr = json_pack("{s:s,s:s}", "x5t#S256", c->x5t_s256, "x5t", c->x5t);
    if (!claims || !hdr) {
        e = rg_fail(msg, RG_ERR_NOMEM, "out of memory");
        goto out;
    }
    e = rg_jws_sign(claims, hdr, alg, c->key, out);
    if (e)
        rg_fail(msg, e, "client assertion: signing with %s failed", alg);
out:
    json_decref(claims);
    json_decref(hdr);
    return e;
}
