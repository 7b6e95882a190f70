#include "api/login.h"

#include <time.h>

#include "access/csrf.h"
#include "access/perm.h"
#include "access/ticket.h"
#include "base/log.h"
#include "base/mem.h"

void rg_reply_login(struct rg_call *c, const struct rg_snapshot *snap, const char *userid)
{
    char csrf[RG_CSRF_TOKEN_LEN + 1];
    char *ticket = NULL;
    json_t *cap = NULL, *data;
    time_t now = time(NULL);

    if (rg_login_ticket_create(snap->ticket_key, userid, now, &ticket) ||
        rg_csrf_token_create(snap->csrf_secret, userid, now, csrf) ||
        rg_perm_cap(&snap->users, userid, &cap)) {
        rg_error("cannot issue a ticket for '%s'", userid);
        rg_free_secret(ticket);
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
