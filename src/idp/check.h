/* check.h — pure validation of the identifiers and values realmgate-idp accepts, from the
 * command line and from the network. Owner: idp.
 *
 * Everything here is a pure function over its arguments (no state, no I/O), so the rules
 * can be read in one place and exercised end to end. Refusals fill msg with a reason an
 * admin can act on (the offending value is quoted only where it is not a secret).
 *
 * Rules follow Entra ID where it documents them:
 *   - GUIDs are 8-4-4-4-12 hex; we store them lower-case.
 *   - Redirect URIs (reply-url rules): https, or http only for localhost / 127.0.0.1; at most
 *     256 characters; no fragment, no wildcard, none of ! $ ' ( ) , ; ; no user info.
 *     Matching is exact and case-sensitive, except that for http loopback URIs the port is
 *     ignored. A URI with no path is answered with a '/' appended.
 *   - UPN: local@domain, at most 113 characters, local part at most 64.
 *   - Passwords (Entra's default policy): 8–256 printable ASCII characters with three of
 *     lower case, upper case, digits and symbols.
 *   - Scopes: space-separated scope tokens (RFC 6749 §3.3), at most 32 of them, each at most
 *     256 characters; "https://graph.microsoft.com/X" is the same permission as "X". */
#ifndef RG_IDP_CHECK_H
#define RG_IDP_CHECK_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define RG_IDP_GUID_LEN 36
#define RG_IDP_REDIRECT_MAX 256
#define RG_IDP_UPN_MAX 113
#define RG_IDP_MAIL_MAX 256
#define RG_IDP_TEXT_MAX 256
#define RG_IDP_SCOPES_MAX 32
#define RG_IDP_SCOPE_LEN_MAX 256
#define RG_IDP_SCOPE_LIST_MAX 2048

/* True if s is a GUID (any hex case). */
bool rg_idp_is_guid(const char *s);
/* Copies a GUID lower-cased into out; RG_ERR_INVALID if s is not a GUID. */
rg_err rg_idp_guid_norm(const char *s, char out[RG_IDP_GUID_LEN + 1]);

/* Registration rule for a redirect URI (see header comment). */
rg_err rg_idp_check_redirect_uri(const char *uri, struct rg_msg *msg);
/* True if requested may be answered for the registered URI. Both must have passed
 * rg_idp_check_redirect_uri (a requested URI that fails it never matches). */
bool rg_idp_redirect_match(const char *registered, const char *requested);
/* True if uri has nothing after the authority but an optional query ("https://h", "https://h?x"). */
bool rg_idp_uri_pathless(const char *uri);

/* A DNS domain name (tenant domain, UPN suffix): labels of [A-Za-z0-9-], at least two. */
rg_err rg_idp_check_domain(const char *d, struct rg_msg *msg);
rg_err rg_idp_check_upn(const char *upn, struct rg_msg *msg);
rg_err rg_idp_check_mail(const char *mail, struct rg_msg *msg);
/* Free text (names): valid UTF-8, 1..max bytes, no control characters. */
rg_err rg_idp_check_text(const char *what, const char *s, size_t max, struct rg_msg *msg);
rg_err rg_idp_check_password(const char *pw, struct rg_msg *msg);

/* Validates a space-separated scope list and writes its canonical form (Graph prefix
 * dropped, duplicates removed, single spaces) into a malloc'd *out. An empty list is
 * RG_ERR_INVALID. */
rg_err rg_idp_scopes_norm(const char *in, char **out, struct rg_msg *msg);
/* True if the canonical list contains scope (exact token match). */
bool rg_idp_scopes_has(const char *list, const char *scope);
/* True if every scope of `want` is in `have` (both canonical). */
bool rg_idp_scopes_subset(const char *want, const char *have);

/* ASCII case-insensitive equality (UPNs, domains). */
bool rg_idp_ieq(const char *a, const char *b);

#endif
