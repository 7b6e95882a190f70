#include "api/login.h"

#include <time.h>

#include "access/csrf.h"
#include "access/perm.h"
#include "access/ticket.h"
#include "base/log.h"
#include "base/mem.h"

void rg_reply_login(struct rg_call *c, const struct rg_snapshot *snap, const char *userid)
{
    rg_reply_login_session(c, snap, userid, NULL, -1);
}

void rg_reply_login_session(struct rg_call *c, const struct rg_snapshot *snap,
                            const char *userid, const struct rg_session_info *info,
                            time_t parent)
{
    struct rg_msg msg = {{0}};
    char csrf[RG_CSRF_TOKEN_LEN + 1];
    char *ticket = NULL;
    json_t *cap = NULL, *data;
    time_t now = time(NULL), t = now;

    /* A ticket is named by (user, TIME) on the revocation list: a login in the same second
     * as a sign-out of that user would get a dead ticket, so it takes the next free second
     * (tickets may lie up to 5 minutes in the future, ticket.h). */
    while (t < now + 10 && rg_sessions_revoked(c->api->sessions, userid, t))
        t++;
    if (rg_sessions_revoked(c->api->sessions, userid, t)) {
        /* ten signed-out seconds in a row: never hand out a ticket that is already dead */
        rg_warn("login of '%s' refused: every ticket time up to %lds ahead is signed out",
                userid, (long)(t - now));
        rg_reply_error(c, 503, "too many sign-ins and sign-outs; try again in a few seconds");
        return;
    }
    if (rg_login_ticket_create(snap->ticket_key, userid, t, &ticket) ||
        rg_csrf_token_create(snap->csrf_secret, userid, now, csrf) ||
        rg_perm_cap(&snap->users, userid, &cap)) {
        rg_error("cannot issue a ticket for '%s'", userid);
        rg_free_secret(ticket);
        rg_reply_error(c, 500, "internal error");
        return;
    }
    if (rg_sessions_record(c->api->sessions, userid, t, parent, info, now, &msg)) {
        rg_error("cannot record the session of '%s': %s", userid, msg.text);
        rg_free_secret(ticket);
        json_decref(cap);
        rg_wipe(csrf, sizeof csrf);
        rg_reply_error(c, 500, "internal error");
        return;
    }
    data = json_object();
    json_object_set_new(data, "username", json_string(userid));
    json_object_set_new(data, "ticket", json_string(ticket));
    json_object_set_new(data, "CSRFPreventionToken", json_string(csrf));
    json_object_set_new(data, "cap", cap);
    rg_reply_data(c, data);
    rg_free_secret(ticket);
    rg_wipe(csrf, sizeof csrf);
}
