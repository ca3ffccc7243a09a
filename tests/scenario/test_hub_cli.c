/*
 * test_hub_cli.c: the gridhub command line end to end, through the real
 * binaries (issue 15, "the hub laid out like the node"): the usage text
 * made from the command table, --help on every command, --opt=value,
 * the same parse errors as gridnode, `TYPE list` with each filter on
 * records that came in by a real sync, ids by unique prefix, and the same
 * row number from `refdata load` and `gridnode import` for a bad row after
 * blank lines.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gstest.h"
#include "gstest_cli.h"

#define VILLAGE_A "411122101201"
#define VILLAGE_B "411122101202"
#define GRID_A    "411122101201001"

static gst_result R;
static char *tmp;
static char db[PATH_MAX], hub_db[PATH_MAX], hub_log[PATH_MAX], endpoint[PATH_MAX + 8];
static gst_procs procs;

#define GH(...) gst_cmd(&R, true, "gridhub", hub_db, __VA_ARGS__, (const char *)NULL)
#define GH_OK(...)                                                                                 \
    do {                                                                                           \
        GH(__VA_ARGS__);                                                                           \
        ck_assert_msg(R.status == 0, "gridhub %s: exit %d\n%s", #__VA_ARGS__, R.status, R.err);    \
    } while (0)
#define GN_OK(...)                                                                                 \
    do {                                                                                           \
        GN(__VA_ARGS__);                                                                           \
        ck_assert_msg(R.status == 0, "gridnode %s: exit %d\n%s", #__VA_ARGS__, R.status, R.err);   \
    } while (0)

/* Objects in a JSON array of flat objects. */
static int json_array_len(const char *json)
{
    int n = 0, in_str = 0;
    for (const char *p = json; *p; p++) {
        if (in_str) {
            if (*p == '\\')
                p++;
            else if (*p == '"')
                in_str = 0;
        } else if (*p == '"') {
            in_str = 1;
        } else if (*p == '{') {
            n++;
        }
    }
    return n;
}

/* The error is one line naming gridhub (or gridnode). */
static void assert_one_line_error(const char *prog)
{
    ck_assert_msg(R.err_len > 0 && R.err[R.err_len - 1] == '\n' &&
                      memchr(R.err, '\n', R.err_len - 1) == NULL,
                  "want exactly one line on stderr, got:\n%s", R.err);
    ck_assert_msg(strncmp(R.err, prog, strlen(prog)) == 0, "stderr: %s", R.err);
}

static void setup(void)
{
    tmp = gst_tmpdir();
    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(hub_log, sizeof hub_log, "%s/hub.log", tmp);
    snprintf(db, sizeof db, "%s/node.db", tmp);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/hub.sock", tmp);
    GH_OK("init");
    GH_OK("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    GH_OK("refdata", "load", "categories", GS_TEST_SRC_DIR "/data/incident_categories.csv");
}

/* The find tests set up more than setup() (synced_city). */
static void no_setup(void)
{
}

static void teardown(void)
{
    gst_teardown(&procs, &R, &tmp);
}

static void hub_serve(void)
{
    gst_hub_serve(&procs, hub_db, endpoint, hub_log, false);
}

/* The ids of the incidents entered, in order of entry. */
static char *ids[6];

/* Prints the id of the last add (stdout: the id and a newline), malloc'd. */
static char *added_id(void)
{
    ck_assert_msg(R.status == 0, "exit %d: %s", R.status, R.err);
    return strndup(R.out, strcspn(R.out, "\n"));
}

/* The incidents of the list tests: A (4 in village A) and B (1 in B). */
static void enter_and_sync(void)
{
    char bundle[PATH_MAX];
    snprintf(bundle, sizeof bundle, "%s/a.bundle", tmp);
    GH_OK("node", "add", "--village=" VILLAGE_A, "--name=王庄村", "--endpoint", endpoint, "--out",
          bundle);
    GN_OK("init", "--bundle", bundle);
    GN_OK("grid", "add", "--code", GRID_A, "--name", "一网格");
    GN("incident", "add", "--title=楼道漏水", "--category=dispute", "--grid", GRID_A,
       "--reported-at", "2026-11-20 09:00");
    ids[0] = added_id();
    GN("incident", "add", "--title", "电线老化", "--category", "safety.fire", "--description",
       "50% 的线路 'OR 1=1 --", "--reported-at", "2026-11-25 10:00");
    ids[1] = added_id();
    GN("incident", "add", "--title", "燃气味道", "--category", "safety.gas", "--reported-at",
       "2026-11-28 08:00");
    ids[2] = added_id();
    GN("incident", "add", "--title", "路灯不亮", "--category", "sanitation", "--reported-at",
       "2026-11-30 20:00");
    ids[3] = added_id();
    GN_OK("incident", "update", ids[0], "--status=accepted");
    snprintf(bundle, sizeof bundle, "%s/b.bundle", tmp);
    GH_OK("node", "add", "--village", VILLAGE_B, "--name", "李庄村", "--endpoint", endpoint,
          "--out", bundle);
}

/* ---- the command table --------------------------------------------------- */

/* The usage text lists every command with its summary; --help on each. */
START_TEST(usage_from_the_table)
{
    GH_OK("--help");
    static const char *const cmds[][2] = {{"  init", "建库"},        {"  node", "节点登记"},
                                          {"  refdata", "参考数据"}, {"  TYPE list", "记录"},
                                          {"  serve", "同步服务"},   {"  report", "报表"}};
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        const char *at = strstr(R.out, cmds[i][0]);
        ck_assert_msg(at != NULL, "usage lacks %s:\n%s", cmds[i][0], R.out);
        const char *summary = strchr(at, '\n');
        ck_assert_msg(summary && strstr(summary, cmds[i][1]) == strstr(summary, "\n") + 7,
                      "%s: no summary %s on the next line:\n%s", cmds[i][0], cmds[i][1], R.out);
    }
    GNDB(db, "--help");
    ASSERT_OK();
    static const char *const node_cmds[] = {"  init",   "  keygen", "  rekey",    "  TYPE add",
                                            "  import", "  export", "  template", "  sync",
                                            "  verify", "  status"};
    for (size_t i = 0; i < sizeof node_cmds / sizeof node_cmds[0]; i++)
        ASSERT_OUT_HAS(node_cmds[i]);
    ASSERT_OUT_HAS("同步 send what is pending");
}
END_TEST

static const char *const hub_help[][4] = {
    {"init", "--help"},
    {"node", "--help"},
    {"node", "add", "--help"},
    {"node", "list", "--help"},
    {"node", "revoke", "--help"},
    {"node", "rekey", "--help"},
    {"refdata", "--help"},
    {"incident", "--help"},
    {"incident", "list", "--help"},
    {"incident", "show", "--help"},
    {"grid", "list", "--help"},
    {"serve", "--help"},
    {"report", "--help"},
    {"help"},
};

START_TEST(help_on_every_command)
{
    const char *const *c = hub_help[_i];
    GH(c[0], c[1], c[2], c[3]);
    ck_assert_msg(R.status == 0, "%s %s: exit %d: %s", c[0], c[1] ? c[1] : "", R.status, R.err);
    ASSERT_OUT_HAS("usage: gridhub");
}
END_TEST

/* --opt=value and --opt value alike; the same messages as gridnode's. */
START_TEST(option_equals_value)
{
    char bundle[PATH_MAX], eq[PATH_MAX + 8];
    snprintf(bundle, sizeof bundle, "%s/x.bundle", tmp);
    snprintf(eq, sizeof eq, "--out=%s", bundle);
    GH_OK("node", "add", "--village=" VILLAGE_A, "--name=王庄村", "--endpoint=tcp://127.0.0.1:7700",
          eq, "--node-id=wz-1");
    ck_assert_str_eq(R.out, "wz-1\n");
    GN("init", "--bundle="); /* an empty value is a value: no such file */
    ASSERT_EXIT(1);
    snprintf(eq, sizeof eq, "--bundle=%s", bundle);
    GN_OK("init", eq);
    GN("incident", "add", "--title=测试", "--category=dispute");
    char *id = added_id();
    GN_OK("incident", "show", id, "--json");
    ASSERT_JSON(R.out, "title", "测试");
    free(id);

    static const struct {
        const char *prog, *a[4], *want;
    } bad[] = {
        {"gridhub", {"serve", "--bind"}, "gridhub: serve: --bind needs a value"},
        {"gridnode", {"sync", "--timeout"}, "gridnode: sync: --timeout needs a value"},
        {"gridhub",
         {"incident", "list", "--status"},
         "gridhub: incident list: --status needs a value"},
        {"gridnode",
         {"incident", "list", "--status"},
         "gridnode: incident list: --status needs a value"},
        {"gridhub",
         {"node", "list", "--colour=red"},
         "gridhub: node list: unknown option --colour"},
        {"gridnode", {"status", "--colour=red"}, "gridnode: status: unknown option --colour"},
        {"gridhub",
         {"incident", "list", "--colour"},
         "gridhub: incident list: unknown option --colour"},
        {"gridnode",
         {"incident", "list", "--colour"},
         "gridnode: incident list: unknown option --colour"},
        {"gridhub", {"init", "--force=yes"}, "gridhub: init: --force takes no value"},
        {"gridnode", {"sync", "--watch=yes"}, "gridnode: sync: --watch takes no value"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (!strcmp(bad[i].prog, "gridhub"))
            GH(bad[i].a[0], bad[i].a[1], bad[i].a[2], bad[i].a[3]);
        else
            GN(bad[i].a[0], bad[i].a[1], bad[i].a[2], bad[i].a[3]);
        ASSERT_EXIT(2);
        assert_one_line_error(bad[i].prog);
        ASSERT_ERR_HAS(bad[i].want);
    }
}
END_TEST

/* ---- TYPE list and ids by prefix ---------------------------------------------- */

/* The ids `incident list --json ARGS` prints, in order, joined by ' '. */
static char *list_ids(const char *a, const char *b, const char *c, const char *d)
{
    GH("incident", "list", "--json", a, b, c, d);
    ck_assert_msg(R.status == 0, "list %s %s: exit %d: %s", a ? a : "", b ? b : "", R.status,
                  R.err);
    char *out = calloc(1, 512);
    int n = 0;
    for (const char *p = R.out; (p = strstr(p, "\"id\":\"")); p += 6) {
        for (int k = 0; k < 6 && ids[k]; k++)
            if (!strncmp(p + 6, ids[k], strlen(ids[k])))
                n += snprintf(out + n, 512 - (size_t)n, "%s%d", n ? " " : "", k);
    }
    return out;
}

#define ASSERT_LIST(want, ...)                                                                     \
    do {                                                                                           \
        char *got_ = list_ids(__VA_ARGS__);                                                        \
        ck_assert_msg(!strcmp(got_, (want)), "incident list %s: got [%s], want [%s]",              \
                      #__VA_ARGS__, got_, (want));                                                 \
        free(got_);                                                                                \
    } while (0)

static void synced_city(void)
{
    setup();
    hub_serve();
    enter_and_sync();
    GN_OK("sync", "--timeout=60");
    char db_b[PATH_MAX], bundle[PATH_MAX];
    snprintf(bundle, sizeof bundle, "%s/b.bundle", tmp);
    snprintf(db_b, sizeof db_b, "%s/b.db", tmp);
    GNDB(db_b, "init", "--bundle", bundle);
    ASSERT_OK();
    GNDB(db_b, "incident", "add", "--title", "李庄漏水", "--category", "dispute", "--reported-at",
         "2026/11/26 12:00");
    ids[4] = added_id();
    GNDB(db_b, "sync", "--timeout", "60");
    ASSERT_OK();
}

START_TEST(hub_list_filters)
{
    synced_city();
    ASSERT_LIST("0 1 2 3 4", NULL, NULL, NULL, NULL);
    ASSERT_LIST("0", "--status", "accepted", NULL, NULL);
    ASSERT_LIST("0", "--status=受理", NULL, NULL, NULL);
    ASSERT_LIST("1 2 3 4", "--status", "reported", NULL, NULL);
    ASSERT_LIST("1 2", "--category", "safety", NULL, NULL);
    ASSERT_LIST("1", "--category=safety.fire", NULL, NULL, NULL);
    ASSERT_LIST("0", "--grid", GRID_A, NULL, NULL);
    ASSERT_LIST("4", "--village", VILLAGE_B, NULL, NULL);
    ASSERT_LIST("0 1 2 3", "--village=" VILLAGE_A, NULL, NULL, NULL);
    ASSERT_LIST("1 2 3 4", "--since", "2026/11/25", NULL, NULL);
    ASSERT_LIST("0 1 4", "--until", "2026年11月26日", NULL, NULL);
    ASSERT_LIST("1 4", "--since", "2026-11-25", "--until", "2026-11-27");
    ASSERT_LIST("0 4", "--text", "漏水", NULL, NULL);
    ASSERT_LIST("1", "--text", "50%", NULL, NULL);          /* % is a character, not a wildcard */
    ASSERT_LIST("", "--text", "%", "--village", VILLAGE_B); /* none in B holds one */
    ASSERT_LIST("1", "--text", "'OR 1=1 --", NULL, NULL);   /* SQL is text */
    ASSERT_LIST("", "--text", "x' OR '1'='1", NULL, NULL);
    ASSERT_LIST("0 4", "--text=漏水", "--category", "dispute", NULL);

    GH_OK("incident", "list", "--format", "csv", "--category", "safety");
    ck_assert_msg(!strncmp(R.out, "id,village_code,", 16), "%s", R.out);
    ASSERT_OUT_HAS(ids[1]);
    ASSERT_OUT_HAS(",safety.gas,");
    GH_OK("incident", "list", "--text", "漏水");
    ASSERT_OUT_HAS("楼道漏水");
    ASSERT_OUT_HAS("(2 网格事件)");
    GH_OK("incident", "list", "--json", "--status", "closed");
    ck_assert_int_eq(json_array_len(R.out), 0);

    /* a filter the type does not have, a bad value, a bad date */
    GH("grid", "list", "--status", "reported");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("--status");
    GH("incident", "list", "--status", "done");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("--status \"done\"");
    GH("incident", "list", "--since", "yesterday");
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("--since \"yesterday\"");
    /* the node's list takes the same filters */
    GN_OK("incident", "list", "--json", "--category", "safety");
    ck_assert_int_eq(json_array_len(R.out), 2);
}
END_TEST

/* An id by a unique prefix, as git takes commits: unique, ambiguous, none. */
static void check_prefixes(bool hub)
{
    /* ids[0..3] come from one node within a second: UUIDv7, the same first 8 */
    char p4[5], pfx[40];
    snprintf(p4, sizeof p4, "%.4s", ids[0]);
    size_t n = strlen(ids[0]);
    /* the shortest prefix of ids[0] that no other id shares */
    size_t k = 4;
    for (; k < n; k++) {
        bool shared = false;
        for (int i = 1; i < 5 && ids[i]; i++)
            shared |= !strncmp(ids[0], ids[i], k);
        if (!shared)
            break;
    }
    snprintf(pfx, sizeof pfx, "%.*s", (int)k, ids[0]);
    if (hub)
        GH("incident", "show", pfx, "--json");
    else
        GN("incident", "show", pfx, "--json");
    ASSERT_OK();
    ASSERT_JSON(R.out, "id", ids[0]);
    if (hub)
        GH("incident", "show", p4);
    else
        GN("incident", "show", p4);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("the id prefix");
    ASSERT_ERR_HAS(ids[1]);
    ASSERT_ERR_HAS("电线老化");
    ck_assert_uint_eq(R.out_len, 0);
    if (hub)
        GH("incident", "show", "ffff");
    else
        GN("incident", "show", "ffff");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("not found");
    /* three characters are no prefix: the id must be whole */
    snprintf(pfx, sizeof pfx, "%.3s", ids[0]);
    if (hub)
        GH("incident", "show", pfx);
    else
        GN("incident", "show", pfx);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("not found");
}

START_TEST(prefix_on_both_programs)
{
    synced_city();
    check_prefixes(true);
    check_prefixes(false);
    /* update through a prefix: the city's decision lands on the whole id */
    char pfx[40];
    snprintf(pfx, sizeof pfx, "%.30s", ids[2]);
    GH_OK("incident", "update", pfx, "--status=accepted");
    ck_assert_msg(!strncmp(R.out, ids[2], strlen(ids[2])), "%s", R.out);
    GH_OK("incident", "show", ids[2], "--json");
    ASSERT_JSON(R.out, "status", "accepted");
}
END_TEST

/* ---- the registry ------------------------------------------------------------ */

/* A node whose bundle cannot be written is not registered: no node, no
 * bundle, and the next add of the village takes the same number. */
START_TEST(failed_bundle_leaves_no_node)
{
    char bundle[PATH_MAX];
    snprintf(bundle, sizeof bundle, "%s/no-such-dir/a.bundle", tmp);
    GH("node", "add", "--village", VILLAGE_A, "--name=王庄村", "--endpoint", "tcp://127.0.0.1:7700",
       "--out", bundle);
    ck_assert_msg(R.status == 1, "node add with an unwritable bundle: exit %d: %s", R.status,
                  R.err);
    assert_one_line_error("gridhub");
    GH_OK("node", "list", "--json");
    ck_assert_msg(json_array_len(R.out) == 0, "the node stayed registered: %s", R.out);
    snprintf(bundle, sizeof bundle, "%s/a.bundle", tmp);
    GH_OK("node", "add", "--village", VILLAGE_A, "--name=王庄村", "--endpoint",
          "tcp://127.0.0.1:7700", "--out", bundle);
    ck_assert_msg(!strncmp(R.out, VILLAGE_A "-1\n", strlen(VILLAGE_A) + 3), "%s", R.out);
    GH_OK("node", "list", "--json");
    ck_assert_int_eq(json_array_len(R.out), 1);
}
END_TEST

/* ---- one CSV loop ----------------------------------------------------------- */

/* A bad row on line 5 after blank lines: "row 5" from both programs. */
START_TEST(same_row_number_for_a_bad_row)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cats.csv", tmp);
    static const char cats[] = "code,name_zh,name_en,parent_code\n"
                               "water,用水,Water,\n"
                               "\n"
                               "\n"
                               "Bad Code!,坏,Bad,\n";
    ck_assert_int_eq(gst_write_file(path, cats, sizeof cats - 1), 0);
    GH("refdata", "load", "categories", path);
    ASSERT_EXIT(1);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s: row 5, column 1 \"code\"", path);
    ASSERT_ERR_HAS(want);

    GN_OK("init", "--node-id", "n1", "--village", VILLAGE_A, "--endpoint", "tcp://127.0.0.1:1");
    snprintf(path, sizeof path, "%s/inc.csv", tmp);
    static const char inc[] = "title,category,severity\n"
                              "好的,dispute,1\n"
                              "\n"
                              "\n"
                              "坏的,dispute,9\n";
    ck_assert_int_eq(gst_write_file(path, inc, sizeof inc - 1), 0);
    GN("import", "incidents", path);
    ASSERT_EXIT(1);
    snprintf(want, sizeof want, "%s: row 5, column 3 \"severity\"", path);
    ASSERT_ERR_HAS(want);
}
END_TEST

static Suite *hub_cli_suite(void)
{
    Suite *s = suite_create("hub_cli");
    TCase *tc = gst_tcase(s, "cli", setup, teardown, 120);
    tcase_add_test(tc, usage_from_the_table);
    tcase_add_loop_test(tc, help_on_every_command, 0, (int)(sizeof hub_help / sizeof hub_help[0]));
    tcase_add_test(tc, option_equals_value);
    tcase_add_test(tc, same_row_number_for_a_bad_row);
    tcase_add_test(tc, failed_bundle_leaves_no_node);
    tc = gst_tcase(s, "find", no_setup, teardown, 300);
    tcase_add_test(tc, hub_list_filters);
    tcase_add_test(tc, prefix_on_both_programs);
    return s;
}

int main(void)
{
    char *top = gst_tmp_top();
    int rc = gst_run_suite(hub_cli_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
