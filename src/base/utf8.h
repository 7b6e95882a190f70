/* utf8.h — decoding UTF-8 strictly, and the characters that deceive a reader.
 *
 * rg_utf8_next accepts only shortest-form UTF-8 of scalar values (no surrogates, nothing
 * above U+10FFFF). rg_unicode_deceptive names the non-ASCII characters that show no glyph of
 * their own yet change how text reads: C1 controls, Unicode whitespace (Perl's \s beyond
 * ASCII), zero-width characters, bidi marks, embeddings, overrides and isolates, the BOM.
 * Logs and CLI tables escape them; identifiers refuse them. No state, thread-safe. */
#ifndef RG_BASE_UTF8_H
#define RG_BASE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1-4) of the valid UTF-8 sequence at the NUL-terminated p, its code point in *cp;
 * 0 when p does not start one (invalid, overlong, surrogate, truncated). */
size_t rg_utf8_next(const char *p, unsigned *cp);
bool rg_unicode_deceptive(unsigned cp);

#endif
