#include "idp/keys.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/b64.h"
#include "base/buf.h"
#include "base/fsutil.h"
#include "base/mem.h"
#include "base/rand.h"

#define CERT_YEARS 5
#define KEY_FILE_MAX (16 * 1024)

static rg_err crypto_fail(struct rg_msg *msg, const char *what)
{
    unsigned long code = ERR_get_error();
    char detail[256] = "";
    if (code)
        ERR_error_string_n(code, detail, sizeof detail);
    ERR_clear_error();
    return rg_fail(msg, RG_ERR_CRYPTO, "%s failed%s%s", what, *detail ? ": " : "", detail);
}

static rg_err der_x5t(const unsigned char *der, size_t len, char out[RG_IDP_KID_LEN + 1])
{
    unsigned char md[20];
    unsigned int mdlen = 0;
    char *s;

    if (!EVP_Digest(der, len, md, &mdlen, EVP_sha1(), NULL) || mdlen != sizeof md)
        return RG_ERR_CRYPTO;
    s = rg_b64url_encode(md, sizeof md);
    if (!s)
        return RG_ERR_NOMEM;
    if (strlen(s) != RG_IDP_KID_LEN) {
        free(s);
        return RG_ERR_CRYPTO;
    }
    memcpy(out, s, RG_IDP_KID_LEN + 1);
    free(s);
    return RG_OK;
}

rg_err rg_idp_cert_x5t(const char *x5c, char out[RG_IDP_KID_LEN + 1])
{
    unsigned char *der = NULL;
    size_t len = 0;
    rg_err e = rg_b64_decode(x5c, strlen(x5c), &der, &len);
    if (e)
        return e;
    e = der_x5t(der, len, out);
    free(der);
    return e;
}

static EVP_PKEY *gen_rsa(void)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, NULL);
    EVP_PKEY *pkey = NULL;

    if (!ctx || EVP_PKEY_keygen_init(ctx) != 1 ||
        EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, 2048) != 1 || EVP_PKEY_keygen(ctx, &pkey) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static X509 *self_signed(EVP_PKEY *pkey, int64_t now, int64_t *not_after)
{
    X509 *x = X509_new();
    X509_NAME *name = NULL;
    BIGNUM *serial = NULL;
    unsigned char rnd[16];
    int ok = 0;

    if (!x || rg_random_bytes(rnd, sizeof rnd))
        goto out;
    rnd[0] &= 0x7f; /* positive serial */
    serial = BN_bin2bn(rnd, sizeof rnd, NULL);
    name = X509_NAME_new();
    *not_after = now + (int64_t)CERT_YEARS * 365 * 24 * 3600;
    if (!serial || !name || X509_set_version(x, 2) != 1 ||
        !BN_to_ASN1_INTEGER(serial, X509_get_serialNumber(x)) ||
        !X509_time_adj_ex(X509_getm_notBefore(x), 0, 0, &(time_t){(time_t)now}) ||
        !X509_time_adj_ex(X509_getm_notAfter(x), 0, 0, &(time_t){(time_t)*not_after}) ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                   (const unsigned char *)"accounts.accesscontrol.windows.net",
                                   -1, -1, 0) != 1 ||
        X509_set_subject_name(x, name) != 1 || X509_set_issuer_name(x, name) != 1 ||
        X509_set_pubkey(x, pkey) != 1 || X509_sign(x, pkey, EVP_sha256()) <= 0)
        goto out;
    ok = 1;
out:
    X509_NAME_free(name);
    BN_free(serial);
    if (!ok) {
        X509_free(x);
        x = NULL;
    }
    return x;
}

void rg_idp_newkey_free(struct rg_idp_newkey *k)
{
    EVP_PKEY_free(k->pkey);
    free(k->x5c);
    memset(k, 0, sizeof *k);
}

rg_err rg_idp_key_generate(int64_t now, struct rg_idp_newkey *out, struct rg_msg *msg)
{
    X509 *cert = NULL;
    unsigned char *der = NULL;
    int derlen;
    rg_err e = RG_OK;

    memset(out, 0, sizeof *out);
    out->pkey = gen_rsa();
    if (!out->pkey)
        return crypto_fail(msg, "RSA key generation");
    cert = self_signed(out->pkey, now, &out->not_after);
    if (!cert) {
        e = crypto_fail(msg, "creating the signing certificate");
        goto out;
    }
    derlen = i2d_X509(cert, &der);
    if (derlen <= 0) {
        e = crypto_fail(msg, "encoding the certificate");
        goto out;
    }
    out->x5c = rg_b64_encode(der, (size_t)derlen);
    if (!out->x5c) {
        e = RG_ERR_NOMEM;
        goto out;
    }
    e = der_x5t(der, (size_t)derlen, out->kid);
out:
    OPENSSL_free(der);
    X509_free(cert);
    if (e)
        rg_idp_newkey_free(out);
    return e;
}

static rg_err key_path(const char *keys_dir, const char *kid, char *out, size_t outsz)
{
    char name[64];
    snprintf(name, sizeof name, "%s.pem", kid);
    return rg_path_join(out, outsz, keys_dir, name);
}

rg_err rg_idp_key_save(const char *keys_dir, const char *kid, EVP_PKEY *pkey,
                       struct rg_msg *msg)
{
    char path[4096];
    BIO *bio = NULL;
    char *data;
    long len;
    rg_err e;

    if (rg_mkdir_p(keys_dir, 0700) || chmod(keys_dir, 0700) != 0)
        return rg_fail(msg, RG_ERR_IO, "cannot create key directory %s", keys_dir);
    if ((e = key_path(keys_dir, kid, path, sizeof path)))
        return rg_fail(msg, e, "key directory path too long");
    bio = BIO_new(BIO_s_secmem());
    if (!bio || PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        BIO_free(bio);
        return crypto_fail(msg, "encoding the private key");
    }
    len = BIO_get_mem_data(bio, &data);
    e = rg_file_write_atomic(path, data, (size_t)len, 0600);
    BIO_free(bio); /* secure-heap BIO: cleared on free */
    if (e)
        return rg_fail(msg, e, "cannot write %s", path);
    return RG_OK;
}

rg_err rg_idp_key_load(const char *keys_dir, const struct rg_idp_key *key, EVP_PKEY **out,
                       struct rg_msg *msg)
{
    char path[4096], x5t[RG_IDP_KID_LEN + 1];
    struct rg_buf pem;
    unsigned char *der = NULL;
    const unsigned char *p;
    size_t derlen = 0;
    X509 *cert = NULL;
    EVP_PKEY *pkey = NULL, *pub;
    BIO *bio = NULL;
    rg_err e;

    *out = NULL;
    if ((e = key_path(keys_dir, key->kid, path, sizeof path)))
        return rg_fail(msg, e, "key directory path too long");
    e = rg_file_read(path, KEY_FILE_MAX, &pem);
    if (e)
        return rg_fail(msg, e, "cannot read signing key %s (%s)", path, rg_err_str(e));
    if (rg_b64_decode(key->x5c, strlen(key->x5c), &der, &derlen) ||
        rg_idp_cert_x5t(key->x5c, x5t) || strcmp(x5t, key->kid) != 0) {
        e = rg_fail(msg, RG_ERR_INVALID, "certificate of key %s does not match its kid",
                    key->kid);
        goto out;
    }
    p = der;
    cert = d2i_X509(NULL, &p, (long)derlen);
    bio = BIO_new_mem_buf(pem.data, (int)pem.len);
    if (!cert || !bio || !(pkey = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL))) {
        e = crypto_fail(msg, "reading the signing key or certificate");
        goto out;
    }
    pub = X509_get0_pubkey(cert);
    if (!pub || EVP_PKEY_eq(pub, pkey) != 1 || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA) {
        e = rg_fail(msg, RG_ERR_INVALID, "key file %s does not belong to certificate %s", path,
                    key->kid);
        goto out;
    }
    *out = pkey;
    pkey = NULL;
out:
    ERR_clear_error();
    EVP_PKEY_free(pkey);
    BIO_free(bio);
    X509_free(cert);
    free(der);
    rg_buf_free(&pem);
    return e;
}

/* ---- app certificate credentials --------------------------------------------------------- */

static char *b64url_digest(const unsigned char *der, size_t len, const EVP_MD *md)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    if (!EVP_Digest(der, len, d, &dl, md, NULL))
        return NULL;
    return rg_b64url_encode(d, dl);
}

rg_err rg_idp_cert_load(const char *path, struct rg_idp_certinfo *out, struct rg_msg *msg)
{
    struct rg_buf file;
    X509 *cert = NULL;
    BIO *bio = NULL;
    EVP_PKEY *pub = NULL;
    unsigned char *der = NULL;
    char *s1 = NULL, *s256 = NULL;
    const unsigned char *p;
    struct tm tm;
    int derlen;
    rg_err e;

    memset(out, 0, sizeof *out);
    e = rg_file_read(path, RG_IDP_CERT_FILE_MAX, &file);
    if (e)
        return rg_fail(msg, e, "%s: %s", path,
                       e == RG_ERR_NOTFOUND ? "no such file"
                       : e == RG_ERR_LIMIT  ? "larger than 64 KiB, not a certificate"
                                            : "cannot be read");
    if (file.data && strstr(file.data, "-----BEGIN CERTIFICATE-----")) {
        bio = BIO_new_mem_buf(file.data, (int)file.len);
        cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    } else if (file.data) {
        p = (const unsigned char *)file.data;
        cert = d2i_X509(NULL, &p, (long)file.len);
    }
    if (!cert) {
        e = rg_fail(msg, RG_ERR_INVALID, "%s: not an X.509 certificate (PEM or DER)", path);
        goto out;
    }
    pub = X509_get_pubkey(cert);
    if (!pub || EVP_PKEY_get_base_id(pub) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pub) < 2048) {
        e = rg_fail(msg, RG_ERR_INVALID, "%s: the certificate must hold an RSA key of at least "
                    "2048 bits", path);
        goto out;
    }
    if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1) {
        e = rg_fail(msg, RG_ERR_INVALID, "%s: unreadable expiry date", path);
        goto out;
    }
    out->not_after = (int64_t)timegm(&tm);
    derlen = i2d_X509(cert, &der);
    if (derlen <= 0 || derlen > RG_IDP_X5C_MAX * 3 / 4 - 4) {
        e = rg_fail(msg, RG_ERR_INVALID, "%s: certificate too large", path);
        goto out;
    }
    s1 = b64url_digest(der, (size_t)derlen, EVP_sha1());
    s256 = b64url_digest(der, (size_t)derlen, EVP_sha256());
    out->x5c = rg_b64_encode(der, (size_t)derlen);
    if (!s1 || !s256 || !out->x5c || strlen(s1) != RG_IDP_KID_LEN || strlen(s256) != 43) {
        e = crypto_fail(msg, "certificate thumbprint");
        free(out->x5c);
        out->x5c = NULL;
        goto out;
    }
    memcpy(out->x5t, s1, RG_IDP_KID_LEN + 1);
    memcpy(out->x5t256, s256, 44);
    e = RG_OK;
out:
    free(s1);
    free(s256);
    OPENSSL_free(der);
    EVP_PKEY_free(pub);
    X509_free(cert);
    BIO_free(bio);
    rg_buf_free(&file);
    return e;
}

EVP_PKEY *rg_idp_cert_pubkey(const char *x5c)
{
    unsigned char *der = NULL;
    size_t len = 0;
    const unsigned char *p;
    X509 *cert;
    EVP_PKEY *pub = NULL;

    if (rg_b64_decode(x5c, strlen(x5c), &der, &len))
        return NULL;
    p = der;
    cert = d2i_X509(NULL, &p, (long)len);
    if (cert)
        pub = X509_get_pubkey(cert);
    X509_free(cert);
    free(der);
    return pub;
}
