/* perm_bench — load time, memory and query latency of the permission engine (issue 5).
 *
 * Generates a deterministic user.cfg (10,000 users with 1,000 privilege-separated tokens,
 * 1,000 groups of ~30 members, 500 pools of which 100 nested, 10 custom roles, 100,000 ACL
 * entries over ~23,000 paths), then measures:
 *   load   = rg_usercfg_parse of the generated text + rg_perm_index_build, and the same
 *            for the canonical text rg_usercfg_write makes of it (the form user.cfg has on
 *            disk: sorted ACLs, merged member lists);
 *   memory = peak resident set size (getrusage) after load, and its growth over the
 *            baseline measured before generating the text;
 *   query  = rg_perm_privs for a random subject (user, token, or unknown) and a random path
 *            (ACL paths, pool members, deeper paths), median and p99 over QUERIES calls.
 * Prints each figure next to its target and a checksum of all answers (to compare engine
 * versions: the same seed must give the same checksum). Exit status 1 only for wrong
 * answers (see --verify); a missed target is printed as MISSED.
 * The first --verify N answers (default 20,000) are compared with the same config without
 * the index (rg_perm_privs and rg_perm_roles); any mismatch fails the run.
 * Usage: perm_bench [queries] [--dump file] [--no-index] [--verify N]
 *   --dump writes the generated user.cfg; --no-index measures the engine without its index. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "access/perm.h"
#include "access/usercfg.h"
#include "base/buf.h"

#define NUSERS 10000
#define NGROUPS 1000
#define NPOOLS 500
#define NACL 100000
#define NCUSTOM 10
#define VMID_BASE 100
#define NVMS 20000
#define NSTORAGES 400
#define NNODES 64

#define TARGET_LOAD_MS 300.0
#define TARGET_QUERY_US 5.0
#define TARGET_MEM_MB 200.0

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* xorshift64*: deterministic across platforms, good enough for synthetic data */
static uint64_t rnd(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ull;
}

static unsigned rndn(unsigned n)
{
    return (unsigned)(rnd() % n);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU time of this process: less disturbed than wall time on a busy machine. */
static double cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static long maxrss_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static const char *const builtin_roles[] = {
    "Administrator", "NoAccess",        "PVEAdmin",         "PVEAuditor",     "PVEVMAdmin",
    "PVEVMUser",     "PVETemplateUser", "PVESysAdmin",      "PVEDatastoreAdmin",
    "PVEDatastoreUser", "PVESDNAdmin",  "PVESDNUser",       "PVEUserAdmin",   "PVEPoolAdmin",
    "PVEPoolUser",   "PVEMappingAdmin", "PVEMappingUser"};

static void pool_name(unsigned i, char *out, size_t sz)
{
    /* every 5th pool is nested in the one before it, every 25th two levels deep */
    if (i % 25 == 24)
        snprintf(out, sz, "pool%03u/sub%03u/leaf%03u", i - 6, i - 5, i);
    else if (i % 5 == 4)
        snprintf(out, sz, "pool%03u/sub%03u", i - 1, i);
    else
        snprintf(out, sz, "pool%03u", i);
}

/* A random path of the kind ACLs are set on. */
static void acl_path(char *out, size_t sz)
{
    unsigned k = rndn(100);
    char pn[64];

    if (k < 70)
        snprintf(out, sz, "/vms/%u", VMID_BASE + rndn(NVMS));
    else if (k < 80)
        snprintf(out, sz, "/storage/store%u", rndn(NSTORAGES));
    else if (k < 88) {
        pool_name(rndn(NPOOLS), pn, sizeof pn);
        snprintf(out, sz, "/pool/%s", pn);
    } else if (k < 94)
        snprintf(out, sz, "/nodes/node%u", rndn(NNODES));
    else if (k < 97)
        snprintf(out, sz, "/access/groups/g%04u", rndn(NGROUPS));
    else {
        static const char *const top[] = {"/", "/vms", "/storage", "/pool", "/nodes", "/sdn",
                                          "/access", "/mapping"};
        snprintf(out, sz, "%s", top[rndn(8)]);
    }
}

static int fail(const char *what)
{
    fprintf(stderr, "perm_bench: %s failed\n", what);
    return 2;
}

static rg_err generate(struct rg_buf *b)
{
    rg_err e = RG_OK;

    for (unsigned u = 0; u < NUSERS && !e; u++) {
        e = rg_buf_appendf(b, "user:u%05u@pve:1:0:First%u:Last%u:u%05u@example.com:::\n", u,
                           u, u, u);
        if (!e && u % 10 == 0)
            e = rg_buf_appendf(b, "token:u%05u@pve!t%u:0:%d::\n", u, u % 7, u % 20 == 0);
    }
    e = e ? e : rg_buf_appends(b, "\n");
    /* every user is in 3 random groups: ~30 members per group */
    {
        static unsigned char member[NGROUPS][NUSERS / 8];
        memset(member, 0, sizeof member);
        for (unsigned u = 0; u < NUSERS; u++)
            for (int k = 0; k < 3; k++) {
                unsigned g = rndn(NGROUPS);
                member[g][u / 8] |= (unsigned char)(1u << (u % 8));
            }
        for (unsigned g = 0; g < NGROUPS && !e; g++) {
            int first = 1;
            e = rg_buf_appendf(b, "group:g%04u:", g);
            for (unsigned u = 0; u < NUSERS && !e; u++)
                if (member[g][u / 8] & (1u << (u % 8))) {
                    e = rg_buf_appendf(b, "%su%05u@pve", first ? "" : ",", u);
                    first = 0;
                }
            e = e ? e : rg_buf_appends(b, "::\n");
        }
    }
    e = e ? e : rg_buf_appends(b, "\n");
    /* pools: 8 VMs each from the first 4,000 vmids, 1 storage; parents before children */
    for (unsigned p = 0; p < NPOOLS && !e; p++) {
        char pn[64];
        pool_name(p, pn, sizeof pn);
        e = rg_buf_appendf(b, "pool:%s:pool %u:", pn, p);
        for (unsigned k = 0; k < 8 && !e; k++)
            e = rg_buf_appendf(b, "%s%u", k ? "," : "", VMID_BASE + p * 8 + k);
        e = e ? e : rg_buf_appendf(b, ":store%u:\n", p % NSTORAGES);
    }
    e = e ? e : rg_buf_appends(b, "\n");
    for (unsigned r = 0; r < NCUSTOM && !e; r++)
        e = rg_buf_appendf(b, "role:custom%u:VM.Audit,VM.Console%s:\n", r,
                           r % 2 ? ",Datastore.Audit,Sys.Audit" : ",VM.PowerMgmt");
    e = e ? e : rg_buf_appends(b, "\n");
    for (unsigned i = 0; i < NACL && !e; i++) {
        char path[128], who[64];
        const char *role;
        unsigned k = rndn(100), u = rndn(NUSERS);

        acl_path(path, sizeof path);
        if (k < 55)
            snprintf(who, sizeof who, "u%05u@pve", u);
        else if (k < 95)
            snprintf(who, sizeof who, "@g%04u", rndn(NGROUPS));
        else
            snprintf(who, sizeof who, "u%05u@pve!t%u", u - u % 10, (u - u % 10) % 7);
        if (rndn(4) == 0) {
            static char cr[16];
            snprintf(cr, sizeof cr, "custom%u", rndn(NCUSTOM));
            role = cr;
        } else {
            /* NoAccess is rare in real configurations */
            unsigned r = rndn(sizeof builtin_roles / sizeof *builtin_roles);
            role = (r == 1 && rndn(4)) ? "PVEAuditor" : builtin_roles[r];
        }
        e = rg_buf_appendf(b, "acl:%d:%s:%s:%s:\n", rndn(5) != 0, path, who, role);
    }
    return e;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    size_t queries = 200000;
    const char *dump = NULL;
    struct rg_usercfg cfg;
    struct rg_buf text;
    double canon_ms = 0, t0, c0, load_cpu_ms, parse_ms, load_ms, *lat, med_us, p99_us, mean_us = 0;
    long base_kb, peak_kb;
    uint64_t checksum = 1469598103934665603ull;
    size_t empty = 0, ntok = 0, canon_len = 0;
    int missed = 0, noindex = 0;
    size_t verify = 20000, mismatches = 0;
    struct rg_usercfg plain;

    for (int i = 1; i < argc; i++) {
        char *end = NULL;
        if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            dump = argv[++i];
        else if (!strcmp(argv[i], "--no-index"))
            noindex = 1;
        else if (!strcmp(argv[i], "--verify") && i + 1 < argc)
            verify = strtoul(argv[++i], NULL, 10);
        else if (argv[i][0] >= '1' && argv[i][0] <= '9' && strlen(argv[i]) < 10 &&
                 (queries = strtoul(argv[i], &end, 10)) > 0 && *end == '\0')
            ;
        else {
            fprintf(stderr, "usage: perm_bench [queries] [--dump file] [--no-index] "
                            "[--verify N]\n");
            return 2;
        }
    }
    base_kb = maxrss_kb();
    rg_buf_init(&text, RG_USERCFG_FILE_MAX);
    if (generate(&text) != RG_OK)
        return fail("generating user.cfg (over RG_USERCFG_FILE_MAX?)");
    if (dump) {
        FILE *f = fopen(dump, "w");
        if (!f || fwrite(text.data, 1, text.len, f) != text.len || fclose(f))
            return fail("--dump");
    }

    c0 = cpu_s();
    t0 = now_s();
    if (rg_usercfg_parse(text.data, text.len, &cfg, NULL, NULL) != RG_OK)
        return fail("rg_usercfg_parse");
    parse_ms = (now_s() - t0) * 1000.0;
    if (!noindex && rg_perm_index_build(&cfg) != RG_OK)
        return fail("rg_perm_index_build");
    load_ms = (now_s() - t0) * 1000.0;
    load_cpu_ms = (cpu_s() - c0) * 1000.0;
    peak_kb = maxrss_kb();
    for (size_t i = 0; i < cfg.nusers; i++)
        ntok += cfg.users[i].ntokens;
    printf("generated user.cfg: %zu bytes; parsed: %zu users, %zu tokens, %zu groups, "
           "%zu pools, %zu custom roles, %zu ACL entries\n",
           text.len, cfg.nusers, ntok, cfg.ngroups, cfg.npools, cfg.nroles, cfg.nacl);
    rg_buf_free(&text);
    /* query workload: subjects and paths fixed up front so only the engine is timed */
    {
        char (*subj)[80] = malloc(queries * sizeof *subj);
        char (*path)[96] = malloc(queries * sizeof *path);
        lat = malloc(queries * sizeof *lat);
        if (!subj || !path || !lat)
            return fail("malloc");
        for (size_t q = 0; q < queries; q++) {
            unsigned k = rndn(100), u = rndn(NUSERS);
            if (k < 85)
                snprintf(subj[q], sizeof subj[q], "u%05u@pve", u);
            else if (k < 98)
                snprintf(subj[q], sizeof subj[q], "u%05u@pve!t%u", u - u % 10,
                         (u - u % 10) % 7);
            else
                snprintf(subj[q], sizeof subj[q], "nobody%u@pve", u);
            k = rndn(100);
            if (k < 60) {
                acl_path(path[q], sizeof path[q]);
            } else if (k < 80) {
                snprintf(path[q], sizeof path[q], "/vms/%u", VMID_BASE + rndn(NPOOLS * 8));
            } else {
                char base[80];
                acl_path(base, sizeof base);
                snprintf(path[q], sizeof path[q], "%s/disk%u", strcmp(base, "/") ? base : "",
                         rndn(4));
            }
        }
        for (size_t q = 0; q < queries; q++) {
            struct rg_privset ps;
            double a = now_s();
            rg_err e = rg_perm_privs(&cfg, subj[q], path[q], &ps);
            lat[q] = (now_s() - a) * 1e6;
            if (e)
                return fail("rg_perm_privs");
            checksum = (checksum ^ ps.privs) * 1099511628211ull;
            checksum = (checksum ^ ps.propagate) * 1099511628211ull;
            empty += ps.privs == 0;
            mean_us += lat[q];
        }
        if (maxrss_kb() > peak_kb)
            peak_kb = maxrss_kb(); /* before the verification copy below */
        /* the same answers without the index (the reference path of perm.c) */
        if (verify > queries)
            verify = queries;
        if (verify && rg_usercfg_copy(&cfg, &plain) != RG_OK)
            return fail("rg_usercfg_copy");
        for (size_t q = 0; q < verify; q++) {
            struct rg_privset a, b;
            struct rg_strlist ra, rb;
            if (rg_perm_privs(&cfg, subj[q], path[q], &a) ||
                rg_perm_privs(&plain, subj[q], path[q], &b) ||
                rg_perm_roles(&cfg, subj[q], path[q], &ra) ||
                rg_perm_roles(&plain, subj[q], path[q], &rb))
                return fail("verification query");
            int same = a.privs == b.privs && a.propagate == b.propagate && ra.n == rb.n;
            for (size_t i = 0; same && i < ra.n; i++)
                same = !strcmp(ra.items[i], rb.items[i]);
            if (!same && mismatches++ < 5)
                fprintf(stderr, "MISMATCH %s %s\n", subj[q], path[q]);
            rg_strlist_free(&ra);
            rg_strlist_free(&rb);
        }
        if (verify)
            rg_usercfg_free(&plain);
        free(subj);
        free(path);
    }
    /* the same config as the writer stores it (what the server really reads: user.cfg is
     * always written canonically, by us or by Proxmox), timed the same way */
    {
        struct rg_usercfg again;
        struct rg_buf canon;
        double c1;
        /* after the memory figure: two configs alive at once are not the server's case */
        rg_buf_init(&canon, RG_USERCFG_FILE_MAX);
        if (rg_usercfg_write(&cfg, &canon) != RG_OK)
            return fail("rg_usercfg_write");
        c1 = now_s();
        if (rg_usercfg_parse(canon.data, canon.len, &again, NULL, NULL) != RG_OK ||
            rg_perm_index_build(&again) != RG_OK)
            return fail("parsing the canonical user.cfg");
        canon_ms = (now_s() - c1) * 1000.0;
        canon_len = canon.len;
        if (again.nacl != cfg.nacl)
            return fail("canonical round trip");
        rg_perm_index_drop(&again);
        rg_usercfg_free(&again);
        rg_buf_free(&canon);
    }

    qsort(lat, queries, sizeof *lat, cmp_double);
    med_us = lat[queries / 2];
    p99_us = lat[(size_t)((double)queries * 0.99)];
    mean_us /= (double)queries;

    printf("%-26s %12s   %s\n", "figure", "measured", "target");
    printf("%-26s %9.1f ms   < %.0f ms %s\n", "load (parse + index)", load_ms, TARGET_LOAD_MS,
           load_ms < TARGET_LOAD_MS ? "ok" : "MISSED");
    printf("%-26s %9.1f ms\n", "  (CPU time)", load_cpu_ms);
    printf("%-26s %9.1f ms\n", "  of which parse", parse_ms);
    printf("%-26s %9.1f ms%s\n", "  of which index", load_ms - parse_ms,
           noindex ? " (--no-index)" : "");
    printf("%-26s %9.1f ms   < %.0f ms %s (%zu bytes as written)\n", "load, canonical file",
           canon_ms, TARGET_LOAD_MS, canon_ms < TARGET_LOAD_MS ? "ok" : "MISSED", canon_len);
    printf("%-26s %9.1f MB   < %.0f MB %s\n", "peak memory (maxrss)", peak_kb / 1024.0,
           TARGET_MEM_MB, peak_kb / 1024.0 < TARGET_MEM_MB ? "ok" : "MISSED");
    printf("%-26s %9.1f MB\n", "  growth over baseline", (peak_kb - base_kb) / 1024.0);
    printf("%-26s %9.2f us   < %.0f us %s\n", "query median", med_us, TARGET_QUERY_US,
           med_us < TARGET_QUERY_US ? "ok" : "MISSED");
    printf("%-26s %9.2f us\n", "query p99", p99_us);
    printf("%-26s %9.2f us\n", "query mean", mean_us);
    printf("queries: %zu (%zu with no privileges); answer checksum %016llx\n", queries, empty,
           (unsigned long long)checksum);
    printf("verified against the index-free engine: %zu queries, %zu mismatches\n", verify,
           mismatches);
    missed = !(load_ms < TARGET_LOAD_MS) || !(peak_kb / 1024.0 < TARGET_MEM_MB) ||
             !(med_us < TARGET_QUERY_US);
    if (missed)
        printf("a target was missed (timings depend on the machine and its load)\n");
    free(lat);
    rg_perm_index_drop(&cfg);
    rg_usercfg_free(&cfg);
    return mismatches ? 1 : 0;
}
