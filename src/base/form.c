#include "base/form.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

#define KEY_MAX 128

void rg_params_init(struct rg_params *p)
{
    p->items = NULL;
    p->n = 0;
}

void rg_params_free(struct rg_params *p)
{
    for (size_t i = 0; i < p->n; i++) {
        rg_free_secret(p->items[i].key);
        rg_free_secret(p->items[i].val);
    }
    free(p->items);
    p->items = NULL;
    p->n = 0;
}

static rg_err add_owned(struct rg_params *p, char *key, char *val)
{
    struct rg_param *ni;

    if (p->n >= RG_PARAMS_MAX_ITEMS || strlen(key) > KEY_MAX) {
        rg_free_secret(key);
        rg_free_secret(val);
        return RG_ERR_LIMIT;
    }
    ni = realloc(p->items, (p->n + 1) * sizeof *ni);
    if (!ni) {
        rg_free_secret(key);
        rg_free_secret(val);
        return RG_ERR_NOMEM;
    }
    p->items = ni;
    p->items[p->n].key = key;
    p->items[p->n].val = val;
    p->n++;
    return RG_OK;
}

rg_err rg_params_add(struct rg_params *p, const char *key, const char *val)
{
    char *k = strdup(key), *v = strdup(val);
    if (!k || !v) {
        free(k);
        free(v);
        return RG_ERR_NOMEM;
    }
    return add_owned(p, k, v);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

rg_err rg_url_decode(const char *s, size_t len, int plus_is_space, char **out)
{
    char *o = malloc(len + 1);
    size_t j = 0;

    *out = NULL;
    if (!o)
        return RG_ERR_NOMEM;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (c == '%') {
            int h, l;
            if (i + 2 >= len || (h = hexval(s[i + 1])) < 0 || (l = hexval(s[i + 2])) < 0) {
                free(o);
                return RG_ERR_INVALID;
            }
            c = (char)(h << 4 | l);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            c = ' ';
        }
        if (c == '\0') {
            rg_wipe(o, j);
            free(o);
            return RG_ERR_INVALID;
        }
        o[j++] = c;
    }
    o[j] = '\0';
    *out = o;
    return RG_OK;
}

rg_err rg_params_parse_form(struct rg_params *p, const char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        size_t end = i, eq;
        char *k, *v;
        rg_err e;

        while (end < len && s[end] != '&')
            end++;
        if (end == i) {
            i = end + 1;
            continue;
        }
        eq = i;
        while (eq < end && s[eq] != '=')
            eq++;
        e = rg_url_decode(s + i, eq - i, 1, &k);
        if (e)
            return e;
        if (eq < end)
            e = rg_url_decode(s + eq + 1, end - eq - 1, 1, &v);
        else
            v = strdup(""), e = v ? RG_OK : RG_ERR_NOMEM;
        if (e) {
            free(k);
            return e;
        }
        e = add_owned(p, k, v);
        if (e)
            return e;
        i = end + 1;
    }
    return RG_OK;
}

rg_err rg_params_parse_json(struct rg_params *p, const char *s, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(s, len, JSON_REJECT_DUPLICATES, &jerr), *val;
    const char *key;
    rg_err e = RG_OK;

    if (!root)
        return RG_ERR_INVALID;
    if (!json_is_object(root)) {
        json_decref(root);
        return RG_ERR_INVALID;
    }
    json_object_foreach(root, key, val) {
        char num[32];
        const char *v;
        if (json_is_string(val)) {
            v = json_string_value(val);
            if (strlen(v) != json_string_length(val)) {
                e = RG_ERR_INVALID; /* embedded NUL */
                break;
            }
        } else if (json_is_integer(val)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(val));
            v = num;
        } else if (json_is_true(val)) {
            v = "1";
        } else if (json_is_false(val)) {
            v = "0";
        } else {
            e = RG_ERR_INVALID;
            break;
        }
        e = rg_params_add(p, key, v);
        if (e)
            break;
    }
    json_decref(root);
    return e;
}

const char *rg_params_get(const struct rg_params *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].key, key) == 0)
            return p->items[i].val;
    return NULL;
}

size_t rg_params_count(const struct rg_params *p, const char *key)
{
    size_t c = 0;
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->items[i].key, key) == 0)
            c++;
    return c;
}

rg_err rg_url_encode(struct rg_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        rg_err e;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            e = rg_buf_append(b, s, 1);
        } else {
            char enc[3] = {'%', hex[c >> 4], hex[c & 15]};
            e = rg_buf_append(b, enc, 3);
        }
        if (e)
            return e;
    }
    return RG_OK;
}
