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

/* Code point of the valid n-byte UTF-8 sequence at p (n >= 2). */
static unsigned utf8_cp(const unsigned char *p, size_t n)
{
    unsigned cp = p[0] & (n == 2 ? 0x1f : n == 3 ? 0x0f : 0x07);

    for (size_t i = 1; i < n; i++)
        cp = cp << 6 | (p[i] & 0x3f);
    return cp;
}

/* Characters that act on a terminal or on how text is laid out rather than showing:
 * C1 controls (U+0080-U+009F, e.g. U+009B, an escape sequence introducer), the bidi marks,
 * embeddings, overrides and isolates, and the line and paragraph separators. */
static int invisible_control(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

const char *rg_log_sanitize(const char *in, char *out, size_t outsz)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t o = 0;

    if (outsz == 0)
        return out;
    while (*p) {
        size_t n = utf8_len(p);
        const char *src = (const char *)p;
        char esc[8];
        size_t len = n;

        if (n == 0 || (n == 1 && (*p < 0x20 || *p == 0x7f))) {
            /* control characters and invalid UTF-8 never reach the log as raw bytes */
            len = (size_t)snprintf(esc, sizeof esc, "\\x%02x", *p);
            src = esc;
            n = 1;
        } else if (n > 1 && invisible_control(utf8_cp(p, n))) {
            len = (size_t)snprintf(esc, sizeof esc, "\\u%04x", utf8_cp(p, n));
            src = esc;
        }
        if (o + len >= outsz)
            break;
        memcpy(out + o, src, len);
        o += len;
        p += n;
    }
    out[o] = '\0';
    return out;
}
