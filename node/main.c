/*
 * main.c: the gridnode command line: global options, dispatch, help, and the
 * small commands (init, status). Every command takes --db and --help, and on
 * failure prints one line on stderr and exits non-zero.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <errno.h>
#include <jansson.h>
#include <sodium.h>
#include <unistd.h>

#include "cli.h"
#include "gridsync/bundle.h"
#include "gridsync/hlc.h"
#include "gridsync/table.h"

node_store *node_open(const node_cli *cli)
{
    node_store *s = NULL;
    gs_errbuf eb = {{0}};
    if (node_store_open(&s, cli->db, &eb) != GS_OK)
        node_fail("%s", eb.msg);
    return s;
}

/* ---- init ------------------------------------------------------------------ */

static const char init_help[] =
    "usage: gridnode init --bundle FILE [--db PATH]\n"
    "       gridnode init --node-id ID --village CODE --endpoint ENDPOINT [--name NAME] [--db PATH]\n"
    "\n"
    "Creates the node database. The bundle is the file the city wrote with `gridhub node\n"
    "add`: the node id, its village, the hub's address and key, and the node's key pair\n"
    "(or only its public key, when the node made its own with `gridnode keygen`, whose\n"
    "secret is then taken from DB.key). Without a bundle the node has no keys and can only\n"
    "sync with a development hub started with --insecure. Refuses to overwrite a database.\n";

/* Reads a bundle file (bounded) and parses it, or prints why not. *text
 * (the caller's: sodium_memzero and free it, it may hold the secret key)
 * keeps the file for its reference rows. */
static int read_bundle(const char *cmd, const char *path, gs_bundle *b, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return node_fail("%s: %s: %s", cmd, path, strerror(errno));
    *text = malloc(GS_BUNDLE_MAX_BYTES + 2);
    *len = *text ? fread(*text, 1, GS_BUNDLE_MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!*text)
        return node_fail("out of memory");
    gs_errbuf eb = {{0}};
    int rc = gs_bundle_parse(*text, *len, b, &eb);
    return rc ? node_fail("%s: %s: %s", cmd, path, eb.msg) : NODE_EXIT_OK;
}

/* Frees a bundle's text, wiping it first (it may hold a secret key). */
static void drop_bundle_text(char **text, size_t len)
{
    if (*text)
        sodium_memzero(*text, len);
    free(*text);
    *text = NULL;
}

static int put_reference_row(const gs_record *rec, void *store, gs_errbuf *eb)
{
    return node_store_put_reference(store, rec, eb);
}

/* Inside a write transaction: stores the reference rows of a bundle already
 * parsed once (so that none of its rows is stored from a bundle refused). */
static int store_bundle_rows(node_store *s, const char *text, size_t len, gs_errbuf *eb)
{
    gs_bundle b;
    int rc = gs_bundle_parse_rows(text, len, &b, put_reference_row, s, eb);
    sodium_memzero(&b, sizeof b);
    return rc;
}

/* The note for a node that has no incident categories yet. */
static const char no_categories_note[] =
    "尚无事件类别: 首次同步前任何类别都会被接受 (no incident categories yet: until the first\n"
    "sync any category code is accepted; a bundle from `gridhub node add` carries them)\n";

/* For a self-enrolled node: the secret keygen left in DB.key, matching the bundle. */
static int read_own_secret(const char *db, const gs_bundle *b, char secret[41])
{
    char path[4096], line[256], pub[41] = "";
    snprintf(path, sizeof path, "%s.key", db);
    FILE *f = fopen(path, "r");
    if (!f)
        return node_fail("init: the bundle has no secret key and %s is missing; run `gridnode "
                         "keygen` on this PC before enrolment, or ask for a bundle with keys",
                         path);
    secret[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "public = %40s", pub) == 1)
            continue;
        sscanf(line, "secret = %40s", secret);
    }
    fclose(f);
    if (!gs_z85_key_valid(secret) || strcmp(pub, b->node_public_key))
        return node_fail("init: %s does not hold the secret key of the bundle's public key %s",
                         path, b->node_public_key);
    return NODE_EXIT_OK;
}

/* Stores a bundle's reference rows in the database init has just made, in
 * one transaction; on failure the database is removed (a refused bundle
 * creates nothing). */
static int init_reference(const char *db, const char *text, size_t len, gs_errbuf *eb)
{
    node_store *s = NULL;
    int rc = node_store_open(&s, db, eb);
    if (!rc && !(rc = node_store_begin(s, eb)) && !(rc = store_bundle_rows(s, text, len, eb)))
        rc = node_store_commit(s, eb);
    node_store_close(&s); /* rolls back what is not committed */
    if (rc) {
        const char *suffix[] = {"", "-wal", "-shm"};
        for (int i = 0; i < 3; i++) {
            char path[4200];
            snprintf(path, sizeof path, "%s%s", db, suffix[i]);
            unlink(path);
        }
    }
    return rc;
}

int node_cmd_init(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        fputs(init_help, stdout);
        return NODE_EXIT_OK;
    }
    /* --endpoint as `gridhub node add` spells it; --hub, the older name, too */
    enum { O_NODE_ID, O_VILLAGE, O_ENDPOINT, O_HUB, O_NAME, O_BUNDLE };
    static const gs_cli_opt opts[] = {
        {"--node-id", true, O_NODE_ID}, {"--village", true, O_VILLAGE},
        {"--endpoint", true, O_ENDPOINT}, {"--hub", true, O_HUB},
        {"--name", true, O_NAME},         {"--bundle", true, O_BUNDLE},
        {NULL, false, 0}};
    gs_cli_args a;
    int prc = gs_cli_parse(cli, "init", cli->argc, cli->argv, opts, NULL, NULL, &a);
    if (prc)
        return prc;
    if (a.npos)
        return node_usage("init: unexpected argument %s", a.pos[0]);
    node_identity id = {0};
    const char *node_id = gs_cli_arg(&a, O_NODE_ID), *village = gs_cli_arg(&a, O_VILLAGE),
               *hub = gs_cli_arg(&a, O_ENDPOINT), *bundle = gs_cli_arg(&a, O_BUNDLE),
               *name = gs_cli_arg(&a, O_NAME) ? gs_cli_arg(&a, O_NAME) : "";
    const char *hub_opt = "--endpoint"; /* as the user spelled it, for messages */
    if (!hub && (hub = gs_cli_arg(&a, O_HUB)))
        hub_opt = "--hub";
    bool from_keygen = false;
    char *text = NULL;
    size_t text_len = 0, nrows = 0;
    if (bundle) {
        if (node_id || village || hub)
            return node_usage("init: --bundle replaces --node-id, --village and --endpoint");
        gs_bundle b;
        int rc = read_bundle("init", bundle, &b, &text, &text_len);
        if (rc) {
            drop_bundle_text(&text, text_len);
            return rc;
        }
        nrows = b.reference_rows;
        memcpy(id.node_id, b.node_id, sizeof id.node_id);
        memcpy(id.village, b.village, sizeof id.village);
        snprintf(id.name, sizeof id.name, "%s", b.name);
        snprintf(id.hub_endpoint, sizeof id.hub_endpoint, "%s", b.hub_endpoint);
        memcpy(id.hub_public_key, b.hub_public_key, sizeof id.hub_public_key);
        memcpy(id.public_key, b.node_public_key, sizeof id.public_key);
        if (b.node_secret_key[0])
            memcpy(id.secret_key, b.node_secret_key, sizeof id.secret_key);
        else if ((rc = read_own_secret(cli->db, &b, id.secret_key))) {
            drop_bundle_text(&text, text_len);
            return rc;
        } else
            from_keygen = true;
        sodium_memzero(&b, sizeof b);
    } else {
        if (!node_id || !village || !hub)
            return node_usage("init: give --bundle FILE, or --node-id, --village and --endpoint");
        if (!gs_origin_valid(node_id) || gs_origin_is_hub(node_id))
            return node_fail("init: --node-id \"%s\": use 1 to 64 letters, digits, '.', '_' or "
                             "'-'",
                             node_id);
        if (!gs_village_code_valid(village))
            return node_fail("init: --village \"%s\": expected a 12-digit village code", village);
        if (!gs_endpoint_valid(hub))
            return node_fail("init: %s \"%s\": expected tcp://HOST:PORT or ipc://PATH", hub_opt,
                             hub);
        if (strlen(name) >= sizeof id.name)
            return node_fail("init: --name is too long");
        snprintf(id.node_id, sizeof id.node_id, "%s", node_id);
        snprintf(id.village, sizeof id.village, "%s", village);
        snprintf(id.hub_endpoint, sizeof id.hub_endpoint, "%s", hub);
        snprintf(id.name, sizeof id.name, "%s", name);
    }
    gs_errbuf eb = {{0}};
    int rc = node_store_create(cli->db, &id, &eb);
    sodium_memzero(id.secret_key, sizeof id.secret_key);
    if (!rc && nrows)
        rc = init_reference(cli->db, text, text_len, &eb);
    drop_bundle_text(&text, text_len);
    if (rc)
        return node_fail("init: %s", eb.msg);
    if (from_keygen) {
        char path[4096];
        snprintf(path, sizeof path, "%s.key", cli->db);
        unlink(path); /* the secret now lives in the database (mode 0600) only */
    }
    printf("initialized node %s for village %s in %s%s\n", id.node_id, id.village, cli->db,
           id.public_key[0] ? "" : " (no keys: development use with an --insecure hub only)");
    if (nrows)
        printf("参考数据 reference data: %zu rows (incident categories, divisions) until the first "
               "sync\n", nrows);
    else
        fputs(no_categories_note, stdout);
    return NODE_EXIT_OK;
}

/* `gridnode rekey --bundle FILE`: the new key pair the city issued with
 * `gridhub node rekey`, installed into the existing database (the node keeps
 * its id, its log and its chain). */
int node_cmd_rekey(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        puts("usage: gridnode rekey --bundle FILE [--db PATH]\n\nInstalls the new keys of a "
             "bundle written by `gridhub node rekey` into this node's\ndatabase. The bundle must "
             "be for this node (same node id and village).");
        return NODE_EXIT_OK;
    }
    static const gs_cli_opt opts[] = {{"--bundle", true, 0}, {NULL, false, 0}};
    gs_cli_args a;
    int rc = gs_cli_parse(cli, "rekey", cli->argc, cli->argv, opts, NULL, NULL, &a);
    if (rc)
        return rc;
    if (a.npos || !gs_cli_arg(&a, 0))
        return node_usage("rekey needs --bundle FILE");
    gs_bundle b;
    char *text = NULL;
    size_t len = 0;
    rc = read_bundle("rekey", gs_cli_arg(&a, 0), &b, &text, &len);
    node_store *s = rc ? NULL : node_open(cli);
    if (!rc && !s)
        rc = NODE_EXIT_ERROR;
    const node_identity *id = s ? node_store_identity(s) : NULL;
    char secret[41];
    gs_errbuf eb = {{0}};
    if (!rc && (strcmp(b.node_id, id->node_id) || strcmp(b.village, id->village)))
        rc = node_fail("rekey: the bundle is for node %s of village %s, this is %s of %s",
                       b.node_id, b.village, id->node_id, id->village);
    else if (!rc && b.node_secret_key[0])
        memcpy(secret, b.node_secret_key, sizeof secret);
    else if (!rc)
        rc = read_own_secret(cli->db, &b, secret);
    /* One transaction: a failure half-way must not leave a public key that
     * does not match the secret (the node could never connect again). The
     * bundle's reference rows go with it; they lose to anything synced. */
    if (!rc && (node_store_begin(s, &eb) ||
                node_store_meta_set_text(s, NODE_META_HUB_PUBLIC_KEY, b.hub_public_key, &eb) ||
                node_store_meta_set_text(s, NODE_META_HUB_ENDPOINT, b.hub_endpoint, &eb) ||
                node_store_meta_set_text(s, NODE_META_PUBLIC_KEY, b.node_public_key, &eb) ||
                node_store_meta_set_text(s, NODE_META_SECRET_KEY, secret, &eb) ||
                store_bundle_rows(s, text, len, &eb) || node_store_commit(s, &eb))) {
        node_store_rollback(s);
        rc = node_fail("rekey: %s; the old keys stay", eb.msg);
    }
    if (!rc)
        printf("installed new keys for node %s\n", id->node_id);
    sodium_memzero(secret, sizeof secret);
    sodium_memzero(&b, sizeof b);
    drop_bundle_text(&text, len);
    node_store_close(&s);
    return rc;
}

/* ---- status ------------------------------------------------------------------ */

static const char status_help[] =
    "usage: gridnode status [--json] [--db PATH]\n"
    "\n"
    "Shows the node's identity, the records it holds per type, the changes waiting to be\n"
    "synced to the city, the changes the city rejected (with the reason), the last sync\n"
    "and the clock skew measured against the hub.\n";

/* What status collects of the rejected changes: JSON objects (into json,
 * when not NULL) or lines. */
typedef struct rejected_ctx {
    json_t *json;
    bool oom;
} rejected_ctx;

static int print_rejected(const node_rejected *r, void *arg)
{
    rejected_ctx *x = arg;
    if (x->json)
        x->oom |= json_array_append_new(
                      x->json, json_pack("{s:I, s:o, s:o, s:o, s:o}", "seq", (json_int_t)r->seq,
                                         "code", gs_json_text(r->code), "reason",
                                         gs_json_text(r->reason), "type", gs_json_text(r->rtype),
                                         "id", gs_json_text(r->rid))) != 0;
    else
        printf("  ! rejected #%llu %s %s: %s (%s)\n", (unsigned long long)r->seq, r->rtype, r->rid,
               r->reason, r->code);
    return 0;
}

int node_cmd_status(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        fputs(status_help, stdout);
        return NODE_EXIT_OK;
    }
    gs_cli_args a;
    int prc = gs_cli_parse(cli, "status", cli->argc, cli->argv, NULL, NULL, NULL, &a);
    if (prc)
        return prc;
    if (a.npos)
        return node_usage("status: unexpected argument %s", a.pos[0]);
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    const node_identity *id = node_store_identity(s);
    node_sync_state ss;
    gs_errbuf eb = {{0}};
    if (node_store_sync_state(s, &ss, &eb)) {
        node_store_close(&s);
        return node_fail("status: %s", eb.msg);
    }
    uint64_t head = ss.head;
    int64_t acked = ss.acked, pending = ss.pending, rejected = ss.rejected, skew = ss.skew_ms;
    int64_t last_sync = ss.last_sync_ms;
    gs_buf when = GS_BUF_INIT;
    if (last_sync)
        gs_hlc_format(GS_HLC_MAKE(last_sync, 0), &when);
    json_t *records = cli->json ? json_object() : NULL;
    if (!cli->json) {
        printf("节点 node      %s (%s)\n村社区 village  %s\n城市中心 hub   %s\n", id->node_id,
               id->name[0] ? id->name : "-", id->village, id->hub_endpoint);
        putchar('\n');
    }
    static const char *const heads[] = {"类型", "type", "记录数 records"};
    gs_table *tab = gs_table_new(3, heads);
    for (int t = 0; t < GS_RT__COUNT; t++) {
        const gs_rectype *rt = gs_rectype_get(t);
        char num[24];
        int64_t n = node_store_count_live(s, rt);
        snprintf(num, sizeof num, "%lld", (long long)n);
        const char *row[] = {rt->label_zh, rt->name, num};
        if (records)
            json_object_set_new(records, rt->name, json_integer((json_int_t)n));
        else if (tab)
            gs_table_add(tab, row);
    }
    if (!cli->json && tab)
        gs_table_print(tab, stdout);
    gs_table_destroy(&tab);
    if (!cli->json) {
        printf("\n同步 sync\n  changes made    %llu\n  acked by hub    %lld\n  pending         "
               "%lld\n  rejected        %lld\n  last sync       %s\n",
               (unsigned long long)head, (long long)acked, (long long)pending, (long long)rejected,
               last_sync ? when.data : "never (从未同步)");
        if (skew > NODE_CLOCK_SKEW_WARN_MS || skew < -NODE_CLOCK_SKEW_WARN_MS)
            printf("  ! clock skew    本机时钟与城市中心相差 %+lld 秒 (clock is off by %+lld s)\n",
                   (long long)(skew / 1000), (long long)(skew / 1000));
    }
    rejected_ctx rx = {cli->json ? json_array() : NULL, false};
    node_store_rejected_each(s, print_rejected, &rx, &eb);
    int rc = NODE_EXIT_OK;
    if (cli->json) {
        json_t *o = json_pack(
            "{s:o, s:o, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:I, s:o}", "node_id",
            gs_json_text(id->node_id), "village", gs_json_text(id->village), "hub",
            gs_json_text(id->hub_endpoint), "records", records, "seq", (json_int_t)head,
            "acked_through", (json_int_t)acked, "pending", (json_int_t)pending, "rejected",
            (json_int_t)rejected, "last_sync", last_sync ? gs_json_text(when.data) : json_null(),
            "clock_skew_ms", (json_int_t)skew, "rejected_changes", rx.json);
        if (!o || rx.oom || json_dumpf(o, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER))
            rc = node_fail("status: out of memory");
        else
            putchar('\n');
        json_decref(o);
    }
    gs_buf_free(&when);
    node_store_close(&s);
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------- */

/* The commands, in the order the usage text lists them. */
static const gs_cli_cmd commands[] = {
    {"init", node_cmd_init, "安装节点 install the node from the bundle the city issued",
     "--bundle FILE | --node-id ID --village CODE --endpoint ENDPOINT [--name NAME]", 0},
    {"keygen", node_cmd_keygen, "生成密钥 make this node's key pair; prints the public key for the city",
     "", 0},
    {"rekey", node_cmd_rekey, "更换密钥 install the new keys the city issued (gridhub node rekey)",
     "--bundle FILE", 0},
    {"TYPE", node_cmd_record,
     "录入和查找记录 enter, change, find and show records; saved at once, queued for sync",
     "add|update|list|show|delete ...", GS_CLI_RECORD_TYPES},
    {"import", node_cmd_import,
     "导入 import a CSV or Excel (.xlsx) file: all rows or none; errors name row and column",
     "TYPE FILE.csv|FILE.xlsx [--dry-run]", GS_CLI_SPLIT_EQUALS},
    {"export", node_cmd_export, "导出 write every TYPE record as CSV or JSON",
     "TYPE [--format csv|json] [--zh] [--bom]", GS_CLI_SPLIT_EQUALS},
    {"template", node_cmd_template,
     "模板 the header row of TYPE's CSV file, or an Excel workbook to fill with drop-down lists",
     "TYPE [--zh] [--bom] | TYPE --format xlsx --out FILE.xlsx", GS_CLI_SPLIT_EQUALS},
    {"sync", node_cmd_sync, "同步 send what is pending, receive the city's changes",
     "[--watch] [--timeout SECONDS] [--from-start] [--insecure]", 0},
    {"verify", node_cmd_verify, "核对 compare this node's hash chains with the hub's copy",
     "[--timeout SECONDS] [--insecure]", 0},
    {"status", node_cmd_status,
     "状态 records, changes waiting for sync, rejected changes, clock skew", "[--json]", 0},
    {"web", node_cmd_web,
     "村级工作台 serve the village's pages in a browser (loopback; a password for a LAN)",
     "[--port 8080] [--bind 127.0.0.1] [--no-browser] | passwd", 0},
    {NULL, NULL, NULL, NULL, 0},
};

static const gs_cli_prog program = {
    "gridnode",
    "gridnode — 村/社区网格治理离线数据节点 (village node of gridsync)",
    "GRIDNODE_DB",
    "./gridnode.db",
    commands,
    "TYPE is one of grid(s), incident(s), election(s), candidate(s), council(s), member(s),\n"
    "affair(s). CSV files as Excel saves them: UTF-8, UTF-8 with BOM or GBK; English or\n"
    "Chinese headers. An ID may be given by a unique prefix of at least 4 characters.\n",
};

int main(int argc, char **argv)
{
    return gs_cli_main(&program, argc, argv);
}
