/* replay.c — runs a fuzz target (target.h) over seed corpora without libFuzzer, so the normal
 * test run (CTest, gcc) proves the seeds neither crash nor change verdict.
 *
 * usage: fuzz_replay_<name> [--all-refused] DIR...
 * Every regular file in each DIR is fed to rg_fuzz_one (each input in a buffer of exactly
 * its size, so reads past the end are caught by sanitizers/valgrind). Expectations by name:
 * ok-* must be accepted (verdict != 0), bad-* refused (0); with --all-refused (given before
 * the directories it applies to) every file must be refused. Prints one line per failure
 * and "<target>: N inputs, M failed"; exit 1 on any failure or an empty/missing DIR. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fsutil.h"
#include "target.h"

#define INPUT_MAX (16 * 1024 * 1024)

static int replay_dir(const char *dir, int all_refused, int *inputs)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int failed = 0, seen = 0;

    if (!d) {
        fprintf(stderr, "%s: cannot open corpus %s\n", rg_fuzz_name, dir);
        return 1;
    }
    while ((de = readdir(d)) != NULL) {
        char path[4096];
        struct rg_buf b;
        unsigned char *copy;
        int verdict, want = -1;

        if (de->d_name[0] == '.')
            continue;
        if (rg_path_join(path, sizeof path, dir, de->d_name) ||
            rg_file_read(path, INPUT_MAX, &b) != RG_OK) {
            fprintf(stderr, "%s: cannot read %s\n", rg_fuzz_name, path);
            failed++;
            continue;
        }
        copy = malloc(b.len ? b.len : 1);
        if (!copy) {
            rg_buf_free(&b);
            return failed + 1;
        }
        if (b.len)
            memcpy(copy, b.data, b.len);
        verdict = rg_fuzz_one(copy, b.len);
        free(copy);
        rg_buf_free(&b);
        seen++;
        if (all_refused || strncmp(de->d_name, "bad-", 4) == 0)
            want = 0;
        else if (strncmp(de->d_name, "ok-", 3) == 0)
            want = 1;
        if ((want == 0 && verdict != 0) || (want == 1 && verdict == 0)) {
            printf("FAIL %s: %s %s (verdict %d)\n", rg_fuzz_name, path,
                   want ? "refused, expected accepted" : "accepted, expected refused", verdict);
            failed++;
        }
    }
    closedir(d);
    if (seen == 0) {
        fprintf(stderr, "%s: corpus %s is empty\n", rg_fuzz_name, dir);
        failed++;
    }
    *inputs += seen;
    return failed;
}

int main(int argc, char **argv)
{
    int all_refused = 0, failed = 0, inputs = 0, dirs = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--all-refused") == 0) {
            all_refused = 1;
            continue;
        }
        failed += replay_dir(argv[i], all_refused, &inputs);
        all_refused = 0;
        dirs++;
    }
    if (dirs == 0) {
        fprintf(stderr, "usage: %s [--all-refused] DIR...\n", argv[0]);
        return 2;
    }
    printf("%s: %d inputs, %d failed\n", rg_fuzz_name, inputs, failed);
    return failed ? 1 : 0;
}
