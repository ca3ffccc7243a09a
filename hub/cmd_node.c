/*
 * cmd_node.c: `gridhub node add|list|revoke|enable|rekey`: the registry of
 * village nodes, and the bundles (identity, keys, hub address, reference
 * rows) carried to the village PCs for `gridnode init --bundle`.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#include "cli.h"
#include "gridsync/bundle.h"
#include "gridsync/hlc.h"
#include "gridsync/table.h"

/* Checks that a village code is a known division or lies under a known township. */
static int check_village(hub_store *s, const char *code)
{
    if (!gs_village_code_valid(code))
        return hub_fail("node add: --village \"%s\": expected a 12-digit village code", code);
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
    return hub_fail("node add: --village %s: neither a known division nor under a known township "
                    "(%s); load the division codes first (gridhub refdata load divisions FILE)",
                    code, township);
}

/* The rows of a bundle being gathered. */
typedef struct bundle_rows {
    gs_record **rows;
    size_t *n;
} bundle_rows;

/* Keeps a copy of one category row (a gs_find_each). */
static int add_bundle_row(const gs_record *rec, void *arg)
{
    bundle_rows *b = arg;
    if (*b->n == GS_BUNDLE_MAX_ROWS)
        return GS_ETOOBIG;
    if (!(b->rows[*b->n] = gs_record_dup(rec)))
        return GS_ENOMEM;
    (*b->n)++;
    return GS_OK;
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
        const char *parent = gs_record_str(r, GS_DIVISION_PARENT_CODE);
        snprintf(code, sizeof code, "%s", parent ? parent : "");
        r = NULL;
    }
    while (depth) /* top down: the city first */
        rows[(*n)++] = chain[--depth];
    bundle_rows br = {rows, n};
    gs_find_filter all = {0};
    gs_errbuf eb = {{0}};
    int rc = hub_store_list(s, cat, &all, add_bundle_row, &br, &eb);
    if (rc == GS_ETOOBIG)
        return hub_fail("more than %d incident categories and divisions for one bundle",
                        GS_BUNDLE_MAX_ROWS);
    return rc ? hub_fail("reading the incident categories: %s", eb.msg) : 0;
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
    hub_store_meta_text(s, HUB_META_PUBLIC_KEY, b.hub_public_key, sizeof b.hub_public_key);
    snprintf(b.node_public_key, sizeof b.node_public_key, "%s", n->public_key);
    snprintf(b.node_secret_key, sizeof b.node_secret_key, "%s", secret ? secret : "");
    gs_record **rows = calloc(GS_BUNDLE_MAX_ROWS, sizeof *rows);
    size_t nrows = 0;
    int rc = rows ? reference_rows(s, n->village, rows, &nrows) : hub_fail("out of memory");
    gs_buf text = GS_BUF_INIT;
    gs_bundle check;
    gs_errbuf eb = {{0}};
    if (!rc)
        gs_bundle_format_rows(&b, (const gs_record *const *)rows, nrows, &text);
    if (!rc && text.err)
        rc = hub_fail("out of memory");
    else if (!rc && gs_bundle_parse(text.data, text.len, &check, &eb))
        rc = hub_fail("the bundle would not install: %s", eb.msg);
    else if (!rc)
        rc = hub_write_secret_file(out, text.data, force);
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
    enum { O_VILLAGE, O_NAME, O_ENDPOINT, O_OUT, O_PUBKEY, O_NODE_ID, O_ID };
    static const gs_cli_opt opts[] = {{"--village", true, O_VILLAGE},
                                      {"--name", true, O_NAME},
                                      {"--endpoint", true, O_ENDPOINT},
                                      {"--out", true, O_OUT},
                                      {"--public-key", true, O_PUBKEY},
                                      {"--node-id", true, O_NODE_ID},
                                      {"--id", true, O_ID},
                                      {NULL, false, 0}};
    if (gs_cli_wants_help(argc, argv)) {
        puts("usage: gridhub node add --village CODE --name NAME --endpoint tcp://HOST:PORT --out "
             "BUNDLE\n                     [--public-key KEY] [--node-id NODE_ID]\n\nRegisters a "
             "node "
             "for a village (a known division, or a 12-digit code under a known\ntownship) and "
             "writes its bundle (mode 0600) for `gridnode init --bundle`. With\n--public-key the "
             "node made its own key pair (`gridnode keygen`) and the bundle\nholds no secret. "
             "Prints the node id.");
        return 0;
    }
    gs_cli_args a;
    int rc = gs_cli_parse(cli, "node add", argc, argv, opts, NULL, NULL, &a);
    if (rc)
        return rc;
    if (a.npos)
        return hub_usage("node add: unexpected argument %s", a.pos[0]);
    const char *village = gs_cli_arg(&a, O_VILLAGE), *name = gs_cli_arg(&a, O_NAME),
               *endpoint = gs_cli_arg(&a, O_ENDPOINT), *out = gs_cli_arg(&a, O_OUT),
               *pubkey = gs_cli_arg(&a, O_PUBKEY),
               *id = gs_cli_arg(&a, O_NODE_ID) ? gs_cli_arg(&a, O_NODE_ID) : gs_cli_arg(&a, O_ID);
    if (!village || !name || !endpoint || !out)
        return hub_usage("node add: --village, --name, --endpoint and --out are required");
    if (!gs_endpoint_valid(endpoint))
        return hub_fail("node add: --endpoint \"%s\": expected tcp://HOST:PORT or ipc://PATH",
                        endpoint);
    if (strlen(name) > 100 || !gs_utf8_valid(name, strlen(name)))
        return hub_fail("node add: --name: at most 100 bytes of UTF-8 text");
    if (pubkey && !gs_z85_key_valid(pubkey))
        return hub_fail("node add: --public-key: expected the 40-character key `gridnode keygen` "
                        "printed");
    hub_store *s = hub_open(cli);
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
            return hub_fail("node add: --node-id \"%s\": 1-64 letters, digits, '.', '_', '-'; "
                            "\"hub\" and \"hub.*\" are the city's own chains",
                            id);
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
        rc = hub_fail("node add: %s", eb.msg);
    else if ((rc = write_bundle(s, &n, endpoint, pubkey ? NULL : sec, out, false))) {
        /* no bundle, no node: undo the registration */
        hub_node_remove_unsynced(s, n.id, &eb);
    } else
        printf("%s\n", n.id);
    memset(sec, 0, sizeof sec);
    hub_store_close(&s);
    return rc;
}

/* What node list collects: table rows, or JSON objects into json (when not
 * NULL). */
typedef struct list_ctx {
    gs_table *t;
    json_t *json;
    bool oom;
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
        json_t *o = json_pack(
            "{s:o, s:o, s:o, s:b, s:o, s:I, s:I, s:I, s:o, s:I, s:o}", "id", gs_json_text(n->id),
            "village", gs_json_text(n->village), "name", gs_json_text(n->name), "enabled",
            n->enabled, "last_seen", n->last_seen_ms ? gs_json_text(seen.data) : json_null(),
            "acked_seq", (json_int_t)n->acked_through, "pending", (json_int_t)n->pending,
            "rejected", (json_int_t)n->rejected, "software", gs_json_text(n->software),
            "clock_skew_ms", (json_int_t)n->skew_ms, "public_key", gs_json_text(n->public_key));
        c->oom |= json_array_append_new(c->json, o) != 0;
    } else {
        const char *row[] = {n->id,
                             n->village,
                             n->name,
                             n->enabled ? "是" : "否(revoked)",
                             n->last_seen_ms ? seen.data : "从未 never",
                             acked,
                             pending,
                             rejected,
                             n->software,
                             skew};
        gs_table_add(c->t, row);
    }
    c->n++;
    gs_buf_free(&seen);
    return 0;
}

static int cmd_node_list(hub_cli *cli, int argc, char **argv)
{
    if (gs_cli_wants_help(argc, argv)) {
        puts("usage: gridhub node list [--json]\n\nEvery registered node with its sync health, "
             "oldest silence first.");
        return 0;
    }
    gs_cli_args a;
    int prc = gs_cli_parse(cli, "node list", argc, argv, NULL, NULL, NULL, &a);
    if (prc)
        return prc;
    if (a.npos)
        return hub_usage("node list: unexpected argument %s", a.pos[0]);
    hub_store *s = hub_open(cli);
    if (!s)
        return 1;
    static const char *const heads[] = {
        "节点 node",    "村社区 village", "名称 name",     "启用", "最后同步 last seen",
        "已确认 acked", "待同步 pending", "退回 rejected", "版本", "时钟偏差 s"};
    list_ctx c = {gs_table_new(10, heads), cli->json ? json_array() : NULL, false, 0};
    gs_errbuf eb = {{0}};
    int rc = hub_node_each(s, list_one, &c, &eb);
    if (rc)
        rc = hub_fail("node list: %s", eb.msg);
    else if (cli->json) {
        if (!c.json || c.oom || json_dumpf(c.json, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER))
            rc = hub_fail("node list: out of memory");
        else
            putchar('\n');
    } else {
        gs_table_print(c.t, stdout);
        printf("(%d nodes)\n", c.n);
    }
    json_decref(c.json);
    gs_table_destroy(&c.t);
    hub_store_close(&s);
    return rc;
}

static int cmd_node_enable(hub_cli *cli, int argc, char **argv, bool enable)
{
    const char *verb = enable ? "node enable" : "node revoke";
    if (gs_cli_wants_help(argc, argv)) {
        printf("usage: gridhub %s NODE_ID\n\n%s\n", verb,
               enable ? "Lets a revoked node connect again."
                      : "Stops the node's key from connecting, from its next connection on.");
        return 0;
    }
    gs_cli_args a;
    int prc = gs_cli_parse(cli, verb, argc, argv, NULL, NULL, NULL, &a);
    if (prc)
        return prc;
    if (a.npos != 1)
        return hub_usage("%s needs exactly one node id", verb);
    argv = (char **)a.pos;
    hub_store *s = hub_open(cli);
    if (!s)
        return 1;
    gs_errbuf eb = {{0}};
    int rc = hub_node_set_enabled(s, argv[0], enable, &eb) ? hub_fail("node: %s", eb.msg) : 0;
    if (!rc)
        printf("%s %s\n", argv[0], enable ? "enabled" : "revoked");
    hub_store_close(&s);
    return rc;
}

static int cmd_node_rekey(hub_cli *cli, int argc, char **argv)
{
    enum { O_OUT, O_ENDPOINT, O_PUBKEY };
    static const gs_cli_opt opts[] = {{"--out", true, O_OUT},
                                      {"--endpoint", true, O_ENDPOINT},
                                      {"--public-key", true, O_PUBKEY},
                                      {NULL, false, 0}};
    if (gs_cli_wants_help(argc, argv)) {
        puts("usage: gridhub node rekey NODE_ID --out BUNDLE --endpoint tcp://HOST:PORT "
             "[--public-key KEY]\n\nGives the node a new key pair (or the given public key); "
             "the old key stops\nworking at once. Writes a new bundle.");
        return 0;
    }
    gs_cli_args a;
    int rc = gs_cli_parse(cli, "node rekey", argc, argv, opts, NULL, NULL, &a);
    if (rc)
        return rc;
    const char *out = gs_cli_arg(&a, O_OUT), *endpoint = gs_cli_arg(&a, O_ENDPOINT),
               *pubkey = gs_cli_arg(&a, O_PUBKEY);
    if (a.npos != 1 || !out || !endpoint)
        return hub_usage("node rekey needs NODE_ID, --out and --endpoint");
    if (!gs_endpoint_valid(endpoint))
        return hub_fail("node rekey: --endpoint \"%s\" is not tcp://HOST:PORT", endpoint);
    if (pubkey && !gs_z85_key_valid(pubkey))
        return hub_fail("node rekey: --public-key is not a 40-character Z85 key");
    hub_store *s = hub_open(cli);
    if (!s)
        return 1;
    hub_node n;
    gs_errbuf eb = {{0}};
    char sec[41] = "";
    if (hub_node_get(s, a.pos[0], &n, &eb))
        rc = hub_fail("node rekey: %s", eb.msg);
    else {
        if (pubkey)
            snprintf(n.public_key, sizeof n.public_key, "%s", pubkey);
        else
            zmq_curve_keypair(n.public_key, sec);
        /* the bundle first: if it cannot be written the old key stays valid */
        if (!(rc = write_bundle(s, &n, endpoint, pubkey ? NULL : sec, out, false)) &&
            hub_node_set_key(s, n.id, n.public_key, &eb)) {
            unlink(out);
            rc = hub_fail("node rekey: %s", eb.msg);
        }
    }
    if (!rc)
        printf("%s\n", n.id);
    memset(sec, 0, sizeof sec);
    hub_store_close(&s);
    return rc;
}

int hub_cmd_node(hub_cli *cli)
{
    if (cli->argc == 0)
        return hub_usage("node needs add, list, revoke, enable or rekey");
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
    return hub_usage("node: unknown action \"%s\"", verb);
}
