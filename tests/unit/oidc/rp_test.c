/* Unit tests for the network-free parts of src/oidc/rp.c: redirect-url rules,
 * PKCE, the authorization URL (parsed back and checked parameter by parameter) and the
 * Proxmox user-name claim rules. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base/form.h"
#include "oidc/rp.h"

START_TEST(redirect_url_rules)
{
    char longurl[300];
    const char *good[] = {"https://pve.example.test:8006", "http://localhost:8006/x?y=1",
                          "HTTPS://h", "http://192.0.2.1"};
    const char *bad[] = {"https://h/#frag", "javascript:alert(1)", "//evil.test", "https://",
                         "https://u@h/", "https://h/a b", " https://h", "https://h/\n",
                         "https://h/\\evil", "ftp://h/", "/relative", "https://:8006/", ""};

    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        ck_assert_msg(rg_oidc_redirect_url_valid(good[i]), "should accept %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        ck_assert_msg(!rg_oidc_redirect_url_valid(bad[i]), "should refuse %s", bad[i]);
    ck_assert(!rg_oidc_redirect_url_valid(NULL));
    memset(longurl, 'a', sizeof longurl);
    memcpy(longurl, "https://", 8);
    longurl[255] = '\0';
    ck_assert(rg_oidc_redirect_url_valid(longurl));
    longurl[255] = 'a';
    longurl[256] = '\0';
    ck_assert(!rg_oidc_redirect_url_valid(longurl));
}
END_TEST

START_TEST(pkce_rfc7636_vector)
{
    /* RFC 7636 Appendix B */
    char *c = rg_oidc_pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
    ck_assert_str_eq(c, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
    free(c);
}
END_TEST

static struct rg_oidc_discovery disc(const char *authz)
{
    struct rg_oidc_discovery d;
    memset(&d, 0, sizeof d);
    d.issuer = "https://idp.example.test/t/v2.0";
    d.authorization_endpoint = (char *)authz;
    d.token_endpoint = "https://idp.example.test/t/token";
    d.jwks_uri = "https://idp.example.test/t/keys";
    return d;
}

static const char STATE[] = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE";
static const char NONCE[] = "bm9uY2Vfbm9uY2Vfbm9uYw";
static const char CHAL[] = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/* Builds the URL and parses its query back into p; returns the part before '?'. */
static char *build(const struct rg_oidc_discovery *d, const struct rg_oidc_realm *r,
                   const char *redirect, struct rg_params *p)
{
    char *url = NULL, *q;
    struct rg_msg msg = {{0}};
    ck_assert_int_eq(rg_oidc_build_auth_url(d, r, redirect, STATE, NONCE, CHAL, &url, &msg),
                     RG_OK);
    q = strchr(url, '?');
    ck_assert_ptr_nonnull(q);
    *q = '\0';
    rg_params_init(p);
    ck_assert_int_eq(rg_params_parse_form(p, q + 1, strlen(q + 1)), RG_OK);
    return url;
}

START_TEST(auth_url_parameters)
{
    struct rg_oidc_discovery d = disc("https://idp.example.test/t/oauth2/v2.0/authorize");
    struct rg_oidc_realm r = {.realm = "entra", .issuer_url = "https://idp.example.test/t/v2.0",
                              .client_id = "6731de76-14a6-49ae-97bc-6eba6914391e",
                              .client_key = "s3cret"};
    struct rg_params p;
    const char *once[] = {"response_type", "client_id", "redirect_uri", "scope", "state",
                          "nonce", "code_challenge", "code_challenge_method"};
    char *base = build(&d, &r, "https://pve.example.test:8006", &p);

    ck_assert_str_eq(base, "https://idp.example.test/t/oauth2/v2.0/authorize");
    ck_assert_uint_eq(p.n, 8);
    for (size_t i = 0; i < sizeof once / sizeof *once; i++)
        ck_assert_uint_eq(rg_params_count(&p, once[i]), 1);
    ck_assert_str_eq(rg_params_get(&p, "response_type"), "code");
    ck_assert_str_eq(rg_params_get(&p, "client_id"), "6731de76-14a6-49ae-97bc-6eba6914391e");
    ck_assert_str_eq(rg_params_get(&p, "redirect_uri"), "https://pve.example.test:8006");
    ck_assert_str_eq(rg_params_get(&p, "scope"), "openid email profile");
    ck_assert_str_eq(rg_params_get(&p, "state"), STATE);
    ck_assert_str_eq(rg_params_get(&p, "nonce"), NONCE);
    ck_assert_str_eq(rg_params_get(&p, "code_challenge"), CHAL);
    ck_assert_str_eq(rg_params_get(&p, "code_challenge_method"), "S256");
    ck_assert_ptr_null(rg_params_get(&p, "prompt"));
    ck_assert_ptr_null(rg_params_get(&p, "acr_values"));
    ck_assert_ptr_null(rg_params_get(&p, "client_secret"));
    rg_params_free(&p);
    free(base);
}
END_TEST

START_TEST(auth_url_options)
{
    struct rg_oidc_discovery d = disc("https://idp.example.test/t/authorize?p=B2C_1_signin");
    struct rg_oidc_realm r = {.realm = "entra", .issuer_url = "https://idp.example.test/t/v2.0",
                              .client_id = "cid", .scopes = "openid,email;profile email  offline_access",
                              .prompt = "select_account",
                              .acr_values = "urn:mace:incommon:iap:silver,urn:x;y"};
    struct rg_params p;
    char *base = build(&d, &r, "http://localhost:8006/cb?x=1&y=2", &p);

    ck_assert_str_eq(base, "https://idp.example.test/t/authorize");
    ck_assert_str_eq(rg_params_get(&p, "p"), "B2C_1_signin");
    ck_assert_str_eq(rg_params_get(&p, "scope"), "openid email profile offline_access");
    ck_assert_str_eq(rg_params_get(&p, "prompt"), "select_account");
    ck_assert_str_eq(rg_params_get(&p, "acr_values"), "urn:mace:incommon:iap:silver urn:x y");
    ck_assert_str_eq(rg_params_get(&p, "redirect_uri"), "http://localhost:8006/cb?x=1&y=2");
    ck_assert_uint_eq(p.n, 11);
    rg_params_free(&p);
    free(base);

    /* an empty list sends nothing; scopes that are only separators mean just openid */
    r.acr_values = " ,";
    r.scopes = ";";
    r.prompt = "";
    base = build(&d, &r, "https://pve.example.test", &p);
    ck_assert_ptr_null(rg_params_get(&p, "acr_values"));
    ck_assert_ptr_null(rg_params_get(&p, "prompt"));
    ck_assert_str_eq(rg_params_get(&p, "scope"), "openid");
    rg_params_free(&p);
    free(base);
}
END_TEST

START_TEST(auth_url_raw_encoding)
{
    /* the redirect URL is percent-encoded in the query, byte for byte */
    struct rg_oidc_discovery d = disc("https://idp.example.test/a");
    struct rg_oidc_realm r = {.realm = "e", .issuer_url = "https://idp.example.test",
                              .client_id = "c id"};
    char *url = NULL;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_oidc_build_auth_url(&d, &r, "https://pve.test:8006", STATE, NONCE, CHAL,
                                            &url, &msg),
                     RG_OK);
    ck_assert_str_eq(url, "https://idp.example.test/a?response_type=code&client_id=c%20id"
                          "&redirect_uri=https%3A%2F%2Fpve.test%3A8006"
                          "&scope=openid%20email%20profile"
                          "&state=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE"
                          "&nonce=bm9uY2Vfbm9uY2Vfbm9uYw"
                          "&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
                          "&code_challenge_method=S256");
    free(url);
    /* bad redirect URLs are refused before anything is built */
    ck_assert_int_eq(rg_oidc_build_auth_url(&d, &r, "https://pve.test/#x", STATE, NONCE, CHAL,
                                            &url, &msg),
                     RG_ERR_INVALID);
    ck_assert_ptr_null(url);
    ck_assert_ptr_nonnull(strstr(msg.text, "realm 'e': redirect-url refused"));
}
END_TEST

START_TEST(username_claim)
{
    json_t *c = json_pack("{s:s,s:s,s:s,s:i,s:n}", "sub", "AAAAsub", "preferred_username",
                          "alice@contoso.test", "email", "alice@mail.test", "num", 5, "nul");
    struct rg_msg msg = {{0}};
    char *u = NULL;

    ck_assert_int_eq(rg_oidc_claim_username(c, NULL, &u, &msg), RG_OK);
    ck_assert_str_eq(u, "AAAAsub");
    free(u);
    ck_assert_int_eq(rg_oidc_claim_username(c, "", &u, &msg), RG_OK);
    ck_assert_str_eq(u, "AAAAsub");
    free(u);
    ck_assert_int_eq(rg_oidc_claim_username(c, "email", &u, &msg), RG_OK);
    ck_assert_str_eq(u, "alice@mail.test");
    free(u);
    /* legacy aliases */
    ck_assert_int_eq(rg_oidc_claim_username(c, "subject", &u, &msg), RG_OK);
    ck_assert_str_eq(u, "AAAAsub");
    free(u);
    ck_assert_int_eq(rg_oidc_claim_username(c, "username", &u, &msg), RG_OK);
    ck_assert_str_eq(u, "alice@contoso.test");
    free(u);
    /* a real claim of that name wins over the alias */
    json_object_set_new(c, "username", json_string("bob"));
    ck_assert_int_eq(rg_oidc_claim_username(c, "username", &u, &msg), RG_OK);
    ck_assert_str_eq(u, "bob");
    free(u);
    json_object_del(c, "username");
    json_object_del(c, "preferred_username");
    ck_assert_int_eq(rg_oidc_claim_username(c, "username", &u, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "missing claim 'preferred_username'");
    ck_assert_ptr_null(u);
    ck_assert_int_eq(rg_oidc_claim_username(c, "upn", &u, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "missing configured claim 'upn' in returned info object");
    /* null counts as missing; a number is not a user name */
    ck_assert_int_eq(rg_oidc_claim_username(c, "nul", &u, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "missing configured claim 'nul' in returned info object");
    ck_assert_int_eq(rg_oidc_claim_username(c, "num", &u, &msg), RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "claim 'num' is not a string");
    json_decref(c);
}
END_TEST

START_TEST(context_lifecycle)
{
    struct rg_oidc *rp = NULL;
    ck_assert_int_eq(rg_oidc_new("", &rp), RG_ERR_INVALID);
    ck_assert_int_eq(rg_oidc_new("/tmp/rg-unused-pending", &rp), RG_OK);
    ck_assert_ptr_nonnull(rg_oidc_cache(rp));
    ck_assert_int_eq(rg_oidc_set_ca_file(rp, "/etc/ssl/certs/ca-certificates.crt"), RG_OK);
    ck_assert_str_eq(rg_oidc_cache_ca_file(rg_oidc_cache(rp)), "/etc/ssl/certs/ca-certificates.crt");
    rg_oidc_free(rp);
}
END_TEST

START_TEST(finish_refuses_before_network)
{
    /* checks that need no provider: they fail without any request being made (the issuer
     * points at a closed port, so any request would turn into RG_ERR_NET) */
    struct rg_oidc *rp = NULL;
    struct rg_oidc_realm r = {.realm = "entra", .issuer_url = "http://127.0.0.1:9/t",
                              .client_id = "cid"};
    struct rg_oidc_pending p;
    json_t *claims = NULL;
    struct rg_msg msg = {{0}};
    char bigcode[5000];

    memset(&p, 0, sizeof p);
    strcpy(p.realm, "entra");
    p.nonce = "n";
    p.pkce_verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    p.redirect_url = "https://pve.test:8006";
    ck_assert_int_eq(rg_oidc_new("/tmp/rg-unused-pending", &rp), RG_OK);
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &p, "code", "https://pve.test:8006/", &claims, &msg),
                     RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "realm 'entra': redirect-url differs from the one the login was "
                               "started with");
    strcpy(p.realm, "other");
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &p, "code", "https://pve.test:8006", &claims, &msg),
                     RG_ERR_AUTH);
    ck_assert_str_eq(msg.text, "realm 'entra': the pending login belongs to realm 'other'");
    strcpy(p.realm, "entra");
    memset(bigcode, 'A', sizeof bigcode - 1);
    bigcode[sizeof bigcode - 1] = '\0';
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &p, bigcode, "https://pve.test:8006", &claims, &msg),
                     RG_ERR_INVALID);
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &p, "co\001de", "https://pve.test:8006", &claims,
                                    &msg),
                     RG_ERR_INVALID);
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &p, "", "https://pve.test:8006", &claims, &msg),
                     RG_ERR_INVALID);
    /* control: a well-formed call does reach the (absent) provider */
    ck_assert_int_eq(rg_oidc_finish(rp, &r, &p, "code", "https://pve.test:8006", &claims, &msg),
                     RG_ERR_NET);
    ck_assert_ptr_null(claims);
    rg_oidc_free(rp);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("rp");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, redirect_url_rules);
    tcase_add_test(tc, pkce_rfc7636_vector);
    tcase_add_test(tc, auth_url_parameters);
    tcase_add_test(tc, auth_url_options);
    tcase_add_test(tc, auth_url_raw_encoding);
    tcase_add_test(tc, username_claim);
    tcase_add_test(tc, context_lifecycle);
    tcase_add_test(tc, finish_refuses_before_network);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
