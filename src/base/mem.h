/* mem.h — handling secrets: constant-time comparison and wiping.
 *
 * rg_ct_eq / rg_ct_streq take time that depends only on the lengths, never on where the
 * inputs differ. rg_wipe cannot be optimised away. rg_free_secret wipes a NUL-terminated
 * string and frees it (NULL is fine). */
#ifndef RG_BASE_MEM_H
#define RG_BASE_MEM_H

#include <stdbool.h>
#include <stddef.h>

bool rg_ct_eq(const void *a, size_t alen, const void *b, size_t blen);
bool rg_ct_streq(const char *a, const char *b);
void rg_wipe(void *p, size_t len);
void rg_free_secret(char *s);

#endif
