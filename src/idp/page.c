#include "idp/page.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/rand.h"

#define PAGE_MAX (256 * 1024)

rg_err rg_idp_html_escape(struct rg_buf *b, const char *s)
{
    rg_err e = RG_OK;

    for (const char *p = s ? s : ""; *p && !e;) {
        size_t n = strcspn(p, "&<>\"'");
        if (n) {
            e = rg_buf_append(b, p, n);
            p += n;
            continue;
        }
        switch (*p++) {
        case '&': e = rg_buf_appends(b, "&amp;"); break;
        case '<': e = rg_buf_appends(b, "&lt;"); break;
        case '>': e = rg_buf_appends(b, "&gt;"); break;
        case '"': e = rg_buf_appends(b, "&quot;"); break;
        default: e = rg_buf_appends(b, "&#39;"); break;
        }
    }
    return e;
}

static const char style[] =
    "body{margin:0;min-height:100vh;display:flex;align-items:center;justify-content:center;"
    "background:#f2f2f2;font-family:'Segoe UI',system-ui,-apple-system,sans-serif;color:#1b1b1b}"
    ".card{background:#fff;width:100%;max-width:440px;box-sizing:border-box;padding:44px;"
    "box-shadow:0 2px 6px rgba(0,0,0,.2)}"
    ".org{font-size:15px;font-weight:600;color:#505050;margin-bottom:16px}"
    "h1{font-size:24px;font-weight:600;margin:0 0 16px}"
    "label{display:block;font-size:13px;margin:12px 0 4px}"
    "input[type=text],input[type=email],input[type=password]{width:100%;box-sizing:border-box;"
    "padding:6px 0;font-size:15px;border:0;border-bottom:1px solid #666;outline:none}"
    "input:focus{border-bottom-color:#0067b8}"
    ".err{color:#e81123;font-size:14px;margin:8px 0}"
    "button{margin-top:24px;float:right;min-width:108px;padding:6px 12px;font-size:15px;"
    "border:0;background:#0067b8;color:#fff;cursor:pointer}"
    ".meta{clear:both;font-size:12px;color:#666;margin-top:32px;white-space:pre-wrap;"
    "word-break:break-all}"
    "p{font-size:15px;line-height:1.4}"
    "ul.perm{padding-left:20px;font-size:15px;line-height:1.8}"
    ".who{font-size:14px;color:#505050;margin-bottom:8px}"
    "button.sec{background:#ccc;color:#1b1b1b;margin-right:8px}";

/* Opens the document (head, styles, card) with the given title. */
static rg_err page_begin(struct rg_buf *b, const char *title, const char *tenant_name)
{
    rg_err e;
    if ((e = rg_buf_appends(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                               "<meta name=\"viewport\" content=\"width=device-width, "
                               "initial-scale=1\"><title>")) ||
        (e = rg_idp_html_escape(b, title)) ||
        (e = rg_buf_appendf(b, "</title><style>%s</style></head><body><main class=\"card\">",
                            style)))
        return e;
    if (tenant_name && ((e = rg_buf_appends(b, "<div class=\"org\">")) ||
                        (e = rg_idp_html_escape(b, tenant_name)) ||
                        (e = rg_buf_appends(b, "</div>"))))
        return e;
    return RG_OK;
}

static rg_err page_send(struct rg_http_response *resp, int status, struct rg_buf *b,
                        const char *csp)
{
    rg_err e = rg_buf_appends(b, "</main></body></html>\n");
    if (!e)
        e = rg_http_respond(resp, status, "text/html; charset=utf-8", b->data, b->len);
    if (!e)
        e = rg_http_add_header(resp, "Content-Security-Policy", csp);
    if (!e)
        e = rg_http_add_header(resp, "X-Frame-Options", "DENY");
    if (!e)
        e = rg_http_add_header(resp, "Referrer-Policy", "no-referrer");
    rg_buf_free(b);
    return e;
}

/* No form-action: browsers apply it to the redirect that follows the sign-in POST, and that
 * redirect goes to the app's registered redirect URI, another origin. */
static const char csp_static[] =
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'";

rg_err rg_idp_page_login(struct rg_http_response *resp, const struct rg_idp_login_page *p)
{
    struct rg_buf b;
    rg_err e;

    rg_buf_init(&b, PAGE_MAX);
    if ((e = page_begin(&b, "Sign in to your account", p->tenant_name)) ||
        (e = rg_buf_appends(&b, "<h1>Sign in</h1>")))
        goto out;
    if ((e = rg_buf_appends(&b, "<form method=\"post\" action=\"")) ||
        (e = rg_idp_html_escape(&b, p->action)) ||
        (e = rg_buf_appends(&b, "\" autocomplete=\"on\"><input type=\"hidden\" name=\"ctx\" "
                                "value=\"")) ||
        (e = rg_idp_html_escape(&b, p->ctx)) ||
        (e = rg_buf_appends(&b, "\"><label for=\"i0116\">Email, phone, or Skype</label>"
                                "<input type=\"email\" id=\"i0116\" name=\"loginfmt\" "
                                "required maxlength=\"113\" autocomplete=\"username\" value=\"")) ||
        (e = rg_idp_html_escape(&b, p->loginfmt ? p->loginfmt : "")) ||
        (e = rg_buf_appends(&b, "\">")))
        goto out;
    /* the error goes right under the account field, where Entra shows it */
    if (p->error_code &&
        ((e = rg_buf_appends(&b, "<div class=\"err\" role=\"alert\" id=\"error\">")) ||
         (e = rg_idp_html_escape(&b, p->error_text)) ||
         (e = rg_buf_appends(&b, " (")) || (e = rg_idp_html_escape(&b, p->error_code)) ||
         (e = rg_buf_appends(&b, ")</div>"))))
        goto out;
    if ((e = rg_buf_appends(&b, "<label for=\"i0118\">Password</label>"
                                "<input type=\"password\" id=\"i0118\" name=\"passwd\" required "
                                "maxlength=\"256\" autocomplete=\"current-password\">"
                                "<button type=\"submit\" id=\"idSIButton9\">Sign in</button>"
                                "</form>")))
        goto out;
    return page_send(resp, 200, &b, csp_static);
out:
    rg_buf_free(&b);
    return e;
}

rg_err rg_idp_page_error(struct rg_http_response *resp, int status, const char *tenant_name,
                         int code, const char *text, const struct rg_idp_ids *ids)
{
    struct rg_buf b;
    rg_err e;

    rg_buf_init(&b, PAGE_MAX);
    if ((e = page_begin(&b, "Sign in to your account", tenant_name)) ||
        (e = rg_buf_appends(&b, "<h1>Sorry, but we&#39;re having trouble signing you in.</h1>"
                                "<p id=\"error\">")) ||
        (e = rg_buf_appendf(&b, "AADSTS%d: ", code)) || (e = rg_idp_html_escape(&b, text)) ||
        (e = rg_buf_appends(&b, "</p><div class=\"meta\">Trace ID: ")) ||
        (e = rg_idp_html_escape(&b, ids->trace)) ||
        (e = rg_buf_appends(&b, "\nCorrelation ID: ")) ||
        (e = rg_idp_html_escape(&b, ids->corr)) || (e = rg_buf_appends(&b, "\nTimestamp: ")) ||
        (e = rg_idp_html_escape(&b, ids->ts)) || (e = rg_buf_appends(&b, "</div>")))
        goto out;
    return page_send(resp, status, &b, csp_static);
out:
    rg_buf_free(&b);
    return e;
}

rg_err rg_idp_page_form_post(struct rg_http_response *resp, const char *action,
                             const char *const *names, const char *const *values, size_t n)
{
    struct rg_buf b;
    char csp[256], *nonce = rg_random_token(16);
    rg_err e;

    rg_buf_init(&b, PAGE_MAX);
    if (!nonce)
        return RG_ERR_CRYPTO;
    /* form-action is left open: the form goes to the app's registered redirect URI */
    snprintf(csp, sizeof csp,
             "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-%s'; "
             "frame-ancestors 'none'; base-uri 'none'",
             nonce);
    if ((e = page_begin(&b, "Working...", NULL)) ||
        (e = rg_buf_appends(&b, "<form method=\"post\" name=\"hiddenform\" action=\"")) ||
        (e = rg_idp_html_escape(&b, action)) || (e = rg_buf_appends(&b, "\">")))
        goto out;
    for (size_t i = 0; i < n; i++)
        if ((e = rg_buf_appends(&b, "<input type=\"hidden\" name=\"")) ||
            (e = rg_idp_html_escape(&b, names[i])) ||
            (e = rg_buf_appends(&b, "\" value=\"")) || (e = rg_idp_html_escape(&b, values[i])) ||
            (e = rg_buf_appends(&b, "\">")))
            goto out;
    if ((e = rg_buf_appends(&b, "<noscript><p>Script is disabled. Click Submit to continue."
                                "</p></noscript><button type=\"submit\">Submit</button></form>"
                                "<script nonce=\"")) ||
        (e = rg_buf_appends(&b, nonce)) ||
        (e = rg_buf_appends(&b, "\">document.forms.hiddenform.submit();</script>")))
        goto out;
    free(nonce);
    return page_send(resp, 200, &b, csp);
out:
    free(nonce);
    rg_buf_free(&b);
    return e;
}

rg_err rg_idp_page_signed_out(struct rg_http_response *resp, const char *tenant_name,
                              const char *note)
{
    struct rg_buf b;
    rg_err e;

    rg_buf_init(&b, PAGE_MAX);
    if ((e = page_begin(&b, "Sign out", tenant_name)) ||
        (e = rg_buf_appends(&b, "<h1>You signed out of your account</h1>"
                                "<p>It&#39;s a good idea to close all browser windows.</p>")))
        goto out;
    if (note && ((e = rg_buf_appends(&b, "<p class=\"meta\">")) ||
                 (e = rg_idp_html_escape(&b, note)) || (e = rg_buf_appends(&b, "</p>"))))
        goto out;
    return page_send(resp, 200, &b, csp_static);
out:
    rg_buf_free(&b);
    return e;
}

/* Entra's user-facing wording of the delegated permissions a sign-in app asks for. */
static const char *permission_text(const char *scope, size_t n)
{
    static const struct { const char *scope, *text; } words[] = {
        {"openid", "Sign you in"},
        {"profile", "View your basic profile"},
        {"email", "View your email address"},
        {"offline_access", "Maintain access to data you have given it access to"},
        {"User.Read", "Sign you in and read your profile"},
    };
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strlen(words[i].scope) == n && strncmp(words[i].scope, scope, n) == 0)
            return words[i].text;
    return NULL;
}

rg_err rg_idp_page_consent(struct rg_http_response *resp, const struct rg_idp_consent_page *p)
{
    struct rg_buf b;
    rg_err e;

    rg_buf_init(&b, PAGE_MAX);
    if ((e = page_begin(&b, "Permissions requested", p->tenant_name)) ||
        (e = rg_buf_appends(&b, "<div class=\"who\">")) ||
        (e = rg_idp_html_escape(&b, p->upn)) ||
        (e = rg_buf_appends(&b, "</div><h1>Permissions requested</h1><p><strong>")) ||
        (e = rg_idp_html_escape(&b, p->app_name)) ||
        (e = rg_buf_appends(&b, "</strong></p><p>This app would like to:</p>"
                                "<ul class=\"perm\" id=\"permissions\">")))
        goto out;
    for (const char *s = p->scopes; *s;) {
        size_t n = strcspn(s, " ");
        const char *text = permission_text(s, n);
        if ((e = rg_buf_appends(&b, "<li>")))
            goto out;
        if (text)
            e = rg_idp_html_escape(&b, text);
        else { /* a permission we have no words for: show its name, as Entra shows its value */
            char name[RG_IDP_SCOPE_LEN_MAX + 1];
            snprintf(name, sizeof name, "%.*s", (int)n, s);
            e = rg_idp_html_escape(&b, name);
        }
        if (e || (e = rg_buf_appends(&b, "</li>")))
            goto out;
        s += n;
        while (*s == ' ')
            s++;
    }
    if ((e = rg_buf_appends(&b, "</ul><p>Accepting these permissions means that you allow this "
                                "app to use your data as specified in their terms of service "
                                "and privacy statement. You can change these permissions later."
                                "</p><form method=\"post\" action=\"")) ||
        (e = rg_idp_html_escape(&b, p->action)) ||
        (e = rg_buf_appends(&b, "\"><input type=\"hidden\" name=\"ctx\" value=\"")) ||
        (e = rg_idp_html_escape(&b, p->ctx)) ||
        (e = rg_buf_appends(&b, "\"><button type=\"submit\" name=\"accept\" value=\"1\" "
                                "id=\"idBtn_Accept\">Accept</button>"
                                "<button type=\"submit\" name=\"accept\" value=\"0\" "
                                "class=\"sec\" id=\"idBtn_Back\">Cancel</button></form>")))
        goto out;
    return page_send(resp, 200, &b, csp_static);
out:
    rg_buf_free(&b);
    return e;
}

rg_err rg_idp_page_frontchannel(struct rg_http_response *resp, const char *tenant_name,
                                const char *const *urls, size_t n, const char *next)
{
    struct rg_buf b, csp;
    rg_err e;

    rg_buf_init(&b, PAGE_MAX);
    rg_buf_init(&csp, 64 * 1024);
    /* the iframes may load exactly the apps' logout URLs, nothing else */
    if ((e = rg_buf_appends(&csp, "default-src 'none'; style-src 'unsafe-inline'; "
                                  "frame-ancestors 'none'; base-uri 'none'; frame-src")))
        goto out;
    for (size_t i = 0; i < n; i++) {
        size_t len = strcspn(urls[i], "?#");
        if ((e = rg_buf_appends(&csp, " ")) || (e = rg_buf_append(&csp, urls[i], len)))
            goto out;
    }
    if (n == 0 && (e = rg_buf_appends(&csp, " 'none'")))
        goto out;
    if ((e = page_begin(&b, "Sign out", tenant_name)))
        goto out;
    if (next && ((e = rg_buf_appends(&b, "<meta http-equiv=\"refresh\" content=\"1;url=")) ||
                 (e = rg_idp_html_escape(&b, next)) || (e = rg_buf_appends(&b, "\">"))))
        goto out;
    if ((e = rg_buf_appends(&b, "<h1>You signed out of your account</h1>"
                                "<p>Signing you out of the applications you used...</p>")))
        goto out;
    for (size_t i = 0; i < n; i++)
        if ((e = rg_buf_appends(&b, "<iframe hidden class=\"fcl\" width=\"0\" height=\"0\" "
                                    "src=\"")) ||
            (e = rg_idp_html_escape(&b, urls[i])) || (e = rg_buf_appends(&b, "\"></iframe>")))
            goto out;
    if (next && ((e = rg_buf_appends(&b, "<p><a id=\"continue\" href=\"")) ||
                 (e = rg_idp_html_escape(&b, next)) ||
                 (e = rg_buf_appends(&b, "\">Continue</a></p>"))))
        goto out;
    e = page_send(resp, 200, &b, csp.data);
    rg_buf_free(&csp);
    return e;
out:
    rg_buf_free(&csp);
    rg_buf_free(&b);
    return e;
}
