/* Unit tests for src/oidc/provider.c without network: URL rules, the discovery URL and
 * validation of discovery documents given as JSON text. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/url.h"
#include "oidc/provider.h"

#define ISS "https://login.example.test/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
#define HOSTT "https://login.example.test/72f988bf-86f1-41af-91ab-2d7cd011db47"

/* Shaped like Entra's tenant document (spec entra-id.md §1.2). */
static json_t *entra_doc(void)
{
    return json_pack(
        "{s:s,s:[s,s,s],s:s,s:[s,s,s],s:[s],s:[s,s,s,s],s:s,s:b,s:s,s:s,s:s,s:n}",
        "token_endpoint", HOSTT "/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported", "client_secret_post", "private_key_jwt",
        "client_secret_basic",
        "jwks_uri", HOSTT "/discovery/v2.0/keys",
        "response_modes_supported", "query", "fragment", "form_post",
        "id_token_signing_alg_values_supported", "RS256",
        "response_types_supported", "code", "id_token", "code id_token", "id_token token",
        "issuer", ISS,
        "request_uri_parameter_supported", 0,
        "userinfo_endpoint", "https://graph.example.test/oidc/userinfo",
        "authorization_endpoint", HOSTT "/oauth2/v2.0/authorize",
        "end_session_endpoint", HOSTT "/oauth2/v2.0/logout",
        "tenant_region_scope");
}

static rg_err parse_doc(json_t *doc, const char *issuer, struct rg_oidc_discovery *d,
                        struct rg_msg *msg)
{
    char *txt = json_dumps(doc, JSON_COMPACT);
    rg_err e = rg_oidc_discovery_parse(txt, strlen(txt), issuer, d, msg);
    free(txt);
    json_decref(doc);
    return e;
}

START_TEST(url_rules)
{
    const char *good[] = {
        "https://login.microsoftonline.com/x/v2.0",
        "HTTPS://host",
        "https://host:443/path?q=1",
        "https://[2001:db8::1]:8443/",
        "http://127.0.0.1:8080/",
        "http://127.255.1.2/t",
        "http://localhost:5556/dex",
        "http://LocalHost",
        "http://[::1]:80/x",
    };
    const char *bad[] = {
        "http://example.com/",
        "http://128.0.0.1/",
        "http://127.0.0.1.evil.test/",
        "http://localhost.evil.test/",
        "http://127.1/",
        "http://0x7f.0.0.1/",
        "http://[::2]/",
        "http://[::1/",
        "https://user@host/",
        "http://x@127.0.0.1/",
        "https://host/#frag",
        "https://",
        "https:///path",
        "https://host:/",
        "https://host:abc/",
        "https://host:123456/",
        "ftp://host/",
        "https://ho st/",
        "https://host/\r\n",
        "https://host\\@evil/",
        "",
    };
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(rg_url_https_or_loopback(good[i]), "should accept %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!rg_url_https_or_loopback(bad[i]), "should refuse %s", bad[i]);
    ck_assert(!rg_url_https_or_loopback(NULL));
}
END_TEST

START_TEST(discovery_url)
{
    char out[256];
    ck_assert_int_eq(rg_oidc_discovery_url(ISS, out, sizeof out), RG_OK);
    ck_assert_str_eq(out, ISS "/.well-known/openid-configuration");
    ck_assert_int_eq(rg_oidc_discovery_url("https://idp.test/realms/x/", out, sizeof out), RG_OK);
    ck_assert_str_eq(out, "https://idp.test/realms/x/.well-known/openid-configuration");
    /* exactly one slash is stripped */
    ck_assert_int_eq(rg_oidc_discovery_url("https://idp.test//", out, sizeof out), RG_OK);
    ck_assert_str_eq(out, "https://idp.test//.well-known/openid-configuration");
    ck_assert_int_eq(rg_oidc_discovery_url("https://idp.test", out, 20), RG_ERR_LIMIT);
    ck_assert_int_eq(rg_oidc_discovery_url("", out, sizeof out), RG_ERR_INVALID);
}
END_TEST

START_TEST(entra_document_accepted)
{
    struct rg_oidc_discovery d;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(parse_doc(entra_doc(), ISS, &d, &msg), RG_OK);
    ck_assert_str_eq(d.issuer, ISS);
    ck_assert_str_eq(d.authorization_endpoint, HOSTT "/oauth2/v2.0/authorize");
    ck_assert_str_eq(d.token_endpoint, HOSTT "/oauth2/v2.0/token");
    ck_assert_str_eq(d.jwks_uri, HOSTT "/discovery/v2.0/keys");
    ck_assert_str_eq(d.userinfo_endpoint, "https://graph.example.test/oidc/userinfo");
    ck_assert_str_eq(d.end_session_endpoint, HOSTT "/oauth2/v2.0/logout");
    ck_assert_str_eq(d.id_token_algs[0], "RS256");
    ck_assert_ptr_null(d.id_token_algs[1]);
    ck_assert_int_eq(d.auth_methods_listed, 1);
    ck_assert_int_eq(d.auth_basic, 1);
    ck_assert_int_eq(d.auth_post, 1);
    rg_oidc_discovery_clear(&d);
    ck_assert_ptr_null(d.issuer);
}
END_TEST

START_TEST(issuer_mismatch)
{
    struct rg_oidc_discovery d;
    struct rg_msg msg = {{0}};

    /* configured with a trailing slash, document without */
    ck_assert_int_eq(parse_doc(entra_doc(), ISS "/", &d, &msg), RG_ERR_CONFIG);
    ck_assert_str_eq(msg.text, "discovery issuer mismatch: configured '" ISS "/', document says '"
                               ISS "'");
    ck_assert_ptr_null(d.issuer);
    /* case of the host */
    ck_assert_int_eq(parse_doc(entra_doc(), "https://LOGIN.example.test/72f988bf-86f1-41af-91ab-"
                                            "2d7cd011db47/v2.0", &d, &msg),
                     RG_ERR_CONFIG);
    /* Entra's multi-tenant template */
    {
        json_t *doc = entra_doc();
        json_object_set_new(doc, "issuer",
                            json_string("https://login.example.test/{tenantid}/v2.0"));
        ck_assert_int_eq(parse_doc(doc, "https://login.example.test/common/v2.0", &d, &msg),
                         RG_ERR_CONFIG);
        ck_assert_ptr_nonnull(strstr(msg.text, "{tenantid}"));
    }
    /* wrong type */
    {
        json_t *doc = entra_doc();
        json_object_set_new(doc, "issuer", json_integer(123));
        ck_assert_int_eq(parse_doc(doc, ISS, &d, &msg), RG_ERR_CONFIG);
        ck_assert_str_eq(msg.text, "discovery document has no string 'issuer'");
    }
}
END_TEST

START_TEST(missing_endpoints)
{
    const char *required[] = {"authorization_endpoint", "token_endpoint", "jwks_uri"};
    struct rg_oidc_discovery d;
    struct rg_msg msg = {{0}};
    char expect[128];

    for (size_t i = 0; i < 3; i++) {
        json_t *doc = entra_doc();
        json_object_del(doc, required[i]);
        ck_assert_int_eq(parse_doc(doc, ISS, &d, &msg), RG_ERR_CONFIG);
        snprintf(expect, sizeof expect, "discovery document lacks '%s'", required[i]);
        ck_assert_str_eq(msg.text, expect);
        doc = entra_doc();
        json_object_set_new(doc, required[i], json_integer(1));
        ck_assert_int_eq(parse_doc(doc, ISS, &d, &msg), RG_ERR_CONFIG);
    }
    /* optional ones may be absent */
    {
        json_t *doc = entra_doc();
        json_object_del(doc, "userinfo_endpoint");
        json_object_del(doc, "end_session_endpoint");
        ck_assert_int_eq(parse_doc(doc, ISS, &d, &msg), RG_OK);
        ck_assert_ptr_null(d.userinfo_endpoint);
        ck_assert_ptr_null(d.end_session_endpoint);
        rg_oidc_discovery_clear(&d);
    }
}
END_TEST

START_TEST(http_non_loopback_refused)
{
    const char *fields[] = {"authorization_endpoint", "token_endpoint", "jwks_uri",
                            "userinfo_endpoint"};
    struct rg_oidc_discovery d;
    struct rg_msg msg = {{0}};

    for (size_t i = 0; i < 4; i++) {
        json_t *doc = entra_doc();
        json_object_set_new(doc, fields[i], json_string("http://idp.example.test/x"));
        ck_assert_int_eq(parse_doc(doc, ISS, &d, &msg), RG_ERR_CONFIG);
        ck_assert_ptr_nonnull(strstr(msg.text, fields[i]));
        ck_assert_ptr_nonnull(strstr(msg.text, "not an acceptable URL"));
    }
    /* plain-http issuer off loopback */
    {
        json_t *doc = entra_doc();
        json_object_set_new(doc, "issuer", json_string("http://idp.example.test"));
        ck_assert_int_eq(parse_doc(doc, "http://idp.example.test", &d, &msg), RG_ERR_CONFIG);
        ck_assert_str_eq(msg.text, "issuer URL must be https (http only for loopback)");
    }
    /* everything on loopback over http is fine (test providers) */
    {
        json_t *doc = json_pack("{s:s,s:s,s:s,s:s}", "issuer", "http://127.0.0.1:5556/t/v2.0",
                                "authorization_endpoint", "http://127.0.0.1:5556/t/authorize",
                                "token_endpoint", "http://localhost:5556/t/token",
                                "jwks_uri", "http://[::1]:5556/t/keys");
        ck_assert_int_eq(parse_doc(doc, "http://127.0.0.1:5556/t/v2.0", &d, &msg), RG_OK);
        ck_assert_str_eq(d.id_token_algs[0], "RS256"); /* default when not advertised */
        ck_assert_int_eq(d.auth_methods_listed, 0);
        rg_oidc_discovery_clear(&d);
    }
}
END_TEST

START_TEST(algorithms)
{
    struct rg_oidc_discovery d;
    struct rg_msg msg = {{0}};
    json_t *doc = entra_doc();

    json_object_set_new(doc, "id_token_signing_alg_values_supported",
                        json_pack("[s,s,s,i,s]", "none", "RS256", "NONE", 5, "ES256"));
    ck_assert_int_eq(parse_doc(doc, ISS, &d, &msg), RG_OK);
    ck_assert_str_eq(d.id_token_algs[0], "RS256");
    ck_assert_str_eq(d.id_token_algs[1], "ES256");
    ck_assert_ptr_null(d.id_token_algs[2]);
    rg_oidc_discovery_clear(&d);

    doc = entra_doc();
    json_object_set_new(doc, "id_token_signing_alg_values_supported", json_pack("[s]", "none"));
    ck_assert_int_eq(parse_doc(doc, ISS, &d, &msg), RG_ERR_CONFIG);
    ck_assert_str_eq(msg.text, "provider advertises no usable ID token signing algorithm");

    doc = entra_doc();
    json_object_set_new(doc, "id_token_signing_alg_values_supported", json_string("RS256"));
    ck_assert_int_eq(parse_doc(doc, ISS, &d, &msg), RG_ERR_CONFIG);
}
END_TEST

START_TEST(auth_methods_and_response_types)
{
    struct rg_oidc_discovery d;
    struct rg_msg msg = {{0}};
    json_t *doc = entra_doc();

    json_object_set_new(doc, "token_endpoint_auth_methods_supported",
                        json_pack("[s,s]", "client_secret_post", "private_key_jwt"));
    ck_assert_int_eq(parse_doc(doc, ISS, &d, &msg), RG_OK);
    ck_assert_int_eq(d.auth_methods_listed, 1);
    ck_assert_int_eq(d.auth_basic, 0);
    ck_assert_int_eq(d.auth_post, 1);
    rg_oidc_discovery_clear(&d);

    doc = entra_doc();
    json_object_set_new(doc, "response_types_supported", json_pack("[s]", "id_token"));
    ck_assert_int_eq(parse_doc(doc, ISS, &d, &msg), RG_ERR_CONFIG);
    ck_assert_str_eq(msg.text, "provider does not support response_type 'code'");
}
END_TEST

START_TEST(not_a_document)
{
    struct rg_oidc_discovery d;
    struct rg_msg msg = {{0}};
    const char *dup = "{\"issuer\":\"" ISS "\",\"issuer\":\"https://evil.test\"}";
    char *big;

    ck_assert_int_eq(rg_oidc_discovery_parse("<html>", 6, ISS, &d, &msg), RG_ERR_INVALID);
    ck_assert_int_eq(rg_oidc_discovery_parse("[]", 2, ISS, &d, &msg), RG_ERR_INVALID);
    ck_assert_str_eq(msg.text, "discovery document is not a JSON object");
    ck_assert_int_eq(rg_oidc_discovery_parse(dup, strlen(dup), ISS, &d, &msg), RG_ERR_INVALID);
    big = malloc(RG_OIDC_DISCOVERY_MAX + 1);
    memset(big, ' ', RG_OIDC_DISCOVERY_MAX + 1);
    ck_assert_int_eq(rg_oidc_discovery_parse(big, RG_OIDC_DISCOVERY_MAX + 1, ISS, &d, &msg),
                     RG_ERR_LIMIT);
    free(big);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("provider");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, url_rules);
    tcase_add_test(tc, discovery_url);
    tcase_add_test(tc, entra_document_accepted);
    tcase_add_test(tc, issuer_mismatch);
    tcase_add_test(tc, missing_endpoints);
    tcase_add_test(tc, http_non_loopback_refused);
    tcase_add_test(tc, algorithms);
    tcase_add_test(tc, auth_methods_and_response_types);
    tcase_add_test(tc, not_a_document);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
