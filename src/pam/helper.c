/* realmgate-pam-helper — the only realmgate process that runs PAM modules.
 *
 * Started by the server or the CLI (src/access/pam.c) with stdin and stdout connected to one
 * socketpair end and an empty environment. It reads request frames (wire format in
 * access/pam.h), runs PAM service RG_PAM_SERVICE for each (pam_authenticate with
 * PAM_RHOST = the client address, then pam_acct_mgmt, like sshd), and writes one reply per
 * request. One request at a time: the client keeps a small pool of helpers for parallelism.
 *
 * The conversation function answers only the password prompt (PAM_PROMPT_ECHO_OFF), once;
 * any other prompt (echo-on questions, a second password, OTP challenges) fails the
 * conversation, and info/error texts are accepted without reply. The password buffer is
 * wiped after each request; libpam's failure delay is disabled (the server delays refusals
 * without blocking); a protocol violation or EOF ends the process (the client
 * restarts it on demand). Reasons sent back are pam_strerror texts, never the password. */
#include <errno.h>
#include <security/pam_appl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "access/pam.h"
#include "base/mem.h"

struct conv_ctx {
    const char *password;
    int used;
};

static int conv(int n, const struct pam_message **msgs, struct pam_response **resp, void *data)
{
    struct conv_ctx *c = data;
    struct pam_response *r;

    if (n <= 0 || n > PAM_MAX_NUM_MSG)
        return PAM_CONV_ERR;
    if (!(r = calloc((size_t)n, sizeof *r)))
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        switch (msgs[i]->msg_style) {
        case PAM_PROMPT_ECHO_OFF:
            if (c->used)
                goto fail;
            if (!(r[i].resp = strdup(c->password)))
                goto fail;
            c->used = 1;
            break;
        case PAM_TEXT_INFO:
        case PAM_ERROR_MSG:
            break;
        default:
            goto fail;
        }
    }
    *resp = r;
    return PAM_SUCCESS;
fail:
    for (int i = 0; i < n; i++)
        rg_free_secret(r[i].resp);
    free(r);
    return PAM_CONV_ERR;
}

/* Replaces libpam's failure delay (pam_unix asks for ~2 s after a failed attempt): a sleeping
 * helper would hold a pool slot, and through it a server worker thread, for nothing. The
 * server delays every refused login itself without blocking (3 s, as Proxmox). */
static void no_fail_delay(int retval, unsigned usec_delay, void *appdata)
{
    (void)retval;
    (void)usec_delay;
    (void)appdata;
}

/* Runs PAM for one request: RG_PAM_OK, RG_PAM_DENIED (credentials refused) or RG_PAM_FAILED
 * (PAM itself broken, e.g. service file unreadable). reason gets pam_strerror's text. */
static enum rg_pam_status check(const struct rg_pam_request *rq, char *reason, size_t rsz)
{
    struct conv_ctx cc = {rq->password, 0};
    struct pam_conv pc = {conv, &cc};
    pam_handle_t *ph = NULL;
    enum rg_pam_status st;
    int rc;

    rc = pam_start(RG_PAM_SERVICE, rq->user, &pc, &ph);
    if (rc != PAM_SUCCESS) {
        snprintf(reason, rsz, "pam_start: %s", pam_strerror(ph, rc));
        return RG_PAM_FAILED;
    }
    rc = pam_set_item(ph, PAM_FAIL_DELAY, (const void *)no_fail_delay);
    if (rc == PAM_SUCCESS && rq->rhost[0])
        rc = pam_set_item(ph, PAM_RHOST, rq->rhost);
    if (rc == PAM_SUCCESS)
        rc = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
    if (rc == PAM_SUCCESS)
        rc = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK);
    if (rc == PAM_SUCCESS) {
        st = RG_PAM_OK;
        snprintf(reason, rsz, "ok");
    } else {
        st = (rc == PAM_ABORT || rc == PAM_BUF_ERR || rc == PAM_SYSTEM_ERR) ? RG_PAM_FAILED
                                                                           : RG_PAM_DENIED;
        snprintf(reason, rsz, "%s", pam_strerror(ph, rc));
    }
    pam_end(ph, rc);
    return st;
}

static int read_full(int fd, unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_full(int fd, const unsigned char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static unsigned char frame[RG_PAM_FRAME_MAX];
    static struct rg_pam_request rq;
    int status = 0;

    (void)argv;
    if (argc != 1 || isatty(0)) {
        fprintf(stderr, "%s: internal helper of realmgate, not meant to be run by hand\n",
                RG_PAM_HELPER_NAME);
        return 2;
    }
    /* descriptors another server thread opened without close-on-exec end here */
    close_range(3, ~0U, 0);
    signal(SIGPIPE, SIG_DFL);
    for (;;) {
        unsigned char hdr[4], out[4 + 3 + RG_PAM_REASON_MAX];
        char reason[RG_PAM_REASON_MAX + 1] = "";
        enum rg_pam_status st;
        size_t n, outlen;

        if (read_full(0, hdr, 4))
            break; /* EOF: the client closed its end */
        n = ((size_t)hdr[0] << 24) | ((size_t)hdr[1] << 16) | ((size_t)hdr[2] << 8) | hdr[3];
        if (n > sizeof frame || read_full(0, frame, n) ||
            rg_pam_request_decode(frame, n, &rq) != RG_OK) {
            rg_wipe(frame, sizeof frame);
            fprintf(stderr, "%s: protocol error, exiting\n", RG_PAM_HELPER_NAME);
            status = 1;
            break;
        }
        rg_wipe(frame, n);
        st = check(&rq, reason, sizeof reason);
        rg_wipe(&rq, sizeof rq);
        if (rg_pam_reply_encode(st, reason, out, sizeof out, &outlen) != RG_OK ||
            write_full(1, out, outlen)) {
            status = 1;
            break;
        }
    }
    rg_wipe(&rq, sizeof rq);
    return status;
}
