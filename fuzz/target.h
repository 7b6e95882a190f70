/* target.h — the contract between a fuzz target and its two drivers.
 *
 * Each fuzz/fuzz_<name>.c defines rg_fuzz_one: it feeds one input (any bytes, any length) to
 * the product's parsers exactly as the server would, and returns a verdict: 0 = refused,
 * non-zero = accepted (a target may set several bits, one per parser path). It must never
 * crash, hang, leak or keep state between calls.
 * Drivers: fuzz/entry.c (libFuzzer, `make fuzz`, clang with -fsanitize=fuzzer,address) and
 * fuzz/replay.c (a plain main() that `make check` runs through CTest on the seed corpora:
 * files named ok-* must be accepted, bad-* refused, and with --all-refused every file). */
#ifndef RG_FUZZ_TARGET_H
#define RG_FUZZ_TARGET_H

#include <stddef.h>
#include <stdint.h>

extern const char rg_fuzz_name[];
int rg_fuzz_one(const uint8_t *data, size_t size);

#endif
