/* form.h — URL encoding and request parameters (application/x-www-form-urlencoded or JSON).
 *
 * struct rg_params owns copies of every key and value; rg_params_free wipes them (values may
 * be passwords). Parsers are bounded: at most RG_PARAMS_MAX_ITEMS pairs; a key over 128 bytes
 * or a malformed %-escape gives RG_ERR_INVALID / RG_ERR_LIMIT. Values may be empty strings.
 * A decoded NUL byte is refused (RG_ERR_INVALID): no value here may carry one. */
#ifndef RG_BASE_FORM_H
#define RG_BASE_FORM_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"

#define RG_PARAMS_MAX_ITEMS 128

struct rg_param {
    char *key;
    char *val;
};

struct rg_params {
    struct rg_param *items;
    size_t n;
};

void rg_params_init(struct rg_params *p);
void rg_params_free(struct rg_params *p);
/* Adds a copy of key/value (used by the parsers; handy for callers building parameter sets). */
rg_err rg_params_add(struct rg_params *p, const char *key, const char *val);
/* Parses "a=1&b=%20x+y" (appending to p). '+' decodes to space. */
rg_err rg_params_parse_form(struct rg_params *p, const char *s, size_t len);
/* Parses a flat JSON object; strings as-is, integers as decimal, true/false as "1"/"0";
 * nested objects/arrays and null are refused with RG_ERR_INVALID. */
rg_err rg_params_parse_json(struct rg_params *p, const char *s, size_t len);
/* First value of key, or NULL. */
const char *rg_params_get(const struct rg_params *p, const char *key);
/* How many times key occurs. */
size_t rg_params_count(const struct rg_params *p, const char *key);

/* Percent-decodes s[0..len) into a fresh malloc'd string (plus_is_space for forms). */
rg_err rg_url_decode(const char *s, size_t len, int plus_is_space, char **out);
/* Appends the RFC 3986 percent-encoding of s (unreserved characters kept) to b. */
rg_err rg_url_encode(struct rg_buf *b, const char *s);

#endif
