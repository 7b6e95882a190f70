#include "access/domains.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "access/groupmap.h"
#include "base/log.h"
#include "base/url.h"
#include "base/mem.h"

/* ---------------------------------------------------------------- option table */

enum opt_kind { OPT_STR, OPT_BOOL };
enum opt_check { CHK_PATH, CHK_TEXT, CHK_URL, CHK_GROUPS_CLAIM, CHK_PROMPT, CHK_URISAFE, CHK_COMMENT,
                 CHK_TFA, CHK_GROUPS_MAP };

struct optdef {
    const char *key;
    enum opt_kind kind;
    int required;   /* on creation */
    int fixed;      /* may only be set at creation */
    enum opt_check check;
    size_t off;     /* char* or int field in struct rg_realm */
};

#define S_OFF(f) offsetof(struct rg_realm, f)

/* Sorted by key so the writer's "sorted key order" is table order. */
static const struct optdef openid_opts[] = {
    {"acr-values", OPT_STR, 0, 0, CHK_URISAFE, S_OFF(acr_values)},
    {"audiences", OPT_STR, 0, 0, CHK_URISAFE, S_OFF(audiences)},
    {"autocreate", OPT_BOOL, 0, 0, CHK_TEXT, S_OFF(autocreate)},
    {"client-cert", OPT_STR, 0, 0, CHK_PATH, S_OFF(client_cert)},
    {"client-cert-key", OPT_STR, 0, 0, CHK_PATH, S_OFF(client_cert_key)},
    {"ca-file", OPT_STR, 0, 0, CHK_PATH, S_OFF(ca_file)},
    {"id-token-algs", OPT_STR, 0, 0, CHK_URISAFE, S_OFF(id_token_algs)},
    {"client-id", OPT_STR, 1, 0, CHK_URL, S_OFF(client_id)},
    {"client-key", OPT_STR, 0, 0, CHK_URL, S_OFF(client_key)},
    {"comment", OPT_STR, 0, 0, CHK_COMMENT, S_OFF(comment)},
    {"default", OPT_BOOL, 0, 0, CHK_TEXT, S_OFF(is_default)},
    {"groups-autocreate", OPT_BOOL, 0, 0, CHK_TEXT, S_OFF(groups_autocreate)},
    {"groups-claim", OPT_STR, 0, 0, CHK_GROUPS_CLAIM, S_OFF(groups_claim)},
    {"groups-map", OPT_STR, 0, 0, CHK_GROUPS_MAP, S_OFF(groups_map)},
    {"groups-overwrite", OPT_BOOL, 0, 0, CHK_TEXT, S_OFF(groups_overwrite)},
    {"hmac-id-tokens", OPT_BOOL, 0, 0, CHK_TEXT, S_OFF(hmac_id_tokens)},
    {"issuer-url", OPT_STR, 1, 0, CHK_URL, S_OFF(issuer_url)},
    {"prompt", OPT_STR, 0, 0, CHK_PROMPT, S_OFF(prompt)},
    {"query-userinfo", OPT_BOOL, 0, 0, CHK_TEXT, S_OFF(query_userinfo)},
    {"scopes", OPT_STR, 0, 0, CHK_TEXT, S_OFF(scopes)},
    {"username-claim", OPT_STR, 0, 1, CHK_TEXT, S_OFF(username_claim)},
    {NULL, 0, 0, 0, 0, 0},
};

static const struct optdef builtin_opts[] = {
    {"comment", OPT_STR, 0, 0, CHK_COMMENT, S_OFF(comment)},
    {"default", OPT_BOOL, 0, 0, CHK_TEXT, S_OFF(is_default)},
    {"tfa", OPT_STR, 0, 0, CHK_TFA, S_OFF(tfa)},
    {NULL, 0, 0, 0, 0, 0},
};

static const struct optdef *opts_of(const char *type)
{
    if (!strcmp(type, "openid"))
        return openid_opts;
    if (!strcmp(type, "pam") || !strcmp(type, "pve"))
        return builtin_opts;
    return NULL; /* ldap/ad: verbatim */
}

static const struct optdef *opt_find(const struct optdef *tab, const char *key)
{
    for (; tab && tab->key; tab++)
        if (!strcmp(tab->key, key))
            return tab;
    return NULL;
}

static char **str_field(struct rg_realm *r, const struct optdef *o)
{
    return (char **)((char *)r + o->off);
}

static int *int_field(struct rg_realm *r, const struct optdef *o)
{
    return (int *)((char *)r + o->off);
}

static const char *cstr_field(const struct rg_realm *r, const struct optdef *o)
{
    return *(char *const *)((const char *)r + o->off);
}

static int cint_field(const struct rg_realm *r, const struct optdef *o)
{
    return *(const int *)((const char *)r + o->off);
}

/* ---------------------------------------------------------------- value checks */

static int has_ctl(const char *v)
{
    for (; *v; v++)
        if ((unsigned char)*v < 0x20 || (unsigned char)*v == 0x7f)
            return 1;
    return 0;
}

/* NULL when valid, else the reason. `v` is the unescaped value. */
static const char *check_value(const struct optdef *o, const char *v)
{
    size_t len = strlen(v);

    switch (o->check) {
    case CHK_PATH: /* client-cert, client-cert-key: files the server reads */
        if (len == 0 || v[0] != '/')
            return "must be an absolute file path";
        if (len > RG_REALM_URL_MAX)
            return "value too long (max 256)";
        return has_ctl(v) ? "control characters are not allowed" : NULL;
    case CHK_COMMENT:
        return len > RG_REALM_COMMENT_MAX ? "value too long (max 4096)" : NULL;
    case CHK_URL:
        if (len == 0)
            return "empty value";
        if (len > RG_REALM_URL_MAX)
            return "value too long (max 256)";
        return has_ctl(v) ? "control characters are not allowed" : NULL;
    case CHK_TEXT:
        if (len == 0)
            return "empty value";
        if (len > RG_REALM_VALUE_MAX)
            return "value too long (max 1024)";
        return has_ctl(v) ? "control characters are not allowed" : NULL;
    case CHK_GROUPS_CLAIM:
        if (len == 0 || len > RG_REALM_URL_MAX)
            return "value does not match the regex pattern";
        for (const char *p = v; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '-' || c == '_'))
                return "value does not match the regex pattern";
        }
        return NULL;
    case CHK_PROMPT:
        /* none|login|consent|select_account or any single non-whitespace token */
        if (len == 0 || len > RG_REALM_VALUE_MAX)
            return "value does not match the regex pattern";
        for (const char *p = v; *p; p++)
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
                return "value does not match the regex pattern";
        return NULL;
    case CHK_URISAFE:
        if (len == 0)
            return "empty value";
        if (len > RG_REALM_VALUE_MAX)
            return "value too long (max 1024)";
        for (const char *p = v; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (c < 0x20 || c == 0x7f || c == ' ' || c == '<' || c == '>' || c == '#' || c == '"')
                return "value does not match the regex pattern";
        }
        return NULL;
    case CHK_TFA:
        if (len == 0 || len > 128)
            return "value does not match the format";
        if (strncmp(v, "type=yubico", 11) && strncmp(v, "type=oath", 9))
            return "value does not match the format";
        for (const char *p = v; *p; p++)
            if ((unsigned char)*p <= 0x20 || (unsigned char)*p == 0x7f)
                return "value does not match the format";
        return NULL;
    case CHK_GROUPS_MAP: {
        /* validated by the parser the login uses, so a stored map always loads; the reason
         * is returned by pointer like the constant ones, hence thread-local storage */
        static __thread struct rg_msg why;
        struct rg_groupmap m;
        if (len == 0)
            return "empty value";
        if (rg_groupmap_parse(v, &m, &why) != RG_OK)
            return why.text;
        rg_groupmap_free(&m);
        return NULL;
    }
    }
    return "invalid";
}

/* File booleans: only 1/0; API booleans also yes/no/on/off/true/false. */
static int parse_bool(const char *v, int api)
{
    static const char *const yes[] = {"1", "yes", "on", "true"};
    static const char *const no[] = {"0", "no", "off", "false"};

    if (!api)
        return !strcmp(v, "1") ? 1 : !strcmp(v, "0") ? 0 : -1;
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(v, yes[i]))
            return 1;
        if (!strcasecmp(v, no[i]))
            return 0;
    }
    return -1;
}

/* ---------------------------------------------------------------- escaping, digest */

rg_err rg_cfg_escape(const char *s, struct rg_buf *b)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        rg_err e;
        if (*p < 0x20 || *p > 0x7e || *p == '%' || *p == ':') {
            char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
            e = rg_buf_append(b, esc, 3);
        } else {
            e = rg_buf_append(b, p, 1);
        }
        if (e)
            return e;
    }
    return RG_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

rg_err rg_cfg_unescape(const char *s, char **out)
{
    size_t len = strlen(s), o = 0;
    char *r = malloc(len + 1);

    *out = NULL;
    if (!r)
        return RG_ERR_NOMEM;
    for (size_t i = 0; i < len; i++) {
        int h, l;
        if (s[i] == '%' && i + 2 < len && (h = hexval(s[i + 1])) >= 0 &&
            (l = hexval(s[i + 2])) >= 0) {
            char c = (char)(h << 4 | l);
            if (c == '\0') {
                free(r);
                return RG_ERR_INVALID;
            }
            r[o++] = c;
            i += 2;
        } else {
            r[o++] = s[i];
        }
    }
    r[o] = '\0';
    *out = r;
    return RG_OK;
}

void rg_cfg_digest(const void *text, size_t len, char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    static const char hex[] = "0123456789abcdef";

    out[0] = '\0';
    if (!EVP_Digest(text, len, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
        return;
    for (unsigned i = 0; i < 20; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[40] = '\0';
}

/* ---------------------------------------------------------------- realm lifecycle */

static void realm_init(struct rg_realm *r)
{
    memset(r, 0, sizeof *r);
    r->autocreate = r->groups_autocreate = r->groups_overwrite = r->query_userinfo = -1;
    r->hmac_id_tokens = -1;
}

static void realm_clear(struct rg_realm *r)
{
    free(r->comment);
    free(r->tfa);
    free(r->issuer_url);
    free(r->client_id);
    rg_free_secret(r->client_key);
    free(r->username_claim);
    free(r->scopes);
    free(r->prompt);
    free(r->acr_values);
    free(r->audiences);
    free(r->groups_claim);
    free(r->client_cert);
    free(r->client_cert_key);
    free(r->ca_file);
    free(r->id_token_algs);
    free(r->groups_map);
    free(r->raw);
    realm_init(r);
}

static rg_err dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return RG_OK;
    *dst = strdup(src);
    return *dst ? RG_OK : RG_ERR_NOMEM;
}

static rg_err realm_copy(const struct rg_realm *s, struct rg_realm *d)
{
    rg_err e = RG_OK;

    realm_init(d);
    memcpy(d->id, s->id, sizeof d->id);
    memcpy(d->type, s->type, sizeof d->type);
    d->is_default = s->is_default;
    d->autocreate = s->autocreate;
    d->groups_autocreate = s->groups_autocreate;
    d->groups_overwrite = s->groups_overwrite;
    d->query_userinfo = s->query_userinfo;
    d->hmac_id_tokens = s->hmac_id_tokens;
    if ((e = dup_opt(&d->comment, s->comment)) || (e = dup_opt(&d->tfa, s->tfa)) ||
        (e = dup_opt(&d->issuer_url, s->issuer_url)) ||
        (e = dup_opt(&d->client_id, s->client_id)) ||
        (e = dup_opt(&d->client_key, s->client_key)) ||
        (e = dup_opt(&d->username_claim, s->username_claim)) ||
        (e = dup_opt(&d->scopes, s->scopes)) || (e = dup_opt(&d->prompt, s->prompt)) ||
        (e = dup_opt(&d->acr_values, s->acr_values)) ||
        (e = dup_opt(&d->audiences, s->audiences)) ||
        (e = dup_opt(&d->groups_claim, s->groups_claim)) ||
        (e = dup_opt(&d->client_cert, s->client_cert)) ||
        (e = dup_opt(&d->client_cert_key, s->client_cert_key)) ||
        (e = dup_opt(&d->ca_file, s->ca_file)) ||
        (e = dup_opt(&d->id_token_algs, s->id_token_algs)) ||
        (e = dup_opt(&d->groups_map, s->groups_map)) || (e = dup_opt(&d->raw, s->raw)))
        realm_clear(d);
    return e;
}

void rg_domains_init(struct rg_domains *d)
{
    d->realms = NULL;
    d->n = 0;
    d->cap = 0;
    d->digest[0] = '\0';
}

void rg_domains_free(struct rg_domains *d)
{
    for (size_t i = 0; i < d->n; i++)
        realm_clear(&d->realms[i]);
    free(d->realms);
    rg_domains_init(d);
}

static struct rg_realm *domains_append(struct rg_domains *d)
{
    if (d->n >= RG_DOMAINS_MAX_REALMS)
        return NULL;
    if (d->n == d->cap) {
        size_t ncap = d->cap ? d->cap * 2 : 8;
        struct rg_realm *nr = realloc(d->realms, ncap * sizeof *nr);
        if (!nr)
            return NULL;
        d->realms = nr;
        d->cap = ncap;
    }
    realm_init(&d->realms[d->n]);
    return &d->realms[d->n++];
}

rg_err rg_domains_copy(const struct rg_domains *src, struct rg_domains *dst)
{
    rg_domains_init(dst);
    for (size_t i = 0; i < src->n; i++) {
        struct rg_realm *r = domains_append(dst);
        if (!r || realm_copy(&src->realms[i], r)) {
            if (r)
                dst->n--;
            rg_domains_free(dst);
            return RG_ERR_NOMEM;
        }
    }
    memcpy(dst->digest, src->digest, sizeof dst->digest);
    return RG_OK;
}

const struct rg_realm *rg_domains_find(const struct rg_domains *d, const char *id)
{
    if (!id)
        return NULL;
    for (size_t i = 0; i < d->n; i++)
        if (!strcmp(d->realms[i].id, id))
            return &d->realms[i];
    return NULL;
}

static struct rg_realm *find_mut(struct rg_domains *d, const char *id)
{
    return (struct rg_realm *)rg_domains_find(d, id);
}

const struct rg_realm *rg_domains_default(const struct rg_domains *d)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->realms[i].is_default == 1)
            return &d->realms[i];
    return NULL;
}

/* Sets one option from text (file or API form). NULL reason on success. */
static const char *set_option(struct rg_realm *r, const struct optdef *o, const char *v, int api,
                              rg_err *err)
{
    const char *why;

    *err = RG_OK;
    if (o->kind == OPT_BOOL) {
        int b = parse_bool(v, api);
        if (b < 0)
            return "type check ('boolean') failed";
        *int_field(r, o) = b;
        return NULL;
    }
    why = check_value(o, v);
    if (why)
        return why;
    char **f = str_field(r, o);
    char *copy;
    if (o->check == CHK_COMMENT && v[0] == '\0') {
        free(*f);
        *f = NULL;
        return NULL;
    }
    copy = strdup(v);
    if (!copy) {
        *err = RG_ERR_NOMEM;
        return "out of memory";
    }
    if (o->off == S_OFF(client_key))
        rg_free_secret(*f);
    else
        free(*f);
    *f = copy;
    return NULL;
}

static int option_is_set(const struct rg_realm *r, const struct optdef *o)
{
    if (o->kind == OPT_BOOL)
        return o->off == S_OFF(is_default) ? cint_field(r, o) == 1 : cint_field(r, o) >= 0;
    return cstr_field(r, o) != NULL;
}

static void unset_option(struct rg_realm *r, const struct optdef *o)
{
    if (o->kind == OPT_BOOL) {
        *int_field(r, o) = o->off == S_OFF(is_default) ? 0 : -1;
        return;
    }
    if (o->off == S_OFF(client_key))
        rg_free_secret(*str_field(r, o));
    else
        free(*str_field(r, o));
    *str_field(r, o) = NULL;
}

/* ---------------------------------------------------------------- parser */

struct warner {
    rg_cfg_warn_fn *fn;
    void *ctx;
};

#define warnf(w, line, ...) rg_cfg_warnf((w)->fn, (w)->ctx, "domains.cfg", (line), __VA_ARGS__)

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Regex ^(\S+):\s*(\S+)\s*$ with greedy first group: the last ':' that fits. */
static int parse_header(const char *line, char *type, size_t typesz, char *id, size_t idsz)
{
    size_t len = strlen(line);

    for (size_t c = len; c-- > 1;) {
        size_t i = c + 1, s, e;
        if (line[c] != ':')
            continue;
        for (size_t k = 0; k < c; k++)
            if (is_ws(line[k]))
                goto next;
        while (i < len && is_ws(line[i]))
            i++;
        s = i;
        while (i < len && !is_ws(line[i]))
            i++;
        e = i;
        while (i < len && is_ws(line[i]))
            i++;
        if (s == e || i != len)
            goto next;
        if (c >= typesz || e - s >= idsz)
            return -1;
        for (size_t k = 0; k < c; k++)
            type[k] = (char)((line[k] >= 'A' && line[k] <= 'Z') ? line[k] + 32 : line[k]);
        type[c] = '\0';
        memcpy(id, line + s, e - s);
        id[e - s] = '\0';
        return 0;
    next:;
    }
    return -1;
}

/* Regex ^\s+(\S+)(\s+(.*\S))?\s*$ : key and (possibly empty) value, in place. */
static int parse_property(char *line, char **key, char **val)
{
    char *p = line, *end;

    if (!is_ws(*p))
        return -1;
    while (is_ws(*p))
        p++;
    if (!*p)
        return -1;
    *key = p;
    while (*p && !is_ws(*p))
        p++;
    end = p + strlen(p);
    while (end > p && is_ws(end[-1]))
        end--;
    *end = '\0';
    if (*p) {
        *p++ = '\0';
        while (is_ws(*p))
            p++;
    }
    *val = p;
    return 0;
}

static int is_comment_line(const char *l)
{
    while (is_ws(*l))
        l++;
    return *l == '#';
}

struct lines {
    const char *text;
    size_t len, pos;
    int lineno;
    char *cur;
};

/* Next line without its '\n' (a copy in l->cur), skipping comment lines; NULL at the end. */
static const char *next_line(struct lines *l, rg_err *err)
{
    *err = RG_OK;
    while (l->pos < l->len) {
        const char *start = l->text + l->pos;
        const char *nl = memchr(start, '\n', l->len - l->pos);
        size_t n = nl ? (size_t)(nl - start) : l->len - l->pos;
        l->pos += n + (nl ? 1 : 0);
        l->lineno++;
        free(l->cur);
        l->cur = strndup(start, n);
        if (!l->cur) {
            *err = RG_ERR_NOMEM;
            return NULL;
        }
        if (strlen(l->cur) != n) /* NUL byte inside: never valid */
            l->cur[0] = '#';
        if (is_comment_line(l->cur))
            continue;
        return l->cur;
    }
    return NULL;
}

/* Completes a parsed section: required keys present (else skipped, as PVE's check_config). */
static int section_complete(const struct rg_realm *r, const struct warner *w, int line)
{
    const struct optdef *tab = opts_of(r->type);

    for (; tab && tab->key; tab++) {
        if (tab->required && !option_is_set(r, tab)) {
            warnf(w, line, "skip section '%s': missing value for required option '%s'", r->id,
                  tab->key);
            return 0;
        }
    }
    return 1;
}

static void inject_builtin(struct rg_domains *d, const char *id, const char *comment,
                           rg_err *err)
{
    struct rg_realm *r = find_mut(d, id);

    if (r) {
        if (strcmp(r->type, id)) {
            /* PVE forces the type of the built-in realms; drop options of the other type */
            struct rg_realm keep;
            realm_init(&keep);
            keep.comment = r->comment;
            keep.is_default = r->is_default;
            r->comment = NULL;
            realm_clear(r);
            *r = keep;
            snprintf(r->id, sizeof r->id, "%s", id);
            snprintf(r->type, sizeof r->type, "%s", id);
        }
        return;
    }
    r = domains_append(d);
    if (!r || !(r->comment = strdup(comment))) {
        if (r)
            d->n--;
        *err = RG_ERR_NOMEM;
        return;
    }
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->type, sizeof r->type, "%s", id);
}

rg_err rg_domains_parse(const char *text, size_t len, struct rg_domains *out,
                        rg_cfg_warn_fn *warn, void *warn_ctx)
{
    struct warner w = {warn, warn_ctx};
    struct lines l = {text, len, 0, 0, NULL};
    const char *line;
    rg_err e = RG_OK;
    int have_default = 0;

    rg_domains_init(out);
    if (len > RG_DOMAINS_FILE_MAX)
        return RG_ERR_LIMIT;
    rg_cfg_digest(text, len, out->digest);

    while ((line = next_line(&l, &e)) != NULL) {
        char type[16], id[256];
        struct rg_realm r;
        const struct optdef *tab;
        int skip = 0, hdr_line = l.lineno;
        unsigned seen = 0; /* options already set in this section (duplicate check) */
        struct rg_buf raw;

        if (line[0] == '\0')
            continue;
        if (parse_header(line, type, sizeof type, id, sizeof id) != 0) {
            warnf(&w, l.lineno, "ignore config line: %s", line);
            continue;
        }
        realm_init(&r);
        rg_buf_init(&raw, RG_DOMAINS_FILE_MAX);
        if (!rg_realmid_pattern(id) || strlen(id) > RG_REALMID_MAX) {
            warnf(&w, l.lineno, "invalid realm id '%.64s', section skipped", id);
            skip = 1;
        } else if (strcmp(type, "openid") && strcmp(type, "pam") && strcmp(type, "pve") &&
                   strcmp(type, "ldap") && strcmp(type, "ad")) {
            warnf(&w, l.lineno, "unsupported type '%.32s'", type);
            skip = 1;
        } else if (rg_domains_find(out, id)) {
            warnf(&w, l.lineno, "duplicate section '%s', skipped", id);
            skip = 1;
        } else {
            memcpy(r.id, id, strlen(id) + 1); /* <= RG_REALMID_MAX, checked above */
            memcpy(r.type, type, strlen(type) + 1); /* fits: parse_header bounds it */
        }
        tab = skip ? NULL : opts_of(type);
        /* the section's property lines, up to the first empty line */
        while ((line = next_line(&l, &e)) != NULL && line[0] != '\0') {
            char *key, *val;
            const struct optdef *o;
            const char *why;
            rg_err se;

            if (skip)
                continue;
            if (!tab) { /* ldap/ad: keep verbatim */
                if ((se = rg_buf_appendf(&raw, "%s\n", line))) {
                    e = se;
                    break;
                }
                continue;
            }
            if (parse_property(l.cur, &key, &val) != 0) {
                warnf(&w, l.lineno, "(section '%s') - ignore config line: %s", r.id, line);
                continue;
            }
            o = opt_find(tab, key);
            if (!o) {
                warnf(&w, l.lineno, "(section '%s') - unable to parse value of '%.64s': "
                      "unexpected property", r.id, key);
                continue;
            }
            if (seen & (1u << (o - tab))) {
                warnf(&w, l.lineno, "(section '%s') - unable to parse value of '%s': "
                      "duplicate attribute", r.id, key);
                continue;
            }
            if (o->kind == OPT_BOOL && val[0] == '\0')
                val = "1";
            if (o->check == CHK_COMMENT) {
                char *plain;
                if (rg_cfg_unescape(val, &plain) != RG_OK) {
                    warnf(&w, l.lineno, "(section '%s') - unable to parse value of 'comment'",
                          r.id);
                    continue;
                }
                why = set_option(&r, o, plain, 0, &se);
                free(plain);
            } else {
                why = set_option(&r, o, val, 0, &se);
            }
            if (se) {
                e = se;
                break;
            }
            if (why)
                warnf(&w, l.lineno, "(section '%s') - unable to parse value of '%s': %s", r.id,
                      key, why);
            if (!why)
                seen |= 1u << (o - tab);
        }
        if (e) {
            realm_clear(&r);
            rg_buf_free(&raw);
            break;
        }
        if (!skip) {
            if (!tab) {
                r.raw = rg_buf_steal(&raw);
                if (!r.raw)
                    e = RG_ERR_NOMEM;
            }
            if (!e && tab && !section_complete(&r, &w, hdr_line)) {
                realm_clear(&r);
            } else if (!e) {
                struct rg_realm *slot = domains_append(out);
                if (!slot) {
                    warnf(&w, hdr_line, "too many realms, section '%s' skipped", r.id);
                    realm_clear(&r);
                } else {
                    if (r.is_default == 1) {
                        if (have_default) {
                            warnf(&w, hdr_line, "realm '%s': only one default realm allowed",
                                  r.id);
                            r.is_default = 0;
                        }
                        have_default = 1;
                    }
                    *slot = r;
                }
            } else {
                realm_clear(&r);
            }
        }
        rg_buf_free(&raw);
        if (e || !line)
            break;
    }
    free(l.cur);
    if (!e)
        inject_builtin(out, "pam", "Linux PAM standard authentication", &e);
    if (!e)
        inject_builtin(out, "pve", "Proxmox VE authentication server", &e);
    if (e)
        rg_domains_free(out);
    return e;
}

/* ---------------------------------------------------------------- writer */

static rg_err write_option(const struct rg_realm *r, const struct optdef *o, struct rg_buf *b)
{
    rg_err e;

    if (o->kind == OPT_BOOL) {
        int v = cint_field(r, o);
        if (o->off == S_OFF(is_default) ? v != 1 : v < 0)
            return RG_OK;
        return rg_buf_appendf(b, "\t%s %d\n", o->key, v ? 1 : 0);
    }
    if (!cstr_field(r, o))
        return RG_OK;
    if ((e = rg_buf_appendf(b, "\t%s ", o->key)))
        return e;
    if (o->check == CHK_COMMENT)
        e = rg_cfg_escape(cstr_field(r, o), b);
    else
        e = rg_buf_appends(b, cstr_field(r, o));
    return e ? e : rg_buf_appends(b, "\n");
}

rg_err rg_domains_write(const struct rg_domains *d, struct rg_buf *out)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct rg_realm *r = &d->realms[i];
        const struct optdef *tab = opts_of(r->type), *o;
        rg_err e = rg_buf_appendf(out, "%s: %s\n", r->type, r->id);

        if (e)
            return e;
        if (!tab) {
            if (r->raw && (e = rg_buf_appends(out, r->raw)))
                return e;
        } else {
            if ((o = opt_find(tab, "comment")) && (e = write_option(r, o, out)))
                return e;
            for (int pass = 1; pass >= 0; pass--)
                for (o = tab; o->key; o++)
                    if (o->required == pass && strcmp(o->key, "comment") &&
                        (e = write_option(r, o, out)))
                        return e;
        }
        if ((e = rg_buf_appends(out, "\n")))
            return e;
    }
    return RG_OK;
}

void rg_realm_options(const struct rg_realm *r, rg_realm_option_fn *fn, void *ctx)
{
    for (const struct optdef *o = opts_of(r->type); o && o->key; o++) {
        if (!option_is_set(r, o))
            continue;
        if (o->kind == OPT_BOOL)
            fn(ctx, o->key, NULL, cint_field(r, o) ? 1 : 0);
        else
            fn(ctx, o->key, cstr_field(r, o), -1);
    }
}

/* ---------------------------------------------------------------- editing */

static int ignored_key(const char *k, int modify)
{
    return !strcmp(k, "realm") || !strcmp(k, "type") || !strcmp(k, "digest") ||
           (modify && !strcmp(k, "delete"));
}

static void clear_defaults(struct rg_domains *d, const struct rg_realm *except)
{
    for (size_t i = 0; i < d->n; i++)
        if (&d->realms[i] != except)
            d->realms[i].is_default = 0;
}

/* Applies opts to r (a scratch copy); fixed keys refused unless creating. */
static rg_err apply_opts(struct rg_realm *r, const struct rg_params *opts, int create, int *count,
                         struct rg_msg *msg)
{
    const struct optdef *tab = opts_of(r->type);

    *count = 0;
    for (size_t i = 0; opts && i < opts->n; i++) {
        const char *k = opts->items[i].key, *v = opts->items[i].val;
        const struct optdef *o;
        const char *why;
        rg_err e;

        if (ignored_key(k, !create))
            continue;
        o = opt_find(tab, k);
        if (!o)
            return rg_fail(msg, RG_ERR_INVALID, "unknown option '%.64s'", k);
        if (o->fixed && !create)
            return rg_fail(msg, RG_ERR_INVALID, "can't change value of fixed parameter '%s'", k);
        if (rg_params_count(opts, k) > 1)
            return rg_fail(msg, RG_ERR_INVALID, "duplicate option '%s'", k);
        /* Refused when an admin sets it, so the mistake shows now and not at the first login.
         * The file parser keeps such a value (a Proxmox file may have one); the relying party
         * refuses to use it. */
        if (o->off == S_OFF(issuer_url) && !rg_url_https_or_loopback(v))
            return rg_fail(msg, RG_ERR_INVALID,
                           "invalid value for 'issuer-url': an https:// URL is required "
                           "(http:// only for 127.0.0.1, [::1] or localhost)");
        why = set_option(r, o, v, 1, &e);
        if (e)
            return rg_fail(msg, e, "out of memory");
        if (why)
            return rg_fail(msg, RG_ERR_INVALID, "invalid value for '%s': %s", k, why);
        (*count)++;
    }
    return RG_OK;
}

rg_err rg_domains_add(struct rg_domains *d, const char *id, const char *type,
                      const struct rg_params *opts, struct rg_msg *msg)
{
    struct rg_realm r, *slot;
    const struct optdef *o;
    int count;
    rg_err e;

    if (!rg_realmid_check(id))
        return rg_fail(msg, RG_ERR_INVALID, "invalid realm id '%.64s'", id ? id : "");
    if (rg_domains_find(d, id))
        return rg_fail(msg, RG_ERR_EXISTS, "domain '%s' already exists", id);
    if (!type)
        return rg_fail(msg, RG_ERR_INVALID, "missing required option 'type'");
    if (!strcmp(type, "pam") || !strcmp(type, "pve"))
        return rg_fail(msg, RG_ERR_INVALID, "unable to create builtin type '%s'", type);
    if (strcmp(type, "openid"))
        return rg_fail(msg, RG_ERR_INVALID, "unsupported realm type '%.32s'", type);
    realm_init(&r);
    snprintf(r.id, sizeof r.id, "%s", id);
    snprintf(r.type, sizeof r.type, "%s", type);
    e = apply_opts(&r, opts, 1, &count, msg);
    for (o = opts_of(type); !e && o->key; o++)
        if (o->required && !option_is_set(&r, o))
            e = rg_fail(msg, RG_ERR_INVALID, "missing required option '%s'", o->key);
    if (!e && !(slot = domains_append(d)))
        e = rg_fail(msg, RG_ERR_LIMIT, "too many realms");
    if (e) {
        realm_clear(&r);
        return e;
    }
    *slot = r;
    if (slot->is_default == 1)
        clear_defaults(d, slot);
    return RG_OK;
}

rg_err rg_domains_modify(struct rg_domains *d, const char *id, const struct rg_params *opts,
                         const char *delete_list, struct rg_msg *msg)
{
    struct rg_realm *cur = find_mut(d, id), tmp;
    struct rg_strlist del;
    const struct optdef *tab;
    int count = 0;
    rg_err e;

    if (!cur)
        return rg_fail(msg, RG_ERR_NOTFOUND, "domain '%s' does not exist", id ? id : "");
    tab = opts_of(cur->type);
    if (!tab)
        return rg_fail(msg, RG_ERR_CONFIG, "realm type '%s' cannot be modified here",
                       cur->type);
    if ((e = rg_split_list(delete_list, 64, &del)))
        return rg_fail(msg, e, "invalid 'delete' list");
    if ((e = realm_copy(cur, &tmp))) {
        rg_strlist_free(&del);
        return rg_fail(msg, e, "out of memory");
    }
    for (size_t i = 0; i < del.n && !e; i++) {
        const struct optdef *o = opt_find(tab, del.items[i]);
        if (!o)
            continue; /* PVE deletes unknown keys silently */
        if (o->required)
            e = rg_fail(msg, RG_ERR_INVALID, "cannot delete required option '%s'", o->key);
        else if (o->fixed && option_is_set(&tmp, o))
            e = rg_fail(msg, RG_ERR_INVALID, "can't change value of fixed parameter '%s'",
                        o->key);
        else
            unset_option(&tmp, o);
    }
    if (!e)
        e = apply_opts(&tmp, opts, 0, &count, msg);
    if (!e && count == 0 && del.n == 0)
        e = rg_fail(msg, RG_ERR_INVALID, "no options specified");
    rg_strlist_free(&del);
    if (e) {
        realm_clear(&tmp);
        return e;
    }
    realm_clear(cur);
    *cur = tmp;
    if (cur->is_default == 1)
        clear_defaults(d, cur);
    return RG_OK;
}

rg_err rg_domains_delete(struct rg_domains *d, const char *id, struct rg_msg *msg)
{
    struct rg_realm *r = find_mut(d, id);
    size_t idx;

    if (!r)
        return rg_fail(msg, RG_ERR_NOTFOUND, "authentication domain '%s' does not exist",
                       id ? id : "");
    if (!strcmp(r->id, "pam") || !strcmp(r->id, "pve"))
        return rg_fail(msg, RG_ERR_INVALID, "cannot delete builtin realm '%s'", r->id);
    idx = (size_t)(r - d->realms);
    realm_clear(r);
    memmove(&d->realms[idx], &d->realms[idx + 1], (d->n - idx - 1) * sizeof *d->realms);
    d->n--;
    return RG_OK;
}
