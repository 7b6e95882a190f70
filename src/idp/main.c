/* main.c — realmgate-idp's command line: directory administration and `serve`.
 *
 * Every command validates its input before touching the state and explains a refusal on
 * stderr (exit 1); a malformed command line is a usage error (exit 2). Commands that
 * change the state hold the state directory's lock for the whole read-modify-write, so
 * two commands (or a command and `serve`, which only reads) never lose an update. */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fsutil.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/rand.h"
#include "http/server.h"
#include "idp/check.h"
#include "idp/cred.h"
#include "idp/faults.h"
#include "idp/keys.h"
#include "idp/model.h"
#include "idp/store.h"
#include "idp/web.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2
#define MAX_OPTS 300
#define OPT_VALUE_MAX 4096
#define TLS_PEM_MAX (256 * 1024)

static const char usage_text[] =
    "usage: realmgate-idp [--state-dir DIR] <command> [options]\n"
    "  (DIR may also come from REALMGATE_IDP_STATE)\n"
    "\n"
    "  tenant create --name NAME [--domain DOMAIN] [--id GUID]\n"
    "  tenant list\n"
    "  tenant key rotate --tenant T [--activate-in SECONDS]\n"
    "  app register --tenant T --display-name NAME --redirect-uri URI [--redirect-uri URI...]\n"
    "               [--client-id GUID] [--platform web|spa|public]\n"
    "  app list --tenant T\n"
    "  app secret add --tenant T --app CLIENT_ID [--years 1|2 | --expires-in SECONDS]\n"
    "  user add --tenant T --upn UPN (--password P | --password-file FILE|-) [--mail M]\n"
    "           [--display-name N] [--given-name G] [--surname S] [--disabled] [--guest]\n"
    "           (--guest: UPN is the invitee's own address; it becomes a #EXT# UPN)\n"
    "  user set --tenant T --upn UPN [--password P | --password-file FILE|-]\n"
    "           [--enable | --disable]\n"
    "  user list --tenant T\n"
    "  consent grant --tenant T --app CLIENT_ID (--admin | --user UPN) --scopes \"S1 S2 ...\"\n"
    "  consent revoke --tenant T --app CLIENT_ID (--admin | --user UPN)\n"
    "  consent list --tenant T\n"
    "  keys rotate --tenant T [--activate-in SECONDS]   (same as 'tenant key rotate';\n"
    "        with a delay the new key is published at once and signs only later)\n"
    "  app set --tenant T --app CLIENT_ID [--group-claims None|SecurityGroup|All|ApplicationGroup]\n"
    "          [--assignment-required 0|1] [--front-channel-logout-url URL|\"\"]\n"
    "          [--optional-claim email|upn|given_name|family_name|acct|auth_time|login_hint|\n"
    "           ctry|none ...]   (replaces the app's optional ID-token claims)\n"
    "          [--id-token-implicit 0|1]   (\"ID tokens\" box: response_type id_token)\n"
    "  app role add --tenant T --app CLIENT_ID --value VALUE [--display-name N] [--id GUID]\n"
    "  app assign --tenant T --app CLIENT_ID USER_UPN|GROUP [--role VALUE|ID]\n"
    "  app cert add --tenant T --app CLIENT_ID CERT_FILE   (PEM or DER X.509 certificate)\n"
    "  group add --tenant T --display-name N [--type security|m365] [--id GUID] [--member UPN...]\n"
    "  group member add --tenant T --group NAME|ID --user UPN\n"
    "  group list --tenant T\n"
    "  serve --listen ADDR:PORT --issuer-base URL [--threads N] [--code-lifetime SECONDS]\n"
    "        [--tls-cert FILE --tls-key FILE]   (PEM; HTTPS only when given)\n"
    "        [--test-faults]   (tests only: POST /_test/faults; loopback --listen only)\n"
    "\n"
    "T is a tenant GUID or domain. Secrets and ids are printed on stdout, notes on stderr.\n";

/* ---- option parsing --------------------------------------------------------------------- */

enum opt_kind { OPT_FLAG, OPT_ONE, OPT_MANY };

struct opt_spec {
    const char *name;
    enum opt_kind kind;
};

struct opts {
    const char *name[MAX_OPTS];
    const char *val[MAX_OPTS];
    size_t n;
};

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("realmgate-idp: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\n(run 'realmgate-idp help' for the commands)\n", stderr);
    return EXIT_USAGE;
}

static int refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int refuse(const char *fmt, ...)
{
    va_list ap;
    fputs("realmgate-idp: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_REFUSED;
}

static const struct opt_spec *spec_find(const struct opt_spec *spec, const char *name)
{
    for (; spec->name; spec++)
        if (strcmp(spec->name, name) == 0)
            return spec;
    return NULL;
}

static const char *opt_get(const struct opts *o, const char *name)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->name[i], name) == 0)
            return o->val[i];
    return NULL;
}

static bool opt_has(const struct opts *o, const char *name)
{
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->name[i], name) == 0)
            return true;
    return false;
}

/* Parses argv[i..] as "--name value" / "--flag" against spec. */
static int parse_opts(int argc, char **argv, int i, const struct opt_spec *spec,
                      struct opts *o)
{
    o->n = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const struct opt_spec *s;
        if (strncmp(a, "--", 2) != 0) {
            /* one positional argument where the command takes it ("_" in its spec) */
            if (!spec_find(spec, "_") || opt_has(o, "_"))
                return usage_error("unexpected argument '%s'", a);
            if (strlen(a) > OPT_VALUE_MAX)
                return usage_error("argument longer than %d bytes", OPT_VALUE_MAX);
            if (o->n >= MAX_OPTS)
                return usage_error("too many options");
            o->name[o->n] = "_";
            o->val[o->n++] = a;
            continue;
        }
        s = spec_find(spec, a + 2);
        if (!s)
            return usage_error("unknown option '%s' for this command", a);
        if (s->kind != OPT_MANY && opt_has(o, s->name))
            return usage_error("option '%s' given twice", a);
        if (o->n >= MAX_OPTS)
            return usage_error("too many options");
        o->name[o->n] = s->name;
        o->val[o->n] = "";
        if (s->kind != OPT_FLAG) {
            if (i + 1 >= argc)
                return usage_error("option '%s' needs a value", a);
            o->val[o->n] = argv[++i];
            if (strlen(o->val[o->n]) > OPT_VALUE_MAX)
                return usage_error("value of '%s' is longer than %d bytes", a, OPT_VALUE_MAX);
        }
        o->n++;
    }
    return 0;
}

/* Fails with a usage error unless every listed option is present. */
static int require(const struct opts *o, const char *const *names)
{
    for (; *names; names++)
        if (!opt_get(o, *names))
            return usage_error("option --%s is required", *names);
    return 0;
}

/* ---- state helpers ---------------------------------------------------------------------- */

struct cli {
    struct rg_idp_store store;
    struct opts o;
    struct rg_idp_state st;
    int lockfd;
};

/* Locks and loads the state (creating the directory when create). */
static int begin(struct cli *c, const char *dir, bool create)
{
    struct rg_msg msg;

    c->lockfd = -1;
    rg_idp_state_init(&c->st);
    if (rg_idp_store_open(&c->store, dir, create, &msg) ||
        rg_idp_store_lock(&c->store, &c->lockfd, &msg) ||
        rg_idp_store_load(&c->store, &c->st, NULL, &msg))
        return refuse("%s", msg.text);
    return 0;
}

static int commit(struct cli *c)
{
    struct rg_msg msg;
    if (rg_idp_store_save(&c->store, &c->st, &msg))
        return refuse("%s", msg.text);
    return 0;
}

static void end(struct cli *c)
{
    rg_idp_state_free(&c->st);
    rg_idp_store_unlock(c->lockfd);
    c->lockfd = -1;
}

static struct rg_idp_tenant *tenant_arg(struct cli *c)
{
    const char *ref = opt_get(&c->o, "tenant");
    struct rg_idp_tenant *t = rg_idp_tenant_find(&c->st, ref);
    if (!t)
        refuse("no tenant '%s' (give its GUID or domain; see 'tenant list')", ref);
    return t;
}

/* begin() and then the --tenant argument; on failure end() is still the right cleanup. */
static int begin_tenant(struct cli *c, const char *dir, bool create, struct rg_idp_tenant **t)
{
    int rc = begin(c, dir, create);
    if (rc)
        return rc;
    *t = tenant_arg(c);
    return *t ? 0 : EXIT_REFUSED;
}

static struct rg_idp_app *app_arg(struct cli *c, struct rg_idp_tenant *t)
{
    const char *id = opt_get(&c->o, "app");
    struct rg_idp_app *a = rg_idp_is_guid(id) ? rg_idp_app_find(t, id) : NULL;
    if (!a)
        refuse("tenant %s has no app with client id '%s'", t->id, id);
    return a;
}

static int64_t now_s(void)
{
    return (int64_t)time(NULL);
}

/* Parses a decimal integer in [min, max]. */
static bool parse_int(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

/* A password from --password or --password-file (first line; "-" = stdin). */
static int read_password(const struct opts *o, char **out)
{
    const char *pw = opt_get(o, "password"), *file = opt_get(o, "password-file");
    char line[1100];
    FILE *f;
    size_t n;

    *out = NULL;
    if (pw && file)
        return usage_error("give --password or --password-file, not both");
    if (pw) {
        *out = strdup(pw);
        return *out ? 0 : refuse("out of memory");
    }
    if (!file)
        return 0;
    f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
    if (!f)
        return refuse("cannot open %s: %s", file, strerror(errno));
    if (!fgets(line, sizeof line, f)) {
        if (f != stdin)
            fclose(f);
        return refuse("no password in %s", file);
    }
    if (f != stdin)
        fclose(f);
    if (!strchr(line, '\n') && strlen(line) == sizeof line - 1) {
        rg_wipe(line, sizeof line);
        return refuse("the password in %s is longer than %zu bytes", file, sizeof line - 2);
    }
    n = strcspn(line, "\r\n");
    line[n] = '\0';
    *out = strdup(line);
    rg_wipe(line, sizeof line);
    return *out ? 0 : refuse("out of memory");
}

/* ---- tenant ----------------------------------------------------------------------------- */

/* Entra gives a new tenant an initial domain <name>.onmicrosoft.com. */
static void default_domain(const char *name, char *out, size_t outsz)
{
    size_t n = 0;
    for (const char *c = name; *c && n < 27; c++)
        if ((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9'))
            out[n++] = *c;
        else if (*c >= 'A' && *c <= 'Z')
            out[n++] = (char)(*c - 'A' + 'a');
    out[n] = '\0';
    if (n)
        snprintf(out + n, outsz - n, ".onmicrosoft.com");
}

static int add_new_key(struct cli *c, struct rg_idp_tenant *t, int64_t now)
{
    struct rg_idp_newkey k;
    struct rg_msg msg;
    int rc = 0;

    if (rg_idp_key_generate(now, &k, &msg))
        return refuse("%s", msg.text);
    /* key file first: a state that names a key always has its file */
    if (rg_idp_key_save(c->store.keys_dir, k.kid, k.pkey, &msg) ||
        rg_idp_key_add(t, k.kid, k.x5c, now, k.not_after, &msg))
        rc = refuse("%s", msg.text);
    rg_idp_newkey_free(&k);
    return rc;
}

static int cmd_tenant_create(struct cli *c, const char *dir)
{
    const char *name = opt_get(&c->o, "name"), *domain = opt_get(&c->o, "domain");
    const char *id = opt_get(&c->o, "id");
    char gid[RG_IDP_GUID_LEN + 1], derived[64];
    struct rg_idp_tenant *t;
    struct rg_msg msg;
    int rc;

    if (id && rg_idp_guid_norm(id, gid))
        return refuse("--id '%s' is not a GUID", id);
    if (!id && rg_random_uuid(gid))
        return refuse("random generator failed");
    if (rg_idp_check_text("tenant name", name, RG_IDP_TEXT_MAX, &msg) ||
        (domain && rg_idp_check_domain(domain, &msg)))
        return refuse("%s", msg.text);
    if (!domain) {
        default_domain(name, derived, sizeof derived);
        domain = derived[0] ? derived : NULL;
    }
    if ((rc = begin(c, dir, true)))
        goto out;
    if (domain && rg_idp_tenant_find(&c->st, domain)) {
        rc = refuse("domain %s is already used by tenant %s%s", domain,
                    rg_idp_tenant_find(&c->st, domain)->id,
                    opt_get(&c->o, "domain") ? "" : " (pass --domain to choose another)");
        goto out;
    }
    if (rg_idp_tenant_add(&c->st, gid, name, domain, now_s(), &t, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    if ((rc = add_new_key(c, t, now_s())) || (rc = commit(c)))
        goto out;
    printf("%s\n", gid);
out:
    end(c);
    return rc;
}

static int cmd_tenant_list(struct cli *c, const char *dir)
{
    int rc = begin(c, dir, false);
    if (!rc)
        for (size_t i = 0; i < c->st.n_tenants; i++) {
            const struct rg_idp_tenant *t = &c->st.tenants[i];
            printf("%s\t%s\t%s\t%zu app(s)\t%zu user(s)\n", t->id, t->domain ? t->domain : "-",
                   t->name, t->n_apps, t->n_users);
        }
    end(c);
    return rc;
}

static int cmd_tenant_key_rotate(struct cli *c, const char *dir)
{
    const char *in = opt_get(&c->o, "activate-in");
    struct rg_idp_tenant *t;
    struct rg_idp_key *k;
    long long delay = 0;
    int rc;

    if (in && !parse_int(in, 0, 90LL * 24 * 3600, &delay))
        return refuse("--activate-in must be 0 to %lld seconds (90 days)", 90LL * 24 * 3600);
    if ((rc = begin_tenant(c, dir, false, &t)))
        goto out;
    if (t->n_keys >= RG_IDP_MAX_KEYS) {
        rc = refuse("tenant %s already has %d keys", t->id, RG_IDP_MAX_KEYS);
        goto out;
    }
    if ((rc = add_new_key(c, t, now_s())))
        goto out;
    /* scheduled rollover: published now (caches learn it), signing only later */
    k = &t->keys[t->n_keys - 1];
    k->activates = now_s() + delay; /* counted from now: key generation can take a while */
    if ((rc = commit(c)))
        goto out;
    printf("%s\n", k->kid);
    if (delay)
        fprintf(stderr, "new key %s is published now and signs in %lld s; until then %s "
                "signs\n", k->kid, delay, rg_idp_signing_key(t, now_s())->kid);
    else
        fprintf(stderr, "new signing key %s; older keys stay published in the JWKS\n", k->kid);
out:
    end(c);
    return rc;
}

/* ---- app -------------------------------------------------------------------------------- */

static int cmd_app_register(struct cli *c, const char *dir)
{
    const char *uris[RG_IDP_MAX_REDIRECTS];
    const char *cid = opt_get(&c->o, "client-id"), *plat = opt_get(&c->o, "platform");
    char id[RG_IDP_GUID_LEN + 1];
    struct rg_idp_tenant *t;
    struct rg_idp_app *a;
    struct rg_msg msg;
    size_t n = 0;
    int rc, platform = RG_IDP_PLATFORM_WEB;

    if (plat && (platform = rg_idp_platform_parse(plat)) < 0)
        return refuse("--platform must be web, spa or public");
    for (size_t i = 0; i < c->o.n; i++)
        if (strcmp(c->o.name[i], "redirect-uri") == 0) {
            if (n >= RG_IDP_MAX_REDIRECTS)
                return refuse("at most %d redirect URIs", RG_IDP_MAX_REDIRECTS);
            if (rg_idp_check_redirect_uri(c->o.val[i], &msg))
                return refuse("%s", msg.text);
            uris[n++] = c->o.val[i];
        }
    if (cid && rg_idp_guid_norm(cid, id))
        return refuse("--client-id '%s' is not a GUID", cid);
    if (!cid && rg_random_uuid(id))
        return refuse("random generator failed");
    if ((rc = begin_tenant(c, dir, false, &t)))
        goto out;
    if (rg_idp_app_add(&c->st, t, id, opt_get(&c->o, "display-name"), uris, n, now_s(), &a,
                       &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    a->platform = (enum rg_idp_platform)platform;
    if ((rc = commit(c)))
        goto out;
    printf("%s\n", id);
out:
    end(c);
    return rc;
}

static void list_apps(const struct rg_idp_tenant *t)
{
    for (size_t i = 0; i < t->n_apps; i++) {
        const struct rg_idp_app *a = &t->apps[i];
        printf("%s\t%s\t%zu secret(s)\t", a->client_id, a->display_name, a->n_secrets);
        for (size_t j = 0; j < a->n_redirect; j++)
            printf("%s%s", j ? " " : "", a->redirect_uris[j]);
        printf("\n");
    }
}

static int cmd_app_secret_add(struct cli *c, const char *dir)
{
    const char *years = opt_get(&c->o, "years"), *expires_in = opt_get(&c->o, "expires-in");
    char value[RG_IDP_SECRET_LEN + 1], ts[32];
    struct rg_idp_secret s;
    struct rg_idp_tenant *t;
    struct rg_idp_app *a;
    struct rg_msg msg;
    long long lifetime = 365LL * 24 * 3600, v;
    int64_t now = now_s();
    int rc;

    memset(&s, 0, sizeof s);
    if (years && expires_in)
        return usage_error("give --years or --expires-in, not both");
    if (years) {
        if (!parse_int(years, 1, 2, &v))
            return refuse("--years must be 1 or 2 (Entra allows at most 24 months)");
        lifetime = v * 365 * 24 * 3600;
    }
    if (expires_in) {
        if (!parse_int(expires_in, 1, 2LL * 365 * 24 * 3600, &v))
            return refuse("--expires-in must be 1 to %lld seconds (at most two years)",
                          2LL * 365 * 24 * 3600);
        lifetime = v;
    }
    if ((rc = begin(c, dir, false)))
        goto out;
    if (!(t = tenant_arg(c)) || !(a = app_arg(c, t))) {
        rc = EXIT_REFUSED;
        goto out;
    }
    if (rg_idp_secret_generate(value) || rg_random_uuid(s.key_id) ||
        rg_random_bytes(s.salt, sizeof s.salt) || rg_idp_secret_digest(value, s.salt, s.hash)) {
        rc = refuse("random generator or hash failed");
        goto out;
    }
    memcpy(s.hint, value, 3);
    s.hint[3] = '\0';
    s.created = now;
    s.expires = now + lifetime;
    if (rg_idp_secret_add(a, &s, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    if ((rc = commit(c)))
        goto out;
    rg_idp_timestamp(s.expires, ts);
    printf("%s\n", value);
    fflush(stdout);
    fprintf(stderr, "secret id %s (hint %s), expires %s; the value is shown only once\n",
            s.key_id, s.hint, ts);
out:
    rg_wipe(value, sizeof value);
    rg_wipe(&s, sizeof s);
    end(c);
    return rc;
}

/* ---- user ------------------------------------------------------------------------------- */

static int cmd_user_add(struct cli *c, const char *dir)
{
    const char *upn = opt_get(&c->o, "upn");
    char local[RG_IDP_UPN_MAX + 1];
    struct rg_idp_user u;
    struct rg_idp_tenant *t;
    struct rg_msg msg;
    char *pw = NULL, *hash = NULL, *guest_upn = NULL;
    int rc;

    memset(&u, 0, sizeof u);
    if ((rc = read_password(&c->o, &pw)))
        return rc;
    if (!pw) {
        rc = usage_error("option --password or --password-file is required");
        goto out0;
    }
    if (rg_idp_check_upn(upn, &msg) || rg_idp_check_password(pw, &msg)) {
        rc = refuse("%s", msg.text);
        goto out0;
    }
    snprintf(local, sizeof local, "%.*s", (int)strcspn(upn, "@"), upn);
    u.upn = (char *)upn;
    u.guest = opt_has(&c->o, "guest");
    u.display_name = (char *)(opt_get(&c->o, "display-name") ? opt_get(&c->o, "display-name")
                                                              : local);
    u.mail = (char *)opt_get(&c->o, "mail");
    u.given_name = (char *)opt_get(&c->o, "given-name");
    u.surname = (char *)opt_get(&c->o, "surname");
    u.enabled = !opt_has(&c->o, "disabled");
    u.created = now_s();
    if (rg_random_uuid(u.oid) || rg_idp_password_hash(pw, &hash)) {
        rc = refuse("random generator or hash failed");
        goto out0;
    }
    u.password_hash = hash;
    if ((rc = begin_tenant(c, dir, false, &t)))
        goto out;
    if (u.guest) {
        /* Entra's invitation: the external address becomes "<local>_<domain>#EXT#@<tenant
         * domain>"; the address itself stays the user's mail (what the guest signs in with) */
        const char *at = strchr(upn, '@');
        if (!t->domain) {
            rc = refuse("tenant %s has no domain to build a guest UPN in", t->id);
            goto out;
        }
        if (!u.mail)
            u.mail = (char *)upn;
        if (asprintf(&guest_upn, "%.*s_%s#EXT#@%s", (int)(at - upn), upn, at + 1,
                     t->domain) < 0) {
            guest_upn = NULL;
            rc = refuse("out of memory");
            goto out;
        }
        u.upn = guest_upn;
        if (rg_idp_user_find_login(t, upn)) {
            rc = refuse("tenant %s already has a user signing in as %s", t->id, upn);
            goto out;
        }
    }
    if (rg_idp_user_add(t, &u, NULL, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    if ((rc = commit(c)))
        goto out;
    printf("%s\n", u.oid);
    if (guest_upn)
        fprintf(stderr, "guest %s signs in as %s\n", guest_upn, upn);
out:
    end(c);
out0:
    free(guest_upn);
    rg_free_secret(pw);
    rg_free_secret(hash);
    return rc;
}

static int cmd_user_set(struct cli *c, const char *dir)
{
    struct rg_idp_tenant *t;
    struct rg_idp_user *u;
    struct rg_msg msg;
    char *pw = NULL, *hash = NULL;
    int rc;

    if ((rc = read_password(&c->o, &pw)))
        return rc;
    if (opt_has(&c->o, "enable") && opt_has(&c->o, "disable")) {
        rc = usage_error("give --enable or --disable, not both");
        goto out0;
    }
    if (!pw && !opt_has(&c->o, "enable") && !opt_has(&c->o, "disable")) {
        rc = usage_error("nothing to change: give --password, --password-file, --enable or "
                         "--disable");
        goto out0;
    }
    if (pw && rg_idp_check_password(pw, &msg)) {
        rc = refuse("%s", msg.text);
        goto out0;
    }
    if (pw && rg_idp_password_hash(pw, &hash)) {
        rc = refuse("hash failed");
        goto out0;
    }
    if ((rc = begin_tenant(c, dir, false, &t)))
        goto out;
    u = rg_idp_user_find_upn(t, opt_get(&c->o, "upn"));
    if (!u) {
        rc = refuse("tenant %s has no user %s", t->id, opt_get(&c->o, "upn"));
        goto out;
    }
    if (hash) {
        rg_free_secret(u->password_hash);
        u->password_hash = hash;
        hash = NULL;
    }
    if (opt_has(&c->o, "enable"))
        u->enabled = true;
    if (opt_has(&c->o, "disable"))
        u->enabled = false;
    if ((rc = commit(c)))
        goto out;
    printf("%s\n", u->oid);
out:
    end(c);
out0:
    rg_free_secret(pw);
    rg_free_secret(hash);
    return rc;
}

static void list_users(const struct rg_idp_tenant *t)
{
    for (size_t i = 0; i < t->n_users; i++) {
        const struct rg_idp_user *u = &t->users[i];
        printf("%s\t%s\t%s\t%s\t%s\n", u->oid, u->upn, u->enabled ? "enabled" : "disabled",
               u->mail ? u->mail : "-", u->display_name);
    }
}

/* ---- consent ---------------------------------------------------------------------------- */

/* "admin" or the oid of --user, into principal. */
static int principal_arg(struct cli *c, struct rg_idp_tenant *t,
                         char principal[RG_IDP_GUID_LEN + 1])
{
    const char *upn = opt_get(&c->o, "user");
    struct rg_idp_user *u;

    if (opt_has(&c->o, "admin")) {
        strcpy(principal, RG_IDP_PRINCIPAL_ADMIN);
        return 0;
    }
    u = rg_idp_user_find_upn(t, upn);
    if (!u)
        return refuse("tenant %s has no user %s", t->id, upn);
    memcpy(principal, u->oid, RG_IDP_GUID_LEN + 1);
    return 0;
}

static int cmd_consent(struct cli *c, const char *dir, bool grant)
{
    char principal[RG_IDP_GUID_LEN + 1], *norm = NULL;
    struct rg_idp_tenant *t;
    struct rg_idp_app *a;
    struct rg_msg msg;
    int rc;

    if (opt_has(&c->o, "admin") == opt_has(&c->o, "user"))
        return usage_error("give exactly one of --admin and --user UPN");
    if (grant) {
        if (rg_idp_scopes_norm(opt_get(&c->o, "scopes"), &norm, &msg))
            return refuse("--scopes: %s", msg.text);
    }
    if ((rc = begin(c, dir, false)))
        goto out;
    if (!(t = tenant_arg(c)) || !(a = app_arg(c, t)) || (rc = principal_arg(c, t, principal))) {
        rc = EXIT_REFUSED;
        goto out;
    }
    if (grant && rg_idp_consent_grant(t, a->client_id, principal, norm, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    if (!grant && rg_idp_consent_revoke(t, a->client_id, principal)) {
        rc = refuse("no consent of %s for app %s", opt_get(&c->o, "user") ? "that user" : "the admin",
                    a->client_id);
        goto out;
    }
    if ((rc = commit(c)))
        goto out;
    for (size_t i = 0; grant && i < t->n_consents; i++)
        if (!strcmp(t->consents[i].client_id, a->client_id) &&
            !strcmp(t->consents[i].principal, principal))
            printf("%s\n", t->consents[i].scopes);
out:
    free(norm);
    end(c);
    return rc;
}

static void list_consents(const struct rg_idp_tenant *t)
{
    for (size_t i = 0; i < t->n_consents; i++) {
        const struct rg_idp_consent *k = &t->consents[i];
        const struct rg_idp_user *u = rg_idp_user_find_oid(t, k->principal);
        printf("%s\t%s\t%s\n", k->client_id, u ? u->upn : k->principal, k->scopes);
    }
}

/* ---- serve ------------------------------------------------------------------------------ */

/* "1.2.3.4:80" or "[::1]:80" into addr/port. */
static bool parse_listen(const char *s, char *addr, size_t addrsz, int *port)
{
    const char *colon;
    long long p;
    size_t n;

    if (s[0] == '[') {
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':')
            return false;
        n = (size_t)(close - s - 1);
        colon = close + 1;
        s++;
    } else {
        colon = strrchr(s, ':');
        if (!colon)
            return false;
        n = (size_t)(colon - s);
    }
    if (n == 0 || n >= addrsz || !parse_int(colon + 1, 0, 65535, &p))
        return false;
    memcpy(addr, s, n);
    addr[n] = '\0';
    *port = (int)p;
    return true;
}

/* 127.0.0.0/8 or ::1 as a literal address (a name could resolve elsewhere). */
static bool listen_is_loopback(const char *addr)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, addr, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, addr, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

/* Reads a PEM file named by an option (bounded; the key buffer is wiped when freed). */
static int read_pem(const char *what, const char *path, struct rg_buf *out)
{
    rg_err e = rg_file_read(path, TLS_PEM_MAX, out);
    if (e == RG_ERR_NOTFOUND)
        return refuse("%s: %s does not exist", what, path);
    if (e == RG_ERR_LIMIT)
        return refuse("%s: %s is larger than %d bytes", what, path, TLS_PEM_MAX);
    if (e)
        return refuse("%s: cannot read %s", what, path);
    if (!out->data || !strstr(out->data, "-----BEGIN "))
        return refuse("%s: %s is not a PEM file", what, path);
    return 0;
}

static int cmd_serve(struct cli *c, const char *dir)
{
    const char *threads_s = opt_get(&c->o, "threads"), *ttl_s = opt_get(&c->o, "code-lifetime");
    const char *cert_path = opt_get(&c->o, "tls-cert"), *key_path = opt_get(&c->o, "tls-key");
    char addr[64];
    int port;
    long long threads = 4, ttl = 600;
    struct rg_idp_web web;
    struct rg_http_server_opts so;
    struct rg_http_server *srv = NULL;
    struct rg_msg msg;
    struct rg_buf cert, key;
    bool web_up = false;
    sigset_t set;
    int sig = 0, rc;

    rg_buf_init(&cert, TLS_PEM_MAX + 1);
    rg_buf_init(&key, TLS_PEM_MAX + 1);
    if (!parse_listen(opt_get(&c->o, "listen"), addr, sizeof addr, &port)) {
        rc = refuse("--listen must be ADDR:PORT (e.g. 127.0.0.1:8180 or [::1]:8180)");
        goto out;
    }
    /* fault switches make the IdP lie on purpose: never reachable from another host */
    if (opt_has(&c->o, "test-faults")) {
        if (!listen_is_loopback(addr)) {
            rc = refuse("--test-faults needs a loopback --listen address (127.0.0.0/8 or ::1)");
            goto out;
        }
        rg_idp_faults_enable();
        rg_warn("test fault switches enabled (POST /_test/faults): for tests only");
    }
    if (threads_s && !parse_int(threads_s, 1, 64, &threads)) {
        rc = refuse("--threads must be 1 to 64");
        goto out;
    }
    if (ttl_s && !parse_int(ttl_s, 1, 600, &ttl)) {
        rc = refuse("--code-lifetime must be 1 to 600 seconds");
        goto out;
    }
    /* TLS: the issuer is what clients compare tokens against, so it must say https when the
     * listener speaks it (an https base without TLS here is fine behind a TLS proxy) */
    if (!cert_path != !key_path) {
        rc = refuse("--tls-cert and --tls-key go together");
        goto out;
    }
    if (cert_path && ((rc = read_pem("--tls-cert", cert_path, &cert)) ||
                      (rc = read_pem("--tls-key", key_path, &key))))
        goto out;
    if (cert_path && strncmp(opt_get(&c->o, "issuer-base"), "https://", 8) != 0) {
        rc = refuse("with --tls-cert the --issuer-base must be an https:// URL");
        goto out;
    }
    if (rg_idp_store_open(&c->store, dir, false, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }

    /* signals are taken synchronously by this thread; workers inherit the blocked mask */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (rg_idp_web_init(&web, &c->store, opt_get(&c->o, "issuer-base"), ttl, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    web_up = true;
    if (web.snaps.cur->st.n_tenants == 0)
        rg_warn("the state has no tenant yet; create one with 'realmgate-idp tenant create'");
    memset(&so, 0, sizeof so);
    so.listen_addr = addr;
    so.port = port;
    so.threads = (unsigned)threads;
    so.max_body = RG_IDP_WEB_MAX_BODY;
    so.handler = rg_idp_web_handle;
    so.ctx = &web;
    so.tls_cert_pem = cert_path ? cert.data : NULL;
    so.tls_key_pem = key_path ? key.data : NULL;
    if (rg_http_server_start(&so, &srv, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    rg_wipe(key.data, key.len); /* the TLS layer holds its own copy now */
    rg_info("listening on %s port %d (%s), issuer base %s, state %s", addr,
            rg_http_server_port(srv), cert_path ? "https" : "http", web.base, c->store.dir);
    printf("realmgate-idp listening on %s\n", web.base);
    fflush(stdout);
    while (sigwait(&set, &sig) != 0 || (sig != SIGINT && sig != SIGTERM))
        ;
    rg_info("signal %d: stopping", sig);
    rg_http_server_stop(srv);
    rc = 0;
out:
    if (web_up)
        rg_idp_web_destroy(&web);
    if (key.data)
        rg_wipe(key.data, key.len);
    rg_buf_free(&key);
    rg_buf_free(&cert);
    return rc;
}

/* ---- app settings, roles, assignments, certificates, groups ----------------------------- */

static int cmd_app_set(struct cli *c, const char *dir)
{
    const char *gc = opt_get(&c->o, "group-claims"), *ar = opt_get(&c->o, "assignment-required");
    const char *fcl = opt_get(&c->o, "front-channel-logout-url");
    const char *imp = opt_get(&c->o, "id-token-implicit");
    struct rg_idp_tenant *t;
    struct rg_idp_app *a;
    struct rg_msg msg;
    unsigned oc = 0;
    bool oc_given = false;
    char ocnames[160];
    int g = 0, rc;

    for (size_t i = 0; i < c->o.n; i++)
        if (strcmp(c->o.name[i], "optional-claim") == 0) {
            unsigned bit = rg_idp_optional_claim_bit(c->o.val[i]);
            if (!bit && strcmp(c->o.val[i], "none") != 0)
                return refuse("--optional-claim '%s' is not modelled (email, upn, given_name, "
                              "family_name, acct, auth_time, login_hint, ctry; or none)",
                              c->o.val[i]);
            oc |= bit;
            oc_given = true;
        }
    if (imp && strcmp(imp, "0") && strcmp(imp, "1"))
        return refuse("--id-token-implicit must be 0 or 1");
    if (!gc && !ar && !fcl && !oc_given && !imp)
        return usage_error("nothing to change: give --group-claims, --assignment-required, "
                           "--front-channel-logout-url, --optional-claim or "
                           "--id-token-implicit");
    if (gc && (g = rg_idp_group_claims_parse(gc)) < 0)
        return refuse("--group-claims must be None, SecurityGroup, All or ApplicationGroup "
                      "(DirectoryRole is not modelled)");
    if (ar && strcmp(ar, "0") && strcmp(ar, "1"))
        return refuse("--assignment-required must be 0 or 1");
    if (fcl && *fcl && rg_idp_check_redirect_uri(fcl, &msg))
        return refuse("--front-channel-logout-url: %s", msg.text);
    if ((rc = begin(c, dir, false)))
        goto out;
    if (!(t = tenant_arg(c)) || !(a = app_arg(c, t))) {
        rc = EXIT_REFUSED;
        goto out;
    }
    if (gc)
        a->group_claims = (enum rg_idp_group_claims)g;
    if (ar)
        a->assignment_required = ar[0] == '1';
    if (oc_given)
        a->optional_claims = oc;
    if (imp)
        a->implicit_id_token = imp[0] == '1';
    if (fcl) {
        free(a->front_channel_logout_url);
        a->front_channel_logout_url = *fcl ? strdup(fcl) : NULL;
        if (*fcl && !a->front_channel_logout_url) {
            rc = refuse("out of memory");
            goto out;
        }
    }
    if ((rc = commit(c)))
        goto out;
    rg_idp_optional_claims_names(a->optional_claims, ocnames, sizeof ocnames);
    printf("%s\tgroup-claims %s\tassignment-required %d\tfront-channel-logout-url %s\t"
           "optional-claims %s\n",
           a->client_id, rg_idp_group_claims_name(a->group_claims), a->assignment_required,
           a->front_channel_logout_url ? a->front_channel_logout_url : "-",
           ocnames[0] ? ocnames : "-");
out:
    end(c);
    return rc;
}

static int cmd_role_add(struct cli *c, const char *dir)
{
    const char *value = opt_get(&c->o, "value"), *id = opt_get(&c->o, "id");
    const char *dn = opt_get(&c->o, "display-name");
    char rid[RG_IDP_GUID_LEN + 1];
    struct rg_idp_tenant *t;
    struct rg_idp_app *a;
    struct rg_msg msg;
    int rc;

    if (id && rg_idp_guid_norm(id, rid))
        return refuse("--id '%s' is not a GUID", id);
    if (!id && rg_random_uuid(rid))
        return refuse("random generator failed");
    if ((rc = begin(c, dir, false)))
        goto out;
    if (!(t = tenant_arg(c)) || !(a = app_arg(c, t))) {
        rc = EXIT_REFUSED;
        goto out;
    }
    if (rg_idp_role_add(a, rid, value, dn ? dn : value, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    if ((rc = commit(c)))
        goto out;
    printf("%s\n", rid);
out:
    end(c);
    return rc;
}

static int cmd_assign(struct cli *c, const char *dir)
{
    const char *who = opt_get(&c->o, "_"), *role = opt_get(&c->o, "role");
    const char *principal = NULL, *role_id = RG_IDP_NIL_GUID;
    struct rg_idp_tenant *t;
    struct rg_idp_app *a;
    struct rg_idp_user *u;
    struct rg_idp_group *g;
    struct rg_msg msg;
    int rc;

    if (!who)
        return usage_error("give the user (UPN) or group (name or id) to assign");
    if ((rc = begin(c, dir, false)))
        goto out;
    if (!(t = tenant_arg(c)) || !(a = app_arg(c, t))) {
        rc = EXIT_REFUSED;
        goto out;
    }
    if ((u = rg_idp_user_find_login(t, who)) || (u = rg_idp_user_find_oid(t, who)))
        principal = u->oid;
    else if ((g = rg_idp_group_find(t, who)))
        principal = g->id;
    if (!principal) {
        rc = refuse("tenant %s has no user or group '%s'", t->id, who);
        goto out;
    }
    if (role) {
        const struct rg_idp_app_role *r = rg_idp_role_find(a, role);
        if (!r) {
            rc = refuse("app %s has no role '%s' (see 'app role add')", a->client_id, role);
            goto out;
        }
        role_id = r->id;
    }
    if (rg_idp_assign(t, a->client_id, principal, role_id, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    if ((rc = commit(c)))
        goto out;
    printf("%s\t%s\t%s\n", principal, a->client_id, role ? role : "(default access)");
out:
    end(c);
    return rc;
}

static int cmd_cert_add(struct cli *c, const char *dir)
{
    const char *file = opt_get(&c->o, "_");
    struct rg_idp_certinfo ci;
    struct rg_idp_tenant *t;
    struct rg_idp_app *a;
    struct rg_msg msg;
    int rc;

    memset(&ci, 0, sizeof ci);
    if (!file)
        return usage_error("give the certificate file (PEM or DER)");
    if (rg_idp_cert_load(file, &ci, &msg))
        return refuse("%s", msg.text);
    if (ci.not_after <= now_s()) {
        rc = refuse("%s: the certificate has expired", file);
        goto out0;
    }
    if ((rc = begin(c, dir, false)))
        goto out;
    if (!(t = tenant_arg(c)) || !(a = app_arg(c, t))) {
        rc = EXIT_REFUSED;
        goto out;
    }
    if (rg_idp_cert_add(a, ci.x5c, ci.x5t, ci.x5t256, now_s(), ci.not_after, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    if ((rc = commit(c)))
        goto out;
    printf("%s\n", ci.x5t);
    fprintf(stderr, "certificate thumbprint %s (x5t#S256 %s) added to app %s\n", ci.x5t,
            ci.x5t256, a->client_id);
out:
    end(c);
out0:
    free(ci.x5c);
    return rc;
}

static int cmd_group_add(struct cli *c, const char *dir)
{
    const char *type = opt_get(&c->o, "type"), *id = opt_get(&c->o, "id");
    char gid[RG_IDP_GUID_LEN + 1];
    struct rg_idp_tenant *t;
    struct rg_idp_group *g;
    struct rg_msg msg;
    int rc;

    if (type && strcmp(type, "security") && strcmp(type, "m365"))
        return refuse("--type must be security or m365");
    if (id && rg_idp_guid_norm(id, gid))
        return refuse("--id '%s' is not a GUID", id);
    if (!id && rg_random_uuid(gid))
        return refuse("random generator failed");
    if ((rc = begin_tenant(c, dir, false, &t)))
        goto out;
    if (rg_idp_group_add(t, gid, opt_get(&c->o, "display-name"),
                         !type || strcmp(type, "security") == 0, &g, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    for (size_t i = 0; i < c->o.n; i++) {
        const struct rg_idp_user *u;
        if (strcmp(c->o.name[i], "member") != 0)
            continue;
        if (!(u = rg_idp_user_find_login(t, c->o.val[i]))) {
            rc = refuse("tenant %s has no user %s", t->id, c->o.val[i]);
            goto out;
        }
        if (rg_idp_group_member_add(t, g, u->oid, &msg)) {
            rc = refuse("%s", msg.text);
            goto out;
        }
    }
    if ((rc = commit(c)))
        goto out;
    printf("%s\n", gid);
out:
    end(c);
    return rc;
}

static int cmd_member_add(struct cli *c, const char *dir)
{
    struct rg_idp_tenant *t;
    struct rg_idp_group *g;
    const struct rg_idp_user *u;
    struct rg_msg msg;
    int rc;

    if ((rc = begin_tenant(c, dir, false, &t)))
        goto out;
    if (!(g = rg_idp_group_find(t, opt_get(&c->o, "group")))) {
        rc = refuse("tenant %s has no group '%s'", t->id, opt_get(&c->o, "group"));
        goto out;
    }
    if (!(u = rg_idp_user_find_login(t, opt_get(&c->o, "user")))) {
        rc = refuse("tenant %s has no user %s", t->id, opt_get(&c->o, "user"));
        goto out;
    }
    if (rg_idp_group_member_add(t, g, u->oid, &msg)) {
        rc = refuse("%s", msg.text);
        goto out;
    }
    rc = commit(c);
out:
    end(c);
    return rc;
}

static void list_groups(const struct rg_idp_tenant *t)
{
    for (size_t i = 0; i < t->n_groups; i++)
        printf("%s\t%s\t%s\t%zu member(s)\n", t->groups[i].id,
               t->groups[i].security ? "security" : "m365", t->groups[i].display_name,
               t->groups[i].n_members);
}

/* ---- dispatch --------------------------------------------------------------------------- */

static const struct opt_spec spec_tenant_create[] = {
    {"name", OPT_ONE}, {"domain", OPT_ONE}, {"id", OPT_ONE}, {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_tenant_only[] = {
    {"tenant", OPT_ONE}, {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_key_rotate[] = {
    {"tenant", OPT_ONE}, {"activate-in", OPT_ONE}, {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_none[] = {{"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_app_register[] = {
    {"tenant", OPT_ONE}, {"display-name", OPT_ONE}, {"redirect-uri", OPT_MANY},
    {"client-id", OPT_ONE}, {"platform", OPT_ONE}, {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_secret_add[] = {
    {"tenant", OPT_ONE}, {"app", OPT_ONE}, {"years", OPT_ONE}, {"expires-in", OPT_ONE},
    {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_user_add[] = {
    {"tenant", OPT_ONE}, {"upn", OPT_ONE}, {"password", OPT_ONE}, {"password-file", OPT_ONE},
    {"mail", OPT_ONE}, {"display-name", OPT_ONE}, {"given-name", OPT_ONE},
    {"surname", OPT_ONE}, {"disabled", OPT_FLAG}, {"guest", OPT_FLAG}, {"state-dir", OPT_ONE},
    {NULL, 0}};
static const struct opt_spec spec_user_set[] = {
    {"tenant", OPT_ONE}, {"upn", OPT_ONE}, {"password", OPT_ONE}, {"password-file", OPT_ONE},
    {"enable", OPT_FLAG}, {"disable", OPT_FLAG}, {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_consent_grant[] = {
    {"tenant", OPT_ONE}, {"app", OPT_ONE}, {"admin", OPT_FLAG}, {"user", OPT_ONE},
    {"scopes", OPT_ONE}, {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_consent_revoke[] = {
    {"tenant", OPT_ONE}, {"app", OPT_ONE}, {"admin", OPT_FLAG}, {"user", OPT_ONE},
    {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_serve[] = {
    {"listen", OPT_ONE}, {"issuer-base", OPT_ONE}, {"threads", OPT_ONE},
    {"code-lifetime", OPT_ONE}, {"tls-cert", OPT_ONE}, {"tls-key", OPT_ONE},
    {"state-dir", OPT_ONE}, {"test-faults", OPT_FLAG}, {NULL, 0}};

static const struct opt_spec spec_app_set[] = {
    {"tenant", OPT_ONE}, {"app", OPT_ONE}, {"group-claims", OPT_ONE},
    {"assignment-required", OPT_ONE}, {"front-channel-logout-url", OPT_ONE},
    {"optional-claim", OPT_MANY}, {"id-token-implicit", OPT_ONE}, {"state-dir", OPT_ONE},
    {NULL, 0}};
static const struct opt_spec spec_role_add[] = {
    {"tenant", OPT_ONE}, {"app", OPT_ONE}, {"value", OPT_ONE}, {"display-name", OPT_ONE},
    {"id", OPT_ONE}, {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_assign[] = {
    {"tenant", OPT_ONE}, {"app", OPT_ONE}, {"role", OPT_ONE}, {"_", OPT_ONE},
    {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_cert_add[] = {
    {"tenant", OPT_ONE}, {"app", OPT_ONE}, {"_", OPT_ONE}, {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_group_add[] = {
    {"tenant", OPT_ONE}, {"display-name", OPT_ONE}, {"type", OPT_ONE}, {"id", OPT_ONE},
    {"member", OPT_MANY}, {"state-dir", OPT_ONE}, {NULL, 0}};
static const struct opt_spec spec_member_add[] = {
    {"tenant", OPT_ONE}, {"group", OPT_ONE}, {"user", OPT_ONE}, {"state-dir", OPT_ONE},
    {NULL, 0}};

static const char *const req_none[] = {NULL};
static const char *const req_name[] = {"name", NULL};
static const char *const req_tenant[] = {"tenant", NULL};
static const char *const req_app[] = {"tenant", "app", NULL};
static const char *const req_upn[] = {"tenant", "upn", NULL};
static const char *const req_app_register[] = {"tenant", "display-name", "redirect-uri", NULL};
static const char *const req_consent_grant[] = {"tenant", "app", "scopes", NULL};
static const char *const req_role_add[] = {"tenant", "app", "value", NULL};
static const char *const req_group_add[] = {"tenant", "display-name", NULL};
static const char *const req_member_add[] = {"tenant", "group", "user", NULL};
static const char *const req_serve[] = {"listen", "issuer-base", NULL};

static int cmd_consent_grant(struct cli *c, const char *dir)
{
    return cmd_consent(c, dir, true);
}

static int cmd_consent_revoke(struct cli *c, const char *dir)
{
    return cmd_consent(c, dir, false);
}

/* A command: its words, options, required options, and either run (the whole command) or
 * list (a read-only listing of the --tenant's objects; main opens and closes the state). */
struct command {
    const char *words[3];
    const struct opt_spec *spec;
    const char *const *req;
    int (*run)(struct cli *c, const char *dir);
    void (*list)(const struct rg_idp_tenant *t);
};

static const struct command commands[] = {
    {{"tenant", "create", NULL}, spec_tenant_create, req_name, cmd_tenant_create, NULL},
    {{"tenant", "list", NULL}, spec_none, req_none, cmd_tenant_list, NULL},
    {{"tenant", "key", "rotate"}, spec_key_rotate, req_tenant, cmd_tenant_key_rotate, NULL},
    {{"app", "register", NULL}, spec_app_register, req_app_register, cmd_app_register, NULL},
    {{"app", "list", NULL}, spec_tenant_only, req_tenant, NULL, list_apps},
    {{"app", "secret", "add"}, spec_secret_add, req_app, cmd_app_secret_add, NULL},
    {{"user", "add", NULL}, spec_user_add, req_upn, cmd_user_add, NULL},
    {{"user", "set", NULL}, spec_user_set, req_upn, cmd_user_set, NULL},
    {{"user", "list", NULL}, spec_tenant_only, req_tenant, NULL, list_users},
    {{"consent", "grant", NULL}, spec_consent_grant, req_consent_grant, cmd_consent_grant, NULL},
    {{"consent", "revoke", NULL}, spec_consent_revoke, req_app, cmd_consent_revoke, NULL},
    {{"consent", "list", NULL}, spec_tenant_only, req_tenant, NULL, list_consents},
    {{"serve", NULL, NULL}, spec_serve, req_serve, cmd_serve, NULL},
    {{"keys", "rotate", NULL}, spec_key_rotate, req_tenant, cmd_tenant_key_rotate, NULL},
    {{"app", "set", NULL}, spec_app_set, req_app, cmd_app_set, NULL},
    {{"app", "role", "add"}, spec_role_add, req_role_add, cmd_role_add, NULL},
    {{"app", "assign", NULL}, spec_assign, req_app, cmd_assign, NULL},
    {{"app", "cert", "add"}, spec_cert_add, req_app, cmd_cert_add, NULL},
    {{"group", "add", NULL}, spec_group_add, req_group_add, cmd_group_add, NULL},
    {{"group", "member", "add"}, spec_member_add, req_member_add, cmd_member_add, NULL},
    {{"group", "list", NULL}, spec_tenant_only, req_tenant, NULL, list_groups},
};

/* A listing: the --tenant's objects under the state lock, nothing written. */
static int run_listing(struct cli *c, const char *dir, void (*list)(const struct rg_idp_tenant *))
{
    struct rg_idp_tenant *t;
    int rc = begin_tenant(c, dir, false, &t);

    if (!rc)
        list(t);
    end(c);
    return rc;
}

/* The command whose words start argv[i..]; *next = first argument after them. */
static const struct command *find_command(int argc, char **argv, int i, int *next)
{
    for (size_t k = 0; k < sizeof commands / sizeof *commands; k++) {
        const struct command *c = &commands[k];
        int w = 0;
        while (w < 3 && c->words[w] && i + w < argc && strcmp(argv[i + w], c->words[w]) == 0)
            w++;
        if (w == 3 || !c->words[w]) {
            *next = i + w;
            return c;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static struct cli c; /* large (option table); keep it off the stack */
    const struct command *cmd;
    const char *dir = getenv("REALMGATE_IDP_STATE");
    int i = 1, next, rc;

    rg_log_set_ident("realmgate-idp");
    while (i < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], "--state-dir") == 0 && i + 1 < argc) {
            dir = argv[i + 1];
            i += 2;
        } else if (strcmp(argv[i], "--help") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("realmgate-idp %s\n", RG_VERSION);
            return 0;
        } else {
            return usage_error("unknown option '%s'", argv[i]);
        }
    }
    if (i >= argc)
        return usage_error("no command given");
    if (strcmp(argv[i], "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    cmd = find_command(argc, argv, i, &next);
    if (!cmd)
        return usage_error("unknown command '%s'", argv[i]);
    if ((rc = parse_opts(argc, argv, next, cmd->spec, &c.o)))
        return rc;
    if (opt_get(&c.o, "state-dir"))
        dir = opt_get(&c.o, "state-dir");
    if (!dir || !*dir)
        return usage_error("no state directory: use --state-dir DIR or set REALMGATE_IDP_STATE");
    if ((rc = require(&c.o, cmd->req)))
        return rc;
    return cmd->list ? run_listing(&c, dir, cmd->list) : cmd->run(&c, dir);
}
