/* logout_api.c — sign-out: POST /access/logout (RP-initiated) and
 * GET /access/openid/frontchannel-logout (the IdP's front-channel call). Design:
 * docs/sessions.md; state: access/sessions.h.
 *
 * POST /access/logout (ticket + CSRF, router.c; API tokens are refused with 401, they are
 * no session): ends the caller's session first (every
 * ticket of it is revoked, renewals included), then — when the session came from an openid
 * realm whose provider advertises end_session_endpoint — answers with the URL the browser
 * should visit: end_session_endpoint?id_token_hint&client_id&post_logout_redirect_uri&state
 * (OIDC RP-Initiated Logout 1.0 §2). post_logout_redirect_uri is the client's `redirect-url`
 * (same checks as the login's redirect-url; must be registered at the provider), `state` a
 * fresh random value that nothing here acts on when it comes back (LO-02). data is the URL,
 * or null when there is nothing to visit. If the provider cannot be reached the local
 * sign-out still stands; the reply is null and the log says why.
 *
 * GET /access/openid/frontchannel-logout?sid=<sid>[&iss=<issuer>] (no ticket: the IdP loads
 * it in a hidden iframe where the browser often drops our cookies): ends every session whose
 * ID token carried that sid. With `iss` only sessions of realms whose issuer-url equals it
 * are ended (an unknown iss ends nothing, LO-09). 200 for a well-formed request, known sid
 * or not (500 only when the revocation could not be written), with Cache-Control: no-store; no X-Frame-Options, so the IdP's iframe
 * may load it (the page shows nothing worth framing). A missing or repeated sid is 400. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/call.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"

#define LOGOUT_URL_MAX (32 * 1024)
#define ISS_PARAM_MAX 256

/* The end-session URL for a session of openid realm r, or NULL (logged) when there is none. */
static char *end_session_url(struct rg_call *c, const struct rg_realm *r, const char *id_token,
                             const char *redirect)
{
    const struct rg_oidc_provider *prov = NULL;
    struct rg_oidc_cache *cache = rg_oidc_cache(c->api->oidc);
    struct rg_msg why = {{0}};
    struct rg_buf url;
    char *state = NULL, *out = NULL;
    const char *ep;
    rg_err e;

    if (rg_oidc_provider_get(cache, r->issuer_url, r->ca_file, &prov, &why)) {
        rg_warn("logout: realm '%s': provider metadata unavailable (%s); signed out locally "
                "only", r->id, why.text);
        return NULL;
    }
    ep = prov->disc.end_session_endpoint;
    if (!ep) {
        rg_info("logout: realm '%s': provider has no end_session_endpoint; signed out locally",
                r->id);
        rg_oidc_provider_release(cache, prov);
        return NULL;
    }
    state = rg_random_token(16);
    rg_buf_init(&url, LOGOUT_URL_MAX);
    e = state ? rg_buf_appends(&url, ep) : RG_ERR_CRYPTO;
    if (!e)
        e = rg_buf_appends(&url, strchr(ep, '?') ? "&" : "?");
    if (!e && id_token) {
        e = rg_buf_appends(&url, "id_token_hint=");
        if (!e)
            e = rg_url_encode(&url, id_token);
        if (!e)
            e = rg_buf_appends(&url, "&");
    }
    if (!e)
        e = rg_buf_appends(&url, "client_id=");
    if (!e)
        e = rg_url_encode(&url, r->client_id);
    if (!e && redirect) {
        e = rg_buf_appends(&url, "&post_logout_redirect_uri=");
        if (!e)
            e = rg_url_encode(&url, redirect);
    }
    if (!e)
        e = rg_buf_appends(&url, "&state=");
    if (!e)
        e = rg_url_encode(&url, state);
    if (!e)
        out = rg_buf_steal(&url);
    if (!out)
        rg_error("logout: realm '%s': cannot build the end-session URL (%s)", r->id,
                 rg_err_str(e ? e : RG_ERR_NOMEM));
    rg_buf_free(&url);
    free(state);
    rg_oidc_provider_release(cache, prov);
    return out;
}

void rg_h_logout(struct rg_call *c)
{
    const char *redirect = rg_http_param(c->req, "redirect-url");
    struct rg_session_ended ended;
    struct rg_msg msg = {{0}};
    const struct rg_realm *r;
    char *url = NULL;

    if (c->api_token) {
        /* an API token is no session: it is revoked by deleting it, not by logging out */
        rg_reply_error(c, 401, "Permission denied - logout needs a ticket, not an API token");
        return;
    }
    if (redirect && !*redirect)
        redirect = NULL;
    if (redirect && !rg_oidc_redirect_url_valid(redirect)) {
        rg_reply_error(c, 400, "parameter verification failed: redirect-url: invalid URL "
                               "(absolute http(s), at most %d characters)", RG_OIDC_REDIRECT_MAX);
        return;
    }
    if (rg_sessions_end(c->api->sessions, c->userid, c->ticket_time, time(NULL), &ended,
                        &msg)) {
        rg_error("logout of '%s' failed: %s", c->userid, msg.text);
        rg_reply_error(c, 503, "sign-out failed, try again");
        return;
    }
    rg_info("logout: '%s' signed out (%zu ticket(s) revoked); rhost=%s", c->userid,
            ended.revoked, c->req->remote_ip);
    r = ended.realm[0] ? rg_domains_find(&c->snap->domains, ended.realm) : NULL;
    if (r && strcmp(r->type, "openid") == 0 && r->issuer_url && r->client_id)
        url = end_session_url(c, r, ended.id_token, redirect);
    rg_session_ended_clear(&ended);
    rg_reply_data(c, url ? json_string(url) : NULL);
    rg_free_secret(url);
}

void rg_h_openid_frontchannel_logout(struct rg_call *c)
{
    const char *sid = rg_params_get(&c->req->query, "sid");
    const char *iss = rg_params_get(&c->req->query, "iss");
    const char *realms[RG_DOMAINS_MAX_REALMS + 1];
    const struct rg_domains *d = &c->snap->domains;
    struct rg_msg msg = {{0}};
    size_t nr = 0, ended = 0;

    if (!sid || rg_params_count(&c->req->query, "sid") != 1 ||
        rg_params_count(&c->req->query, "iss") > 1 || (iss && strlen(iss) > ISS_PARAM_MAX)) {
        rg_reply_error(c, 400, "parameter verification failed: exactly one sid is required");
        return;
    }
    if (iss) {
        for (size_t i = 0; i < d->n && nr < RG_DOMAINS_MAX_REALMS; i++)
            if (strcmp(d->realms[i].type, "openid") == 0 && d->realms[i].issuer_url &&
                strcmp(d->realms[i].issuer_url, iss) == 0)
                realms[nr++] = d->realms[i].id;
        if (nr == 0) {
            rg_info("front-channel logout: iss names no realm; ignored; rhost=%s",
                    c->req->remote_ip);
            rg_reply_data(c, NULL);
            return;
        }
    }
    realms[nr] = NULL;
    if (rg_sessions_end_sid(c->api->sessions, sid, iss ? realms : NULL, time(NULL), &ended,
                            &msg)) {
        rg_error("front-channel logout failed: %s", msg.text);
        rg_reply_error(c, 500, "sign-out failed");
        return;
    }
    {
        rg_info("front-channel logout: %zu session(s) ended; rhost=%s", ended,
                c->req->remote_ip);
    }
    rg_reply_data(c, NULL);
}
