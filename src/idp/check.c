#include "idp/check.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/buf.h"

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

bool rg_idp_is_guid(const char *s)
{
    if (!s || strlen(s) != RG_IDP_GUID_LEN)
        return false;
    for (size_t i = 0; i < RG_IDP_GUID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash ? s[i] != '-' : !is_hex(s[i]))
            return false;
    }
    return true;
}

rg_err rg_idp_guid_norm(const char *s, char out[RG_IDP_GUID_LEN + 1])
{
    if (!rg_idp_is_guid(s))
        return RG_ERR_INVALID;
    for (size_t i = 0; i <= RG_IDP_GUID_LEN; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    return RG_OK;
}

bool rg_idp_ieq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

/* The parts of an http(s) URI we reason about. Pointers are into the original string. */
struct uri_parts {
    bool https;
    const char *host;
    size_t host_len;
    const char *port;   /* NULL when absent */
    size_t port_len;
    const char *rest;   /* path + query, may be "" */
};

static bool is_loopback_host(const char *h, size_t n)
{
    return (n == 9 && strncasecmp(h, "localhost", 9) == 0) ||
           (n == 9 && memcmp(h, "127.0.0.1", 9) == 0);
}

/* Characters allowed in path and query: RFC 3986 pchar/query minus what Entra refuses
 * (! $ ' ( ) , ;), wildcards and the fragment marker. */
static bool rest_char_ok(unsigned char c)
{
    if (c <= 0x20 || c >= 0x7f)
        return false;
    return !strchr("\"<>\\^`{|}!$'(),;*#[]", c);
}

static bool split_uri(const char *uri, struct uri_parts *p, struct rg_msg *msg)
{
    const char *a, *end;

    memset(p, 0, sizeof *p);
    if (strncmp(uri, "https://", 8) == 0) {
        p->https = true;
        a = uri + 8;
    } else if (strncmp(uri, "http://", 7) == 0) {
        a = uri + 7;
    } else {
        rg_fail(msg, RG_ERR_INVALID, "must start with https:// (or http:// for localhost)");
        return false;
    }
    end = a + strcspn(a, "/?#");
    if (memchr(a, '@', (size_t)(end - a))) {
        rg_fail(msg, RG_ERR_INVALID, "user information (\"user@\") is not allowed");
        return false;
    }
    if (end > a && *a == '[') {
        rg_fail(msg, RG_ERR_INVALID, "IPv6 literal hosts are not supported");
        return false;
    }
    p->host = a;
    {
        const char *colon = memchr(a, ':', (size_t)(end - a));
        p->host_len = (size_t)((colon ? colon : end) - a);
        if (colon) {
            p->port = colon + 1;
            p->port_len = (size_t)(end - colon - 1);
        }
    }
    p->rest = end;
    if (p->host_len == 0 || p->host_len > 253) {
        rg_fail(msg, RG_ERR_INVALID, "host name missing or too long");
        return false;
    }
    for (size_t i = 0; i < p->host_len; i++) {
        unsigned char c = (unsigned char)p->host[i];
        if (!isalnum(c) && c != '-' && c != '.') {
            rg_fail(msg, RG_ERR_INVALID, "host name has a character outside [A-Za-z0-9.-]");
            return false;
        }
    }
    if (p->port) {
        unsigned long v = 0;
        if (p->port_len == 0 || p->port_len > 5) {
            rg_fail(msg, RG_ERR_INVALID, "bad port");
            return false;
        }
        for (size_t i = 0; i < p->port_len; i++) {
            if (!isdigit((unsigned char)p->port[i])) {
                rg_fail(msg, RG_ERR_INVALID, "bad port");
                return false;
            }
            v = v * 10 + (unsigned long)(p->port[i] - '0');
        }
        if (v == 0 || v > 65535) {
            rg_fail(msg, RG_ERR_INVALID, "port out of range");
            return false;
        }
    }
    return true;
}

rg_err rg_idp_check_redirect_uri(const char *uri, struct rg_msg *msg)
{
    struct uri_parts p;
    struct rg_msg why;

    if (!uri || !*uri)
        return rg_fail(msg, RG_ERR_INVALID, "redirect URI is empty");
    if (strlen(uri) > RG_IDP_REDIRECT_MAX)
        return rg_fail(msg, RG_ERR_LIMIT, "redirect URI longer than %d characters",
                       RG_IDP_REDIRECT_MAX);
    if (strchr(uri, '#'))
        return rg_fail(msg, RG_ERR_INVALID, "redirect URI must not contain a fragment ('#')");
    for (const char *c = uri; *c; c++)
        if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
            return rg_fail(msg, RG_ERR_INVALID,
                           "redirect URI contains a space, control or non-ASCII character");
    if (!split_uri(uri, &p, &why))
        return rg_fail(msg, RG_ERR_INVALID, "redirect URI '%s': %s", uri, why.text);
    if (!p.https && !is_loopback_host(p.host, p.host_len))
        return rg_fail(msg, RG_ERR_INVALID,
                       "redirect URI '%s': http is allowed only for localhost and 127.0.0.1; "
                       "use https",
                       uri);
    for (const char *c = p.rest; *c; c++) {
        if (*c == '%') {
            if (!is_hex(c[1]) || !is_hex(c[2]))
                return rg_fail(msg, RG_ERR_INVALID, "redirect URI '%s': bad %%-escape", uri);
            continue;
        }
        if (!rest_char_ok((unsigned char)*c))
            return rg_fail(msg, RG_ERR_INVALID,
                           "redirect URI '%s': character '%c' is not supported (no wildcards, "
                           "none of ! $ ' ( ) , ;)",
                           uri, *c);
    }
    return RG_OK;
}

bool rg_idp_uri_pathless(const char *uri)
{
    struct uri_parts p;
    if (!split_uri(uri, &p, NULL))
        return false;
    return p.rest[0] == '\0' || p.rest[0] == '?';
}

bool rg_idp_redirect_match(const char *registered, const char *requested)
{
    struct uri_parts a, b;

    if (!registered || !requested)
        return false;
    if (strcmp(registered, requested) == 0)
        return true;
    /* Loopback: the port is not part of the match (native apps pick a free port). */
    if (!split_uri(registered, &a, NULL) || !split_uri(requested, &b, NULL))
        return false;
    if (a.https || b.https || !is_loopback_host(a.host, a.host_len) ||
        a.host_len != b.host_len || strncasecmp(a.host, b.host, a.host_len) != 0)
        return false;
    if (rg_idp_check_redirect_uri(requested, NULL) != RG_OK)
        return false;
    return strcmp(a.rest, b.rest) == 0;
}

rg_err rg_idp_check_domain(const char *d, struct rg_msg *msg)
{
    size_t len, label = 0, labels = 1;

    if (!d || !*d)
        return rg_fail(msg, RG_ERR_INVALID, "domain name is empty");
    len = strlen(d);
    if (len > 253)
        return rg_fail(msg, RG_ERR_LIMIT, "domain name longer than 253 characters");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)d[i];
        if (c == '.') {
            if (label == 0 || d[i - 1] == '-')
                return rg_fail(msg, RG_ERR_INVALID, "domain '%s' has an empty or bad label", d);
            labels++;
            label = 0;
            continue;
        }
        if (!isalnum(c) && c != '-')
            return rg_fail(msg, RG_ERR_INVALID,
                           "domain '%s' has a character outside [A-Za-z0-9.-]", d);
        if (c == '-' && label == 0)
            return rg_fail(msg, RG_ERR_INVALID, "domain '%s': a label starts with '-'", d);
        if (++label > 63)
            return rg_fail(msg, RG_ERR_LIMIT, "domain '%s': a label is longer than 63", d);
    }
    if (label == 0 || d[len - 1] == '-')
        return rg_fail(msg, RG_ERR_INVALID, "domain '%s' has an empty or bad last label", d);
    if (labels < 2)
        return rg_fail(msg, RG_ERR_INVALID, "domain '%s' needs at least two labels", d);
    return RG_OK;
}

/* local@domain with an RFC 5322 dot-atom local part. */
static rg_err check_address(const char *what, const char *s, size_t max, struct rg_msg *msg)
{
    const char *at;
    size_t local;
    struct rg_msg why;

    if (!s || !*s)
        return rg_fail(msg, RG_ERR_INVALID, "%s is empty", what);
    if (strlen(s) > max)
        return rg_fail(msg, RG_ERR_LIMIT, "%s longer than %zu characters", what, max);
    at = strchr(s, '@');
    if (!at || strchr(at + 1, '@'))
        return rg_fail(msg, RG_ERR_INVALID, "%s '%s' must have the form name@domain", what, s);
    local = (size_t)(at - s);
    if (local == 0 || local > 64)
        return rg_fail(msg, RG_ERR_INVALID, "%s '%s': the part before '@' must be 1-64 chars",
                       what, s);
    if (s[0] == '.' || at[-1] == '.' || strstr(s, ".."))
        return rg_fail(msg, RG_ERR_INVALID, "%s '%s': misplaced '.'", what, s);
    for (size_t i = 0; i < local; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && !strchr(".!#$%&'*+/=?^_`{|}~-", c))
            return rg_fail(msg, RG_ERR_INVALID, "%s '%s': character not allowed before '@'",
                           what, s);
    }
    if (rg_idp_check_domain(at + 1, &why))
        return rg_fail(msg, RG_ERR_INVALID, "%s: %s", what, why.text);
    return RG_OK;
}

rg_err rg_idp_check_upn(const char *upn, struct rg_msg *msg)
{
    return check_address("user principal name", upn, RG_IDP_UPN_MAX, msg);
}

rg_err rg_idp_check_mail(const char *mail, struct rg_msg *msg)
{
    return check_address("mail address", mail, RG_IDP_MAIL_MAX, msg);
}

/* Length of the UTF-8 sequence at s (1..4), or 0 if it is not well formed (overlongs,
 * surrogates and values above U+10FFFF refused). */
static size_t utf8_seq(const unsigned char *s)
{
    unsigned cp;
    size_t n;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf)
        n = 2, cp = s[0] & 0x1fu;
    else if (s[0] >= 0xe0 && s[0] <= 0xef)
        n = 3, cp = s[0] & 0x0fu;
    else if (s[0] >= 0xf0 && s[0] <= 0xf4)
        n = 4, cp = s[0] & 0x07u;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

rg_err rg_idp_check_text(const char *what, const char *s, size_t max, struct rg_msg *msg)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len;

    if (!s || !*s)
        return rg_fail(msg, RG_ERR_INVALID, "%s is empty", what);
    len = strlen(s);
    if (len > max)
        return rg_fail(msg, RG_ERR_LIMIT, "%s longer than %zu bytes", what, max);
    while (*p) {
        size_t n = utf8_seq(p);
        if (n == 0)
            return rg_fail(msg, RG_ERR_INVALID, "%s is not valid UTF-8", what);
        if (n == 1 && (*p < 0x20 || *p == 0x7f))
            return rg_fail(msg, RG_ERR_INVALID, "%s contains a control character", what);
        p += n;
    }
    return RG_OK;
}

rg_err rg_idp_check_password(const char *pw, struct rg_msg *msg)
{
    int lower = 0, upper = 0, digit = 0, other = 0;
    size_t len = pw ? strlen(pw) : 0;

    if (len < 8 || len > 256)
        return rg_fail(msg, RG_ERR_INVALID, "password must have 8 to 256 characters");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)pw[i];
        if (c < 0x20 || c >= 0x7f)
            return rg_fail(msg, RG_ERR_INVALID,
                           "password may contain only printable ASCII characters and spaces");
        if (islower(c))
            lower = 1;
        else if (isupper(c))
            upper = 1;
        else if (isdigit(c))
            digit = 1;
        else
            other = 1;
    }
    if (lower + upper + digit + other < 3)
        return rg_fail(msg, RG_ERR_INVALID,
                       "password must use three of: lower case, upper case, digits, symbols");
    return RG_OK;
}

/* RFC 6749 §3.3 scope-token characters. */
static bool scope_char_ok(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e);
}

#define GRAPH_PREFIX "https://graph.microsoft.com/"

rg_err rg_idp_scopes_norm(const char *in, char **out, struct rg_msg *msg)
{
    struct rg_buf b;
    const char *p = in;
    size_t count = 0;
    rg_err e = RG_OK;

    *out = NULL;
    if (!in)
        return rg_fail(msg, RG_ERR_INVALID, "scope is missing");
    if (strlen(in) > RG_IDP_SCOPE_LIST_MAX)
        return rg_fail(msg, RG_ERR_LIMIT, "scope longer than %d characters",
                       RG_IDP_SCOPE_LIST_MAX);
    rg_buf_init(&b, RG_IDP_SCOPE_LIST_MAX);
    while (*p) {
        char tok[RG_IDP_SCOPE_LEN_MAX + 1];
        size_t n = 0;
        const char *t;

        while (*p == ' ')
            p++;
        if (!*p)
            break;
        while (p[n] && p[n] != ' ') {
            if (!scope_char_ok((unsigned char)p[n])) {
                e = rg_fail(msg, RG_ERR_INVALID, "scope contains a character that is not allowed");
                goto out;
            }
            n++;
        }
        if (n > RG_IDP_SCOPE_LEN_MAX) {
            e = rg_fail(msg, RG_ERR_LIMIT, "a scope is longer than %d characters",
                        RG_IDP_SCOPE_LEN_MAX);
            goto out;
        }
        memcpy(tok, p, n);
        tok[n] = '\0';
        p += n;
        t = tok;
        if (strncmp(t, GRAPH_PREFIX, strlen(GRAPH_PREFIX)) == 0 && t[strlen(GRAPH_PREFIX)])
            t += strlen(GRAPH_PREFIX);
        if (b.data && rg_idp_scopes_has(b.data, t))
            continue;
        if (++count > RG_IDP_SCOPES_MAX) {
            e = rg_fail(msg, RG_ERR_LIMIT, "more than %d scopes", RG_IDP_SCOPES_MAX);
            goto out;
        }
        if ((b.len && (e = rg_buf_appends(&b, " "))) || (e = rg_buf_appends(&b, t)))
            goto out;
    }
    if (count == 0) {
        e = rg_fail(msg, RG_ERR_INVALID, "scope is empty");
        goto out;
    }
    *out = rg_buf_steal(&b);
    if (!*out)
        e = RG_ERR_NOMEM;
out:
    rg_buf_free(&b);
    return e;
}

bool rg_idp_scopes_has(const char *list, const char *scope)
{
    size_t sl = strlen(scope);
    const char *p = list;

    if (!list || sl == 0)
        return false;
    while (*p) {
        size_t n = strcspn(p, " ");
        if (n == sl && memcmp(p, scope, n) == 0)
            return true;
        p += n;
        while (*p == ' ')
            p++;
    }
    return false;
}

bool rg_idp_scopes_subset(const char *want, const char *have)
{
    const char *p = want;

    while (*p) {
        char tok[RG_IDP_SCOPE_LEN_MAX + 1];
        size_t n = strcspn(p, " ");
        if (n > RG_IDP_SCOPE_LEN_MAX)
            return false;
        memcpy(tok, p, n);
        tok[n] = '\0';
        if (n && !rg_idp_scopes_has(have, tok))
            return false;
        p += n;
        while (*p == ' ')
            p++;
    }
    return true;
}
