/*
 * test_node_cli.c: the gridnode command line end to end, through the real
 * binary (issue 3, "Village node: offline data entry that never loses a
 * record").
 *
 * Every test gets a fresh temporary directory with a node database made by
 * `gridnode init`, runs gridnode as a user would (gst_run: no shell, Chinese
 * arguments passed whole) and checks what the user would check: the exit
 * code, the one-line message on stderr and the field it names, the rows of
 * `list`, the fields of `show --json` and the numbers of `status --json`.
 * A refused entry must leave those numbers exactly as they were.
 *
 * TCases: init; cli (help, unknown commands and options, missing database);
 * incident (add/update/list/show/delete, the status workflow, Chinese text);
 * records (grid, council, member, and list/show for every type); election
 * (hard errors refused, legal findings computed, stored and shown); affair
 * (violations of the village council's standards, cremation exemptions);
 * status.
 *
 * Cleanup: main() points TMPDIR at one directory of its own, so every
 * per-test directory lies under it and is removed at the end even when a
 * test fails (Check does not run a forked test's teardown after a failure).
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gstest_cli.h"

#define NODE_ID "411122101201-n1"
#define VILLAGE "411122101201" /* a village of 繁城回族镇, 临颍县, 漯河市 */
#define HUB     "tcp://127.0.0.1:7700"
#define GRID1   "411122101201001"

/* ---- running gridnode (GN, GNDB and ASSERT_* of gstest_cli.h) ----------- */

static char *tmp;          /* this test's directory */
static char db[PATH_MAX];  /* tmp/node.db */
static gst_result R;       /* the last run */

/* The error is one line: "gridnode: ...\n" and nothing else. */
static void assert_one_line_error(void)
{
    ck_assert_msg(R.err_len > 0 && R.err[R.err_len - 1] == '\n' &&
                      memchr(R.err, '\n', R.err_len - 1) == NULL,
                  "want exactly one line on stderr, got:\n%s", R.err);
    ck_assert_msg(strncmp(R.err, "gridnode: ", 10) == 0, "stderr: %s", R.err);
}

/* The id printed by a successful add: stdout is the id and a newline. */
static char *printed_id(void)
{
    ASSERT_OK();
    ck_assert_msg(R.out_len > 1 && R.out[R.out_len - 1] == '\n', "stdout: \"%s\"", R.out);
    ck_assert_msg(memchr(R.out, '\n', R.out_len - 1) == NULL, "stdout is not one line: %s", R.out);
    return strndup(R.out, R.out_len - 1);
}

/* ---- reading JSON output (flat objects, as gridnode writes them) ------------ */

/* gst_json_get that must find the key. */
static char *json_must(const char *json, const char *key)
{
    char *v = gst_json_get(json, key);
    ck_assert_msg(v != NULL, "no \"%s\" in %s", key, json);
    return v;
}

#define ASSERT_FINDING(json, key, code)                                                            \
    ck_assert_msg(gst_json_set_has((json), (key), (code)), "%s lacks %s:\n%s", (key), (code),     \
                  (json))
#define ASSERT_NO_FINDING(json, key, code)                                                         \
    ck_assert_msg(!gst_json_set_has((json), (key), (code)), "%s has %s:\n%s", (key), (code),      \
                  (json))

/* `TYPE show ID --json`, malloc'd. */
static char *show_json(const char *type, const char *id)
{
    GN(type, "show", id, "--json");
    ASSERT_OK();
    return strdup(R.out);
}

/* A number of `status --json`: a record count ("incident") or "seq", "pending". */
static long long status_num(const char *key)
{
    GN("status", "--json");
    ASSERT_OK();
    char *v = json_must(R.out, key);
    long long n = atoll(v);
    free(v);
    return n;
}

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

/* ---- fixture ------------------------------------------------------------------ */

static void setup(void)
{
    tmp = gst_tmpdir();
    snprintf(db, sizeof db, "%s/node.db", tmp);
    GN("init", "--node-id", NODE_ID, "--village", VILLAGE, "--hub", HUB, "--name", "王庄村");
    ASSERT_OK();
}

static void teardown(void)
{
    gst_result_free(&R);
    gst_rmrf(tmp);
    free(tmp);
    tmp = NULL;
}

/* A grid of the village, so incidents have one. */
static void add_grid(void)
{
    GN("grid", "add", "--code", GRID1, "--name", "第一网格", "--worker", "张桂兰");
    ASSERT_OK();
}

/* ==== init ======================================================================== */

START_TEST(init_creates_node)
{
    ASSERT_OUT_HAS("initialized node " NODE_ID " for village " VILLAGE);
    GN("status", "--json");
    ASSERT_OK();
    ASSERT_JSON(R.out, "node_id", NODE_ID);
    ASSERT_JSON(R.out, "village", VILLAGE);
    ASSERT_JSON(R.out, "hub", HUB);
    ASSERT_JSON(R.out, "incident", "0");
    ASSERT_JSON(R.out, "seq", "0");
    ASSERT_JSON(R.out, "pending", "0");
    ck_assert_int_eq(access(db, F_OK), 0);
}
END_TEST

/* A second init must not touch the existing database and its records. */
START_TEST(init_refuses_to_overwrite)
{
    add_grid();
    GN("init", "--node-id", "other-node", "--village", "411122101202", "--hub", HUB);
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS("already exists");
    GN("status", "--json");
    ASSERT_JSON(R.out, "node_id", NODE_ID);
    ASSERT_JSON(R.out, "village", VILLAGE);
    ASSERT_JSON(R.out, "grid", "1");
}
END_TEST

/* Bad arguments to init: the message names the option, and no file is made. */
typedef struct init_case {
    const char *node_id, *village, *hub, *names;
} init_case;

static const init_case bad_inits[] = {
    {NODE_ID, "4111221012", HUB, "--village"},        /* 10 digits */
    {NODE_ID, "41112210120A", HUB, "--village"},      /* not digits */
    {NODE_ID, "4111221012011", HUB, "--village"},     /* 13 digits */
    {"node one", VILLAGE, HUB, "--node-id"},          /* space */
    {"节点一", VILLAGE, HUB, "--node-id"},             /* not ASCII */
    {"hub", VILLAGE, HUB, "--node-id"},               /* the hub's own origin */
    {NODE_ID, VILLAGE, "http://127.0.0.1:7700", "--hub"},
};

START_TEST(init_rejects_bad_arguments)
{
    const init_case *c = &bad_inits[_i];
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/new.db", tmp);
    GNDB(path, "init", "--node-id", c->node_id, "--village", c->village, "--hub", c->hub);
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS(c->names);
    ck_assert_msg(access(path, F_OK) != 0, "init with a bad %s left a database behind", c->names);
}
END_TEST

START_TEST(init_needs_its_options)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/new.db", tmp);
    GNDB(path, "init", "--node-id", NODE_ID, "--village", VILLAGE);
    ASSERT_EXIT(2);
    assert_one_line_error();
    ASSERT_ERR_HAS("--endpoint");
    GNDB(path, "init", "--node-id", NODE_ID, "--village", VILLAGE, "--hub", HUB, "--colour", "x");
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("--colour");
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* gridnode and gridhub spell the same things the same way: --node-id and
 * --endpoint (each program keeping its older name, --hub and --id, as an
 * alias), --db=PATH, and the field options (--grid-code, short --grid) in
 * `gridnode incident add` and `gridhub incident update` alike. */
START_TEST(hub_and_node_spell_options_alike)
{
    char path[PATH_MAX], hub_db[PATH_MAX], dbeq[PATH_MAX + 8], out[PATH_MAX];
    snprintf(path, sizeof path, "%s/other.db", tmp);
    GNDB(path, "init", "--node-id", "n2", "--village", VILLAGE, "--endpoint", HUB);
    ASSERT_OK();
    GNDB(path, "status", "--json");
    ASSERT_JSON(R.out, "hub", HUB);
    GNDB(path, "init", "--node-id", "n3", "--village", VILLAGE, "--endpoint", "http://x:1");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("--endpoint \"http://x:1\"");

    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(dbeq, sizeof dbeq, "--db=%s", hub_db);
    snprintf(out, sizeof out, "%s/n.bundle", tmp);
    RUN_OK("gridhub", dbeq, "init");
    RUN_OK("gridhub", dbeq, "refdata", "load", "divisions",
           GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    RUN_OK("gridhub", dbeq, "node", "add", "--village", VILLAGE, "--name", "王庄村", "--endpoint",
           HUB, "--out", out, "--node-id", "wangzhuang-pc");
    ck_assert_str_eq(R.out, "wangzhuang-pc\n");
    RUN_OK("gridhub", "--db", hub_db, "node", "list", "--json");
    ck_assert_msg(strstr(R.out, "\"wangzhuang-pc\""), "%s", R.out);

    RUN_OK("gridhub", "--db", hub_db, "incident", "update", "--help");
    ASSERT_OUT_HAS("--grid-code");
    ASSERT_OUT_HAS("--reported-at");
    ASSERT_OUT_LACKS("--grid_code");
    ASSERT_OUT_LACKS("--closed-at"); /* computed: not an option */
    GN("incident", "add", "--help");
    ASSERT_OUT_HAS("--grid-code");
    add_grid();
    GN("incident", "add", "--grid-code", GRID1, "--category", "dispute", "--title", "长名");
    free(printed_id());
}
END_TEST

/* The line of `--help` output that lists option opt (malloc'd). */
static char *help_line(const char *opt)
{
    char want[64];
    snprintf(want, sizeof want, "  %s ", opt);
    const char *at = strstr(R.out, want);
    ck_assert_msg(at != NULL, "no %s in the help:\n%s", opt, R.out);
    return strndup(at, strcspn(at, "\n"));
}

/* `--help` marks as required only what is: in `incident add --help` exactly
 * --category and --title are, and an incident with just those two is
 * saved, while leaving out either is refused naming it. Fields with a
 * default (status, severity, reported-at: now), the generated id and the
 * village are not required; the computed closed_at is no option at all.
 * The command overview does not show the optional grid as required. */
START_TEST(help_marks_required_truthfully)
{
    GN("incident", "add", "--help");
    ASSERT_OK();
    static const char *const required[] = {"--category", "--title"};
    static const char *const optional[] = {"--id",       "--village-code", "--grid-code",
                                           "--status",   "--severity",     "--reported-at",
                                           "--source",   "--deadline"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        char *line = help_line(required[i]);
        ck_assert_msg(strstr(line, "(required)"), "not marked required: %s", line);
        free(line);
    }
    for (size_t i = 0; i < sizeof optional / sizeof optional[0]; i++) {
        char *line = help_line(optional[i]);
        ck_assert_msg(!strstr(line, "(required)"), "marked required: %s", line);
        free(line);
    }
    ASSERT_OUT_HAS("[default now");
    ASSERT_OUT_LACKS("--closed-at");
    GN("incident", "add", "--category", "dispute", "--title", "只有必填项");
    char *id = printed_id();
    GN("incident", "show", id, "--json");
    ASSERT_JSON(R.out, "status", "reported");
    ASSERT_JSON(R.out, "severity", "2");
    free(id);
    GN("incident", "add", "--category", "dispute");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("title");
    GN("incident", "add", "--title", "没有类别");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("category");
    GNDB(NULL, "--help");
    ASSERT_OK();
    ASSERT_OUT_LACKS("incident add --grid CODE");
    ASSERT_OUT_LACKS("incident update ID --status");
}
END_TEST

/* ==== cli ========================================================================= */

/* --help on every command and action: exit 0, usage on stdout, nothing on
 * stderr, and no database needed (or created). */
static const char *const help_cmds[][4] = {
    {"--help"},
    {"help"},
    {"init", "--help"},
    {"status", "--help"},
    {"import", "--help"},
    {"export", "--help"},
    {"template", "--help"},
    {"sync", "--help"},
    {"verify", "--help"},
    {"keygen", "--help"},
    {"incident", "--help"},
    {"incident", "add", "--help"},
    {"incident", "update", "--help"},
    {"incident", "list", "--help"},
    {"incident", "show", "--help"},
    {"incident", "delete", "--help"},
    {"grid", "add", "--help"},
    {"grid", "list", "--help"},
    {"grid", "show", "--help"},
    {"election", "add", "--help"},
    {"election", "update", "--help"},
    {"election", "list", "--help"},
    {"election", "show", "--help"},
    {"candidate", "add", "--help"},
    {"candidate", "list", "--help"},
    {"candidate", "show", "--help"},
    {"council", "add", "--help"},
    {"council", "list", "--help"},
    {"council", "show", "--help"},
    {"member", "add", "--help"},
    {"member", "list", "--help"},
    {"member", "show", "--help"},
    {"affair", "add", "--help"},
    {"affair", "list", "--help"},
    {"affair", "show", "--help"},
    {"affair", "-h"},
};
#define NHELP ((int)(sizeof help_cmds / sizeof help_cmds[0]))

START_TEST(help_everywhere)
{
    const char *const *c = help_cmds[_i];
    char nodb[PATH_MAX];
    snprintf(nodb, sizeof nodb, "%s/absent.db", tmp);
    GNDB(nodb, c[0], c[1], c[2], c[3]);
    ck_assert_msg(R.status == 0, "%s %s %s: exit %d; stderr: %s", c[0], c[1] ? c[1] : "",
                  c[2] ? c[2] : "", R.status, R.err);
    ck_assert_msg(strstr(R.out, "usage: gridnode") != NULL, "%s %s: no usage on stdout:\n%s", c[0],
                  c[1] ? c[1] : "", R.out);
    ck_assert_msg(R.err_len == 0, "%s %s: stderr: %s", c[0], c[1] ? c[1] : "", R.err);
    ck_assert_int_ne(access(nodb, F_OK), 0);
}
END_TEST

/* `add --help` lists every field a user can set, with its Chinese label. */
START_TEST(add_help_lists_fields)
{
    GN("incident", "add", "--help");
    ASSERT_OK();
    ASSERT_OUT_HAS("--title");
    ASSERT_OUT_HAS("标题");
    ASSERT_OUT_HAS("--reported-at");
    ASSERT_OUT_HAS("受理/accepted");
    ASSERT_OUT_LACKS("--closed-at"); /* computed */
    GN("election", "add", "--help");
    ASSERT_OUT_HAS("--seats-member");
    ASSERT_OUT_HAS("登记选民数");
    ASSERT_OUT_LACKS("--findings");
    GN("affair", "add", "--help");
    ASSERT_OUT_HAS("豁免/exempt");
    ASSERT_OUT_HAS("--exemption");
    GN("incident", "update", "--help");
    ASSERT_OUT_HAS("allowed next");
}
END_TEST

/* A grid's code is its key and must be given (`grid add` without --code is
 * refused), so the help must not promise to generate it. */
START_TEST(grid_add_help_code_required)
{
    GN("grid", "add", "--name", "没有编码");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("网格编码 (code) is required");
    GN("grid", "add", "--help");
    ASSERT_OK();
    const char *at = strstr(R.out, "--code");
    ck_assert_ptr_nonnull(at);
    char *line = strndup(at, strcspn(at, "\n"));
    ck_assert_msg(strstr(line, "generated") == NULL,
                  "`grid add --help` says the required code is generated: \"%s\"", line);
    free(line);
}
END_TEST

/* Unknown commands, actions, options and arguments: non-zero, one line on
 * stderr naming the culprit, nothing on stdout. */
static const char *const bad_cmds[][6] = {
    {"frobnicate", NULL, NULL, NULL, NULL, "frobnicate"},
    {"incidents", "frob", NULL, NULL, NULL, "frob"},
    {"incident", "add", "--colour", "red", NULL, "--colour"},
    {"incident", "list", "extra", NULL, NULL, "extra"},
    {"status", "--bogus", NULL, NULL, NULL, "--bogus"},
    {"import", "incidents", "x.csv", "--bogus", NULL, "--bogus"},
    {"import", "widgets", "x.csv", NULL, NULL, "widgets"},
    {"export", "incidents", "--bogus", NULL, NULL, "--bogus"},
    {"export", "incidents", "--format", "xml", NULL, "xml"},
    {"export", "widgets", NULL, NULL, NULL, "widgets"},
    {"template", "incidents", "--bogus", NULL, NULL, "--bogus"},
    {"template", "widgets", NULL, NULL, NULL, "widgets"},
    {"sync", "--bogus", NULL, NULL, NULL, "--bogus"},
    {"verify", "--bogus", NULL, NULL, NULL, "--bogus"},
    {"keygen", "--bogus", NULL, NULL, NULL, "--bogus"},
    {"grid", "add", "--name", NULL, NULL, "--name"}, /* option without a value */
    {"division", "add", "--code", "411100", NULL, "division"}, /* reference data */
};
#define NBAD ((int)(sizeof bad_cmds / sizeof bad_cmds[0]))

START_TEST(unknown_command_or_option)
{
    const char *const *c = bad_cmds[_i];
    long long seq = status_num("seq");
    GN(c[0], c[1], c[2], c[3], c[4]);
    ck_assert_msg(R.status != 0 && R.status < 128, "%s %s: exit %d", c[0], c[1] ? c[1] : "",
                  R.status);
    assert_one_line_error();
    ASSERT_ERR_HAS(c[5]);
    ck_assert_msg(R.out_len == 0, "stdout: %s", R.out);
    ck_assert_int_eq(status_num("seq"), seq);
}
END_TEST

START_TEST(no_command_prints_usage)
{
    GN("--json"); /* only global options */
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("usage: gridnode");
    ck_assert_uint_eq(R.out_len, 0);
}
END_TEST

/* Every command that needs the database says clearly that it is missing and
 * how to make one, and does not create it. */
static const char *const need_db[][4] = {
    {"status"},
    {"status", "--json"},
    {"incident", "list"},
    {"incident", "show", "x"},
    {"incident", "add", "--title", "路灯"}, /* stops before the category */
    {"grid", "list"},
    {"election", "list"},
    {"affair", "list"},
    {"export", "incidents"},
    {"sync"},
    {"verify"},
};
#define NNEED ((int)(sizeof need_db / sizeof need_db[0]))

START_TEST(missing_database)
{
    const char *const *c = need_db[_i];
    char nodb[PATH_MAX];
    snprintf(nodb, sizeof nodb, "%s/absent.db", tmp);
    if (!strcmp(c[0], "incident") && !strcmp(c[1], "add"))
        GNDB(nodb, c[0], c[1], c[2], c[3], "--category", "dispute");
    else
        GNDB(nodb, c[0], c[1], c[2], c[3]);
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS(nodb);
    ASSERT_ERR_HAS("gridnode init");
    ck_assert_int_ne(access(nodb, F_OK), 0);
}
END_TEST

/* The same through GRIDNODE_DB and through the default ./gridnode.db. */
START_TEST(missing_database_default_path)
{
    const char *argv[] = {"/bin/sh", "-c",
                          "cd \"$1\" && unset GRIDNODE_DB && exec \"$2\" incident list", "sh", tmp,
                          NULL, NULL};
    char *bin = gst_bin("gridnode");
    argv[5] = bin;
    gst_result_free(&R);
    ck_assert_int_eq(gst_run(&R, NULL, argv), 0);
    free(bin);
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS("./gridnode.db");
    ASSERT_ERR_HAS("gridnode init");

    /* GRIDNODE_DB names our database: it works without --db */
    setenv("GRIDNODE_DB", db, 1);
    GNDB(NULL, "status", "--json");
    unsetenv("GRIDNODE_DB");
    ASSERT_OK();
    ASSERT_JSON(R.out, "node_id", NODE_ID);
}
END_TEST

/* A file that is not a node database is refused as such. */
START_TEST(not_a_node_database)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/notes.txt", tmp);
    ck_assert_int_eq(gst_write_file(path, "买菜\n", 7), 0);
    GNDB(path, "incident", "list");
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS("not a gridsync node database");
}
END_TEST

/* ==== incident ===================================================================== */

/* Chinese free text with punctuation, quotes, a comma, a line break, a
 * 4-byte character (𠮷) and inner spaces: stored and shown byte for byte. */
static const char zh_title[] = "东街“老槐树”下 井盖缺失, 夜间危险";
static const char zh_desc[] = "二楼漏水，\n影响一楼住户；吉野家𠮷\t请尽快处理 \"急\"";

START_TEST(incident_add_show_list)
{
    add_grid();
    GN("incident", "add", "--grid", GRID1, "--category", "safety.building", "--title", zh_title,
       "--description", zh_desc, "--reporter", "王小二", "--reported-at", "2026-03-01 09:30",
       "--severity", "3", "--source", "群众反映");
    char *id = printed_id();
    ck_assert_uint_eq(strlen(id), 36); /* a UUID */

    char *js = show_json("incident", id);
    ASSERT_JSON(js, "id", id);
    ASSERT_JSON(js, "village_code", VILLAGE);
    ASSERT_JSON(js, "grid_code", GRID1);
    ASSERT_JSON(js, "category", "safety.building");
    ASSERT_JSON(js, "title", zh_title);
    ASSERT_JSON(js, "description", zh_desc);
    ASSERT_JSON(js, "reporter", "王小二");
    ASSERT_JSON(js, "reported_at", "2026-03-01T09:30:00+08:00");
    ASSERT_JSON(js, "severity", "3");
    ASSERT_JSON(js, "source", "resident");
    ASSERT_JSON(js, "status", "reported");
    free(js);

    GN("incident", "show", id);
    ASSERT_OK();
    ASSERT_OUT_HAS(zh_title);
    ASSERT_OUT_HAS(zh_desc);
    ASSERT_OUT_HAS("群众反映");
    ASSERT_OUT_HAS("历史 history");

    GN("incident", "list");
    ASSERT_OK();
    ASSERT_OUT_HAS(id);
    ASSERT_OUT_HAS(zh_title);
    ASSERT_OUT_HAS("上报");
    ASSERT_OUT_HAS("(1 网格事件)");

    GN("incident", "list", "--json");
    ASSERT_OK();
    ck_assert_int_eq(json_array_len(R.out), 1);
    ASSERT_JSON(R.out, "title", zh_title);

    ck_assert_int_eq(status_num("incident"), 1);
    ck_assert_int_eq(status_num("seq"), 2); /* the grid and the incident */
    free(id);
}
END_TEST

/* list --reporter and --overdue (the same filters as the pages' list): an
 * open incident past its deadline is overdue, a closed one or one with a
 * later deadline is not; a type without a deadline refuses --overdue. */
START_TEST(incident_list_reporter_overdue)
{
    GN("incident", "add", "--category", "dispute.neighbour", "--title", "逾期未办",
       "--reporter", "李四", "--deadline", "2020-01-01");
    char *late = printed_id();
    GN("incident", "add", "--category", "dispute.neighbour", "--title", "尚未到期",
       "--reporter", "王五", "--deadline", "2099-01-01");
    char *early = printed_id();
    GN("incident", "add", "--category", "dispute.neighbour", "--title", "逾期已结",
       "--reporter", "李四", "--deadline", "2020-01-01");
    char *done = printed_id();
    GN("incident", "update", done, "--status", "accepted");
    ASSERT_OK();
    GN("incident", "update", done, "--status", "closed");
    ASSERT_OK();

    GN("incident", "list", "--overdue");
    ASSERT_OK();
    ASSERT_OUT_HAS(late);
    ASSERT_OUT_LACKS(early);
    ASSERT_OUT_LACKS(done);
    ASSERT_OUT_HAS("(1 网格事件)");

    GN("incident", "list", "--reporter", "李四", "--json");
    ASSERT_OK();
    ck_assert_int_eq(json_array_len(R.out), 2);
    ASSERT_OUT_HAS(late);
    ASSERT_OUT_HAS(done);
    GN("incident", "list", "--reporter", "李四", "--overdue", "--format", "csv");
    ASSERT_OK();
    ASSERT_OUT_HAS(late);
    ASSERT_OUT_LACKS(done);

    GN("grid", "list", "--overdue");
    ASSERT_REFUSED();
    assert_one_line_error();
    ASSERT_ERR_HAS("--overdue");
    free(late), free(early), free(done);
}
END_TEST

/* Defaults: reported_at is now, status reported, severity 2, source patrol. */
START_TEST(incident_defaults)
{
    GN("incident", "add", "--category", "dispute.neighbour", "--title", "邻里纠纷");
    char *id = printed_id();
    char *js = show_json("incident", id);
    ASSERT_JSON(js, "status", "reported");
    ASSERT_JSON(js, "severity", "2");
    ASSERT_JSON(js, "source", "patrol");
    char *at = json_must(js, "reported_at");
    ck_assert_msg(strlen(at) == 25 && at[10] == 'T' && !strcmp(at + 19, "+08:00"),
                  "reported_at \"%s\"", at);
    free(at);
    free(js);
    free(id);
}
END_TEST

/* Bad input is refused with the field named, and nothing is stored. */
static const char *const bad_incidents[][5] = {
    /* option, value, words the message must hold */
    {"--title", "", "标题", "title", NULL},
    {"--severity", "5", "紧急程度", "1 to 4", NULL},
    {"--grid", GRID1 "9", "网格编码", "15-digit", NULL},
    {"--grid", "411122101299001", "does not belong to village", VILLAGE, NULL},
    {"--village-code", "411122101202", "not this node's village", VILLAGE, NULL},
    {"--status", "飞走", "状态", "上报(reported)", NULL},
    {"--reported-at", "昨天", "上报时间", "2026-11-28 09:30", NULL},
    {"--closed-at", "2026-01-01", "结案时间", "computed", NULL},
    {"--category", "Bad Code", "事件类别", "lowercase", NULL},
};
#define NBADINC ((int)(sizeof bad_incidents / sizeof bad_incidents[0]))

START_TEST(incident_add_refused)
{
    const char *const *c = bad_incidents[_i];
    const char *title = strcmp(c[0], "--title") ? "标题" : c[1];
    const char *cat = strcmp(c[0], "--category") ? "dispute" : c[1];
    if (!strcmp(c[0], "--title") || !strcmp(c[0], "--category"))
        GN("incident", "add", "--title", title, "--category", cat);
    else
        GN("incident", "add", "--title", title, "--category", cat, c[0], c[1]);
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS(c[2]);
    ASSERT_ERR_HAS(c[3]);
    ck_assert_int_eq(status_num("incident"), 0);
    ck_assert_int_eq(status_num("seq"), 0);
}
END_TEST

/* The whole main path of the workflow, with each step's note kept. */
START_TEST(incident_workflow)
{
    GN("incident", "add", "--category", "sanitation", "--title", "垃圾堆放");
    char *id = printed_id();
    static const char *const path[] = {"accepted", "立案",      "dispatched", "处置中",
                                       "feedback", "核查通过", "closed",     "综合评价"};
    static const char *const canon[] = {"accepted",    "registered", "dispatched", "in_progress",
                                        "feedback",    "verified",   "closed",     "evaluated"};
    for (size_t i = 0; i < sizeof path / sizeof path[0]; i++) {
        char note[64];
        snprintf(note, sizeof note, "第%zu步 已处理", i + 1);
        GN("incident", "update", id, "--status", path[i], "--note", note, "--assignee", "李师傅");
        ASSERT_OK();
        ck_assert_msg(!strncmp(R.out, id, strlen(id)) && !strcmp(R.out + strlen(id), "\n"),
                      "update printed \"%s\"", R.out);
    }
    char *js = show_json("incident", id);
    ASSERT_JSON(js, "status", canon[7]);
    ASSERT_JSON(js, "note", "第8步 已处理");
    ASSERT_JSON(js, "assignee", "李师傅");
    char *closed = json_must(js, "closed_at"); /* stamped when it closed */
    ck_assert_uint_eq(strlen(closed), 25);
    free(closed);
    free(js);
    ck_assert_int_eq(status_num("seq"), 9);
    GN("incident", "show", id);
    ASSERT_OUT_HAS("综合评价");
    ASSERT_OUT_HAS("第1步 已处理"); /* the history keeps every step */
    ASSERT_OUT_HAS("第8步 已处理");
    free(id);
}
END_TEST

/* The side paths of DOMAIN.md §2.5: on-the-spot resolution, reassignment,
 * rework, suspension. */
START_TEST(incident_workflow_side_paths)
{
    GN("incident", "add", "--category", "dispute", "--title", "当场调解");
    char *a = printed_id();
    GN("incident", "update", a, "--status", "accepted");
    ASSERT_OK();
    GN("incident", "update", a, "--status", "closed"); /* 自处置 */
    ASSERT_OK();

    GN("incident", "add", "--category", "safety.fire", "--title", "楼道堆物");
    char *b = printed_id();
    static const char *const steps[] = {"accepted",  "registered", "dispatched", "dispatched",
                                        "in_progress", "suspended", "in_progress", "feedback",
                                        "dispatched",  "in_progress", "feedback", "verified",
                                        "dispatched"};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        GN("incident", "update", b, "--status", steps[i]);
        ck_assert_msg(R.status == 0, "step %zu to %s: %s", i, steps[i], R.err);
    }
    char *js = show_json("incident", b);
    ASSERT_JSON(js, "status", "dispatched");
    free(js);
    free(a);
    free(b);
}
END_TEST

/* An illegal step is refused, the message names the allowed next states, and
 * the incident (and the change log) stay as they were. */
START_TEST(incident_illegal_transition)
{
    GN("incident", "add", "--category", "dispute", "--title", "违规流转");
    char *id = printed_id();
    long long seq = status_num("seq");

    GN("incident", "update", id, "--status", "closed", "--note", "不该保存");
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS("上报(reported)");
    ASSERT_ERR_HAS("结案(closed)");
    ASSERT_ERR_HAS("allowed next");
    ASSERT_ERR_HAS("受理(accepted)");
    ASSERT_ERR_HAS("不予受理(rejected)");
    ck_assert_int_eq(status_num("seq"), seq);
    char *js = show_json("incident", id);
    ASSERT_JSON(js, "status", "reported");
    ASSERT_JSON(js, "note", "");
    free(js);

    /* a final state names no next state */
    GN("incident", "update", id, "--status", "不予受理");
    ASSERT_OK();
    GN("incident", "update", id, "--status", "accepted");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("无(终态)");

    /* a jump back in the middle of the path */
    GN("incident", "add", "--category", "dispute", "--title", "倒退");
    char *b = printed_id();
    GN("incident", "update", b, "--status", "accepted");
    GN("incident", "update", b, "--status", "registered");
    ASSERT_OK();
    GN("incident", "update", b, "--status", "reported");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("派遣(dispatched)");
    free(id);
    free(b);
}
END_TEST

START_TEST(incident_update_errors)
{
    GN("incident", "update", "01a2243c-0000-7000-8000-000000000000", "--status", "accepted");
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS("not found");
    GN("incident", "add", "--category", "dispute", "--title", "待改");
    char *id = printed_id();
    GN("incident", "update", id);
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("nothing to change");
    GN("incident", "update", "--status", "accepted");
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("ID");
    GN("incident", "show");
    ASSERT_EXIT(2);
    GN("incident", "update", id, "--village-code", "411122101202");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("another village");
    free(id);
}
END_TEST

/* Editing Chinese text keeps it exact; the history keeps the old value. */
START_TEST(incident_update_text)
{
    GN("incident", "add", "--category", "urban", "--title", "占道经营");
    char *id = printed_id();
    GN("incident", "update", id, "--title", zh_title, "--description", zh_desc);
    ASSERT_OK();
    char *js = show_json("incident", id);
    ASSERT_JSON(js, "title", zh_title);
    ASSERT_JSON(js, "description", zh_desc);
    free(js);
    GN("incident", "show", id);
    ASSERT_OUT_HAS("标题=占道经营");
    ASSERT_OUT_HAS(zh_title);
    free(id);
}
END_TEST

START_TEST(incident_delete)
{
    GN("incident", "add", "--category", "dispute", "--title", "误报");
    char *id = printed_id();
    GN("incident", "delete", id);
    ASSERT_OK();
    ck_assert_int_eq(status_num("incident"), 0);
    ck_assert_int_eq(status_num("seq"), 2); /* the deletion is a change too */
    GN("incident", "show", id);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("not found");
    GN("incident", "list");
    ASSERT_OUT_HAS("(0 网格事件)");
    GN("incident", "delete", id);
    ASSERT_EXIT(1);
    free(id);
}
END_TEST

/* ==== records: grid, council, member; list/show of every type ===================== */

START_TEST(grid_add_list_show)
{
    GN("grid", "add", "--code", GRID1, "--name", "第一网格（东片）", "--kind", "专属网格",
       "--households", "320", "--population", "1105", "--worker", "张桂兰", "--worker-phone",
       "13800000000");
    ASSERT_OK();
    ck_assert_str_eq(R.out, GRID1 "\n");
    char *js = show_json("grid", GRID1);
    ASSERT_JSON(js, "name", "第一网格（东片）");
    ASSERT_JSON(js, "kind", "dedicated");
    ASSERT_JSON(js, "households", "320");
    ASSERT_JSON(js, "population", "1105");
    ASSERT_JSON(js, "worker", "张桂兰");
    ASSERT_JSON(js, "village_code", VILLAGE);
    free(js);
    GN("grid", "list");
    ASSERT_OUT_HAS(GRID1);
    ASSERT_OUT_HAS("第一网格（东片）");
    ASSERT_OUT_HAS("(1 网格)");
    GN("grid", "show", GRID1);
    ASSERT_OUT_HAS("专属网格");
    ASSERT_OUT_HAS("张桂兰");

    GN("grid", "update", GRID1, "--worker", "刘建军");
    ASSERT_OK();
    js = show_json("grid", GRID1);
    ASSERT_JSON(js, "worker", "刘建军");
    ASSERT_JSON(js, "name", "第一网格（东片）");
    free(js);

    GN("grid", "add", "--code", GRID1, "--name", "重复");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("already exists");
    GN("grid", "add", "--name", "没有编码");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("网格编码 (code)");
    GN("grid", "add", "--code", "411122101202001", "--name", "别村");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("must start with the village code");
    ck_assert_int_eq(status_num("grid"), 1);
}
END_TEST

START_TEST(council_and_members)
{
    GN("council", "add", "--name", "王庄村红白理事会", "--established-on", "2021年3月5日",
       "--charter-version", "2021版", "--max-tables", "10", "--cremation-required", "是");
    char *c = printed_id();
    char *js = show_json("council", c);
    ASSERT_JSON(js, "name", "王庄村红白理事会");
    ASSERT_JSON(js, "established_on", "2021-03-05");
    ASSERT_JSON(js, "max_tables", "10");
    ASSERT_JSON(js, "cremation_required", "true");
    free(js);

    GN("member", "add", "--council", c, "--name", "马德明", "--role", "会长", "--party-member",
       "是", "--gender", "男", "--term-start", "2021-03-05");
    char *m1 = printed_id();
    GN("member", "add", "--council-id", c, "--name", "白秀兰", "--role", "vice_president",
       "--gender", "female");
    char *m2 = printed_id();
    js = show_json("member", m1);
    ASSERT_JSON(js, "role", "president");
    ASSERT_JSON(js, "party_member", "true");
    ASSERT_JSON(js, "council_id", c);
    free(js);
    GN("member", "list");
    ASSERT_OUT_HAS("马德明");
    ASSERT_OUT_HAS("白秀兰");
    ASSERT_OUT_HAS("副会长");
    ASSERT_OUT_HAS("(2 理事会成员)");
    GN("council", "list");
    ASSERT_OUT_HAS("王庄村红白理事会");
    GN("council", "show", c);
    ASSERT_OUT_HAS("要求火化");

    GN("member", "add", "--council", "no-such-council", "--name", "无名", "--role", "理事");
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS("no-such-council");
    ASSERT_ERR_HAS("理事会编号");
    GN("member", "add", "--council", c, "--name", "无职务");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("职务");
    ck_assert_int_eq(status_num("member"), 2);
    free(c);
    free(m1);
    free(m2);
}
END_TEST

/* list on an empty node, and show of an unknown id, for every type. */
static const char *const types[][2] = {
    {"grid", "网格"},       {"incident", "网格事件"}, {"election", "换届选举"},
    {"candidate", "候选人"}, {"council", "红白理事会"}, {"member", "理事会成员"},
    {"affair", "红白事"},
};

START_TEST(list_and_show_every_type)
{
    const char *type = types[_i][0], *label = types[_i][1];
    char want[64];
    snprintf(want, sizeof want, "(0 %s)", label);
    GN(type, "list");
    ASSERT_OK();
    ASSERT_OUT_HAS(want);
    GN(type, "list", "--json");
    ASSERT_OK();
    ck_assert_str_eq(R.out, "[]\n");
    GN(type, "show", "nonexistent-id");
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS("not found");
}
END_TEST

/* ==== elections ===================================================================== */

/* Adds a village-committee election with id, R, B, valid, invalid, chair and
 * member seats; returns the exit code (output in R). */
static int add_election(const char *id, const char *reg, const char *voted, const char *valid,
                        const char *invalid, const char *chair, const char *members)
{
    return GN("election", "add", "--id", id, "--committee", "村民委员会", "--election-date",
              "2026-03-15", "--list-published", "2026-02-20", "--registered", reg, "--voted",
              voted, "--valid", valid, "--invalid", invalid, "--seats-chair", chair,
              "--seats-member", members);
}

static int add_candidate(const char *id, const char *election, const char *name,
                         const char *gender, const char *post, const char *round,
                         const char *votes)
{
    return GN("candidate", "add", "--id", id, "--election", election, "--name", name, "--gender",
              gender, "--post", post, "--round", round, "--votes", votes);
}

/* Hard errors of the election's own figures: refused, nothing stored. */
static const char *const bad_elections[][6] = {
    /* registered, voted, valid, invalid, finding, Chinese text */
    {"1000", "600", "590", "11", "BALLOTS_SUM", "有效票与无效票之和不等于投票人数"},
    {"1000", "600", "600", "1", "BALLOTS_SUM", "有效票与无效票之和不等于投票人数"},
    {"500", "600", "590", "10", "CAST_OVER_REGISTERED", "投票人数超过登记选民数"},
};

START_TEST(election_hard_errors)
{
    const char *const *c = bad_elections[_i];
    ck_assert_int_eq(add_election("e-good", "1000", "600", "590", "10", "1", "2"), 0);
    long long seq = status_num("seq");
    add_election("e-bad", c[0], c[1], c[2], c[3], "1", "2");
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS(c[4]);
    ASSERT_ERR_HAS(c[5]);
    ASSERT_ERR_HAS("not saved");
    ck_assert_int_eq(status_num("election"), 1);
    ck_assert_int_eq(status_num("seq"), seq);
    GN("election", "show", "e-bad");
    ASSERT_EXIT(1);
    GN("election", "list");
    ASSERT_OUT_HAS("(1 换届选举)");

    /* the same figures through an update of the good election */
    GN("election", "update", "e-good", "--registered", c[0], "--voted", c[1], "--valid", c[2],
       "--invalid", c[3]);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS(c[4]);
    ck_assert_int_eq(status_num("seq"), seq);
    char *js = show_json("election", "e-good");
    ASSERT_JSON(js, "registered", "1000");
    ASSERT_JSON(js, "voted", "600");
    ASSERT_JSON(js, "invalid", "10");
    free(js);
}
END_TEST

/* A candidate with more votes than valid ballots is refused; so is an edit
 * of the election that would make a stored candidate's votes impossible. */
START_TEST(candidate_votes_over_valid)
{
    ck_assert_int_eq(add_election("e1", "1000", "600", "590", "10", "1", "2"), 0);
    ck_assert_int_eq(add_candidate("c1", "e1", "王建国", "男", "主任", "first", "400"), 0);
    long long seq = status_num("seq");
    add_candidate("c2", "e1", "李秀英", "女", "委员", "first", "591");
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS("VOTES_OVER_VALID");
    ASSERT_ERR_HAS("候选人得票数超过有效票数");
    ck_assert_int_eq(status_num("candidate"), 1);
    ck_assert_int_eq(status_num("seq"), seq);

    /* fewer valid ballots than c1's 400 votes */
    GN("election", "update", "e1", "--valid", "390", "--invalid", "210");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("VOTES_OVER_VALID");
    ck_assert_int_eq(status_num("seq"), seq);
    char *js = show_json("election", "e1");
    ASSERT_JSON(js, "valid", "590");
    free(js);

    /* a candidate of an unknown election */
    add_candidate("c3", "e-none", "赵六", "男", "委员", "first", "1");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("e-none");
    ck_assert_int_eq(status_num("candidate"), 1);
}
END_TEST

/* 2*voted <= registered: the election is invalid, nobody is elected and
 * every seat is unfilled. One more voter makes it valid. */
START_TEST(election_turnout)
{
    add_election("half", "1000", "500", "500", "0", "1", "2");
    ASSERT_OK();
    ASSERT_ERR_HAS("TURNOUT_INVALID"); /* shown on entry */
    ASSERT_ERR_HAS("选举无效");
    ck_assert_int_eq(add_candidate("h1", "half", "王建国", "男", "主任", "first", "400"), 0);
    char *js = show_json("election", "half");
    ASSERT_FINDING(js, "findings", "TURNOUT_INVALID");
    ASSERT_FINDING(js, "findings", "SEATS_UNFILLED");
    ASSERT_JSON(js, "elected", "0");
    ASSERT_JSON(js, "unfilled", "3");
    free(js);
    js = show_json("candidate", "h1");
    ASSERT_JSON(js, "outcome", "not_elected");
    free(js);
    GN("election", "show", "half");
    ASSERT_OUT_HAS("审查结果 findings:");
    ASSERT_OUT_HAS("TURNOUT_INVALID");
    ASSERT_OUT_HAS("投票人数未过登记选民半数，选举无效");
    ASSERT_OUT_HAS("村民委员会组织法(2018-12-29)第十五条");

    add_election("over", "1000", "501", "501", "0", "1", "2");
    ASSERT_OK();
    ck_assert_int_eq(add_candidate("o1", "over", "王建国", "男", "主任", "first", "400"), 0);
    js = show_json("election", "over");
    ASSERT_NO_FINDING(js, "findings", "TURNOUT_INVALID");
    ASSERT_JSON(js, "elected", "1");
    ASSERT_JSON(js, "unfilled", "2");
    free(js);
    js = show_json("candidate", "o1");
    ASSERT_JSON(js, "outcome", "elected");
    free(js);
}
END_TEST

/* Exactly half the ballots cast is not a majority (BELOW_HALF); one more is. */
START_TEST(candidate_exactly_half)
{
    ck_assert_int_eq(add_election("e1", "1000", "600", "600", "0", "1", "2"), 0);
    add_candidate("c1", "e1", "王建国", "男", "主任", "first", "300");
    ASSERT_OK();
    ASSERT_ERR_HAS("BELOW_HALF"); /* shown on entry */
    ASSERT_ERR_HAS("得票未过投票人数半数");
    char *js = show_json("candidate", "c1");
    ASSERT_JSON(js, "outcome", "not_elected");
    ASSERT_FINDING(js, "findings", "BELOW_HALF");
    free(js);
    GN("candidate", "show", "c1");
    ASSERT_OUT_HAS("未当选");
    ASSERT_OUT_HAS("BELOW_HALF");

    ck_assert_int_eq(add_candidate("c2", "e1", "李秀英", "女", "委员", "first", "301"), 0);
    js = show_json("candidate", "c2");
    ASSERT_JSON(js, "outcome", "elected");
    ASSERT_NO_FINDING(js, "findings", "BELOW_HALF");
    free(js);
    js = show_json("election", "e1");
    ASSERT_JSON(js, "elected", "1");
    ASSERT_JSON(js, "women_elected", "1");
    ASSERT_JSON(js, "unfilled", "2");
    free(js);
    GN("candidate", "list");
    ASSERT_OUT_HAS("当选");
    ASSERT_OUT_HAS("BELOW_HALF");
}
END_TEST

/* The 另行选举 (supplementary round) needs at least a third of the ballots:
 * exactly a third is elected, one vote less is not. */
START_TEST(supplementary_round_third)
{
    static const char *const votes[] = {"300", "299"};
    static const char *const ids[] = {"full", "short"};
    for (int k = 0; k < 2; k++) {
        char c[4][32];
        for (int j = 0; j < 4; j++)
            snprintf(c[j], sizeof c[j], "%s-%d", ids[k], j);
        ck_assert_int_eq(add_election(ids[k], "1000", "900", "900", "0", "1", "2"), 0);
        ck_assert_int_eq(add_candidate(c[0], ids[k], "马秀芳", "女", "主任", "first", "600"), 0);
        ck_assert_int_eq(add_candidate(c[1], ids[k], "白建华", "男", "委员", "first", "460"), 0);
        ck_assert_int_eq(add_candidate(c[2], ids[k], "丁国强", "男", "委员", "first", "400"), 0);
        add_candidate(c[3], ids[k], "丁国强", "男", "委员", "另行选举", votes[k]);
        ASSERT_OK();
        if (k == 1)
            ASSERT_ERR_HAS("SUPP_BELOW_THIRD"); /* shown on entry */
        char *js = show_json("candidate", c[3]);
        char *e = show_json("election", ids[k]);
        if (k == 0) {
            ASSERT_JSON(js, "outcome", "elected");
            ASSERT_JSON(js, "round", "supplementary");
            ASSERT_JSON(e, "elected", "3");
            ASSERT_JSON(e, "unfilled", "0");
            ASSERT_NO_FINDING(e, "findings", "SEATS_UNFILLED");
        } else {
            ASSERT_JSON(js, "outcome", "not_elected");
            ASSERT_FINDING(js, "findings", "SUPP_BELOW_THIRD");
            ASSERT_JSON(e, "elected", "2");
            ASSERT_JSON(e, "unfilled", "1");
            ASSERT_FINDING(e, "findings", "SEATS_UNFILLED");
            ASSERT_FINDING(e, "findings", "SUPP_BELOW_THIRD");
        }
        free(js);
        free(e);
        js = show_json("candidate", c[2]); /* first-round 400 of 900 */
        ASSERT_JSON(js, "outcome", "not_elected");
        ASSERT_FINDING(js, "findings", "BELOW_HALF");
        free(js);
    }
}
END_TEST

/* No woman elected: NO_WOMAN. Adding an elected woman re-evaluates the
 * election and the finding goes. */
START_TEST(election_no_woman)
{
    ck_assert_int_eq(add_election("e1", "100", "80", "80", "0", "1", "2"), 0);
    ck_assert_int_eq(add_candidate("c1", "e1", "王建国", "男", "主任", "first", "50"), 0);
    ck_assert_int_eq(add_candidate("c2", "e1", "赵大山", "男", "委员", "first", "60"), 0);
    ASSERT_ERR_HAS("NO_WOMAN");
    char *js = show_json("election", "e1");
    ASSERT_FINDING(js, "findings", "NO_WOMAN");
    ASSERT_JSON(js, "elected", "2");
    ASSERT_JSON(js, "women_elected", "0");
    free(js);
    GN("election", "show", "e1");
    ASSERT_OUT_HAS("当选成员中没有妇女");

    ck_assert_int_eq(add_candidate("c3", "e1", "李秀英", "女", "委员", "first", "70"), 0);
    js = show_json("election", "e1");
    ASSERT_NO_FINDING(js, "findings", "NO_WOMAN");
    ASSERT_JSON(js, "elected", "3");
    ASSERT_JSON(js, "women_elected", "1");
    ASSERT_JSON(js, "unfilled", "0");
    free(js);
}
END_TEST

/* Committee size (village 3..7) is judged from the seats. */
START_TEST(election_committee_size)
{
    add_election("small", "100", "80", "80", "0", "1", "1");
    ASSERT_OK();
    ASSERT_ERR_HAS("SIZE_SMALL");
    char *js = show_json("election", "small");
    ASSERT_FINDING(js, "findings", "SIZE_SMALL");
    free(js);
    GN("election", "show", "small");
    ASSERT_OUT_HAS("委员会职数少于法定下限");

    ck_assert_int_eq(add_election("ok", "100", "80", "80", "0", "1", "2"), 0);
    js = show_json("election", "ok");
    ASSERT_NO_FINDING(js, "findings", "SIZE_SMALL");
    ASSERT_NO_FINDING(js, "findings", "SIZE_LARGE");
    free(js);

    ck_assert_int_eq(add_election("large", "100", "80", "80", "0", "1", "7"), 0);
    js = show_json("election", "large");
    ASSERT_FINDING(js, "findings", "SIZE_LARGE");
    free(js);

    /* fixing the seats clears the finding */
    GN("election", "update", "small", "--seats-member", "2");
    ASSERT_OK();
    js = show_json("election", "small");
    ASSERT_NO_FINDING(js, "findings", "SIZE_SMALL");
    free(js);
}
END_TEST

/* Not more candidates than seats for a post: NOT_CONTESTED (差额 election). */
START_TEST(election_not_contested)
{
    ck_assert_int_eq(add_election("e1", "100", "80", "80", "0", "1", "2"), 0);
    ck_assert_int_eq(add_candidate("c1", "e1", "王建国", "男", "主任", "first", "50"), 0);
    for (int i = 0; i < 3; i++) {
        char id[8], votes[8];
        snprintf(id, sizeof id, "m%d", i);
        snprintf(votes, sizeof votes, "%d", 45 + i);
        ck_assert_int_eq(add_candidate(id, "e1", "委员候选人", i ? "男" : "女", "委员", "first",
                                       votes),
                         0);
    }
    char *js = show_json("election", "e1"); /* one chair candidate for one seat */
    ASSERT_FINDING(js, "findings", "NOT_CONTESTED");
    free(js);
    GN("election", "show", "e1");
    ASSERT_OUT_HAS("非差额选举");

    ck_assert_int_eq(add_candidate("c2", "e1", "孙立新", "男", "主任", "first", "30"), 0);
    js = show_json("election", "e1");
    ASSERT_NO_FINDING(js, "findings", "NOT_CONTESTED");
    free(js);
}
END_TEST

/* A later candidate with more votes displaces an earlier one: the earlier
 * candidate's stored outcome is updated too. */
START_TEST(election_displacement_and_yijiantiao)
{
    ck_assert_int_eq(add_election("e1", "1000", "600", "600", "0", "1", "2"), 0);
    ck_assert_int_eq(add_candidate("c1", "e1", "王建国", "男", "主任", "first", "350"), 0);
    char *js = show_json("candidate", "c1");
    ASSERT_JSON(js, "outcome", "elected");
    free(js);
    GN("candidate", "add", "--id", "c2", "--election", "e1", "--name", "马书记", "--gender", "男",
       "--post", "主任", "--votes", "400", "--party-secretary", "是");
    ASSERT_OK();
    js = show_json("candidate", "c1");
    ASSERT_JSON(js, "outcome", "not_elected");
    free(js);
    js = show_json("candidate", "c2");
    ASSERT_JSON(js, "outcome", "elected");
    free(js);
    js = show_json("election", "e1");
    ASSERT_JSON(js, "elected", "1");
    ASSERT_JSON(js, "yijiantiao", "true");
    free(js);
    GN("election", "show", "e1");
    ASSERT_OUT_HAS("一肩挑");
}
END_TEST

/* Computed fields cannot be set by hand. */
START_TEST(election_computed_fields_not_settable)
{
    ck_assert_int_eq(add_election("e1", "1000", "600", "600", "0", "1", "2"), 0);
    GN("election", "update", "e1", "--findings", "");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("computed");
    GN("candidate", "add", "--election", "e1", "--name", "王", "--gender", "男", "--post", "主任",
       "--votes", "1", "--outcome", "elected");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("computed");
    ck_assert_int_eq(status_num("candidate"), 0);
}
END_TEST

/* ==== affairs =========================================================================== */

/* The village's red-white council with the standards of DOMAIN.md §4.2. */
static char *add_council(void)
{
    GN("council", "add", "--name", "王庄村红白理事会", "--max-tables", "10",
       "--max-cost-per-table", "300", "--max-gift", "100", "--max-cars", "6",
       "--max-funeral-days", "3", "--max-bride-price", "30000", "--cremation-required", "是");
    return printed_id();
}

START_TEST(affair_violations)
{
    char *c = add_council();
    GN("affair", "add", "--kind", "红事", "--host", "刘家", "--event-date", "2026-05-01", "--tables",
       "12", "--cars", "8", "--bride-price", "50000", "--cost-per-table", "300", "--gift", "100");
    char *a = printed_id();
    ASSERT_ERR_HAS("桌数超过标准"); /* shown on entry */
    ASSERT_ERR_HAS("AFFAIR_TABLES");
    char *js = show_json("affair", a);
    ASSERT_FINDING(js, "violations", "AFFAIR_TABLES");
    ASSERT_FINDING(js, "violations", "AFFAIR_CARS");
    ASSERT_FINDING(js, "violations", "AFFAIR_BRIDE_PRICE");
    ASSERT_NO_FINDING(js, "violations", "AFFAIR_COST"); /* at the limit */
    ASSERT_NO_FINDING(js, "violations", "AFFAIR_GIFT");
    free(js);
    GN("affair", "show", a);
    ASSERT_OUT_HAS("违规项");
    ASSERT_OUT_HAS("AFFAIR_TABLES");
    ASSERT_OUT_HAS("车辆数超过标准");
    GN("affair", "list");
    ASSERT_OUT_HAS("AFFAIR_TABLES");
    ASSERT_OUT_HAS("刘家");

    /* within the standards: no violation */
    GN("affair", "add", "--kind", "wedding", "--host", "陈家", "--event-date", "2026-05-02",
       "--tables", "10", "--cars", "6");
    char *b = printed_id();
    js = show_json("affair", b);
    ASSERT_JSON(js, "violations", "");
    free(js);

    /* an update past the limit is checked again */
    GN("affair", "update", b, "--tables", "11");
    ASSERT_OK();
    js = show_json("affair", b);
    ASSERT_FINDING(js, "violations", "AFFAIR_TABLES");
    free(js);
    free(a);
    free(b);
    free(c);
}
END_TEST

/* A Hui household's funeral, cremation exempt (豁免) with the reason, is not a
 * cremation violation; cremation "no" without exemption is; exempt without
 * a reason is refused. */
START_TEST(affair_cremation_exemption)
{
    char *c = add_council();
    GN("affair", "add", "--kind", "白事", "--host", "马德福（回族）", "--event-date", "2026-06-01",
       "--cremation", "豁免", "--exemption", "回族，土葬习俗", "--days", "3");
    char *hui = printed_id();
    char *js = show_json("affair", hui);
    ASSERT_JSON(js, "cremation", "exempt");
    ASSERT_JSON(js, "exemption", "回族，土葬习俗");
    ASSERT_JSON(js, "host", "马德福（回族）");
    ASSERT_JSON(js, "violations", "");
    free(js);

    GN("affair", "add", "--kind", "funeral", "--host", "赵家", "--event-date", "2026-06-02",
       "--cremation", "否", "--days", "5");
    char *zhao = printed_id();
    ASSERT_ERR_HAS("AFFAIR_CREMATION");
    js = show_json("affair", zhao);
    ASSERT_FINDING(js, "violations", "AFFAIR_CREMATION");
    ASSERT_FINDING(js, "violations", "AFFAIR_DAYS");
    free(js);
    GN("affair", "show", zhao);
    ASSERT_OUT_HAS("殡葬管理条例");

    long long seq = status_num("seq");
    GN("affair", "add", "--kind", "白事", "--host", "马家", "--event-date", "2026-06-03",
       "--cremation", "exempt");
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS("豁免理由");
    ASSERT_ERR_HAS("exemption");
    ck_assert_int_eq(status_num("affair"), 2);
    ck_assert_int_eq(status_num("seq"), seq);

    /* removing the reason of a stored exemption is refused as well */
    GN("affair", "update", hui, "--exemption", "");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("豁免理由");
    free(hui);
    free(zhao);
    free(c);
}
END_TEST

/* Without a council there is nothing to check against: stored, and said so. */
START_TEST(affair_without_council)
{
    GN("affair", "add", "--kind", "其他", "--host", "孙家", "--event-date", "2026-07-01",
       "--tables", "99");
    char *a = printed_id();
    ASSERT_ERR_HAS("尚未登记红白理事会");
    char *js = show_json("affair", a);
    ASSERT_JSON(js, "kind", "other");
    ASSERT_JSON(js, "tables", "99");
    ASSERT_JSON(js, "violations", "");
    free(js);
    GN("affair", "add", "--kind", "婚礼", "--host", "孙家", "--event-date", "2026-07-01");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("类型");
    free(a);
}
END_TEST

/* ==== status ========================================================================== */

START_TEST(status_text_and_json)
{
    GN("status");
    ASSERT_OK();
    ASSERT_OUT_HAS(NODE_ID);
    ASSERT_OUT_HAS("王庄村");
    ASSERT_OUT_HAS(VILLAGE);
    ASSERT_OUT_HAS(HUB);
    ASSERT_OUT_HAS("从未同步");

    add_grid();
    GN("incident", "add", "--category", "dispute", "--title", "一");
    ASSERT_OK();
    GN("incident", "add", "--category", "dispute", "--title", "二");
    ASSERT_OK();
    char *c = add_council();
    GN("incident", "add", "--category", "dispute", "--title", ""); /* refused */
    ASSERT_EXIT(1);

    GN("status", "--json");
    ASSERT_OK();
    ASSERT_JSON(R.out, "grid", "1");
    ASSERT_JSON(R.out, "incident", "2");
    ASSERT_JSON(R.out, "council", "1");
    ASSERT_JSON(R.out, "election", "0");
    ASSERT_JSON(R.out, "seq", "4");
    ASSERT_JSON(R.out, "acked_through", "0");
    ASSERT_JSON(R.out, "pending", "4");
    ASSERT_JSON(R.out, "rejected", "0");
    ASSERT_JSON(R.out, "last_sync", "");
    ASSERT_OUT_HAS("\"rejected_changes\":[]");

    GN("status");
    ASSERT_OK();
    ASSERT_OUT_HAS("changes made    4");
    ASSERT_OUT_HAS("pending         4");
    /* the records table: the incident row holds 2 */
    const char *row = strstr(R.out, "网格事件");
    ck_assert_ptr_nonnull(row);
    ck_assert_msg(strncmp(row + strcspn(row, "\n") - 1, "2", 1) == 0, "incident row: %.60s", row);
    free(c);
}
END_TEST

/* ==== suite ============================================================================ */

/* ==== bundle: reference data before the first sync ============================== */

static char bundle_path[PATH_MAX]; /* tmp/village.bundle, written by make_bundle */

/* A hub database in tmp with the project's divisions and categories, and a
 * bundle for a node of VILLAGE written by `gridhub node add` (no hub runs:
 * the bundle is all the node gets before its first sync). */
static void make_bundle(void)
{
    char hub_db[PATH_MAX];
    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(bundle_path, sizeof bundle_path, "%s/village.bundle", tmp);
    RUN_OK("gridhub", "--db", hub_db, "init");
    RUN_OK("gridhub", "--db", hub_db, "refdata", "load", "divisions",
           GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    RUN_OK("gridhub", "--db", hub_db, "refdata", "load", "categories",
           GS_TEST_SRC_DIR "/data/incident_categories.csv");
    RUN_OK("gridhub", "--db", hub_db, "node", "add", "--village", VILLAGE, "--name", "王庄村",
           "--endpoint", HUB, "--out", bundle_path);
}

/* The bundle's text with every line starting with one of drop[] removed. */
static char *bundle_without(const char *const *drop)
{
    char *text = gst_read_file(bundle_path, NULL);
    ck_assert_ptr_nonnull(text);
    char *out = calloc(1, strlen(text) + 1), *o = out;
    for (char *line = text; *line;) {
        size_t n = strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n');
        bool keep = true;
        for (int i = 0; drop[i]; i++)
            keep &= strncmp(line, drop[i], strlen(drop[i])) != 0;
        if (keep) {
            memcpy(o, line, n);
            o += n;
        }
        line += n;
    }
    free(text);
    return out;
}

/* Rows of the project's categories file (its lines but the header). */
static long long categories_in_data(void)
{
    return gst_count_in_file(GS_TEST_SRC_DIR "/data/incident_categories.csv", "\n") - 1;
}

/* A node installed from a fresh bundle knows every category and its
 * divisions before any sync: a typo in the category is refused at entry and
 * nothing is saved; a real category is accepted. Nothing of the reference
 * data is in the node's change log (it is the hub's, not the node's). */
START_TEST(bundle_reference_checks_entry_before_sync)
{
    make_bundle();
    char node_db[PATH_MAX];
    snprintf(node_db, sizeof node_db, "%s/village.db", tmp);
    snprintf(db, sizeof db, "%s", node_db);
    GN("init", "--bundle", bundle_path);
    ASSERT_OK();
    ASSERT_OUT_HAS("参考数据 reference data: 28 rows");
    ck_assert_int_eq(status_num("category"), categories_in_data());
    ck_assert_int_eq(status_num("division"), 3); /* 繁城回族镇, 临颍县, 漯河市 */
    ck_assert_int_eq(status_num("seq"), 0);
    add_grid();
    GN("incident", "add", "--grid", GRID1, "--category", "safety.fir", "--title", "打错的类别");
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS("safety.fir 不是已知的事件类别");
    ck_assert_int_eq(status_num("incident"), 0);
    GN("incident", "add", "--grid", GRID1, "--category", "safety.fire", "--title", "柴草堆放");
    free(printed_id());
    ck_assert_int_eq(status_num("incident"), 1);
    ck_assert_int_eq(status_num("seq"), 2); /* the grid and the incident, nothing else */
}
END_TEST

/* A bundle written before bundles carried reference data still installs; the
 * node then learns the categories at its first sync (and says so), and until
 * then entry cannot check them. */
START_TEST(bundle_without_reference_installs)
{
    make_bundle();
    static const char *const drop[] = {"reference_rows", "division =", "category =", NULL};
    char *old = bundle_without(drop);
    char old_path[PATH_MAX];
    snprintf(old_path, sizeof old_path, "%s/old.bundle", tmp);
    ck_assert_int_eq(gst_write_file(old_path, old, strlen(old)), 0);
    free(old);
    snprintf(db, sizeof db, "%s/old.db", tmp);
    GN("init", "--bundle", old_path);
    ASSERT_OK();
    ASSERT_OUT_HAS("initialized node " VILLAGE "-1");
    ASSERT_OUT_HAS("no incident categories yet");
    ck_assert_int_eq(status_num("category"), 0);
    add_grid();
    GN("incident", "add", "--grid", GRID1, "--category", "safety.fir", "--title", "首次同步前");
    free(printed_id());
}
END_TEST

/* Damaged reference rows: one line naming the bundle line and what is wrong,
 * and no database left behind. */
typedef struct bad_rows_case {
    const char *from, *to; /* the first `from` in the bundle becomes `to` */
    const char *names;
} bad_rows_case;

static const bad_rows_case bad_rows[] = {
    {"category = safety.fire,", "category = Safety Fire!,", "category code"},
    {"category = safety.fire,", "category = ,", "category"},
    {"division = 411122,临颍县,county", "division = 411122,临颍县,kingdom", "division level"},
    {"category = safety.fire,", "category = \"safety.fire,", "expected one CSV row"},
    {"category = safety.fire,", "categoryy = safety.fire,", "unknown key"},
    {"reference_rows = 28", "reference_rows = 27", "reference_rows says 27 rows"},
    {"reference_rows = 28", "reference_rows = 99999", "reference_rows"},
};

START_TEST(bundle_bad_reference_rows_refused)
{
    make_bundle();
    const bad_rows_case *c = &bad_rows[_i];
    char *text = gst_read_file(bundle_path, NULL);
    ck_assert_ptr_nonnull(text);
    char *at = strstr(text, c->from);
    ck_assert_msg(at != NULL, "no \"%s\" in the bundle", c->from);
    size_t head = (size_t)(at - text), flen = strlen(c->from), tlen = strlen(c->to);
    char *bad = malloc(strlen(text) + tlen + 1);
    memcpy(bad, text, head);
    memcpy(bad + head, c->to, tlen);
    strcpy(bad + head + tlen, at + flen);
    char bad_path[PATH_MAX];
    snprintf(bad_path, sizeof bad_path, "%s/bad.bundle", tmp);
    ck_assert_int_eq(gst_write_file(bad_path, bad, strlen(bad)), 0);
    free(text);
    free(bad);
    snprintf(db, sizeof db, "%s/bad.db", tmp);
    GN("init", "--bundle", bad_path);
    ASSERT_EXIT(1);
    assert_one_line_error();
    ASSERT_ERR_HAS("bad.bundle: bundle");
    ASSERT_ERR_HAS(c->names);
    ck_assert_msg(access(db, F_OK) != 0, "a refused bundle left %s", db);
}
END_TEST

static Suite *node_cli_suite(void)
{
    Suite *s = suite_create("node_cli");
    TCase *tc;

    /* 120 s per test: gridnode is slow under sanitizers */
    tc = gst_tcase(s, "init", setup, teardown, 120);
    tcase_add_test(tc, init_creates_node);
    tcase_add_test(tc, init_refuses_to_overwrite);
    tcase_add_loop_test(tc, init_rejects_bad_arguments, 0,
                        (int)(sizeof bad_inits / sizeof bad_inits[0]));
    tcase_add_test(tc, init_needs_its_options);

    tc = gst_tcase(s, "bundle", setup, teardown, 120);
    tcase_add_test(tc, bundle_reference_checks_entry_before_sync);
    tcase_add_test(tc, bundle_without_reference_installs);
    tcase_add_loop_test(tc, bundle_bad_reference_rows_refused, 0,
                        (int)(sizeof bad_rows / sizeof bad_rows[0]));

    tc = gst_tcase(s, "cli", setup, teardown, 120);
    tcase_add_loop_test(tc, help_everywhere, 0, NHELP);
    tcase_add_test(tc, add_help_lists_fields);
    tcase_add_test(tc, grid_add_help_code_required);
    tcase_add_test(tc, hub_and_node_spell_options_alike);
    tcase_add_test(tc, help_marks_required_truthfully);
    tcase_add_loop_test(tc, unknown_command_or_option, 0, NBAD);
    tcase_add_test(tc, no_command_prints_usage);
    tcase_add_loop_test(tc, missing_database, 0, NNEED);
    tcase_add_test(tc, missing_database_default_path);
    tcase_add_test(tc, not_a_node_database);

    tc = gst_tcase(s, "incident", setup, teardown, 120);
    tcase_add_test(tc, incident_add_show_list);
    tcase_add_test(tc, incident_defaults);
    tcase_add_test(tc, incident_list_reporter_overdue);
    tcase_add_loop_test(tc, incident_add_refused, 0, NBADINC);
    tcase_add_test(tc, incident_workflow);
    tcase_add_test(tc, incident_workflow_side_paths);
    tcase_add_test(tc, incident_illegal_transition);
    tcase_add_test(tc, incident_update_errors);
    tcase_add_test(tc, incident_update_text);
    tcase_add_test(tc, incident_delete);

    tc = gst_tcase(s, "records", setup, teardown, 120);
    tcase_add_test(tc, grid_add_list_show);
    tcase_add_test(tc, council_and_members);
    tcase_add_loop_test(tc, list_and_show_every_type, 0, (int)(sizeof types / sizeof types[0]));

    tc = gst_tcase(s, "election", setup, teardown, 120);
    tcase_add_loop_test(tc, election_hard_errors, 0,
                        (int)(sizeof bad_elections / sizeof bad_elections[0]));
    tcase_add_test(tc, candidate_votes_over_valid);
    tcase_add_test(tc, election_turnout);
    tcase_add_test(tc, candidate_exactly_half);
    tcase_add_test(tc, supplementary_round_third);
    tcase_add_test(tc, election_no_woman);
    tcase_add_test(tc, election_committee_size);
    tcase_add_test(tc, election_not_contested);
    tcase_add_test(tc, election_displacement_and_yijiantiao);
    tcase_add_test(tc, election_computed_fields_not_settable);

    tc = gst_tcase(s, "affair", setup, teardown, 120);
    tcase_add_test(tc, affair_violations);
    tcase_add_test(tc, affair_cremation_exemption);
    tcase_add_test(tc, affair_without_council);

    tc = gst_tcase(s, "status", setup, teardown, 120);
    tcase_add_test(tc, status_text_and_json);
    return s;
}

int main(void)
{
    /* Every test directory goes under one of ours, removed at the end. */
    char *top = gst_tmp_top();
    int rc = gst_run_suite(node_cli_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
