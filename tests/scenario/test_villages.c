/*
 * test_villages.c: "every village counted" (issue 14), end to end with the
 * real gridhub and gridnode.
 *
 * A small city is entered by hand (the table `city` below): a village list
 * of residents' and villagers' committees under 老街街道 and 大刘镇 (源汇区)
 * and 邓襄镇 (开发区), loaded with `gridhub refdata load divisions`; some
 * villages get a node, some of those enter a red-white council or a
 * committee election with `gridnode` and sync it to a running `gridhub
 * serve`; one village is not in the list but has a node and data. Then
 * each node's last sync is set to a chosen number of days before the as-of
 * instant, as a sync that long ago would have left it.
 *
 * Nothing expected is written down as a figure: the test works out every
 * numerator and denominator from the table with the rules of
 * docs/reports.md (the villages of an area = its listed villages + the
 * other villages with a node or data; reporting = last sync at most 7 days
 * before as-of; a committee kind's elections over the villages of that
 * kind; percentages with one decimal, half up) and compares them with what
 * `gridhub report` prints. Other tests load the real 1,334-village list, no
 * list at all, and bad list files.
 */
#include <check.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/csv.h"
#include "gstest.h"
#include "gstest_cli.h"

#define AS_OF  "2026-03-31"
#define DAY_MS 86400000LL

static gst_result R;
static char *tmp;
static char hub_db[PATH_MAX], hub_log[PATH_MAX], endpoint[PATH_MAX + 8];
static gst_procs procs;

#define GH(...) gst_cmd(&R, true, "gridhub", hub_db, __VA_ARGS__, (const char *)NULL)
#define GH_OK(...)                                                                                 \
    do {                                                                                           \
        GH(__VA_ARGS__);                                                                           \
        ck_assert_msg(R.status == 0, "gridhub %s: exit %d\n%s", #__VA_ARGS__, R.status, R.err);    \
    } while (0)

/* ---- the city, entered by hand ----------------------------------------------------------------
 */

enum { NO_NODE, NEVER_SYNCED, SYNCED };

typedef struct vil {
    const char *code, *name; /* name NULL: not in the village list */
    const char *committee;   /* the list's committee column (listed villages) */
    int node;                /* NO_NODE, NEVER_SYNCED (issued, never synced), SYNCED */
    int silent_days;         /* SYNCED: its last sync, whole days before as-of */
    bool council;            /* enters a red-white council on its node */
    const char *election;    /* enters an election of this committee, or NULL */
} vil;

/* clang-format off */
static const vil city[] = {
    {"411102001001", "滨西社区居民委员会", "residents", SYNCED, 1, true, "居民委员会"},
    {"411102001002", "新华社区居民委员会", "residents", SYNCED, 10, false, NULL},
    {"411102001003", "老街社区居民委员会", "residents", NO_NODE, 0, false, NULL},
    /* exactly 7 days: still reporting */
    {"411102100201", "刘庄村民委员会", "villagers", SYNCED, 7, true, "村民委员会"},
    /* a Party election only: no committee election held */
    {"411102100202", "王庄村民委员会", "villagers", SYNCED, 31, false, "党组织委员会"},
    {"411102100203", "李庄村民委员会", "villagers", NEVER_SYNCED, 0, false, NULL},
    {"411102100204", "张庄村民委员会", "villagers", NO_NODE, 0, false, NULL},
    /* not in the list, but a node and data: counted in its own township */
    {"411102100299", NULL, NULL, SYNCED, 2, true, "村民委员会"},
    /* exactly 30 days: silent more than 7, not more than 30; a residents'
     * committee election in a villagers' committee is not its own kind's */
    {"411171102201", "邓襄一村民委员会", "villagers", SYNCED, 30, true, "居民委员会"},
    {"411171102202", "邓襄二村民委员会", "villagers", NO_NODE, 0, false, NULL},
};
/* clang-format on */
#define NCITY (sizeof city / sizeof city[0])

/* ---- the rules, as docs/reports.md states them
 * --------------------------------------------------- */

/* 0 villagers', 1 residents': the list's column, else the code's village
 * segment (001-199 residents', 200-399 villagers'). */
static int kind_of(const vil *v)
{
    if (v->committee)
        return strcmp(v->committee, "villagers") ? 1 : 0;
    return atoi(v->code + 9) < 200 ? 1 : 0;
}

static const char *const kind_election[] = {"村民委员会", "居民委员会"};

static bool reporting(const vil *v)
{
    return v->node == SYNCED && v->silent_days <= 7;
}

/* The percentage num/den as the reports print it (JSON), or "null". */
static void pct(int64_t num, int64_t den, char out[16])
{
    if (den == 0) {
        snprintf(out, 16, "null");
        return;
    }
    int64_t tenths = (2000 * num + den) / (2 * den);
    snprintf(out, 16, "%lld.%lld", (long long)(tenths / 10), (long long)(tenths % 10));
}

/* The figures of the villages whose code starts with prefix ("" all). */
typedef struct expect {
    int64_t villages, unlisted, registered, reporting, council, kind[2], held[2];
} expect;

static expect expect_for(const char *prefix)
{
    expect e = {0};
    for (size_t i = 0; i < NCITY; i++) {
        const vil *v = &city[i];
        if (strncmp(v->code, prefix, strlen(prefix)))
            continue;
        /* every village of the table is listed or has a node */
        int k = kind_of(v);
        e.villages++;
        e.unlisted += v->name == NULL;
        e.registered += v->node != NO_NODE;
        e.reporting += reporting(v);
        e.council += v->council;
        e.kind[k]++;
        e.held[k] += v->election && !strcmp(v->election, kind_election[k]);
    }
    return e;
}

/* ---- reading the reports' JSON ------------------------------------------------------------------
 */

/* The one-line object in section whose line holds needle (the total when
 * total), malloc'd; fails the test when there is none. */
static char *row_of(const char *json, const char *section, const char *needle, bool total)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\n  \"%s\": {", section);
    const char *p = strstr(json, pat);
    ck_assert_msg(p != NULL, "no section %s in:\n%s", section, json);
    const char *end = strstr(p + 1, "\n  }");
    for (const char *l = strchr(p + 1, '\n'); l && l < end; l = strchr(l + 1, '\n')) {
        const char *e = strchr(l + 1, '\n');
        size_t len = e ? (size_t)(e - l) : strlen(l);
        char *line = strndup(l, len);
        bool is_total = strstr(line, "\"total\": {") != NULL;
        if (is_total == total && strchr(line, '{') && (!needle || strstr(line, needle)))
            return line;
        free(line);
    }
    ck_abort_msg("no %s row with %s in %s:\n%s", total ? "total" : "data", needle ? needle : "-",
                 section, json);
    return NULL;
}

/* The value of key in a report's one-line object ("key": value): a string
 * without its quotes (the reports' strings here hold no escapes), anything
 * else as written; malloc'd, NULL when absent. */
static char *value_of(const char *row, const char *key)
{
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(row, pat);
    if (!p)
        return NULL;
    p += strlen(pat);
    if (*p == '"')
        return strndup(p + 1, strcspn(p + 1, "\""));
    return strndup(p, strcspn(p, ",}"));
}

static void assert_key(const char *row, const char *key, const char *want)
{
    char *v = value_of(row, key);
    ck_assert_msg(v && !strcmp(v, want), "%s = %s, want %s in\n%s", key, v ? v : "(absent)", want,
                  row);
    free(v);
}

static void assert_num(const char *row, const char *key, int64_t want)
{
    char w[24];
    snprintf(w, sizeof w, "%lld", (long long)want);
    assert_key(row, key, w);
}

static void assert_pct(const char *row, const char *key, int64_t num, int64_t den)
{
    char w[16];
    pct(num, den, w);
    assert_key(row, key, w);
}

/* A summary row against the figures of the villages under prefix. */
static void check_summary_row(const char *row, const char *prefix)
{
    expect e = expect_for(prefix);
    assert_num(row, "villages", e.villages);
    assert_num(row, "villages_unlisted", e.unlisted);
    assert_num(row, "villages_registered", e.registered);
    assert_num(row, "villages_without_node", e.villages - e.registered);
    assert_num(row, "villages_reporting", e.reporting);
    assert_pct(row, "reporting_pct", e.reporting, e.villages);
    assert_num(row, "villagers_committees", e.kind[0]);
    assert_num(row, "villagers_committees_elected", e.held[0]);
    assert_pct(row, "villagers_election_pct", e.held[0], e.kind[0]);
    assert_num(row, "residents_committees", e.kind[1]);
    assert_num(row, "residents_committees_elected", e.held[1]);
    assert_pct(row, "residents_election_pct", e.held[1], e.kind[1]);
    assert_num(row, "villages_with_council", e.council);
    assert_pct(row, "council_coverage_pct", e.council, e.villages);
}

/* The summary's row of code, checked against the villages under code; the
 * row (malloc'd) for further checks. */
static char *check_summary_code(const char *json, const char *code)
{
    char needle[40];
    snprintf(needle, sizeof needle, "\"code\": \"%s\"", code);
    char *row = row_of(json, "by_area", needle, false);
    check_summary_row(row, code);
    return row;
}

static char *report(const char *kind, const char *opt, const char *area, const char *format)
{
    if (opt)
        GH_OK("report", kind, opt, area, "--as-of", AS_OF, "--format", format);
    else
        GH_OK("report", kind, "--as-of", AS_OF, "--format", format);
    return strdup(R.out);
}

/* ---- building the city -------------------------------------------------------------------------
 */

static void hub_serve(void)
{
    gst_hub_serve(&procs, hub_db, endpoint, hub_log, true);
}

static void hub_setup(void)
{
    tmp = gst_tmpdir();
    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(hub_log, sizeof hub_log, "%s/hub.log", tmp);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/hub.sock", tmp);
    GH_OK("init");
    GH_OK("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
}

static void teardown(void)
{
    gst_teardown(&procs, &R, &tmp);
}

/* The village list (the listed villages of `city`), the nodes, their data
 * through gridnode and a real sync, then the last syncs moved back. */
static void city_setup(void)
{
    hub_setup();
    char list[PATH_MAX];
    snprintf(list, sizeof list, "%s/villages.csv", tmp);
    FILE *f = fopen(list, "w");
    ck_assert_ptr_nonnull(f);
    fputs("code,name,level,parent_code,committee\n", f);
    for (size_t i = 0; i < NCITY; i++)
        if (city[i].name)
            fprintf(f, "%s,%s,village,%.9s,%s\n", city[i].code, city[i].name, city[i].code,
                    city[i].committee);
    ck_assert_int_eq(fclose(f), 0);
    GH_OK("refdata", "load", "divisions", list);
    hub_serve();
    for (size_t i = 0; i < NCITY; i++) {
        const vil *v = &city[i];
        if (v->node == NO_NODE)
            continue;
        char bundle[PATH_MAX], node_db[PATH_MAX], id[32];
        snprintf(bundle, sizeof bundle, "%s/%s.bundle", tmp, v->code);
        snprintf(node_db, sizeof node_db, "%s/%s.db", tmp, v->code);
        snprintf(id, sizeof id, "N%s", v->code);
        GH_OK("node", "add", "--village", v->code, "--name", v->name ? v->name : v->code,
              "--endpoint", endpoint, "--out", bundle, "--id", id);
        GNDB(node_db, "init", "--bundle", bundle);
        ASSERT_OK();
        if (v->node != SYNCED)
            continue;
        if (v->council) {
            GNDB(node_db, "council", "add", "--name", "红白理事会", "--max-tables", "10");
            ASSERT_OK();
        }
        if (v->election) {
            bool residents = !strcmp(v->election, "居民委员会");
            GNDB(node_db, "election", "add", "--committee", v->election, "--election-date",
                 "2026-03-08", "--registered", "1200", "--voted", "1130", "--valid", "1118",
                 "--invalid", "12", "--seats-chair", "1", "--seats-member", residents ? "4" : "2");
            ASSERT_OK();
        }
        GNDB(node_db, "sync", "--timeout", "60");
        ASSERT_OK();
    }
    /* each node's last sync, days before as-of (the end of AS_OF, China time) */
    sqlite3 *db;
    ck_assert_int_eq(sqlite3_open(hub_db, &db), SQLITE_OK);
    sqlite3_busy_timeout(db, 10000);
    for (size_t i = 0; i < NCITY; i++) {
        if (city[i].node != SYNCED)
            continue;
        char sql[256];
        /* as-of: 2026-04-01T00:00:00+08:00, the UTC midnight less 8 hours */
        snprintf(sql, sizeof sql,
                 "UPDATE nodes SET last_seen_ms = (unixepoch('2026-04-01') - 8 * 3600) * 1000 - "
                 "%d * %lld WHERE village = '%s'",
                 city[i].silent_days, DAY_MS, city[i].code);
        ck_assert_int_eq(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        ck_assert_int_eq(sqlite3_changes(db), 1);
    }
    ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

/* ---- tests: the hand-made city
 * ------------------------------------------------------------------- */

/* Rates over the villages of each area, per county, per township, per village. */
START_TEST(summary_rates_over_the_expected_villages)
{
    char *j = report("summary", NULL, NULL, "json");
    static const char *const counties[] = {"411102", "411171"};
    for (size_t i = 0; i < 2; i++)
        free(check_summary_code(j, counties[i]));
    char *total = row_of(j, "by_area", NULL, true);
    check_summary_row(total, "");
    free(total);
    /* a county with none of the city's villages: no denominator, no rate */
    char *empty = row_of(j, "by_area", "\"code\": \"411121\"", false);
    assert_num(empty, "villages", 0);
    assert_key(empty, "reporting_pct", "null");
    free(empty);
    /* the unlisted village is noted */
    ck_assert_msg(strstr(j, "\"notes\": [") && strstr(j, "不在村社区名单内"), "%s", j);
    free(j);

    j = report("summary", "--county", "411102", "json");
    static const char *const towns[] = {"411102001", "411102100"};
    for (size_t i = 0; i < 2; i++)
        free(check_summary_code(j, towns[i]));
    free(j);

    /* by village: each named by the list, the unlisted one by its code */
    j = report("summary", "--township", "411102100", "json");
    char *t = report("summary", "--township", "411102100", "table");
    for (size_t i = 0; i < NCITY; i++) {
        if (strncmp(city[i].code, "411102100", 9))
            continue;
        char *row = check_summary_code(j, city[i].code);
        assert_key(row, "name", city[i].name ? city[i].name : city[i].code);
        free(row);
        ck_assert_msg(strstr(t, city[i].name ? city[i].name : city[i].code), "%s", t);
    }
    free(t);
    free(j);
}
END_TEST

/* The councils report divides coverage by the same villages. */
START_TEST(council_coverage_over_the_expected_villages)
{
    char *j = report("councils", "--county", "411102", "json");
    static const char *const towns[] = {"411102001", "411102100", "411102"};
    for (size_t i = 0; i < 3; i++) {
        char needle[40];
        snprintf(needle, sizeof needle, "\"code\": \"%s\"", towns[i]);
        char *row = row_of(j, "by_area", needle, i == 2);
        expect e = expect_for(towns[i]);
        assert_num(row, "villages", e.villages);
        assert_num(row, "villages_registered", e.registered);
        assert_num(row, "villages_with_council", e.council);
        assert_pct(row, "coverage_pct", e.council, e.villages);
        free(row);
    }
    free(j);
}
END_TEST

/* report nodes: the villages without a node (未开通), never synced, silent
 * more than 30 and more than 7 days, per area, in every format. */
START_TEST(nodes_lists_unserved_and_silent_villages)
{
    static const char *const states[] = {"no_node", "never_synced", "silent_over_30d",
                                         "silent_over_7d", NULL};
    static const char *const states_zh[] = {"未开通", "从未同步", "超30天未同步", "超7天未同步"};
    static const struct {
        const char *opt, *area, *prefix;
    } areas[] = {{NULL, NULL, ""},
                 {"--township", "411102100", "411102100"},
                 {"--county", "411171", "411171"}};
    for (size_t a = 0; a < 3; a++) {
        char *j = report("nodes", areas[a].opt, areas[a].area, "json");
        char *csv = report("nodes", areas[a].opt, areas[a].area, "csv");
        char *t = report("nodes", areas[a].opt, areas[a].area, "table");
        int64_t n[5] = {0}, all = 0;
        for (size_t i = 0; i < NCITY; i++) {
            const vil *v = &city[i];
            if (strncmp(v->code, areas[a].prefix, strlen(areas[a].prefix)))
                continue;
            /* the first state that holds, by the rules */
            int s = v->node == NO_NODE        ? 0
                    : v->node == NEVER_SYNCED ? 1
                    : v->silent_days > 30     ? 2
                    : v->silent_days > 7      ? 3
                                              : 4;
            n[s]++;
            all++;
            char needle[40];
            snprintf(needle, sizeof needle, "\"village\": \"%s\"", v->code);
            const char *name = v->name ? v->name : v->code;
            if (s == 4) {
                ck_assert_msg(!strstr(strstr(j, "\"villages\": {"), needle),
                              "%s is reporting but listed:\n%s", v->code, j);
                continue;
            }
            char *row = row_of(j, "villages", needle, false);
            assert_key(row, "state", states[s]);
            assert_key(row, "state_name", states_zh[s]);
            assert_key(row, "village_name", name);
            assert_key(row, "listed", v->name ? "true" : "false");
            if (v->node == SYNCED)
                assert_num(row, "silent_days", v->silent_days);
            free(row);
            /* CSV and table: the village's line names it and its state */
            char line_start[64];
            snprintf(line_start, sizeof line_start, "%s,%s,", states_zh[s], v->code);
            ck_assert_msg(strstr(csv, line_start) && strstr(csv, name), "%s\n%s", line_start, csv);
            ck_assert_msg(strstr(t, name) && strstr(t, states_zh[s]), "%s\n%s", name, t);
        }
        char *tot = row_of(j, "villages", NULL, true);
        assert_num(tot, "villages", all);
        assert_num(tot, "no_node", n[0]);
        assert_num(tot, "never_synced", n[1]);
        assert_num(tot, "silent_over_30d", n[2]);
        assert_num(tot, "silent_over_7d", n[2] + n[3]);
        assert_num(tot, "reporting", n[4]);
        free(tot);
        free(j), free(csv), free(t);
    }
}
END_TEST

/* ---- tests: the real list, no list, bad lists
 * ---------------------------------------------------- */

/* data/luohe_villages.csv: every county's villages and each committee kind,
 * counted from the file itself, and the names in the reports. */
START_TEST(real_village_list_counts_and_names)
{
    GH_OK("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_villages.csv");
    gs_csv *csv = NULL, *div = NULL;
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_csv_open(&csv, GS_TEST_SRC_DIR "/data/luohe_villages.csv", &eb), 0);
    ck_assert_int_eq(gs_csv_open(&div, GS_TEST_SRC_DIR "/data/luohe_divisions.csv", &eb), 0);
    char *j = report("summary", NULL, NULL, "json");
    int64_t total = 0, kinds[2] = {0};
    for (size_t d = 0; d < gs_csv_nrows(div); d++) {
        if (strcmp(gs_csv_cell(div, d, 2), "county"))
            continue;
        const char *county = gs_csv_cell(div, d, 0);
        int64_t n = 0;
        for (size_t r = 0; r < gs_csv_nrows(csv); r++) {
            /* the village's township, and that township's parent */
            const char *town = gs_csv_cell(csv, r, 3);
            for (size_t t = 0; t < gs_csv_nrows(div); t++)
                if (!strcmp(gs_csv_cell(div, t, 0), town) &&
                    !strcmp(gs_csv_cell(div, t, 3), county))
                    n++;
        }
        char needle[40];
        snprintf(needle, sizeof needle, "\"code\": \"%s\"", county);
        char *row = row_of(j, "by_area", needle, false);
        assert_num(row, "villages", n);
        assert_num(row, "villages_without_node", n);
        assert_pct(row, "reporting_pct", 0, n);
        free(row);
        total += n;
    }
    for (size_t r = 0; r < gs_csv_nrows(csv); r++)
        kinds[strcmp(gs_csv_cell(csv, r, 4), "villagers") ? 1 : 0]++;
    ck_assert_int_eq(total, (int64_t)gs_csv_nrows(csv));
    char *tot = row_of(j, "by_area", NULL, true);
    assert_num(tot, "villages", total);
    assert_num(tot, "villages_unlisted", 0);
    assert_num(tot, "villagers_committees", kinds[0]);
    assert_num(tot, "residents_committees", kinds[1]);
    free(tot);
    ck_assert_msg(!strstr(j, "未加载村社区名单"), "%s", j);
    free(j);
    /* every village of 老街街道 named in the nodes report, as the file names it */
    j = report("nodes", "--township", "411102001", "json");
    for (size_t r = 0; r < gs_csv_nrows(csv); r++) {
        if (strcmp(gs_csv_cell(csv, r, 3), "411102001"))
            continue;
        char needle[40];
        snprintf(needle, sizeof needle, "\"village\": \"%s\"", gs_csv_cell(csv, r, 0));
        char *row = row_of(j, "villages", needle, false);
        assert_key(row, "village_name", gs_csv_cell(csv, r, 1));
        assert_key(row, "state", "no_node");
        free(row);
    }
    free(j);
    gs_csv_destroy(&csv);
    gs_csv_destroy(&div);
}
END_TEST

/* No village list: the report says so, and divides by the villages with a node. */
START_TEST(no_village_list_said_and_fallback)
{
    char bundle[PATH_MAX];
    snprintf(bundle, sizeof bundle, "%s/n.bundle", tmp);
    GH_OK("node", "add", "--village", "411102100201", "--name", "某村", "--endpoint",
          "ipc:///nowhere", "--out", bundle);
    char *j = report("summary", NULL, NULL, "json");
    ck_assert_msg(strstr(j, "\"notes\": [\"未加载村社区名单"), "%s", j);
    char *tot = row_of(j, "by_area", NULL, true);
    assert_num(tot, "villages", 1);
    assert_num(tot, "villages_unlisted", 1);
    assert_num(tot, "villages_registered", 1);
    assert_pct(tot, "reporting_pct", 0, 1);
    free(tot);
    free(j);
    char *t = report("summary", NULL, NULL, "table");
    ck_assert_msg(strstr(t, "注意 note: 未加载村社区名单"), "%s", t);
    free(t);
}
END_TEST

/* A bad row: one message naming the file, its line and column; exit
 * non-zero; nothing stored (the good rows before it neither). */
START_TEST(bad_village_rows_refused_with_line_and_column)
{
    static const struct {
        const char *rows, *where;
    } bad[] = {
        /* a blank line: the bad row is line 4 of the file, not data row 3 */
        {"411102001001,滨西社区居民委员会,village,411102001,residents\n\n"
         "411102001002,新华社区居民委员会,village,411102001,villagers\n",
         ": row 4, column 5 \"committee\": "},
        {"411102001001,滨西社区居民委员会,village,411102100,residents\n",
         ": row 2, column 4 \"parent_code\": "},
        {"411102001,老街街道,township,411102,residents\n", ": row 2, column 5 \"committee\": "},
        {"411102001001,滨西社区居民委员会,village,411102001,城里\n",
         ": row 2, column 5 \"committee\": "},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char path[PATH_MAX], text[512], want[PATH_MAX + 64];
        snprintf(path, sizeof path, "%s/bad%zu.csv", tmp, i);
        snprintf(text, sizeof text, "code,name,level,parent_code,committee\n%s", bad[i].rows);
        ck_assert_int_eq(gst_write_file(path, text, strlen(text)), 0);
        GH("refdata", "load", "divisions", path);
        ck_assert_msg(R.status != 0, "%s loaded", text);
        snprintf(want, sizeof want, "%s%s", path, bad[i].where);
        ASSERT_ERR_HAS(want);
    }
    /* nothing stored: no village in the city */
    char *j = report("summary", NULL, NULL, "json");
    char *tot = row_of(j, "by_area", NULL, true);
    assert_num(tot, "villages", 0);
    free(tot);
    free(j);
}
END_TEST

static Suite *villages_suite(void)
{
    Suite *s = suite_create("villages");
    TCase *tc = gst_tcase(s, "city", city_setup, teardown, 300);
    tcase_add_test(tc, summary_rates_over_the_expected_villages);
    tcase_add_test(tc, council_coverage_over_the_expected_villages);
    tcase_add_test(tc, nodes_lists_unserved_and_silent_villages);
    tc = gst_tcase(s, "lists", hub_setup, teardown, 300);
    tcase_add_test(tc, real_village_list_counts_and_names);
    tcase_add_test(tc, no_village_list_said_and_fallback);
    tcase_add_test(tc, bad_village_rows_refused_with_line_and_column);
    return s;
}

int main(void)
{
    char *top = gst_tmp_top();
    int rc = gst_run_suite(villages_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
