/* entry.c — libFuzzer entry point for any fuzz/fuzz_<name>.c (see target.h). */
#include "base/log.h"
#include "target.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* the parsers log every refusal; millions of lines would only slow the fuzzer down */
    rg_log_set_level(RG_LOG_ERR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    (void)rg_fuzz_one(data, size);
    return 0;
}
