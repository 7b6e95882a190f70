/* Unit tests for src/access/groupmap.c: the groups-map option, claims -> PVE group ids
 * (spec §3.7), overage detection, and the user.cfg changes of rg_groups_apply. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "access/domains.h"
#include "access/groupmap.h"

static json_t *claims_of(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    ck_assert_msg(j != NULL, "bad JSON in test: %s", err.text);
    return j;
}

START_TEST(map_parse_ok)
{
    struct rg_groupmap m;
    struct rg_msg msg = {{0}};

    ck_assert_int_eq(rg_groupmap_parse(" 6f1c-01=admins, 9a2b=auditors;x%2Cy%3Dz%20w=odd.name ",
                                       &m, &msg), RG_OK);
    ck_assert_uint_eq(m.n, 3);
    ck_assert_str_eq(rg_groupmap_lookup(&m, "6f1c-01"), "admins");
    ck_assert_str_eq(rg_groupmap_lookup(&m, "9a2b"), "auditors");
    ck_assert_str_eq(rg_groupmap_lookup(&m, "x,y=z w"), "odd.name");
    ck_assert_ptr_null(rg_groupmap_lookup(&m, "x%2Cy%3Dz%20w"));
    ck_assert_ptr_null(rg_groupmap_lookup(&m, "6F1C-01")); /* exact, case-sensitive */
    rg_groupmap_free(&m);
    /* the last '=' splits: a claim value may contain '=' */
    ck_assert_int_eq(rg_groupmap_parse("a=b=grp", &m, &msg), RG_OK);
    ck_assert_str_eq(rg_groupmap_lookup(&m, "a=b"), "grp");
    rg_groupmap_free(&m);
    ck_assert_int_eq(rg_groupmap_parse(NULL, &m, &msg), RG_OK);
    ck_assert_uint_eq(m.n, 0);
    ck_assert_int_eq(rg_groupmap_parse(" ,; ", &m, &msg), RG_OK);
    ck_assert_uint_eq(m.n, 0);
}
END_TEST

START_TEST(map_parse_errors)
{
    struct rg_groupmap m;
    struct rg_msg msg = {{0}};
    char *big;

    ck_assert_int_eq(rg_groupmap_parse("abc", &m, &msg), RG_ERR_INVALID);
    ck_assert_str_eq(msg.text, "pair 'abc' has no '='");
    ck_assert_int_eq(rg_groupmap_parse("=grp", &m, &msg), RG_ERR_INVALID);
    ck_assert_str_eq(msg.text, "pair '=grp' has an empty claim value");
    ck_assert_int_eq(rg_groupmap_parse("a=", &m, &msg), RG_ERR_INVALID);
    ck_assert_str_eq(msg.text, "invalid group name ''");
    ck_assert_int_eq(rg_groupmap_parse("a=b/c", &m, &msg), RG_ERR_INVALID);
    ck_assert_str_eq(msg.text, "invalid group name 'b/c'");
    ck_assert_int_eq(rg_groupmap_parse("a=x,b=y,a=z", &m, &msg), RG_ERR_INVALID);
    ck_assert_str_eq(msg.text, "claim value 'a' is mapped twice");
    ck_assert_int_eq(rg_groupmap_parse("a%00b=x", &m, &msg), RG_ERR_INVALID);
    ck_assert_int_eq(rg_groupmap_parse("a\tb=x\n", &m, &msg), RG_ERR_INVALID);
    ck_assert_str_eq(msg.text, "control characters are not allowed");
    big = malloc(RG_GROUPMAP_TEXT_MAX + 2);
    memset(big, 'a', RG_GROUPMAP_TEXT_MAX + 1);
    big[RG_GROUPMAP_TEXT_MAX + 1] = '\0';
    ck_assert_int_eq(rg_groupmap_parse(big, &m, &msg), RG_ERR_LIMIT);
    free(big);
    ck_assert_uint_eq(m.n, 0);
}
END_TEST

START_TEST(map_entry_limit)
{
    struct rg_groupmap m;
    struct rg_msg msg = {{0}};
    char text[RG_GROUPMAP_TEXT_MAX];
    size_t o = 0;

    for (int i = 0; i <= RG_GROUPMAP_MAX_ENTRIES; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%sv%d=g", i ? "," : "", i);
    ck_assert_int_eq(rg_groupmap_parse(text, &m, &msg), RG_ERR_LIMIT);
    ck_assert_str_eq(msg.text, "more than 256 mappings");
}
END_TEST

static void assert_groups(const struct rg_groups_result *r, const char *const *want, size_t n)
{
    ck_assert_int_eq(r->status, RG_GROUPS_LIST);
    ck_assert_uint_eq(r->groups.n, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_str_eq(r->groups.items[i], want[i]);
}

START_TEST(claims_mapping)
{
    struct rg_groupmap m;
    struct rg_msg msg = {{0}};
    struct rg_groups_result r;
    json_t *c = claims_of("{\"groups\":[\"6f1c\",\"devs\",\"has space\",\"a/b\",17,"
                          "\"devs\",\"9a2b\",\"x,y\"]}");
    static const char *const want[] = {"admins-sso", "devs-sso", "ops-sso", "other-sso"};

    ck_assert_int_eq(rg_groupmap_parse("6f1c=admins,9a2b=ops,x%2Cy=other", &m, &msg), RG_OK);
    ck_assert_int_eq(rg_groups_from_claims(c, "groups", "sso", &m, &r), RG_OK);
    assert_groups(&r, want, 4);
    ck_assert_uint_eq(r.skipped, 3); /* "has space", "a/b", 17 */
    rg_groups_result_free(&r);
    /* without a map: Proxmox rules only (the GUID-like value becomes a group name) */
    ck_assert_int_eq(rg_groups_from_claims(c, "groups", "sso", NULL, &r), RG_OK);
    {
        static const char *const plain[] = {"6f1c-sso", "9a2b-sso", "devs-sso"};
        assert_groups(&r, plain, 3);
        ck_assert_uint_eq(r.skipped, 4);
    }
    rg_groups_result_free(&r);
    rg_groupmap_free(&m);
    json_decref(c);
}
END_TEST

START_TEST(claims_status)
{
    struct rg_groups_result r;
    json_t *c;

    c = claims_of("{\"sub\":\"x\"}");
    ck_assert_int_eq(rg_groups_from_claims(c, "groups", "sso", NULL, &r), RG_OK);
    ck_assert_int_eq(r.status, RG_GROUPS_MISSING);
    json_decref(c);
    c = claims_of("{\"groups\":null}");
    ck_assert_int_eq(rg_groups_from_claims(c, "groups", "sso", NULL, &r), RG_OK);
    ck_assert_int_eq(r.status, RG_GROUPS_MISSING);
    json_decref(c);
    c = claims_of("{\"groups\":\"admins\"}");
    ck_assert_int_eq(rg_groups_from_claims(c, "groups", "sso", NULL, &r), RG_OK);
    ck_assert_int_eq(r.status, RG_GROUPS_NOT_ARRAY);
    ck_assert_uint_eq(r.groups.n, 0);
    json_decref(c);
    c = claims_of("{\"groups\":[]}");
    ck_assert_int_eq(rg_groups_from_claims(c, "groups", "sso", NULL, &r), RG_OK);
    ck_assert_int_eq(r.status, RG_GROUPS_LIST);
    ck_assert_uint_eq(r.groups.n, 0);
    json_decref(c);
    /* Entra overage: the claim is replaced by a pointer to a claim source */
    c = claims_of("{\"_claim_names\":{\"groups\":\"src1\"},\"_claim_sources\":{\"src1\":"
                  "{\"endpoint\":\"https://graph.windows.net/t/users/o/getMemberObjects\"}}}");
    ck_assert_int_eq(rg_groups_from_claims(c, "groups", "sso", NULL, &r), RG_OK);
    ck_assert_int_eq(r.status, RG_GROUPS_OVERAGE);
    ck_assert_str_eq(rg_groups_overage_source(c, "groups"),
                     "https://graph.windows.net/t/users/o/getMemberObjects");
    ck_assert_ptr_null(rg_groups_overage_source(c, "roles"));
    json_decref(c);
    c = claims_of("{\"hasgroups\":true}");
    ck_assert_int_eq(rg_groups_from_claims(c, "groups", "sso", NULL, &r), RG_OK);
    ck_assert_int_eq(r.status, RG_GROUPS_OVERAGE);
    json_decref(c);
    /* an overage pointer for another claim does not count */
    c = claims_of("{\"_claim_names\":{\"roles\":\"src1\"}}");
    ck_assert_int_eq(rg_groups_from_claims(c, "groups", "sso", NULL, &r), RG_OK);
    ck_assert_int_eq(r.status, RG_GROUPS_MISSING);
    json_decref(c);
}
END_TEST

START_TEST(claims_bounds)
{
    struct rg_groups_result r;
    json_t *c = json_object(), *arr = json_array();
    char longname[RG_GROUPID_MAX + 1];

    for (int i = 0; i <= RG_GROUPS_CLAIM_MAX; i++)
        json_array_append_new(arr, json_string("g"));
    json_object_set_new(c, "groups", arr);
    ck_assert_int_eq(rg_groups_from_claims(c, "groups", "sso", NULL, &r), RG_OK);
    ck_assert_int_eq(r.status, RG_GROUPS_TOO_MANY);
    ck_assert_uint_eq(r.groups.n, 0);
    json_decref(c);
    /* "<name>-<realm>" must fit 128 characters: 124 + "-sso" fits, 125 does not */
    c = json_object();
    arr = json_array();
    memset(longname, 'n', 124);
    longname[124] = '\0';
    json_array_append_new(arr, json_string(longname));
    memset(longname, 'm', 125);
    longname[125] = '\0';
    json_array_append_new(arr, json_string(longname));
    json_array_append_new(arr, json_stringn("a\0b", 3));
    json_object_set_new(c, "groups", arr);
    ck_assert_int_eq(rg_groups_from_claims(c, "groups", "sso", NULL, &r), RG_OK);
    ck_assert_int_eq(r.status, RG_GROUPS_LIST);
    ck_assert_uint_eq(r.groups.n, 1);
    ck_assert_uint_eq(strlen(r.groups.items[0]), 128);
    ck_assert_uint_eq(r.skipped, 2);
    rg_groups_result_free(&r);
    json_decref(c);
}
END_TEST

static const char base_cfg[] =
    "user:alice@sso:1:0::::::\n"
    "user:bob@sso:1:0::::::\n"
    "\n"
    "group:admins-sso:bob@sso::\n"
    "group:local:alice@sso::\n"
    "group:ops-sso:::\n";

static void load(struct rg_usercfg *cfg)
{
    ck_assert_int_eq(rg_usercfg_parse(base_cfg, strlen(base_cfg), cfg, NULL, NULL), RG_OK);
}

static char *written(const struct rg_usercfg *cfg)
{
    struct rg_buf b;
    rg_buf_init(&b, 1 << 20);
    ck_assert_int_eq(rg_usercfg_write(cfg, &b), RG_OK);
    return rg_buf_steal(&b);
}

static void list_of(struct rg_strlist *l, const char *a, const char *b, const char *c)
{
    rg_strlist_init(l);
    if (a)
        rg_strlist_add(l, a);
    if (b)
        rg_strlist_add(l, b);
    if (c)
        rg_strlist_add(l, c);
}

START_TEST(apply_add_only_existing)
{
    struct rg_usercfg cfg;
    struct rg_strlist want;
    struct rg_groups_change chg;
    struct rg_msg msg = {{0}};
    char *text;

    load(&cfg);
    list_of(&want, "admins-sso", "new-sso", "ops-sso");
    ck_assert_int_eq(rg_groups_apply(&cfg, "alice@sso", &want, 0, 0, &chg, &msg), RG_OK);
    ck_assert_uint_eq(chg.added, 2);
    ck_assert_uint_eq(chg.missing, 1);
    ck_assert_uint_eq(chg.created, 0);
    ck_assert_uint_eq(chg.removed, 0);
    text = written(&cfg);
    ck_assert_msg(strstr(text, "group:admins-sso:alice@sso,bob@sso::\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "group:local:alice@sso::\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "group:ops-sso:alice@sso::\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "new-sso") == NULL, "%s", text);
    free(text);
    rg_strlist_free(&want);
    rg_usercfg_free(&cfg);
}
END_TEST

START_TEST(apply_autocreate_overwrite)
{
    struct rg_usercfg cfg;
    struct rg_strlist want;
    struct rg_groups_change chg;
    struct rg_msg msg = {{0}};
    char *text;

    load(&cfg);
    list_of(&want, "new-sso", "ops-sso", NULL);
    ck_assert_int_eq(rg_groups_apply(&cfg, "alice@sso", &want, 1, 1, &chg, &msg), RG_OK);
    ck_assert_uint_eq(chg.added, 2);
    ck_assert_uint_eq(chg.created, 1);
    ck_assert_uint_eq(chg.removed, 1); /* "local": overwrite removes every group */
    text = written(&cfg);
    ck_assert_msg(strstr(text, "group:local:::\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "group:new-sso:alice@sso::\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "group:ops-sso:alice@sso::\n") != NULL, "%s", text);
    ck_assert_msg(strstr(text, "group:admins-sso:bob@sso::\n") != NULL, "%s", text);
    free(text);
    rg_strlist_free(&want);
    /* an empty list with overwrite removes all memberships */
    rg_strlist_init(&want);
    ck_assert_int_eq(rg_groups_apply(&cfg, "alice@sso", &want, 0, 1, &chg, &msg), RG_OK);
    ck_assert_uint_eq(chg.removed, 2);
    text = written(&cfg);
    ck_assert_msg(strstr(text, "alice@sso,") == NULL && strstr(text, ":alice@sso::") == NULL,
                  "%s", text);
    free(text);
    ck_assert_int_eq(rg_groups_apply(&cfg, "carol@sso", &want, 0, 1, &chg, &msg),
                     RG_ERR_NOTFOUND);
    ck_assert_str_eq(msg.text, "no such user ('carol@sso')");
    rg_usercfg_free(&cfg);
}
END_TEST

START_TEST(domains_option)
{
    static const char cfgtext[] =
        "openid: sso\n"
        "\tclient-id c\n"
        "\tissuer-url https://idp.example\n"
        "\tgroups-claim groups\n"
        "\tgroups-map 6f1c=admins, a%2Cb=odd\n"
        "\n"
        "openid: bad\n"
        "\tclient-id c\n"
        "\tissuer-url https://idp.example\n"
        "\tgroups-map novalue\n"
        "\n";
    struct rg_domains d;
    struct rg_buf b;
    const struct rg_realm *r;
    char *out;

    ck_assert_int_eq(rg_domains_parse(cfgtext, strlen(cfgtext), &d, NULL, NULL), RG_OK);
    r = rg_domains_find(&d, "sso");
    ck_assert_str_eq(r->groups_map, "6f1c=admins, a%2Cb=odd");
    ck_assert_ptr_null(rg_domains_find(&d, "bad")->groups_map); /* invalid line dropped */
    rg_buf_init(&b, 1 << 16);
    ck_assert_int_eq(rg_domains_write(&d, &b), RG_OK);
    out = rg_buf_steal(&b);
    ck_assert_msg(strstr(out, "\tgroups-claim groups\n\tgroups-map 6f1c=admins, a%2Cb=odd\n"
                              "\n") != NULL, "%s", out);
    free(out);
    rg_domains_free(&d);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("groupmap");
    TCase *tc = tcase_create("core");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, map_parse_ok);
    tcase_add_test(tc, map_parse_errors);
    tcase_add_test(tc, map_entry_limit);
    tcase_add_test(tc, claims_mapping);
    tcase_add_test(tc, claims_status);
    tcase_add_test(tc, claims_bounds);
    tcase_add_test(tc, apply_add_only_existing);
    tcase_add_test(tc, apply_autocreate_overwrite);
    tcase_add_test(tc, domains_option);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
