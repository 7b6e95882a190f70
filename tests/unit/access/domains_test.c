/* Unit tests for src/access/domains.c: domains.cfg parse/write and realm editing (spec §2). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/domains.h"
#include "base/fsutil.h"

/* Collects warnings so tests can assert on them. */
struct warns {
    int n;
    char last[512];
};

static void collect(void *ctx, int line, const char *text)
{
    struct warns *w = ctx;
    w->n++;
    snprintf(w->last, sizeof w->last, "%d: %s", line, text);
}

static char *write_text(const struct rg_domains *d)
{
    struct rg_buf b;
    char *s;
    rg_buf_init(&b, 1 << 20);
    ck_assert_int_eq(rg_domains_write(d, &b), RG_OK);
    s = rg_buf_steal(&b);
    rg_buf_free(&b);
    return s;
}

static void parse_ok(const char *text, struct rg_domains *d, struct warns *w)
{
    memset(w, 0, sizeof *w);
    ck_assert_int_eq(rg_domains_parse(text, strlen(text), d, collect, w), RG_OK);
}

static char *read_data(const char *name)
{
    char path[1024];
    const char *dir = getenv("RG_TEST_DATA");
    struct rg_buf b;
    char *s;
    snprintf(path, sizeof path, "%s/access/%s", dir ? dir : "tests/data", name);
    ck_assert_int_eq(rg_file_read(path, 1 << 20, &b), RG_OK);
    s = rg_buf_steal(&b);
    rg_buf_free(&b);
    return s;
}

static const char builtins[] = "pam: pam\n\tcomment Linux PAM standard authentication\n\n"
                               "pve: pve\n\tcomment Proxmox VE authentication server\n\n";

START_TEST(spec_example_round_trip)
{
    char *text = read_data("domains-example.cfg"), *out;
    struct rg_domains d;
    struct warns w;
    const struct rg_realm *r;

    parse_ok(text, &d, &w);
    ck_assert_int_eq(w.n, 0);
    ck_assert_uint_eq(d.n, 3);
    r = rg_domains_find(&d, "sso");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->type, "openid");
    ck_assert_str_eq(r->comment, "Company SSO");
    ck_assert_str_eq(r->issuer_url, "https://idp.example.com/realms/main");
    ck_assert_str_eq(r->client_id, "pve-cluster");
    ck_assert_str_eq(r->client_key, "s3cr3t");
    ck_assert_str_eq(r->scopes, "email profile");
    ck_assert_str_eq(r->username_claim, "preferred_username");
    ck_assert_str_eq(r->groups_claim, "groups");
    ck_assert_int_eq(r->autocreate, 1);
    ck_assert_int_eq(r->groups_overwrite, 0);
    ck_assert_int_eq(r->groups_autocreate, -1);
    ck_assert_int_eq(r->query_userinfo, -1);
    ck_assert_ptr_null(r->prompt);
    ck_assert_uint_eq(strlen(d.digest), 40);
    out = write_text(&d);
    ck_assert_str_eq(out, text);
    free(out);
    rg_domains_free(&d);
    free(text);
}
END_TEST

START_TEST(writer_order_and_rewrite)
{
    /* options out of order, spaces instead of tabs, trailing blanks, comment lines */
    const char *in = "openid: sso\n"
                     "  username-claim   email  \n"
                     "# a comment inside a section\n"
                     "\tissuer-url https://idp/\n"
                     "\tdefault\n"
                     "\tquery-userinfo 0\n"
                     "\tclient-id c1\n"
                     "\tcomment x\n";
    const char *want = "openid: sso\n"
                       "\tcomment x\n"
                       "\tclient-id c1\n"
                       "\tissuer-url https://idp/\n"
                       "\tdefault 1\n"
                       "\tquery-userinfo 0\n"
                       "\tusername-claim email\n"
                       "\n";
    struct rg_domains d;
    struct warns w;
    char *out, expect[1024];

    parse_ok(in, &d, &w);
    ck_assert_int_eq(w.n, 0);
    snprintf(expect, sizeof expect, "%s%s", want, builtins);
    out = write_text(&d);
    ck_assert_str_eq(out, expect);
    ck_assert_ptr_eq(rg_domains_default(&d), rg_domains_find(&d, "sso"));
    free(out);
    rg_domains_free(&d);
}
END_TEST

START_TEST(builtin_injection)
{
    struct rg_domains d;
    struct warns w;
    char *out;

    parse_ok("", &d, &w);
    out = write_text(&d);
    ck_assert_str_eq(out, builtins);
    free(out);
    rg_domains_free(&d);

    /* a wrong type for a built-in realm is forced back; the comment survives */
    parse_ok("openid: pam\n\tcomment mine\n\tissuer-url x\n\tclient-id y\n", &d, &w);
    ck_assert_str_eq(rg_domains_find(&d, "pam")->type, "pam");
    ck_assert_ptr_null(rg_domains_find(&d, "pam")->issuer_url);
    out = write_text(&d);
    ck_assert_str_eq(out, "pam: pam\n\tcomment mine\n\n"
                          "pve: pve\n\tcomment Proxmox VE authentication server\n\n");
    free(out);
    rg_domains_free(&d);
}
END_TEST

START_TEST(comment_escaping)
{
    struct rg_buf b;
    char *plain;
    struct rg_domains d;
    struct warns w;
    char *out;

    rg_buf_init(&b, 1024);
    ck_assert_int_eq(rg_cfg_escape("Z\xc3\xbcrich: 100% ok\t~", &b), RG_OK);
    ck_assert_str_eq(b.data, "Z%C3%BCrich%3A 100%25 ok%09~");
    ck_assert_int_eq(rg_cfg_unescape(b.data, &plain), RG_OK);
    ck_assert_str_eq(plain, "Z\xc3\xbcrich: 100% ok\t~");
    free(plain);
    rg_buf_free(&b);
    /* lower-case hex is read too; a broken escape stays literal; %00 is refused */
    ck_assert_int_eq(rg_cfg_unescape("a%3ab%zz%4", &plain), RG_OK);
    ck_assert_str_eq(plain, "a:b%zz%4");
    free(plain);
    ck_assert_int_eq(rg_cfg_unescape("a%00b", &plain), RG_ERR_INVALID);

    parse_ok("pve: pve\n\tcomment Caf%C3%A9%3A 50%25\n", &d, &w);
    ck_assert_str_eq(rg_domains_find(&d, "pve")->comment, "Caf\xc3\xa9: 50%");
    out = write_text(&d);
    ck_assert_ptr_nonnull(strstr(out, "pve: pve\n\tcomment Caf%C3%A9%3A 50%25\n\n"));
    free(out);
    rg_domains_free(&d);
}
END_TEST

START_TEST(single_default)
{
    const char *in = "openid: a1\n\tissuer-url u\n\tclient-id c\n\tdefault 1\n\n"
                     "openid: b1\n\tissuer-url u\n\tclient-id c\n\tdefault 1\n\n"
                     "pve: pve\n\tdefault 1\n";
    struct rg_domains d;
    struct warns w;

    parse_ok(in, &d, &w);
    ck_assert_int_eq(w.n, 2);
    ck_assert_int_eq(rg_domains_find(&d, "a1")->is_default, 1);
    ck_assert_int_eq(rg_domains_find(&d, "b1")->is_default, 0);
    ck_assert_int_eq(rg_domains_find(&d, "pve")->is_default, 0);
    rg_domains_free(&d);
}
END_TEST

START_TEST(bad_lines_are_warnings)
{
    const char *in = "openid: ok1\n"
                     "\tissuer-url https://i\n"
                     "\tclient-id c\n"
                     "\tclient-id again\n"          /* duplicate attribute */
                     "\tfoo bar\n"                  /* unexpected property */
                     "\tautocreate yes\n"           /* file booleans are 0/1 only */
                     "\tgroups-claim a b\n"         /* pattern */
                     "\tacr-values x<y\n"           /* charset */
                     "\tprompt login\n"
                     "\n"
                     "weird: r1\n\tfoo bar\n\n"     /* unknown type: section skipped */
                     "openid: 9bad\n\tissuer-url u\n\tclient-id c\n\n" /* bad realm id */
                     "openid: noissuer\n\tclient-id c\n\n"              /* missing required */
                     "stray line\n"
                     "ldap: corp\n\tserver1 ldap.example.com\n\tbase_dn dc=example\n"
                     "\tuser_attr uid\n";
    struct rg_domains d;
    struct warns w;
    const struct rg_realm *r;
    char *out;

    parse_ok(in, &d, &w);
    ck_assert_int_eq(w.n, 9);
    r = rg_domains_find(&d, "ok1");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->client_id, "c");
    ck_assert_int_eq(r->autocreate, -1);
    ck_assert_ptr_null(r->groups_claim);
    ck_assert_ptr_null(r->acr_values);
    ck_assert_str_eq(r->prompt, "login");
    ck_assert_ptr_null(rg_domains_find(&d, "r1"));
    ck_assert_ptr_null(rg_domains_find(&d, "9bad"));
    ck_assert_ptr_null(rg_domains_find(&d, "noissuer"));
    /* ldap kept verbatim */
    r = rg_domains_find(&d, "corp");
    ck_assert_ptr_nonnull(r);
    ck_assert_str_eq(r->type, "ldap");
    out = write_text(&d);
    ck_assert_str_eq(out, "openid: ok1\n\tclient-id c\n\tissuer-url https://i\n\tprompt login\n\n"
                          "ldap: corp\n\tserver1 ldap.example.com\n\tbase_dn dc=example\n"
                          "\tuser_attr uid\n\n" "pam: pam\n\tcomment Linux PAM standard "
                          "authentication\n\npve: pve\n\tcomment Proxmox VE authentication "
                          "server\n\n");
    free(out);
    rg_domains_free(&d);
}
END_TEST

static void params(struct rg_params *p, const char *const *kv)
{
    rg_params_init(p);
    for (; kv && kv[0]; kv += 2)
        ck_assert_int_eq(rg_params_add(p, kv[0], kv[1]), RG_OK);
}

START_TEST(add_modify_delete)
{
    struct rg_domains d;
    struct warns w;
    struct rg_params p;
    struct rg_msg m;
    const struct rg_realm *r;
    char *out;

    parse_ok("openid: old\n\tissuer-url u\n\tclient-id c\n\tdefault 1\n", &d, &w);

    /* reserved ids / builtin types / unsupported types / missing required options */
    params(&p, (const char *const[]){"issuer-url", "https://i", "client-id", "c", NULL});
    ck_assert_int_eq(rg_domains_add(&d, "pam", "openid", &p, &m), RG_ERR_EXISTS);
    ck_assert_str_eq(m.text, "domain 'pam' already exists");
    ck_assert_int_eq(rg_domains_add(&d, "x1", "pve", &p, &m), RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "unable to create builtin type 'pve'");
    ck_assert_int_eq(rg_domains_add(&d, "x1", "ldap", &p, &m), RG_ERR_INVALID);
    ck_assert_int_eq(rg_domains_add(&d, "x", "openid", &p, &m), RG_ERR_INVALID);
    rg_params_free(&p);
    params(&p, (const char *const[]){"issuer-url", "https://i", NULL});
    ck_assert_int_eq(rg_domains_add(&d, "x1", "openid", &p, &m), RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "missing required option 'client-id'");
    rg_params_free(&p);
    params(&p, (const char *const[]){"issuer-url", "https://i", "client-id", "c", "bogus", "1",
                                     NULL});
    ck_assert_int_eq(rg_domains_add(&d, "x1", "openid", &p, &m), RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "unknown option 'bogus'");
    rg_params_free(&p);
    params(&p, (const char *const[]){"issuer-url", "https://i", "client-id", "c", "acr-values",
                                     "a b", NULL});
    ck_assert_int_eq(rg_domains_add(&d, "x1", "openid", &p, &m), RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "invalid value for 'acr-values': value does not match the regex "
                             "pattern");
    rg_params_free(&p);
    /* issuer URLs: https, or http only on loopback (the file parser keeps what it finds) */
    {
        static const char *const bad_issuers[] = {"ftp://idp", "http://idp.example/t/v2.0",
                                                  "https://idp#frag", "https://user@idp",
                                                  "http://127.1/", "idp.example"};
        for (size_t i = 0; i < sizeof bad_issuers / sizeof *bad_issuers; i++) {
            params(&p, (const char *const[]){"issuer-url", bad_issuers[i], "client-id", "c",
                                             NULL});
            ck_assert_int_eq(rg_domains_add(&d, "x1", "openid", &p, &m), RG_ERR_INVALID);
            ck_assert_str_eq(m.text, "invalid value for 'issuer-url': an https:// URL is "
                                     "required (http:// only for 127.0.0.1, [::1] or localhost)");
            rg_params_free(&p);
        }
        params(&p, (const char *const[]){"issuer-url", "http://[::1]:8180/t/v2.0", "client-id",
                                         "c", NULL});
        ck_assert_int_eq(rg_domains_add(&d, "x2", "openid", &p, &m), RG_OK);
        ck_assert_int_eq(rg_domains_delete(&d, "x2", &m), RG_OK);
        rg_params_free(&p);
    }
    ck_assert_ptr_null(rg_domains_find(&d, "x1"));

    /* a good one, becoming the default */
    params(&p, (const char *const[]){"realm", "sso", "type", "openid", "issuer-url",
                                     "https://idp", "client-id", "cid", "username-claim",
                                     "email", "default", "1", "autocreate", "true", "comment",
                                     "Single: sign-on", "acr-values", "urn:a,urn:b", NULL});
    ck_assert_int_eq(rg_domains_add(&d, "sso", "openid", &p, &m), RG_OK);
    rg_params_free(&p);
    r = rg_domains_find(&d, "sso");
    ck_assert_int_eq(r->autocreate, 1);
    ck_assert_int_eq(rg_domains_find(&d, "old")->is_default, 0);
    ck_assert_ptr_eq(rg_domains_default(&d), r);

    /* username-claim is fixed */
    params(&p, (const char *const[]){"username-claim", "sub", NULL});
    ck_assert_int_eq(rg_domains_modify(&d, "sso", &p, NULL, &m), RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "can't change value of fixed parameter 'username-claim'");
    rg_params_free(&p);
    ck_assert_int_eq(rg_domains_modify(&d, "sso", NULL, "username-claim", &m), RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "can't change value of fixed parameter 'username-claim'");
    ck_assert_int_eq(rg_domains_modify(&d, "sso", NULL, "issuer-url", &m), RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "cannot delete required option 'issuer-url'");
    ck_assert_int_eq(rg_domains_modify(&d, "sso", NULL, NULL, &m), RG_ERR_INVALID);
    ck_assert_str_eq(m.text, "no options specified");
    ck_assert_int_eq(rg_domains_modify(&d, "nope", NULL, "comment", &m), RG_ERR_NOTFOUND);
    ck_assert_str_eq(m.text, "domain 'nope' does not exist");

    /* delete keys + set others in one call; failure leaves the realm unchanged */
    params(&p, (const char *const[]){"client-key", "sec", "prompt", "two words", NULL});
    ck_assert_int_eq(rg_domains_modify(&d, "sso", &p, "comment", &m), RG_ERR_INVALID);
    ck_assert_str_eq(rg_domains_find(&d, "sso")->comment, "Single: sign-on");
    rg_params_free(&p);
    params(&p, (const char *const[]){"client-key", "sec", "digest", "abc", NULL});
    ck_assert_int_eq(rg_domains_modify(&d, "sso", &p, "comment,acr-values;autocreate", &m),
                     RG_OK);
    rg_params_free(&p);
    out = write_text(&d);
    ck_assert_str_eq(out, "openid: old\n\tclient-id c\n\tissuer-url u\n\n"
                          "pam: pam\n\tcomment Linux PAM standard authentication\n\n"
                          "pve: pve\n\tcomment Proxmox VE authentication server\n\n"
                          "openid: sso\n\tclient-id cid\n\tissuer-url https://idp\n"
                          "\tclient-key sec\n\tdefault 1\n\tusername-claim email\n\n");
    free(out);

    /* pve default moves the default; builtins cannot be deleted */
    params(&p, (const char *const[]){"default", "1", NULL});
    ck_assert_int_eq(rg_domains_modify(&d, "pve", &p, NULL, &m), RG_OK);
    rg_params_free(&p);
    ck_assert_str_eq(rg_domains_default(&d)->id, "pve");
    params(&p, (const char *const[]){"issuer-url", "x", NULL});
    ck_assert_int_eq(rg_domains_modify(&d, "pve", &p, NULL, &m), RG_ERR_INVALID);
    rg_params_free(&p);
    ck_assert_int_eq(rg_domains_delete(&d, "pve", &m), RG_ERR_INVALID);
    ck_assert_int_eq(rg_domains_delete(&d, "gone", &m), RG_ERR_NOTFOUND);
    ck_assert_str_eq(m.text, "authentication domain 'gone' does not exist");
    ck_assert_int_eq(rg_domains_delete(&d, "old", &m), RG_OK);
    ck_assert_ptr_null(rg_domains_find(&d, "old"));
    ck_assert_uint_eq(d.n, 3);
    rg_domains_free(&d);
}
END_TEST

START_TEST(copy_is_deep)
{
    struct rg_domains d, c;
    struct warns w;
    char *a, *b;

    parse_ok("openid: sso\n\tissuer-url u\n\tclient-id c\n\tclient-key k\n", &d, &w);
    ck_assert_int_eq(rg_domains_copy(&d, &c), RG_OK);
    a = write_text(&d);
    rg_domains_free(&d);
    b = write_text(&c);
    ck_assert_str_eq(a, b);
    free(a);
    free(b);
    rg_domains_free(&c);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("domains");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, spec_example_round_trip);
    tcase_add_test(tc, writer_order_and_rewrite);
    tcase_add_test(tc, builtin_injection);
    tcase_add_test(tc, comment_escaping);
    tcase_add_test(tc, single_default);
    tcase_add_test(tc, bad_lines_are_warnings);
    tcase_add_test(tc, add_modify_delete);
    tcase_add_test(tc, copy_is_deep);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
