/* cli_realm_check.c — `realmgate realm check` (see realm_check.h). */
#include "cli/realm_check.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "jose/jwk.h"
#include "net/httpc.h"
#include "oidc/provider.h"
#include "oidc/rp.h"
#include "base/log.h"
#include "base/url.h"

struct report {
    int problems;
    int warnings;
};

static void say(struct report *r, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* One finding per line: "ok", "WARNING" or "PROBLEM", then the plain-words text. */
static void say(struct report *r, const char *kind, const char *fmt, ...)
{
    va_list ap;

    if (!strcmp(kind, "PROBLEM"))
        r->problems++;
    else if (!strcmp(kind, "WARNING"))
        r->warnings++;
    char text[2048], safe[2048 * 4 + 8];

    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    /* findings quote what the provider sent: no escape sequence or line break of theirs
     * reaches the admin's terminal */
    printf("%-8s %s\n", kind, rg_log_sanitize(text, safe, sizeof safe));
}

/* The ID-token algorithms the verifier implements (jose/jws.h). */
static const char *const asym_algs[] = {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                                        "ES256", "ES384", "ES512", "EdDSA", NULL};

static int alg_known(const char *a)
{
    for (size_t i = 0; asym_algs[i]; i++)
        if (!strcmp(asym_algs[i], a))
            return 1;
    return 0;
}

static int alg_hmac(const char *a)
{
    return !strcmp(a, "HS256") || !strcmp(a, "HS384") || !strcmp(a, "HS512");
}

/* Whether key k can verify alg (same rule as jws.h: key type, curve, the key's own alg). */
static int key_fits(const struct rg_jwk *k, const char *alg)
{
    if (k->alg[0] && strcmp(k->alg, alg) != 0)
        return 0;
    if (alg[0] == 'R' || alg[0] == 'P')
        return k->kty == RG_KTY_RSA;
    if (!strcmp(alg, "ES256"))
        return k->kty == RG_KTY_EC && !strcmp(k->crv, "P-256");
    if (!strcmp(alg, "ES384"))
        return k->kty == RG_KTY_EC && !strcmp(k->crv, "P-384");
    if (!strcmp(alg, "ES512"))
        return k->kty == RG_KTY_EC && !strcmp(k->crv, "P-521");
    if (!strcmp(alg, "EdDSA"))
        return k->kty == RG_KTY_OKP && !strcmp(k->crv, "Ed25519");
    return 0;
}

static int is_http_url(const char *u)
{
    return u && strncasecmp(u, "http://", 7) == 0;
}

/* Fetches url; prints a PROBLEM and returns non-zero on failure. */
static int fetch(struct report *rep, const char *what, const char *url, size_t max,
                 const char *ca_file, struct rg_httpc_resp *resp)
{
    struct rg_httpc_opts o = {.max_body = max, .ca_file = ca_file};
    struct rg_msg msg = {{0}};
    rg_err e = rg_httpc_get(url, &o, resp, &msg);

    if (e == RG_ERR_LIMIT) {
        say(rep, "PROBLEM", "the %s at %s is larger than %zu bytes", what, url, max);
        return 1;
    }
    if (e) {
        say(rep, "PROBLEM", "cannot fetch the %s: %s", what, msg.text[0] ? msg.text : rg_err_str(e));
        return 1;
    }
    if (resp->status != 200) {
        say(rep, "PROBLEM", "the %s at %s answered HTTP %ld%s", what, url, resp->status,
            resp->status >= 300 && resp->status < 400
                ? " (a redirect: realmgate does not follow redirects; configure the final URL)"
                : "");
        rg_httpc_resp_free(resp);
        return 1;
    }
    return 0;
}

static void check_clock(struct report *rep, const struct rg_httpc_resp *resp)
{
    long off;

    if (!resp->date[0] || resp->date_parsed == (time_t)-1) {
        say(rep, "ok", "the provider sent no usable Date header; clock offset not measured");
        return;
    }
    off = (long)(time(NULL) - resp->date_parsed);
    if (labs(off) > RG_CHECK_CLOCK_WARN)
        say(rep, "WARNING", "this host's clock is %ld s %s the provider's (provider Date: %s); "
            "ID tokens are checked with %d s leeway: synchronise the clocks (NTP)",
            labs(off), off > 0 ? "ahead of" : "behind", resp->date, RG_OIDC_LEEWAY);
    else
        say(rep, "ok", "clock offset to the provider: %ld s", off);
}

static void check_endpoint(struct report *rep, const json_t *doc, const char *name, int required)
{
    const json_t *v = json_object_get(doc, name);

    if (!v || json_is_null(v)) {
        if (required)
            say(rep, "PROBLEM", "the discovery document has no %s", name);
        return;
    }
    if (!json_is_string(v)) {
        say(rep, "PROBLEM", "%s in the discovery document is not a string", name);
        return;
    }
    if (!rg_url_https_or_loopback(json_string_value(v)))
        say(rep, "PROBLEM", "%s '%.300s' is not acceptable: it must be https:// (http:// only "
            "on a loopback host), without fragment or user info", name, json_string_value(v));
}

/* Step 4; fills algs (advertised, usable, borrowed from doc) for step 5. */
static void check_document(struct report *rep, const struct rg_realm *r, const json_t *doc,
                           const char **algs, size_t algs_max)
{
    const json_t *iss = json_object_get(doc, "issuer"), *list, *v;
    size_t i, n = 0, nl;
    char ignored[256] = "";

    if (!json_is_string(iss)) {
        say(rep, "PROBLEM", "the discovery document has no issuer string");
    } else if (strcmp(json_string_value(iss), r->issuer_url) != 0) {
        const char *d = json_string_value(iss);
        size_t a = strlen(r->issuer_url), b = strlen(d);
        int slash = (a + 1 == b && d[b - 1] == '/' && !strncmp(d, r->issuer_url, a)) ||
                    (b + 1 == a && r->issuer_url[a - 1] == '/' && !strncmp(d, r->issuer_url, b));
        say(rep, "PROBLEM", "issuer mismatch: the realm's issuer-url is '%s' but the provider "
            "says its issuer is '%.300s'%s; they must be identical (set issuer-url to the "
            "provider's value)", r->issuer_url, d,
            slash ? " (they differ only by a trailing '/')" : "");
    } else {
        say(rep, "ok", "issuer matches: %s", r->issuer_url);
    }
    check_endpoint(rep, doc, "authorization_endpoint", 1);
    check_endpoint(rep, doc, "token_endpoint", 1);
    check_endpoint(rep, doc, "jwks_uri", 1);
    check_endpoint(rep, doc, "userinfo_endpoint", 0);
    check_endpoint(rep, doc, "end_session_endpoint", 0);
    if (r->query_userinfo != 0 && !json_is_string(json_object_get(doc, "userinfo_endpoint")))
        say(rep, "ok", "the provider has no userinfo_endpoint: logins use the ID token's "
            "claims only");
    list = json_object_get(doc, "response_types_supported");
    if (list) {
        int code = 0;
        json_array_foreach(list, i, v)
            code |= json_is_string(v) && !strcmp(json_string_value(v), "code");
        if (!code)
            say(rep, "PROBLEM", "the provider does not list response type 'code' in "
                "response_types_supported (realmgate uses the authorization code flow)");
    }
    list = json_object_get(doc, "id_token_signing_alg_values_supported");
    if (!list || json_is_null(list)) {
        say(rep, "ok", "no id_token_signing_alg_values_supported: RS256 assumed");
        algs[n++] = "RS256";
    } else if (!json_is_array(list)) {
        say(rep, "PROBLEM", "id_token_signing_alg_values_supported is not an array");
    } else {
        json_array_foreach(list, i, v) {
            const char *a = json_string_value(v);
            if (!a)
                continue;
            if ((alg_known(a) || (alg_hmac(a) && r->client_key)) && n < algs_max) {
                algs[n++] = a;
            } else if ((nl = strlen(ignored)) + strlen(a) + 3 < sizeof ignored) {
                snprintf(ignored + nl, sizeof ignored - nl, "%s%s", nl ? ", " : "", a);
            }
        }
        if (ignored[0])
            say(rep, n ? "ok" : "PROBLEM", "signing algorithms realmgate does not accept here: "
                "%s ('none' never; HS256/384/512 only with a client key)", ignored);
        if (n == 0)
            say(rep, "PROBLEM", "no usable ID token signing algorithm: realmgate verifies "
                "RS256/384/512, PS256/384/512, ES256/384/512 and EdDSA");
        else {
            char shown[256] = "";
            for (size_t k = 0; k < n && (nl = strlen(shown)) + strlen(algs[k]) + 3 < sizeof shown; k++)
                snprintf(shown + nl, sizeof shown - nl, "%s%s", k ? ", " : "", algs[k]);
            say(rep, "ok", "ID token signing algorithms: %s", shown);
        }
    }
    algs[n] = NULL;
}

static void check_keys(struct report *rep, const char *jwks_uri, const char *ca_file,
                       const char *const *algs)
{
    struct rg_httpc_resp resp;
    struct rg_jwks set;
    struct rg_msg msg = {{0}};
    int fit = 0, need_keys = 0;

    for (size_t i = 0; algs[i]; i++)
        need_keys |= !alg_hmac(algs[i]);
    if (fetch(rep, "key set (jwks_uri)", jwks_uri, RG_OIDC_JWKS_MAX, ca_file, &resp))
        return;
    if (rg_jwks_parse(resp.body, resp.body_len, &set, &msg) != RG_OK) {
        say(rep, "PROBLEM", "no usable signing keys at %s: %s", jwks_uri, msg.text);
        rg_httpc_resp_free(&resp);
        return;
    }
    rg_httpc_resp_free(&resp);
    for (size_t k = 0; k < set.n; k++)
        for (size_t i = 0; algs[i]; i++)
            fit |= key_fits(&set.keys[k], algs[i]);
    say(rep, "ok", "key set: %zu usable key(s), %zu skipped", set.n, set.skipped);
    if (need_keys && !fit)
        say(rep, "PROBLEM", "no key in the key set fits an advertised signing algorithm "
            "(key type, curve or the key's own alg do not match)");
    rg_jwks_free(&set);
}

/* The user name comes from username-claim, and ACLs are granted to that name: a claim the
 * provider lets change, or hands to another person later, lets that person in as the old
 * user (Entra: UPN, email and name are mutable and reassignable; sub and oid are not). */
static void check_username_claim(struct report *rep, const struct rg_realm *r)
{
    static const char *const mutable_claims[] = {"username", "preferred_username", "email",
                                                 "upn", "unique_name", "name", NULL};
    const char *c = r->username_claim && r->username_claim[0] ? r->username_claim : "sub";

    for (size_t i = 0; mutable_claims[i]; i++)
        if (!strcmp(c, mutable_claims[i])) {
            say(rep, "WARNING", "username-claim '%s' names users by a value the provider lets "
                "change or give to someone else later; that person would sign in as the old "
                "user, with its ACLs. 'sub' (the default) or 'oid' never changes (fixed at "
                "realm creation: a new realm is needed to switch)", c);
            return;
        }
    say(rep, "ok", "username-claim '%s' is a stable identifier", c);
}

static int diagnose(const struct rg_realm *r, const char *ca_file)
{
    struct report rep = {0, 0};
    struct rg_httpc_resp resp;
    char url[RG_HTTPC_URL_MAX + 64];
    const char *algs[RG_OIDC_MAX_ALGS * 2 + 1] = {NULL};
    json_t *doc = NULL;
    json_error_t jerr;

    printf("realm '%s': issuer %s\n", r->id, r->issuer_url);
    check_username_claim(&rep, r);
    if (!rg_url_https_or_loopback(r->issuer_url)) {
        if (is_http_url(r->issuer_url))
            say(&rep, "PROBLEM", "the issuer URL uses http:// on a host that is not loopback: "
                "the server refuses it (tokens and keys would travel unprotected); use https://");
        else
            say(&rep, "PROBLEM", "the issuer URL is not an acceptable https:// URL");
    }
    if (rg_oidc_discovery_url(r->issuer_url, url, sizeof url) != RG_OK) {
        say(&rep, "PROBLEM", "the issuer URL is too long");
        goto done;
    }
    if (fetch(&rep, "discovery document", url, RG_OIDC_DISCOVERY_MAX, ca_file, &resp))
        goto done;
    say(&rep, "ok", "discovery document fetched from %s (%zu bytes)", url, resp.body_len);
    check_clock(&rep, &resp);
    doc = json_loadb(resp.body, resp.body_len, JSON_REJECT_DUPLICATES, &jerr);
    rg_httpc_resp_free(&resp);
    if (!json_is_object(doc)) {
        say(&rep, "PROBLEM", "the discovery document is not a JSON object%s%s",
            doc ? "" : ": ", doc ? "" : jerr.text);
        goto done;
    }
    check_document(&rep, r, doc, algs, RG_OIDC_MAX_ALGS * 2);
    if (json_is_string(json_object_get(doc, "jwks_uri")) &&
        rg_url_https_or_loopback(json_string_value(json_object_get(doc, "jwks_uri"))))
        check_keys(&rep, json_string_value(json_object_get(doc, "jwks_uri")), ca_file, algs);
    if (rep.problems == 0) {
        /* the server's own path: anything it refuses that the steps above missed */
        struct rg_oidc_cache *cache = NULL;
        const struct rg_oidc_provider *prov = NULL;
        struct rg_msg msg = {{0}};
        if (rg_oidc_cache_new(ca_file, &cache) != RG_OK) {
            say(&rep, "PROBLEM", "out of memory");
        } else if (rg_oidc_provider_get(cache, r->issuer_url, NULL, &prov, &msg) != RG_OK) {
            say(&rep, "PROBLEM", "the server's provider loader refuses it: %s", msg.text);
        } else {
            say(&rep, "ok", "the server loads this provider's metadata and keys");
            rg_oidc_provider_release(cache, prov);
        }
        if (cache)
            rg_oidc_cache_free(cache);
    }
done:
    json_decref(doc);
    if (rep.problems)
        printf("realm '%s': %d problem(s), %d warning(s)\n", r->id, rep.problems, rep.warnings);
    else
        printf("realm '%s': no problems found (%d warning(s))\n", r->id, rep.warnings);
    return rep.problems ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

int cli_realm_check(int argc, char **argv, const char *config_dir)
{
    static const char usage[] = "realmgate realm check <realm> [--ca-file FILE]";
    static const struct cli_opt opts[] = {{"ca-file", CLI_OPT_VALUE}, {NULL, 0}};
    static const char *const pos[] = {"realm"};
    struct cli_args a;
    struct rg_store *st;
    const struct rg_snapshot *s;
    const struct rg_realm *r;
    int rc;

    rc = cli_parse(argc, argv, opts, 0, 1, pos, usage, &a);
    if (rc)
        return rc;
    if (a.npos != 1) {
        cli_args_free(&a);
        fprintf(stderr, "usage: %s\n", usage);
        return CLI_EXIT_USAGE;
    }
    if (!(st = cli_open_store(config_dir))) {
        cli_args_free(&a);
        return CLI_EXIT_FAIL;
    }
    s = rg_store_acquire(st);
    r = rg_domains_find(&s->domains, a.pos[0]);
    if (!r) {
        printf("PROBLEM  realm '%s' does not exist\n", a.pos[0]);
        rc = CLI_EXIT_FAIL;
    } else if (strcmp(r->type, "openid") != 0) {
        printf("PROBLEM  realm '%s' has type '%s'; only openid realms can be checked\n", r->id,
               r->type);
        rc = CLI_EXIT_FAIL;
    } else {
        /* --ca-file overrides the realm's own ca-file option */
        rc = diagnose(r, rg_params_get(&a.opts, "ca-file") ? rg_params_get(&a.opts, "ca-file")
                                                             : r->ca_file);
    }
    rg_store_release(s);
    rg_store_close(st);
    cli_args_free(&a);
    return rc;
}
