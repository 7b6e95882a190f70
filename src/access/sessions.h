/* sessions.h — sign-out for stateless tickets: session records and a revocation list.
 *
 * Tickets (ticket.h) are stateless: `PVE:<user>:<TIME>::<SIG>` verifies for 2 hours whatever
 * happens on the server. Sign-out therefore needs server-side state, kept in the shared
 * configuration directory so that every server process sharing it agrees (design note:
 * docs/sessions.md). A ticket is identified by (user id, TIME); a ticket renewed from another
 * one joins that ticket's session.
 *
 * Layout of dir (the server uses <config>/priv/sessions, created 0700; files 0600):
 *   .lock                     exclusive lock of every change (10 s)
 *   revoked                   "<8 hex TIME> <userid>\n" per revoked ticket, kept until the
 *                             ticket would have expired anyway (TIME + RG_TICKET_MAX_AGE)
 *   u-<sha256 hex of userid>  JSON {userid, sessions:[{realm, sid, id_token, created,
 *                             tickets:[TIME...]}]}: one user's sessions (at most
 *                             RG_SESSIONS_PER_USER: a new one ends the oldest, whose tickets
 *                             are revoked; a chain keeps RG_SESSION_TICKETS_MAX ticket times,
 *                             a time it forgets is revoked at once; ticket times
 *                             older than the ticket lifetime are pruned on every write)
 *   s-<sha256 hex of sid>     the user ids (one a line, at most RG_SID_USERS_MAX) that have a
 *                             session with this IdP session id (front-channel logout by sid)
 * File names are hashes, so no byte of client input reaches a path. Files not written for
 * longer than the ticket lifetime (+ skew) are removed by a sweep (at most once a minute).
 *
 * Revocation check (every authenticated request and every renewal): rg_sessions_revoked
 * stats `revoked` and reloads it only when it changed (inode, size, mtime in ns), so the hot
 * path is one stat() and a scan of the (short-lived, bounded) list under a short mutex. An
 * unreadable list fails closed (the ticket counts as revoked, with a log line).
 *
 * Errors: RG_ERR_INVALID (bad user id / sid / ticket), RG_ERR_LIMIT (revocation list full or
 * a value over its bound), RG_ERR_BUSY (lock), RG_ERR_IO, RG_ERR_NOMEM.
 * Thread safety: one struct rg_sessions may be shared by all threads; changes are serialised
 * by the file lock (across processes too).
 * Ownership: struct rg_session_ended members are malloc'd; rg_session_ended_clear frees them
 * (the ID token is wiped). */
#ifndef RG_ACCESS_SESSIONS_H
#define RG_ACCESS_SESSIONS_H

#include <stddef.h>
#include <time.h>

#include "access/ids.h"
#include "base/err.h"

#define RG_SESSIONS_PER_USER 32
#define RG_SESSION_TICKETS_MAX 64      /* ticket times kept per session (renewals) */
#define RG_SESSION_SID_MAX 256
#define RG_SESSION_IDTOKEN_MAX 16384   /* a longer ID token is not kept (no hint then) */
#define RG_SESSION_USERFILE_MAX (1024 * 1024)
#define RG_REVOKED_MAX 65536
#define RG_SID_USERS_MAX 16
#define RG_SESSION_SKEW 300            /* tickets may be this far in the future (ticket.h) */

struct rg_sessions;

/* What a login knows about its session; every member may be NULL (password logins). */
struct rg_session_info {
    const char *realm;
    const char *sid;       /* ID token `sid` (or session_state) */
    const char *id_token;  /* raw ID token, for the logout's id_token_hint */
};

/* What rg_sessions_end found: the session's realm, sid and ID token (""/NULL when the
 * ticket had no session record). */
struct rg_session_ended {
    char realm[RG_REALMID_MAX + 1];
    char *sid;
    char *id_token;
    size_t revoked;        /* ticket times put on the revocation list */
};

/* Opens (creates 0700) dir. */
rg_err rg_sessions_open(const char *dir, struct rg_sessions **out, struct rg_msg *msg);
void rg_sessions_close(struct rg_sessions *s);

/* Records the ticket (userid, t). When parent >= 0 and a session of userid holds ticket time
 * parent (a renewal), t joins that session; else a new session is started with info. */
rg_err rg_sessions_record(struct rg_sessions *s, const char *userid, time_t t, time_t parent,
                          const struct rg_session_info *info, time_t now, struct rg_msg *msg);

/* Ends the session holding ticket (userid, t): every ticket time of it (t included even
 * when there is no record) goes on the revocation list, and the record is removed. */
rg_err rg_sessions_end(struct rg_sessions *s, const char *userid, time_t t, time_t now,
                       struct rg_session_ended *out, struct rg_msg *msg);
void rg_session_ended_clear(struct rg_session_ended *e);

/* Front-channel logout: ends every session whose sid equals sid (and, when realms is not
 * NULL, whose realm is in the NULL-terminated list). *ended = how many. An unknown sid is
 * not an error (*ended = 0). */
rg_err rg_sessions_end_sid(struct rg_sessions *s, const char *sid, const char *const *realms,
                           time_t now, size_t *ended, struct rg_msg *msg);

/* 1 when ticket (userid, t) is revoked (or the list cannot be read: fail closed), else 0. */
int rg_sessions_revoked(struct rg_sessions *s, const char *userid, time_t t);

/* TIME of a ticket "<PREFIX>:...:<8 hex>::<SIG>" (syntax only: verify the ticket first). */
rg_err rg_ticket_time(const char *ticket, time_t *out);

#endif
