#include "base/utf8.h"

size_t rg_utf8_next(const char *s, unsigned *cp)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n;
    unsigned v;

    if (p[0] < 0x80) {
        *cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        n = 2, v = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        n = 3, v = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        n = 4, v = p[0] & 0x07;
    else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL of a truncated sequence */
            return 0;
        v = v << 6 | (p[i] & 0x3f);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10ffff)) ||
        (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

bool rg_unicode_deceptive(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0xa0) ||      /* C1 controls (U+0085 NEL), no-break space */
           cp == 0x1680 || cp == 0x180e ||     /* Ogham space, Mongolian vowel separator */
           (cp >= 0x2000 && cp <= 0x200f) ||   /* spaces, zero-width, LRM/RLM */
           (cp >= 0x2028 && cp <= 0x202f) ||   /* separators, bidi embeddings, NNBSP */
           (cp >= 0x205f && cp <= 0x2064) ||   /* math space, word joiner, invisibles */
           (cp >= 0x2066 && cp <= 0x2069) ||   /* bidi isolates */
           cp == 0x3000 || cp == 0xfeff;       /* ideographic space, BOM / ZWNBSP */
}
