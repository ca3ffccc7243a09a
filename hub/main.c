/*
 * main.c: the gridhub command line: init, the node registry and bundles,
 * reference data, city decisions, serve. Every command takes --db and
 * --help, and on failure prints one line on stderr and exits non-zero.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "city.h"
#include "gridsync/bundle.h"
#include "gridsync/csv.h"
#include "gridsync/hlc.h"
#include "gridsync/rules.h"
#include "gridsync/stmt.h"
#include "gridsync/table.h"
#include "report.h"
#include "server.h"

typedef struct hub_cli {
    const char *db;
    bool json;
    int argc;
    char **argv;
} hub_cli;

static const char usage_text[] =
    "gridhub — 市民政局网格治理数据中心 (city hub of gridsync)\n"
    "\n"
    "usage: gridhub [--db PATH] COMMAND [ARGS] [--json] [--help]\n"
    "\n"
    "  init [--force]                      create the hub database and its CURVE key pair\n"
    "  node add --village CODE --name NAME --endpoint tcp://HOST:PORT --out BUNDLE\n"
    "           [--public-key KEY]         register a village node; prints its id\n"
    "  node list [--json] | node revoke ID | node enable ID | node rekey ID --out BUNDLE\n"
    "  refdata load divisions|categories FILE.csv\n"
    "  incident update ID [--status S] [--note T] [--assignee U] ...   a city decision\n"
    "  incident show ID                    the record and its whole history\n"
    "  TYPE update ID --FIELD VALUE | TYPE show ID   the same for grid, election, candidate,\n"
    "                                      council, member, affair\n"
    "  serve --bind tcp://*:PORT [--inflight-mib N] [--insecure] [-v|-vv]\n"
    "  report summary|incidents|elections|councils|nodes [--county C|--township C|--village C]\n"
    "         [--since DATE] [--until DATE] [--as-of DATE] [--format table|csv|json] [--bom]\n"
    "         [--findings-only]                       see docs/reports.md\n"
    "         DATE: 2026-11-28, 2026/11/28 or 2026年11月28日, as at entry\n"
    "\n"
    "The database is ./gridhub.db unless --db or GRIDHUB_DB says otherwise; the hub's secret\n"
    "key is kept beside it in DB.key (mode 0600).\n";

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gridhub: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gridhub: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputs(" (see gridhub --help)\n", stderr);
    va_end(ap);
    return 2;
}

static bool wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return true;
    return false;
}

/* Options of the form --name VALUE, looked up by name; the rest are positional. */
typedef struct opts {
    const char *names[16];
    const char *values[16];
    int n;
    const char *pos[8];
    int npos;
    bool flags[16];
} opts;

/* Parses argv against the value options and the flag options (NULL-terminated). */
static int parse_opts(const char *cmd, int argc, char **argv, const char *const *with_value,
                      const char *const *flag_names, opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        bool matched = false;
        for (int k = 0; with_value && with_value[k]; k++)
            if (!strcmp(a, with_value[k])) {
                if (i + 1 >= argc)
                    return usage("%s: %s needs a value", cmd, a);
                o->names[o->n] = a;
                o->values[o->n++] = argv[++i];
                matched = true;
                break;
            }
        for (int k = 0; !matched && flag_names && flag_names[k]; k++)
            if (!strcmp(a, flag_names[k])) {
                o->flags[k] = true;
                matched = true;
            }
        if (matched)
            continue;
        if (!strncmp(a, "-", 1))
            return usage("%s: unknown option %s", cmd, a);
        if (o->npos == 8)
            return usage("%s: too many arguments", cmd);
        o->pos[o->npos++] = a;
    }
    return 0;
}

static const char *opt(const opts *o, const char *name)
{
    for (int i = o->n - 1; i >= 0; i--)
        if (!strcmp(o->names[i], name))
            return o->values[i];
    return NULL;
}

static hub_store *open_store(const hub_cli *cli)
{
    hub_store *s = NULL;
    gs_errbuf eb = {{0}};
    if (hub_store_open(&s, cli->db, &eb))
        fail("%s", eb.msg);
    return s;
}

static void key_path(const char *db, char *out, size_t cap)
{
    snprintf(out, cap, "%s.key", db);
}

/* Writes text to path with mode 0600, refusing to replace an existing file
 * unless force. */
static int write_secret_file(const char *path, const char *text, bool force)
{
    int fd = open(path, O_WRONLY | O_CREAT | (force ? O_TRUNC : O_EXCL), 0600);
    if (fd < 0)
        return fail("%s: %s", path,
                    errno == EEXIST ? "already exists; choose another file or remove it first"
                                    : strerror(errno));
    fchmod(fd, 0600);
    size_t n = strlen(text);
    bool ok = write(fd, text, n) == (ssize_t)n && fsync(fd) == 0;
    close(fd);
    return ok ? 0 : fail("%s: %s", path, strerror(errno));
}

/* ---- init ------------------------------------------------------------------------ */

static int cmd_init(hub_cli *cli)
{
    if (wants_help(cli->argc, cli->argv)) {
        puts("usage: gridhub init [--force] [--db PATH]\n\nCreates the hub database and the hub's "
             "CURVE key pair; the secret key goes to DB.key\n(mode 0600). Refuses to replace an "
             "existing database or key unless --force.");
        return 0;
    }
    static const char *const flags[] = {"--force", NULL};
    opts o;
    int rc = parse_opts("init", cli->argc, cli->argv, NULL, flags, &o);
    if (rc)
        return rc;
    if (o.npos)
        return usage("init: unexpected argument %s", o.pos[0]);
    bool force = o.flags[0];
    char kp[4096];
    key_path(cli->db, kp, sizeof kp);
    if (!force && (access(cli->db, F_OK) == 0 || access(kp, F_OK) == 0))
        return fail("init: %s or %s already exists (use --force to start over)", cli->db, kp);
    if (force) {
        unlink(cli->db);
        char side[4200];
        snprintf(side, sizeof side, "%s-wal", cli->db);
        unlink(side);
        snprintf(side, sizeof side, "%s-shm", cli->db);
        unlink(side);
    }
    char pub[41], sec[41];
    if (zmq_curve_keypair(pub, sec))
        return fail("init: cannot make a CURVE key pair: %s", zmq_strerror(errno));
    char text[128];
    snprintf(text, sizeof text, "%s\n", sec);
    if ((rc = write_secret_file(kp, text, force)))
        return rc;
    gs_errbuf eb = {{0}};
    if (hub_store_create(cli->db, pub, &eb)) {
        unlink(kp);
        return fail("init: %s", eb.msg);
    }
    printf("initialized hub %s\npublic key %s\nsecret key in %s (mode 0600)\n", cli->db, pub, kp);
    return 0;
}

/* ---- nodes ------------------------------------------------------------------------- */

/* Checks that a village code is a known division or lies under a known township. */
static int check_village(hub_store *s, const char *code)
{
    if (!gs_village_code_valid(code))
        return fail("node add: --village \"%s\": expected a 12-digit village code", code);
    const gs_rectype *rt = gs_rectype_get(GS_RT_DIVISION);
    gs_record *r = NULL;
    if (gs_replica_get(hub_store_replica(s), rt, code, &r, NULL) == GS_OK) {
        gs_record_destroy(&r);
        return 0;
    }
    char township[10];
    snprintf(township, sizeof township, "%.9s", code);
    if (gs_replica_get(hub_store_replica(s), rt, township, &r, NULL) == GS_OK) {
        gs_record_destroy(&r);
        return 0;
    }
    return fail("node add: --village %s: neither a known division nor under a known township "
                "(%s); load the division codes first (gridhub refdata load divisions FILE)",
                code, township);
}

/* The reference rows a node needs before its first sync (bundle.h): the
 * divisions from the city down to its village (the village itself only when
 * the hub knows it; else from its township), then every incident category.
 * Appends them to rows[*n..GS_BUNDLE_MAX_ROWS); 0, or an exit code. */
static int reference_rows(hub_store *s, const char *village, gs_record **rows, size_t *n)
{
    const gs_rectype *div = gs_rectype_get(GS_RT_DIVISION), *cat = gs_rectype_get(GS_RT_CATEGORY);
    char code[16];
    snprintf(code, sizeof code, "%s", village);
    gs_record *chain[8];
    size_t depth = 0;
    gs_record *r = NULL;
    if (gs_replica_get(hub_store_replica(s), div, code, &r, NULL) != GS_OK)
        code[9] = '\0'; /* a village the hub does not list: its township's */
    while (depth < 8 && code[0] &&
           (r || gs_replica_get(hub_store_replica(s), div, code, &r, NULL) == GS_OK)) {
        chain[depth++] = r;
        const char *parent = gs_record_str(r, gs_field_find(div, "parent_code"));
        snprintf(code, sizeof code, "%s", parent ? parent : "");
        r = NULL;
    }
    while (depth) /* top down: the city first */
        rows[(*n)++] = chain[--depth];
    gs_buf sql = GS_BUF_INIT;
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(cat, &sql);
    gs_buf_printf(&sql, " FROM %s WHERE _deleted = 0 ORDER BY code", cat->plural);
    sqlite3_stmt *st = NULL;
    int rc = sql.err || sqlite3_prepare_v2(hub_store_db(s), sql.data, -1, &st, NULL) != SQLITE_OK
                 ? fail("reading the incident categories: %s", sqlite3_errmsg(hub_store_db(s)))
                 : 0;
    gs_buf_free(&sql);
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        if (*n == GS_BUNDLE_MAX_ROWS)
            rc = fail("more than %d incident categories and divisions for one bundle",
                      GS_BUNDLE_MAX_ROWS);
        else if (gs_replica_row(st, 0, cat, &rows[*n]) == GS_OK)
            (*n)++;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Writes the node's bundle, with the reference rows, to out (mode 0600). It
 * is parsed back first: a bundle the hub writes is one that installs. */
static int write_bundle(hub_store *s, const hub_node *n, const char *endpoint, const char *secret,
                        const char *out, bool force)
{
    gs_bundle b = {0};
    snprintf(b.node_id, sizeof b.node_id, "%s", n->id);
    snprintf(b.village, sizeof b.village, "%s", n->village);
    snprintf(b.name, sizeof b.name, "%s", n->name);
    snprintf(b.hub_endpoint, sizeof b.hub_endpoint, "%s", endpoint);
    hub_store_meta_text(s, "public_key", b.hub_public_key, sizeof b.hub_public_key);
    snprintf(b.node_public_key, sizeof b.node_public_key, "%s", n->public_key);
    snprintf(b.node_secret_key, sizeof b.node_secret_key, "%s", secret ? secret : "");
    gs_record **rows = calloc(GS_BUNDLE_MAX_ROWS, sizeof *rows);
    size_t nrows = 0;
    int rc = rows ? reference_rows(s, n->village, rows, &nrows) : fail("out of memory");
    gs_buf text = GS_BUF_INIT;
    gs_bundle check;
    gs_errbuf eb = {{0}};
    if (!rc)
        gs_bundle_format_rows(&b, (const gs_record *const *)rows, nrows, &text);
    if (!rc && text.err)
        rc = fail("out of memory");
    else if (!rc && gs_bundle_parse(text.data, text.len, &check, &eb))
        rc = fail("the bundle would not install: %s", eb.msg);
    else if (!rc)
        rc = write_secret_file(out, text.data, force);
    for (size_t i = 0; i < nrows; i++)
        gs_record_destroy(&rows[i]);
    free(rows);
    gs_buf_free(&text);
    memset(&check, 0, sizeof check);
    memset(&b, 0, sizeof b);
    return rc;
}

static int cmd_node_add(hub_cli *cli, int argc, char **argv)
{
    /* --node-id as gridnode init spells it; --id, the older name, too */
    static const char *const vals[] = {"--village",    "--name",    "--endpoint", "--out",
                                       "--public-key", "--node-id", "--id",       NULL};
    if (wants_help(argc, argv)) {
        puts("usage: gridhub node add --village CODE --name NAME --endpoint tcp://HOST:PORT --out "
             "BUNDLE\n                     [--public-key KEY] [--node-id NODE_ID]\n\nRegisters a node "
             "for a village (a known division, or a 12-digit code under a known\ntownship) and "
             "writes its bundle (mode 0600) for `gridnode init --bundle`. With\n--public-key the "
             "node made its own key pair (`gridnode keygen`) and the bundle\nholds no secret. "
             "Prints the node id.");
        return 0;
    }
    opts o;
    int rc = parse_opts("node add", argc, argv, vals, NULL, &o);
    if (rc)
        return rc;
    const char *village = opt(&o, "--village"), *name = opt(&o, "--name"),
               *endpoint = opt(&o, "--endpoint"), *out = opt(&o, "--out"),
               *pubkey = opt(&o, "--public-key"),
               *id = opt(&o, "--node-id") ? opt(&o, "--node-id") : opt(&o, "--id");
    if (!village || !name || !endpoint || !out)
        return usage("node add: --village, --name, --endpoint and --out are required");
    if (!gs_endpoint_valid(endpoint))
        return fail("node add: --endpoint \"%s\": expected tcp://HOST:PORT or ipc://PATH",
                    endpoint);
    if (strlen(name) > 100 || !gs_utf8_valid(name, strlen(name)))
        return fail("node add: --name: at most 100 bytes of UTF-8 text");
    if (pubkey && !gs_z85_key_valid(pubkey))
        return fail("node add: --public-key: expected the 40-character key `gridnode keygen` "
                    "printed");
    hub_store *s = open_store(cli);
    if (!s)
        return 1;
    if ((rc = check_village(s, village))) {
        hub_store_close(&s);
        return rc;
    }
    hub_node n = {0};
    if (id) {
        if (!gs_origin_valid(id) || gs_origin_is_hub(id)) {
            hub_store_close(&s);
            return fail("node add: --node-id \"%s\": 1-64 letters, digits, '.', '_', '-'; "
                        "\"hub\" and \"hub.*\" are the city's own chains", id);
        }
        snprintf(n.id, sizeof n.id, "%s", id);
    } else {
        snprintf(n.id, sizeof n.id, "%s-%lld", village,
                 (long long)hub_node_count_village(s, village) + 1);
    }
    snprintf(n.village, sizeof n.village, "%s", village);
    snprintf(n.name, sizeof n.name, "%s", name);
    char sec[41] = "";
    if (pubkey)
        snprintf(n.public_key, sizeof n.public_key, "%s", pubkey);
    else
        zmq_curve_keypair(n.public_key, sec);
    gs_errbuf eb = {{0}};
    if (hub_node_add(s, &n, &eb))
        rc = fail("node add: %s", eb.msg);
    else if ((rc = write_bundle(s, &n, endpoint, pubkey ? NULL : sec, out, false))) {
        /* no bundle, no node: undo the registration */
        sqlite3_stmt *st;
        if (!sqlite3_prepare_v2(hub_store_db(s), "DELETE FROM nodes WHERE id = ?1", -1, &st,
                                NULL)) {
            sqlite3_bind_text(st, 1, n.id, -1, SQLITE_STATIC);
            sqlite3_step(st);
            sqlite3_finalize(st);
        }
    } else
        printf("%s\n", n.id);
    memset(sec, 0, sizeof sec);
    hub_store_close(&s);
    return rc;
}

typedef struct list_ctx {
    gs_table *t;
    gs_buf *json;
    int n;
} list_ctx;

static int list_one(const hub_node *n, void *arg)
{
    list_ctx *c = arg;
    char acked[24], pending[24], skew[24], rejected[24];
    gs_buf seen = GS_BUF_INIT;
    if (n->last_seen_ms)
        gs_hlc_format(GS_HLC_MAKE(n->last_seen_ms, 0), &seen);
    snprintf(acked, sizeof acked, "%llu", (unsigned long long)n->acked_through);
    snprintf(pending, sizeof pending, "%llu", (unsigned long long)n->pending);
    snprintf(skew, sizeof skew, "%+.1f", (double)n->skew_ms / 1000.0);
    snprintf(rejected, sizeof rejected, "%lld", (long long)n->rejected);
    if (c->json) {
        gs_buf *j = c->json;
        gs_buf_puts(j, c->n ? ",\n {\"id\":" : "\n {\"id\":");
        gs_buf_json_str(j, n->id);
        gs_buf_puts(j, ",\"village\":");
        gs_buf_json_str(j, n->village);
        gs_buf_puts(j, ",\"name\":");
        gs_buf_json_str(j, n->name);
        gs_buf_printf(j, ",\"enabled\":%s,\"last_seen\":", n->enabled ? "true" : "false");
        if (n->last_seen_ms)
            gs_buf_json_str(j, seen.data);
        else
            gs_buf_puts(j, "null");
        gs_buf_printf(j, ",\"acked_seq\":%s,\"pending\":%s,\"rejected\":%s,\"software\":", acked,
                      pending, rejected);
        gs_buf_json_str(j, n->software);
        gs_buf_printf(j, ",\"clock_skew_ms\":%lld,\"public_key\":", (long long)n->skew_ms);
        gs_buf_json_str(j, n->public_key);
        gs_buf_putc(j, '}');
    } else {
        const char *row[] = {n->id,  n->village, n->name,   n->enabled ? "是" : "否(revoked)",
                             n->last_seen_ms ? seen.data : "从未 never",
                             acked,  pending,    rejected, n->software, skew};
        gs_table_add(c->t, row);
    }
    c->n++;
    gs_buf_free(&seen);
    return 0;
}

static int cmd_node_list(hub_cli *cli, int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        puts("usage: gridhub node list [--json]\n\nEvery registered node with its sync health, "
             "oldest silence first.");
        return 0;
    }
    if (argc)
        return usage("node list: unexpected argument %s", argv[0]);
    hub_store *s = open_store(cli);
    if (!s)
        return 1;
    static const char *const heads[] = {"节点 node", "村社区 village", "名称 name", "启用",
                                        "最后同步 last seen", "已确认 acked", "待同步 pending",
                                        "退回 rejected", "版本", "时钟偏差 s"};
    gs_buf json = GS_BUF_INIT;
    list_ctx c = {gs_table_new(10, heads), cli->json ? &json : NULL, 0};
    gs_errbuf eb = {{0}};
    int rc = hub_node_each(s, list_one, &c, &eb);
    if (rc)
        rc = fail("node list: %s", eb.msg);
    else if (cli->json)
        printf("[%s\n]\n", json.data ? json.data : "");
    else {
        gs_table_print(c.t, stdout);
        printf("(%d nodes)\n", c.n);
    }
    gs_buf_free(&json);
    gs_table_destroy(&c.t);
    hub_store_close(&s);
    return rc;
}

static int cmd_node_enable(hub_cli *cli, int argc, char **argv, bool enable)
{
    if (wants_help(argc, argv) || argc != 1) {
        if (argc != 1 && !wants_help(argc, argv))
            return usage("node %s needs exactly one node id", enable ? "enable" : "revoke");
        printf("usage: gridhub node %s NODE_ID\n\n%s\n", enable ? "enable" : "revoke",
               enable ? "Lets a revoked node connect again."
                      : "Stops the node's key from connecting, from its next connection on.");
        return 0;
    }
    hub_store *s = open_store(cli);
    if (!s)
        return 1;
    gs_errbuf eb = {{0}};
    int rc = hub_node_set_enabled(s, argv[0], enable, &eb) ? fail("node: %s", eb.msg) : 0;
    if (!rc)
        printf("%s %s\n", argv[0], enable ? "enabled" : "revoked");
    hub_store_close(&s);
    return rc;
}

static int cmd_node_rekey(hub_cli *cli, int argc, char **argv)
{
    static const char *const vals[] = {"--out", "--endpoint", "--public-key", NULL};
    if (wants_help(argc, argv)) {
        puts("usage: gridhub node rekey NODE_ID --out BUNDLE --endpoint tcp://HOST:PORT "
             "[--public-key KEY]\n\nGives the node a new key pair (or the given public key); "
             "the old key stops\nworking at once. Writes a new bundle.");
        return 0;
    }
    opts o;
    int rc = parse_opts("node rekey", argc, argv, vals, NULL, &o);
    if (rc)
        return rc;
    const char *out = opt(&o, "--out"), *endpoint = opt(&o, "--endpoint"),
               *pubkey = opt(&o, "--public-key");
    if (o.npos != 1 || !out || !endpoint)
        return usage("node rekey needs NODE_ID, --out and --endpoint");
    if (!gs_endpoint_valid(endpoint))
        return fail("node rekey: --endpoint \"%s\" is not tcp://HOST:PORT", endpoint);
    if (pubkey && !gs_z85_key_valid(pubkey))
        return fail("node rekey: --public-key is not a 40-character Z85 key");
    hub_store *s = open_store(cli);
    if (!s)
        return 1;
    hub_node n;
    gs_errbuf eb = {{0}};
    char sec[41] = "";
    if (hub_node_get(s, o.pos[0], &n, &eb))
        rc = fail("node rekey: %s", eb.msg);
    else {
        if (pubkey)
            snprintf(n.public_key, sizeof n.public_key, "%s", pubkey);
        else
            zmq_curve_keypair(n.public_key, sec);
        /* the bundle first: if it cannot be written the old key stays valid */
        if (!(rc = write_bundle(s, &n, endpoint, pubkey ? NULL : sec, out, false)) &&
            hub_node_set_key(s, n.id, n.public_key, &eb)) {
            unlink(out);
            rc = fail("node rekey: %s", eb.msg);
        }
    }
    if (!rc)
        printf("%s\n", n.id);
    memset(sec, 0, sizeof sec);
    hub_store_close(&s);
    return rc;
}

static int cmd_node(hub_cli *cli)
{
    if (cli->argc == 0)
        return usage("node needs add, list, revoke, enable or rekey");
    const char *verb = cli->argv[0];
    int argc = cli->argc - 1;
    char **argv = cli->argv + 1;
    if (!strcmp(verb, "add"))
        return cmd_node_add(cli, argc, argv);
    if (!strcmp(verb, "list"))
        return cmd_node_list(cli, argc, argv);
    if (!strcmp(verb, "revoke"))
        return cmd_node_enable(cli, argc, argv, false);
    if (!strcmp(verb, "enable"))
        return cmd_node_enable(cli, argc, argv, true);
    if (!strcmp(verb, "rekey"))
        return cmd_node_rekey(cli, argc, argv);
    if (!strcmp(verb, "--help") || !strcmp(verb, "-h")) {
        puts("usage: gridhub node add|list|revoke|enable|rekey ... (--help after each)");
        return 0;
    }
    return usage("node: unknown action \"%s\"", verb);
}

/* ---- reference data ---------------------------------------------------------------- */

/*
 * The rules of a village-level division row beyond its fields' own: the
 * village list (data/luohe_villages.csv) is what the reports divide by, so a
 * row that would put a village under the wrong township or committee kind
 * is refused, naming the field (*bad_field) that is wrong:
 *   - committee (村民委员会/居民委员会) belongs to village rows only;
 *   - a village has a 12-digit code, and its parent_code, when given, is the
 *     township of its first 9 digits;
 *   - the committee agrees with the code's village segment (NBS: 001-199
 *     residents', 200-399 villagers'; hub_village_kind_of_code).
 */
static int village_row_check(const gs_record *rec, int *bad_field, gs_errbuf *eb)
{
    const gs_rectype *rt = rec->rt;
    int f_level = gs_field_find(rt, "level"), f_parent = gs_field_find(rt, "parent_code"),
        f_committee = gs_field_find(rt, "committee");
    const char *code = gs_record_key(rec), *level = gs_record_str(rec, f_level);
    const char *parent = gs_record_str(rec, f_parent), *kind = gs_record_str(rec, f_committee);
    bool village = level && !strcmp(level, "village");
    if (!village) {
        *bad_field = f_committee;
        return kind ? gs_errf(eb, GS_EINVAL,
                              "委员会类型 (%s) 只用于村级行，本行级别为 %s (a committee kind "
                              "is for village rows only)",
                              kind, level ? level : "空")
                    : GS_OK;
    }
    *bad_field = rt->key;
    if (!code || strlen(code) != 12)
        return gs_errf(eb, GS_EINVAL, "村级行需要12位代码，不是 %s (a village row needs a "
                       "12-digit code)", code ? code : "空");
    *bad_field = f_parent;
    if (parent && strncmp(parent, code, 9))
        return gs_errf(eb, GS_EINVAL, "村社区 %s 属乡镇 %.9s，不在 %s 之下 (village %s lies in "
                       "township %.9s)", code, code, parent, code, code);
    *bad_field = f_committee;
    int by_code = hub_village_kind_of_code(code);
    int given = kind ? gs_enum_find(&rt->fields[f_committee], kind) : -1;
    if (given >= 0 && by_code >= 0 && given != by_code)
        return gs_errf(eb, GS_EINVAL,
                       "%s (%s) 与代码 %s 不符：村级编号 %s 是%s的编号 (NBS: 001-199 "
                       "居民委员会, 200-399 村民委员会; the committee contradicts the code)",
                       rt->fields[f_committee].enums_zh[given], kind, code, code + 9,
                       rt->fields[f_committee].enums_zh[by_code]);
    return GS_OK;
}

static int cmd_refdata(hub_cli *cli)
{
    if (wants_help(cli->argc, cli->argv)) {
        puts("usage: gridhub refdata load divisions|categories FILE.csv\n\ndivisions: "
             "code,name,level,parent_code[,synthetic][,committee]   (NBS division codes;\n"
             "           committee: villagers|residents (村民委员会|居民委员会), village rows "
             "only,\n           e.g. data/luohe_villages.csv, the villages the city expects)\n"
             "categories: code,name_zh,name_en,parent_code (incident categories)\nAll rows or "
             "none; a bad row is named by its line and column. Rows equal to\nwhat the hub holds "
             "are skipped. The data reaches every node at its next sync\n(a village's own row "
             "reaches that village only).");
        return 0;
    }
    if (cli->argc != 3 || strcmp(cli->argv[0], "load"))
        return usage("refdata load divisions|categories FILE.csv");
    const gs_rectype *rt = gs_rectype_find(cli->argv[1]);
    if (!rt || !rt->reference)
        return usage("refdata load: \"%s\" is not divisions or categories", cli->argv[1]);
    const char *file = cli->argv[2];
    gs_csv *csv = NULL;
    gs_errbuf eb = {{0}};
    if (gs_csv_open(&csv, file, &eb))
        return fail("refdata: %s", eb.msg);
    size_t ncols = gs_csv_ncols(csv);
    int cols[256];
    int errors = 0;
    for (size_t c = 0; c < ncols && c < 256; c++)
        if ((cols[c] = gs_field_find(rt, gs_csv_header(csv, c))) < 0) {
            fprintf(stderr, "gridhub: %s: row 1, column %zu \"%s\": not a %s column\n", file,
                    c + 1, gs_csv_header(csv, c), rt->name);
            errors++;
        }
    hub_store *s = errors ? NULL : open_store(cli);
    if (!errors && !s) {
        gs_csv_destroy(&csv);
        return 1;
    }
    size_t written = 0, nrows = gs_csv_nrows(csv);
    if (s && hub_store_begin(s, &eb)) {
        int rc = fail("refdata: %s: %s; nothing was loaded", file, eb.msg);
        hub_store_close(&s);
        gs_csv_destroy(&csv);
        return rc;
    }
    for (size_t r = 0; s && r < nrows && errors < 100; r++) {
        gs_record *rec = gs_record_new(rt);
        size_t line = gs_csv_line(csv, r); /* quoted line breaks: a row may span lines */
        bool bad = false;
        /* one message per bad row: its first bad cell */
        for (size_t c = 0; c < ncols && !bad; c++) {
            const char *cell = gs_csv_cell(csv, r, c);
            /* an empty cell clears the field (a required one is then refused) */
            if (gs_record_parse(rec, cols[c], cell, &eb)) {
                fprintf(stderr, "gridhub: %s: line %zu, column %zu \"%s\": %s\n", file, line,
                        c + 1, gs_csv_header(csv, c), eb.msg);
                bad = true;
            }
        }
        /* Codes above the city (the province 410000) may appear as parents only. */
        if (!bad && gs_record_check(rec, GS_CHECK_COMPLETE, &eb)) {
            fprintf(stderr, "gridhub: %s: line %zu: %s\n", file, line, eb.msg);
            bad = true;
        }
        int bad_col = -1;
        if (!bad && rt->id == GS_RT_DIVISION && village_row_check(rec, &bad_col, &eb)) {
            size_t c = 0;
            while (c < ncols && cols[c] != bad_col)
                c++;
            fprintf(stderr, "gridhub: %s: line %zu, column %zu \"%s\": %s\n", file, line, c + 1,
                    c < ncols ? gs_csv_header(csv, c) : rt->fields[bad_col].name, eb.msg);
            bad = true;
        }
        bool changed = false;
        if (!bad && hub_city_put_diff(s, rec, &changed, &eb)) {
            fprintf(stderr, "gridhub: %s: line %zu: %s\n", file, line, eb.msg);
            bad = true;
        }
        errors += bad;
        written += changed;
        gs_record_destroy(&rec);
    }
    int rc = 0;
    if (errors) {
        if (s)
            hub_store_rollback(s);
        rc = fail("refdata: %s: %d error(s); nothing was loaded", file, errors);
    } else if (hub_store_commit(s, &eb)) {
        rc = fail("refdata: %s", eb.msg);
    } else {
        printf("loaded %zu %s from %s: %zu new or changed, %zu unchanged\n", nrows, rt->plural,
               file, written, nrows - written);
    }
    hub_store_close(&s);
    gs_csv_destroy(&csv);
    return rc;
}

/* ---- incidents ------------------------------------------------------------------- */

static void print_history(hub_store *s, const gs_record *rec)
{
    const gs_rectype *rt = rec->rt;
    printf("%s %s\n", rt->label_zh, gs_record_key(rec));
    gs_buf b = GS_BUF_INIT;
    for (int i = 0; i < rt->nfields; i++) {
        if (!gs_record_has(rec, i))
            continue;
        gs_buf_reset(&b);
        gs_record_format(rec, i, &b);
        const char *v = b.data ? b.data : "";
        if (rt->fields[i].type == GS_FT_ENUM)
            v = gs_enum_zh(&rt->fields[i], v);
        size_t w = gs_text_width(rt->fields[i].label_zh);
        printf("  %s%*s  %s\n", rt->fields[i].label_zh, (int)(w < 12 ? 12 - w : 0), "", v);
    }
    printf("历史 history (every change, in clock order, with origin; losing values kept):\n");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(hub_store_db(s),
                           "SELECT origin, seq, hlc, body FROM changes WHERE rtype = ?1 AND "
                           "rid = ?2 ORDER BY hlc, origin",
                           -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, rt->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, gs_record_key(rec), -1, SQLITE_STATIC);
        while (sqlite3_step(st) == SQLITE_ROW) {
            gs_buf_reset(&b);
            gs_hlc_format((gs_hlc)sqlite3_column_int64(st, 2), &b);
            gs_buf_printf(&b, "  %s #%lld", (const char *)sqlite3_column_text(st, 0),
                          (long long)sqlite3_column_int64(st, 1));
            gs_change c = {0};
            if (!gs_change_decode(sqlite3_column_blob(st, 3), (size_t)sqlite3_column_bytes(st, 3),
                                  &c, NULL)) {
                if (c.op == GS_OP_DELETE)
                    gs_buf_puts(&b, " 删除 deleted");
                for (int i = 0; i < rt->nfields && c.op == GS_OP_UPSERT; i++) {
                    if (i == rt->key || i == rt->scope || c.rec->v[i].state == GS_V_UNSET)
                        continue;
                    gs_buf_printf(&b, " %s=", rt->fields[i].label_zh);
                    gs_buf v = GS_BUF_INIT;
                    gs_record_format(c.rec, i, &v);
                    const char *t = v.data ? v.data : "∅";
                    gs_buf_puts(&b, rt->fields[i].type == GS_FT_ENUM ? gs_enum_zh(&rt->fields[i], t)
                                                                     : t);
                    gs_buf_free(&v);
                }
            }
            gs_change_clear(&c);
            printf("  %s\n", b.data);
        }
        sqlite3_finalize(st);
    }
    gs_buf_free(&b);
}

/* A city edit of an incident follows the workflow table of the core, as a
 * village's does; closed_at is derived where the change is applied. Returns
 * an exit code. */
static int incident_rules(const gs_record *cur, const gs_record *edit)
{
    int fs = gs_field_find(cur->rt, "status");
    gs_errbuf eb = {{0}};
    if (gs_record_has(edit, fs) && gs_incident_transition(gs_record_str(cur, fs),
                                                          gs_record_str(edit, fs),
                                                          GS_ACTOR_CITY, &eb))
        return fail("incident update: %s", eb.msg);
    return 0;
}

/* `gridhub TYPE update ID --FIELD VALUE ...` and `gridhub TYPE show ID`. */
static int cmd_record(hub_cli *cli, const gs_rectype *rt)
{
    if (cli->argc == 0 || wants_help(cli->argc, cli->argv)) {
        printf("usage: gridhub %s update ID --FIELD VALUE ... [--db PATH]\n"
               "       gridhub %s show ID [--json] [--db PATH]\n\n"
               "update records a city decision on a village's %s (a change with the hub as\n"
               "origin, delivered to the village at its next sync)%s; show prints the record\n"
               "and its whole history from every origin. Fields:",
               rt->name, rt->name, rt->label_zh,
               rt->id == GS_RT_INCIDENT ? "; status follows the workflow" : "");
        for (int i = 0; i < rt->nfields; i++)
            if (!(rt->fields[i].flags & (GS_F_KEY | GS_F_SCOPE | GS_F_COMPUTED))) {
                /* spelled as gridnode spells them: --grid-code, not --grid_code */
                char name[80];
                snprintf(name, sizeof name, "%s", rt->fields[i].name);
                for (char *p = name; *p; p++)
                    *p = *p == '_' ? '-' : *p;
                printf("%s --%s (%s)", i > 2 ? "," : "", name, rt->fields[i].label_zh);
            }
        putchar('\n');
        return cli->argc == 0 ? 2 : 0;
    }
    const char *verb = cli->argv[0];
    bool update = !strcmp(verb, "update");
    if (!update && strcmp(verb, "show"))
        return usage("%s: unknown action \"%s\" (update, show)", rt->name, verb);
    if (cli->argc < 2 || !strncmp(cli->argv[1], "--", 2))
        return usage("%s %s needs the ID first", rt->name, verb);
    const char *id = cli->argv[1];
    gs_record *edit = gs_record_new(rt);
    if (!edit)
        return fail("out of memory");
    int rc = 0;
    bool any = false;
    gs_errbuf eb = {{0}};
    for (int i = 2; i < cli->argc && !rc; i++) {
        int f = gs_field_option(rt, cli->argv[i]);
        if (!update || f < 0 || (rt->fields[f].flags & (GS_F_KEY | GS_F_SCOPE)))
            rc = usage("%s %s: unknown option %s", rt->name, verb, cli->argv[i]);
        else if (rt->fields[f].flags & GS_F_COMPUTED)
            rc = fail("%s update: %s (%s) is computed by the rules", rt->name,
                      rt->fields[f].label_zh, rt->fields[f].name);
        else if (i + 1 >= cli->argc)
            rc = usage("%s update: %s needs a value", rt->name, cli->argv[i]);
        else if (gs_record_parse(edit, f, cli->argv[++i], &eb))
            rc = fail("%s update: %s", rt->name, eb.msg);
        any = true;
    }
    if (!rc && update && !any)
        rc = usage("%s update: nothing to change; give --FIELD VALUE", rt->name);
    hub_store *s = rc ? NULL : open_store(cli);
    gs_record *cur = NULL;
    if (!rc && !s)
        rc = 1;
    if (!rc && gs_replica_get(hub_store_replica(s), rt, id, &cur, &eb))
        rc = fail("%s %s: %s", rt->name, verb, eb.msg);
    if (!rc && !update) {
        if (cli->json) {
            gs_buf b = GS_BUF_INIT;
            gs_record_json(cur, &b);
            printf("%s\n", b.data);
            gs_buf_free(&b);
        } else {
            print_history(s, cur);
        }
    } else if (!rc) {
        gs_record_set_str(edit, rt->key, gs_record_key(cur));
        gs_record_set_str(edit, rt->scope, gs_record_scope(cur));
        if (rt->id == GS_RT_INCIDENT)
            rc = incident_rules(cur, edit);
        gs_record *full = rc ? NULL : gs_record_dup(cur);
        if (full && (gs_record_merge(full, edit) ||
                     gs_record_check(full, GS_CHECK_COMPLETE, &eb)))
            rc = fail("%s update: %s", rt->name, eb.msg);
        gs_record_destroy(&full);
        if (!rc && (hub_store_begin(s, &eb) || hub_city_put(s, edit, GS_OP_UPSERT, &eb) ||
                    hub_store_commit(s, &eb))) {
            hub_store_rollback(s);
            rc = fail("%s update: %s", rt->name, eb.msg);
        }
        if (!rc)
            printf("%s\n", gs_record_key(cur));
    }
    gs_record_destroy(&edit);
    gs_record_destroy(&cur);
    hub_store_close(&s);
    return rc;
}

/* ---- serve --------------------------------------------------------------------------- */

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
    (void)sig;
    stop_flag = 1;
}

/* Plaintext is allowed only where nobody else can listen: loopback and ipc. */
static bool local_endpoint(const char *e)
{
    return !strncmp(e, "ipc://", 6) || !strncmp(e, "tcp://127.", 10);
}

static int cmd_serve(hub_cli *cli)
{
    static const char *const vals[] = {"--bind", "--inflight-mib", NULL};
    static const char *const flags[] = {"--insecure", "-v", "-vv", NULL};
    if (wants_help(cli->argc, cli->argv)) {
        puts("usage: gridhub serve --bind tcp://*:PORT [--inflight-mib N] [--insecure] [-v|-vv]\n\n"
             "Serves node syncs until SIGINT or SIGTERM, then finishes and answers the\ncommit "
             "in progress and exits. CURVE encryption always, unless --insecure\n(plaintext, "
             "only on tcp://127.x.x.x or ipc://, for development). -v logs\nconnections, -vv "
             "every commit group.\n\n--inflight-mib N: the change data (MiB) all nodes together "
             "may have on the way\ninto the hub's memory at once (default 8). The hub shares it "
             "among the\nnodes syncing, as a window of batches and a batch size it grants each; "
             "with\nthe whole city connected that is one batch of 8 KiB per village.");
        return 0;
    }
    opts o;
    int rc = parse_opts("serve", cli->argc, cli->argv, vals, flags, &o);
    if (rc)
        return rc;
    hub_server_config cfg = {0};
    cfg.bind = opt(&o, "--bind");
    cfg.insecure = o.flags[0];
    cfg.verbose = o.flags[2] ? 2 : o.flags[1] ? 1 : 0;
    cfg.limits = gs_limits_default;
    const char *mib = opt(&o, "--inflight-mib");
    if (mib) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(mib, &end, 10);
        if (errno || end == mib || *end || mib[0] == '-' || v < 1 || v > 4096)
            return usage("serve: --inflight-mib must be a whole number of MiB from 1 to 4096, "
                         "not \"%s\"", mib);
        cfg.inflight_bytes = (size_t)v << 20;
    }
    if (!cfg.bind || o.npos)
        return usage("serve needs --bind ENDPOINT");
    if (cfg.insecure && !local_endpoint(cfg.bind))
        return fail("serve: --insecure is allowed only on tcp://127.x.x.x or ipc:// endpoints");
    if (cfg.insecure)
        fprintf(stderr, "gridhub: WARNING: --insecure: plaintext, no authentication; for local "
                        "development only\n");
    hub_store *s = open_store(cli);
    if (!s)
        return 1;
    hub_store_meta_text(s, "public_key", cfg.public_key, sizeof cfg.public_key);
    char kp[4096];
    key_path(cli->db, kp, sizeof kp);
    FILE *f = fopen(kp, "r");
    if (!cfg.insecure) {
        if (!f || !fgets(cfg.secret_key, sizeof cfg.secret_key, f) ||
            !gs_z85_key_valid(cfg.secret_key)) {
            if (f)
                fclose(f);
            hub_store_close(&s);
            return fail("serve: cannot read the hub secret key from %s", kp);
        }
    }
    if (f)
        fclose(f);
    struct sigaction sa = {0};
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* one descriptor per connected village: 1,346 for Luohe, more than the usual 1,024 */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    gs_errbuf eb = {{0}};
    rc = hub_serve(s, &cfg, &stop_flag, &eb) ? fail("serve: %s", eb.msg) : 0;
    memset(cfg.secret_key, 0, sizeof cfg.secret_key);
    hub_store_close(&s);
    return rc;
}

/* ---- report --------------------------------------------------------------------------- */

/* The date options of the command line: their values are read by the
 * record date parser (gs_record_parse), the one that reads dates at entry,
 * so they take the same forms: 2026-11-28, 2026/11/28, 2026年11月28日. */
static const char *const date_options[] = {"--since", "--until", "--as-of", NULL};

/* Rewrites the value after each date option in argv (the strings stay the
 * caller's; rewritten ones go to days[], one per argument) to YYYY-MM-DD.
 * 0, or the exit status of a usage error already printed. */
static int canonical_dates(const char *cmd, int argc, char **argv, char (*days)[11])
{
    const gs_rectype *rt = gs_rectype_get(GS_RT_ELECTION);
    int f = gs_field_find(rt, "election_date"); /* a GS_FT_DATE field */
    gs_record *r = gs_record_new(rt);
    if (!r)
        return fail("out of memory");
    int rc = 0;
    for (int i = 0; i + 1 < argc && !rc; i++) {
        bool is_date = false;
        for (int k = 0; date_options[k]; k++)
            is_date |= !strcmp(argv[i], date_options[k]);
        if (!is_date)
            continue;
        gs_errbuf eb = {{0}};
        const char *v = argv[++i];
        if (!*v || gs_record_parse(r, f, v, &eb) || !gs_record_str(r, f))
            rc = usage("%s: %s \"%s\": expected a date like 2026-11-28, 2026/11/28 or "
                       "2026年11月28日",
                       cmd, argv[i - 1], v);
        else {
            snprintf(days[i], sizeof days[i], "%s", gs_record_str(r, f));
            argv[i] = days[i];
        }
    }
    gs_record_destroy(&r);
    return rc;
}

static int cmd_report(hub_cli *cli)
{
    hub_store *s = NULL;
    bool help = wants_help(cli->argc, cli->argv);
    char(*days)[11] = calloc((size_t)cli->argc + 1, sizeof *days);
    int rc = days ? 0 : fail("out of memory");
    if (!rc && !help)
        rc = canonical_dates("report", cli->argc, cli->argv, days);
    if (!rc && !help && !(s = open_store(cli)))
        rc = 1;
    if (!rc)
        rc = hub_report_main(s ? hub_store_db(s) : NULL, cli->argc, cli->argv, cli->json);
    hub_store_close(&s);
    free(days);
    return rc;
}

int main(int argc, char **argv)
{
    gs_tune_malloc();
    gs_sqlite_tune();
    setlocale(LC_ALL, "C.UTF-8");
    hub_cli cli = {0};
    cli.db = getenv("GRIDHUB_DB") ? getenv("GRIDHUB_DB") : "./gridhub.db";
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    if (!rest)
        return fail("out of memory");
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc)
            cli.db = argv[++i];
        else if (!strncmp(argv[i], "--db=", 5)) /* as gridnode takes it */
            cli.db = argv[i] + 5;
        else if (!strcmp(argv[i], "--db")) {
            free(rest);
            return usage("--db needs a path");
        } else if (!strcmp(argv[i], "--json"))
            cli.json = true;
        else
            rest[n++] = argv[i];
    }
    int rc;
    if (n == 0 || !strcmp(rest[0], "--help") || !strcmp(rest[0], "-h") ||
        !strcmp(rest[0], "help")) {
        fputs(usage_text, n == 0 ? stderr : stdout);
        rc = n == 0 ? 2 : 0;
    } else {
        cli.argc = n - 1;
        cli.argv = rest + 1;
        const char *cmd = rest[0];
        if (!strcmp(cmd, "--version")) {
            printf("gridhub %s\n", GS_VERSION);
            rc = 0;
        } else if (!strcmp(cmd, "init"))
            rc = cmd_init(&cli);
        else if (!strcmp(cmd, "node"))
            rc = cmd_node(&cli);
        else if (!strcmp(cmd, "refdata"))
            rc = cmd_refdata(&cli);
        else if (gs_rectype_find(cmd) && !gs_rectype_find(cmd)->reference)
            rc = cmd_record(&cli, gs_rectype_find(cmd));
        else if (!strcmp(cmd, "serve"))
            rc = cmd_serve(&cli);
        else if (!strcmp(cmd, "report"))
            rc = cmd_report(&cli);
        else
            rc = usage("unknown command \"%s\"", cmd);
    }
    free(rest);
    return rc;
}
