#include "base/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum rg_log_level min_level = RG_LOG_INFO;
static const char *log_ident = "realmgate";

void rg_log_set_level(enum rg_log_level lvl) { min_level = lvl; }
void rg_log_set_ident(const char *ident) { log_ident = ident; }

void rg_log(enum rg_log_level lvl, const char *fmt, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    char line[2048], safe[2048 * 4 + 8];
    char stamp[32];
    struct tm tm;
    time_t now;
    va_list ap;
    size_t n;

    if (lvl < min_level)
        return;
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    n = (size_t)snprintf(line, sizeof line, "%s %s[%s]: ", stamp, log_ident, names[lvl]);
    if (n < sizeof line) {
        va_start(ap, fmt);
        vsnprintf(line + n, sizeof line - n, fmt, ap);
        va_end(ap);
    }
    /* one write per line so that lines from worker threads do not interleave */
    fprintf(stderr, "%s\n", rg_log_sanitize(line, safe, sizeof safe));
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 if p does not start one. */
static size_t utf8_len(const unsigned char *p)
{
    size_t n;
    unsigned cp;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4, cp = p[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    /* overlong forms, surrogates and values above U+10FFFF */
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

const char *rg_log_sanitize(const char *in, char *out, size_t outsz)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;

    while (*p && o + 5 < outsz) {
        size_t n = utf8_len(p);
        if (n == 1 && *p >= 0x20 && *p != 0x7f) {
            out[o++] = (char)*p++;
        } else if (n > 1) {
            memcpy(out + o, p, n);
            o += n;
            p += n;
        } else {
            /* control characters and invalid UTF-8 never reach the log as raw bytes */
            o += (size_t)snprintf(out + o, outsz - o, "\\x%02x", *p++);
        }
    }
    out[o] = '\0';
    return out;
}
