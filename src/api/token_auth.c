/* token_auth.c — API-token authentication (spec §4.4, §7).
 *
 * Header: "Authorization: PVEAPIToken=<user>@<realm>!<token>=<secret>", consulted only when no
 * ticket is present; the value is split at the LAST '=' (a secret never contains '=', a token
 * id never does either, but the user name may). The owner must exist, be enabled and not be
 * expired; the token must exist in user.cfg and not be expired; the secret must match the
 * salted hash in priv/token.cfg (constant-time, tokens.h), read from the request's snapshot. The authenticated subject is the
 * full token id, so permission checks apply the token's own ACLs and, for privilege-separated
 * tokens, the intersection with the owner (perm.h). No CSRF token is required.
 *
 * Every failure is 401 "authentication failure"; the reason goes to the log, never the secret.
 * Calls Proxmox refuses for tokens (they need a password or a proper ticket) answer 401
 * "URI '<uri>' not available with API token, need proper ticket.". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/tokens.h"
#include "api/call.h"
#include "base/log.h"
#include "base/mem.h"

static int has_token_header(const struct rg_call *c)
{
    const char *h = rg_http_header(c->req, "Authorization");
    return h && strncmp(h, "PVEAPIToken=", 12) == 0;
}

int rg_api_token_refused(struct rg_call *c)
{
    const char *m = c->req->method;

    if (!has_token_header(c))
        return 0;
    if ((!strcmp(m, "POST") && !strcmp(c->path, "/access/ticket")) ||
        (!strcmp(m, "PUT") && !strcmp(c->path, "/access/password"))) {
        rg_info("request %s %s refused: not available with API token; rhost=%s", m,
                c->req->path, c->req->remote_ip);
        rg_reply_error(c, 401, "URI '%s' not available with API token, need proper ticket.",
                       c->path);
        return 1;
    }
    return 0;
}

int rg_api_token_authenticate(struct rg_call *c, const char *value)
{
    char tokenid[RG_TOKENID_MAX + 1], secret[RG_TOKEN_SECRET_MAX + 1];
    struct rg_msg msg = {{0}};
    const char *eq = strrchr(value, '=');
    size_t idlen, seclen;
    rg_err e;

    if (!eq) {
        snprintf(msg.text, sizeof msg.text, "malformed API token header");
        goto fail;
    }
    idlen = (size_t)(eq - value);
    seclen = strlen(eq + 1);
    if (idlen == 0 || idlen > RG_TOKENID_MAX || seclen == 0 || seclen > RG_TOKEN_SECRET_MAX) {
        snprintf(msg.text, sizeof msg.text, "malformed API token header");
        goto fail;
    }
    memcpy(tokenid, value, idlen);
    tokenid[idlen] = '\0';
    memcpy(secret, eq + 1, seclen);
    secret[seclen] = '\0';
    if (!rg_tokenid_check(tokenid)) {
        snprintf(msg.text, sizeof msg.text, "invalid token id");
        goto fail;
    }
    if ((e = rg_usercfg_check_token(&c->snap->users, tokenid, time(NULL), &msg)))
        goto fail;
    if ((e = rg_tokencfg_verify(&c->snap->tokens, tokenid, secret))) {
        snprintf(msg.text, sizeof msg.text, "%s",
                 e == RG_ERR_NOTFOUND ? "no secret stored for token" : "invalid token secret");
        goto fail;
    }
    rg_wipe(secret, sizeof secret);
    snprintf(c->userid, sizeof c->userid, "%s", tokenid);
    c->api_token = 1;
    c->authenticated = 1;
    return 0;
fail:
    rg_wipe(secret, sizeof secret);
    rg_info("request %s %s refused: API token: %s; rhost=%s", c->req->method, c->req->path,
            msg.text, c->req->remote_ip);
    rg_reply_error(c, 401, "authentication failure");
    return -1;
}
