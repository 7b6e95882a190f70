#include "api/tlscert.h"

#include <limits.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"

#define PEM_MAX (64 * 1024)

static rg_err add_ext(X509 *cert, int nid, const char *value)
{
    X509V3_CTX ctx;
    X509_EXTENSION *ext;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext)
        return RG_ERR_CRYPTO;
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return RG_OK;
}

static rg_err pem_of(int is_key, void *obj, struct rg_buf *out)
{
    BIO *bio = BIO_new(BIO_s_mem());
    char *p;
    long n;
    rg_err e = RG_ERR_CRYPTO;

    if (!bio)
        return RG_ERR_NOMEM;
    if (is_key ? PEM_write_bio_PrivateKey(bio, obj, NULL, NULL, 0, NULL, NULL)
               : PEM_write_bio_X509(bio, obj)) {
        n = BIO_get_mem_data(bio, &p);
        rg_buf_init(out, PEM_MAX);
        e = rg_buf_append(out, p, (size_t)n);
    }
    BIO_free(bio);
    return e;
}

static rg_err generate(const char *certpath, const char *keypath, struct rg_msg *msg)
{
    EVP_PKEY *pkey = EVP_RSA_gen(2048);
    X509 *cert = X509_new();
    X509_NAME *name;
    char host[HOST_NAME_MAX + 1] = "localhost", san[512];
    struct rg_buf kpem = {0}, cpem = {0};
    unsigned char serial[16];
    BIGNUM *bn = NULL;
    rg_err e = RG_ERR_CRYPTO;

    if (!pkey || !cert)
        goto out;
    gethostname(host, sizeof host - 1);
    RAND_bytes(serial, sizeof serial);
    serial[0] &= 0x7f;
    bn = BN_bin2bn(serial, sizeof serial, NULL);
    X509_set_version(cert, 2);
    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert));
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
    X509_set_pubkey(cert, pkey);
    name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *)"realmgate", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)host, -1, -1, 0);
    X509_set_issuer_name(cert, name);
    snprintf(san, sizeof san, "DNS:localhost,IP:127.0.0.1,IP:::1%s%s",
             strcmp(host, "localhost") ? ",DNS:" : "", strcmp(host, "localhost") ? host : "");
    if (add_ext(cert, NID_subject_alt_name, san) || add_ext(cert, NID_basic_constraints, "CA:FALSE") ||
        add_ext(cert, NID_ext_key_usage, "serverAuth"))
        goto out;
    if (!X509_sign(cert, pkey, EVP_sha256()))
        goto out;
    if (pem_of(1, pkey, &kpem) || pem_of(0, cert, &cpem))
        goto out;
    e = rg_file_write_atomic(keypath, kpem.data, kpem.len, 0600);
    if (!e)
        e = rg_file_write_atomic(certpath, cpem.data, cpem.len, 0644);
    if (!e)
        rg_info("generated self-signed TLS certificate %s for %s", certpath, host);
out:
    if (e == RG_ERR_CRYPTO)
        rg_fail(msg, e, "cannot generate a TLS certificate");
    else if (e)
        rg_fail(msg, e, "cannot write %s", certpath);
    rg_buf_free(&kpem);
    rg_buf_free(&cpem);
    BN_free(bn);
    X509_free(cert);
    EVP_PKEY_free(pkey);
    return e;
}

rg_err rg_tlscert_ensure(const char *config_dir, char **cert, char **key, struct rg_msg *msg)
{
    char dir[4096], certpath[4096], keypath[4096];
    struct rg_buf c, k;
    rg_err e;

    *cert = *key = NULL;
    if (rg_path_join(dir, sizeof dir, config_dir, "local") ||
        rg_path_join(certpath, sizeof certpath, dir, "pve-ssl.pem") ||
        rg_path_join(keypath, sizeof keypath, dir, "pve-ssl.key"))
        return rg_fail(msg, RG_ERR_LIMIT, "config directory path too long");
    if (rg_mkdir_p(dir, 0755))
        return rg_fail(msg, RG_ERR_IO, "cannot create %s", dir);
    if (access(certpath, R_OK) != 0 || access(keypath, R_OK) != 0) {
        e = generate(certpath, keypath, msg);
        if (e)
            return e;
    }
    e = rg_file_read(certpath, PEM_MAX, &c);
    if (e)
        return rg_fail(msg, e, "cannot read %s", certpath);
    e = rg_file_read(keypath, PEM_MAX, &k);
    if (e) {
        rg_buf_free(&c);
        return rg_fail(msg, e, "cannot read %s", keypath);
    }
    *cert = rg_buf_steal(&c);
    *key = rg_buf_steal(&k);
    return RG_OK;
}
