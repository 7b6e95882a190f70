/* page.h — the HTML pages realmgate-idp shows to a browser: sign-in form, error pages,
 * the form_post auto-submit page and the signed-out page. Owner: idp.
 *
 * Every value echoed into a page goes through rg_idp_html_escape (& < > " ' escaped), in
 * text and attribute positions alike. Pages work without JavaScript; the only script is
 * the form_post auto-submit, allowed by a per-response CSP nonce. Every page is sent with
 * a Content-Security-Policy (no framing, no foreign resources), Referrer-Policy no-referrer
 * and X-Frame-Options DENY. Bodies are bounded by the response buffer (16 MiB), far above
 * what the bounded inputs can produce. */
#ifndef RG_IDP_PAGE_H
#define RG_IDP_PAGE_H

#include <stddef.h>

#include "base/buf.h"
#include "base/err.h"
#include "http/server.h"
#include "idp/aad.h"
#include "idp/check.h"

rg_err rg_idp_html_escape(struct rg_buf *b, const char *s);

struct rg_idp_login_page {
    const char *tenant_name;
    const char *action;       /* form action URL (path) */
    const char *ctx;          /* opaque reference to the pending request */
    const char *loginfmt;     /* prefill (login_hint or what was typed), may be NULL */
    const char *error_code;   /* e.g. "AADSTS50126", may be NULL */
    const char *error_text;   /* shown under the heading when error_code is set */
};

rg_err rg_idp_page_login(struct rg_http_response *resp, const struct rg_idp_login_page *p);
/* An error page: heading, "AADSTS<code>: <text>" and the trace/correlation/timestamp block. */
rg_err rg_idp_page_error(struct rg_http_response *resp, int status, const char *tenant_name,
                         int code, const char *text, const struct rg_idp_ids *ids);
/* Auto-submitting form that POSTs names[i]=values[i] to action (response_mode=form_post). */
rg_err rg_idp_page_form_post(struct rg_http_response *resp, const char *action,
                             const char *const *names, const char *const *values, size_t n);
struct rg_idp_consent_page {
    const char *tenant_name;
    const char *app_name;
    const char *upn;          /* who is consenting */
    const char *scopes;       /* canonical scope list, each shown in Entra's words */
    const char *action;       /* form action URL (path) */
    const char *ctx;
};
/* "Permissions requested": the app, what it would like to do, Accept / Cancel buttons
 * (accept=1 / accept=0) posting ctx back. */
rg_err rg_idp_page_consent(struct rg_http_response *resp, const struct rg_idp_consent_page *p);
/* Signed-out page that loads each front-channel logout URL (already carrying ?sid=) in a
 * hidden iframe (CSP frame-src allows exactly those URLs) and, when next is not NULL, moves
 * on to it after a second with a meta refresh (no JavaScript). */
rg_err rg_idp_page_frontchannel(struct rg_http_response *resp, const char *tenant_name,
                                const char *const *urls, size_t n, const char *next);
rg_err rg_idp_page_signed_out(struct rg_http_response *resp, const char *tenant_name,
                              const char *note);

#endif
