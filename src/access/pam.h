/* pam.h — password checks of the `pam` realm through a separate PAM helper process.
 *
 * Why a helper: PAM modules are large, run arbitrary configured code and want root (to read
 * /etc/shadow). The network-facing server therefore never loads libpam; as in OpenSSH's
 * privilege separation, it forwards {user, password, rhost} to `realmgate-pam-helper`
 * (src/pam/helper.c), which runs PAM service `realmgate` (RG_PAM_SERVICE) and answers
 * yes/no plus a short reason. The helper is started with posix_spawn (safe in a threaded
 * process) on stdin/stdout = one end of a socketpair, with an empty environment.
 *
 * Wire protocol (both directions: a frame = u32 big-endian payload length + payload):
 *   request payload: u8 version (1), then three fields, each u16 big-endian length + bytes:
 *                    user (1..RG_PAM_USER_MAX, no control chars, no ':' '/' or whitespace),
 *                    password (1..RG_PAM_PASSWORD_MAX, no NUL), rhost (0..RG_PAM_RHOST_MAX).
 *   reply payload:   u8 status (RG_PAM_OK / RG_PAM_DENIED / RG_PAM_FAILED), u16 length +
 *                    reason (0..RG_PAM_REASON_MAX bytes, printable ASCII).
 * A frame above RG_PAM_FRAME_MAX or any field out of bounds is a protocol error; the helper
 * exits on one (the client then restarts it).
 *
 * Client: a process-wide pool of up to RG_PAM_POOL_MAX helpers, each serving one request at
 * a time, started lazily on first use (or eagerly by rg_pam_start at server start-up) and
 * restarted after it dies, times out or breaks the protocol. A request waits at most
 * RG_PAM_QUEUE_TIMEOUT_MS for a free helper (RG_ERR_BUSY) and the helper has the configured
 * timeout (default RG_PAM_TIMEOUT_MS; PAM failure delays are a few seconds) to answer, else
 * it is killed (RG_ERR_IO). Frames holding a password are wiped after use. The helper turns
 * off libpam's failure delay: refused logins are delayed by the server, without holding a
 * helper or a worker thread.
 *
 * Errors of rg_pam_authenticate: RG_ERR_AUTH (PAM refused; msg = PAM's reason),
 * RG_ERR_INVALID (user/password/rhost out of bounds), RG_ERR_CONFIG (helper cannot be
 * started), RG_ERR_IO (helper died, timed out or answered nonsense twice), RG_ERR_BUSY.
 * Passwords never appear in messages or logs.
 *
 * Thread-safety: rg_pam_authenticate may run from any number of threads. rg_pam_configure
 * and rg_pam_shutdown must not run concurrently with requests. */
#ifndef RG_ACCESS_PAM_H
#define RG_ACCESS_PAM_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define RG_PAM_SERVICE "realmgate"
#define RG_PAM_HELPER_NAME "realmgate-pam-helper"
#define RG_PAM_USER_MAX 64
#define RG_PAM_PASSWORD_MAX 4096
#define RG_PAM_RHOST_MAX 63
#define RG_PAM_REASON_MAX 200
#define RG_PAM_FRAME_MAX (1 + 3 * 2 + RG_PAM_USER_MAX + RG_PAM_PASSWORD_MAX + RG_PAM_RHOST_MAX)
#define RG_PAM_POOL_MAX 4
#define RG_PAM_TIMEOUT_MS 20000
#define RG_PAM_QUEUE_TIMEOUT_MS 25000

enum rg_pam_status { RG_PAM_DENIED = 0, RG_PAM_OK = 1, RG_PAM_FAILED = 2 };

/* A decoded request; user/rhost/password point into the decoded frame (not copied). */
struct rg_pam_request {
    char user[RG_PAM_USER_MAX + 1];
    char rhost[RG_PAM_RHOST_MAX + 1];
    char password[RG_PAM_PASSWORD_MAX + 1]; /* wipe after use */
};

/* ---- wire (shared by client and helper) ---- */
/* Encodes a whole request frame (length prefix included) into out (>= 4 + RG_PAM_FRAME_MAX
 * bytes); *outlen = bytes used. RG_ERR_INVALID if a field is out of bounds. */
rg_err rg_pam_request_encode(const char *user, const char *password, const char *rhost,
                             unsigned char *out, size_t outsz, size_t *outlen);
/* Decodes a request payload (without the length prefix). RG_ERR_INVALID on any violation. */
rg_err rg_pam_request_decode(const unsigned char *p, size_t len, struct rg_pam_request *req);
/* Encodes a reply frame; reason is truncated to RG_PAM_REASON_MAX and non-printable bytes
 * become '?'. */
rg_err rg_pam_reply_encode(enum rg_pam_status st, const char *reason, unsigned char *out,
                           size_t outsz, size_t *outlen);
rg_err rg_pam_reply_decode(const unsigned char *p, size_t len, enum rg_pam_status *st,
                           char reason[RG_PAM_REASON_MAX + 1]);
/* Whether a PAM user name is acceptable (the helper checks it again). */
int rg_pam_user_ok(const char *user);

/* ---- client ---- */
/* helper_path NULL = RG_PAM_HELPER_NAME next to the running executable; pool_size 0 =
 * RG_PAM_POOL_MAX (and capped there); timeout_ms 0 = RG_PAM_TIMEOUT_MS. Stops running helpers. */
rg_err rg_pam_configure(const char *helper_path, unsigned pool_size, int timeout_ms);
/* Starts one helper now (server start-up), so a broken installation shows at once. */
rg_err rg_pam_start(struct rg_msg *msg);
rg_err rg_pam_authenticate(const char *user, const char *password, const char *rhost,
                           struct rg_msg *msg);
/* Pids of the running helpers (0 = slot idle); for tests and diagnostics. */
size_t rg_pam_helper_pids(int *pids, size_t max);
/* Closes the connections and reaps the helpers. */
void rg_pam_shutdown(void);

#endif
