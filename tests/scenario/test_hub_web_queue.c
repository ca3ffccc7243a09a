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
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gstest_cli.h"
#include "gridsync/buf.h"
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
static pid_t hub_pid;

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
        ck_assert_msg(R.status == 0, "gridnode(B) %s: exit %d\n%s", #__VA_ARGS__, R.status,        \
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
    hub_pid = gst_hub_serve(&procs, hub_db, endpoint, hub_log, false);

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
         "--description", "别的乡镇的事", "--assignee", "张三", "--reported-at", "2026-11-02 09:00",
         "--deadline", "2026-11-04");
    take_id(id_b1);
    GNB_OK("sync", "--timeout", "60");
}

static void teardown(void)
{
    gst_teardown(&procs, &R, &tmp);
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

/* How many times needle is in text. */
static int count_of(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* ---- the pages: gridhub web ---------------------------------------------------- */

#define PASSWORD "queue-pass-8"

static char web_log[PATH_MAX];
static uint16_t port;

/* setup, then the users and `gridhub web` beside the running serve. */
static void web_setup(void)
{
    setup();
    gst_hub_user(hub_db, "fancheng", "繁城镇干部", "township", TOWNSHIP_A, PASSWORD);
    gst_hub_user(hub_db, "city", "市民政局", "city", NULL, PASSWORD);
    snprintf(web_log, sizeof web_log, "%s/web.log", tmp);
    port = (uint16_t)gst_free_port();
    char bind[64];
    snprintf(bind, sizeof bind, "127.0.0.1:%u", port);
    const char *argv[] = {gst_bin("gridhub"), "--db", hub_db, "web", "--bind", bind, NULL};
    pid_t pid;
    port = gst_http_serve(&procs, argv, web_log, &pid);
    free((char *)argv[0]);
}

/* Percent-encodes s onto b (a query value or a form field). */
static void enc(gs_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.')
            gs_buf_putc(b, (char)*p);
        else
            gs_buf_printf(b, "%%%02X", *p);
    }
}

static gst_http_answer get(const gst_http_session *s, const char *path)
{
    return gst_http_request(port, "GET", path, s->cookie, NULL);
}

/* A form's POST with the session's CSRF token first (csrf false: none). */
static gst_http_answer post(const gst_http_session *s, const char *path, bool csrf,
                            const char *fields)
{
    char extra[400];
    snprintf(extra, sizeof extra, "%sContent-Type: application/x-www-form-urlencoded\r\n",
             s->cookie);
    gs_buf body = GS_BUF_INIT;
    if (csrf)
        gs_buf_printf(&body, "_csrf=%s&", s->csrf);
    gs_buf_puts(&body, fields);
    gst_http_answer a = gst_http_request(port, "POST", path, extra, body.data);
    gs_buf_free(&body);
    return a;
}

/* Logs in as login: the session after the login, with the CSRF token of
 * its first page. */
static gst_http_session login_as(const char *login)
{
    return gst_http_login(port, login, PASSWORD, "/incidents");
}

#define BODY_HAS(a, s)                                                                             \
    ck_assert_msg(strstr((a).body, (s)), "page lacks \"%s\":\n%.3000s", (s), (a).body)
#define BODY_LACKS(a, s)                                                                           \
    ck_assert_msg(!strstr((a).body, (s)), "page has \"%s\":\n%.3000s", (s), (a).body)

/* GET path (its query values already encoded) and checks the status and
 * that nothing of the other township is on the answer. */
static void expect(const gst_http_session *s, const char *path, int status, const char *count)
{
    gst_http_answer h = get(s, path);
    ck_assert_msg(h.status == status, "%s: %d, want %d\n%.3000s", path, h.status, status, h.body);
    BODY_LACKS(h, "杜街机密事件");
    BODY_LACKS(h, "别的乡镇的事");
    BODY_LACKS(h, id_b1);
    BODY_LACKS(h, VILLAGE_B);
    BODY_LACKS(h, "杜街村");
    BODY_LACKS(h, "杜曲镇");
    if (count)
        BODY_HAS(h, count);
    gst_http_answer_free(&h);
}

/* The query path /incidents?NAME=VALUE with the value encoded. */
static char *query(const char *name, const char *value)
{
    gs_buf b = GS_BUF_INIT;
    gs_buf_printf(&b, "/incidents?%s=", name);
    enc(&b, value);
    return b.data;
}

/* A township officer sees its villages only: in the list, its count, a
 * search, a filter; the other township's record and any filter naming it
 * are 403 with nothing of it; SQL in every filter is inert. */
START_TEST(web_township_scope)
{
    gst_http_session s = login_as("fancheng");
    gst_http_answer h = get(&s, "/incidents");
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "事件工单");
    BODY_HAS(h, "楼道漏水");
    BODY_HAS(h, "电线老化");
    BODY_HAS(h, "共 2 条");
    BODY_HAS(h, "营王村");
    /* overdue first, with its days */
    ck_assert(strstr(h.body, "楼道漏水") < strstr(h.body, "电线老化"));
    BODY_HAS(h, "<tr class=\"overdue\">");
    BODY_HAS(h, "超期 ");
    gst_http_answer_free(&h);
    expect(&s, "/incidents", 200, "共 2 条");

    char *p = query("q", "机密");
    expect(&s, p, 200, "共 0 条");
    free(p);
    p = query("q", "事");
    expect(&s, p, 200, NULL);
    free(p);
    p = query("assignee", "张三");
    expect(&s, p, 200, "共 1 条");
    free(p);
    expect(&s, "/incidents?overdue=1", 200, "共 1 条");
    expect(&s, "/incidents?township=" TOWNSHIP_A, 200, "共 2 条");
    expect(&s, "/incidents?county=" COUNTY, 200, "共 2 条");
    expect(&s, "/incidents?village=" VILLAGE_A, 200, "共 2 条");

    /* the other township: 403, nothing named */
    char path[200];
    snprintf(path, sizeof path, "/incident/%s", id_b1);
    expect(&s, path, 403, NULL);
    snprintf(path, sizeof path, "/incident/%s/status", id_b1);
    h = post(&s, path, true, "status=accepted");
    ck_assert_int_eq(h.status, 403);
    BODY_LACKS(h, "杜街");
    gst_http_answer_free(&h);
    expect(&s, "/incidents?village=" VILLAGE_B, 403, NULL);
    expect(&s, "/incidents?township=" TOWNSHIP_B, 403, NULL);
    expect(&s, "/incidents?county=411102", 403, NULL);
    expect(&s, "/incidents?status=reported&village=" VILLAGE_B, 403, NULL);

    /* SQL in every filter: inert */
    static const char *const inj[][2] = {
        {"q", "' OR 1=1 --"},
        {"q", "%' OR '1'='1"},
        {"assignee", "' OR '1'='1"},
        {"status", "reported' OR '1'='1"},
        {"category", "dispute' OR 1=1 --"},
        {"village", VILLAGE_A "' OR '1'='1"},
        {"township", TOWNSHIP_A "' OR 1=1 --"},
        {"county", COUNTY "' OR 1=1 --"},
        {"overdue", "1' OR '1'='1"},
        {"page", "1; DROP TABLE incidents"},
    };
    for (size_t i = 0; i < sizeof inj / sizeof inj[0]; i++) {
        p = query(inj[i][0], inj[i][1]);
        h = get(&s, p);
        ck_assert_msg(h.status == 200 || h.status == 400 || h.status == 403, "%s: %d", p, h.status);
        BODY_LACKS(h, "杜街机密事件");
        BODY_LACKS(h, "共 3 条");
        gst_http_answer_free(&h);
        free(p);
    }
    /* the tables are whole */
    GH_OK("incident", "list", "--json");
    ASSERT_OUT_HAS(id_b1);
    ASSERT_OUT_HAS(id_a2);

    /* 上级交办 offers only the township's villages and refuses another */
    h = get(&s, "/incidents/new");
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, VILLAGE_A);
    BODY_LACKS(h, VILLAGE_B);
    gst_http_answer_free(&h);
    h = post(&s, "/incidents/new", true,
             "_village=" VILLAGE_B "&title=x&category=dispute&deadline=2099-01-01");
    ck_assert_int_eq(h.status, 403);
    BODY_LACKS(h, "杜街");
    gst_http_answer_free(&h);
    GH_OK("incident", "list", "--village", VILLAGE_B, "--json");
    ck_assert_int_eq(count_of(R.out, "\"id\""), 1);
}
END_TEST

/* The record page offers the steps the workflow allows the city; a step it
 * forbids is refused with the core's message and nothing written; a
 * dispatch with assignee and note reaches the village after its sync. */
START_TEST(web_township_dispatches)
{
    gst_http_session s = login_as("fancheng");
    char path[200], act[200];
    snprintf(path, sizeof path, "/incident/%s", id_a1);
    snprintf(act, sizeof act, "/incident/%s/status", id_a1);
    gst_http_answer h = get(&s, path);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "楼道漏水");
    BODY_HAS(h, "处置期限");
    BODY_HAS(h, "超期 ");
    BODY_HAS(h, "name=\"status\" value=\"accepted\"");
    BODY_HAS(h, "name=\"status\" value=\"rejected\"");
    BODY_LACKS(h, "name=\"status\" value=\"closed\"");
    BODY_LACKS(h, "name=\"status\" value=\"dispatched\"");
    BODY_HAS(h, "历史");
    gst_http_answer_free(&h);

    GH_OK("incident", "show", id_a1);
    char *before = strdup(R.out);
    /* forbidden by the table: 上报 → 结案 */
    h = post(&s, act, true, "status=closed&note=x");
    ck_assert_int_eq(h.status, 409);
    BODY_HAS(h, "cannot go to");
    gst_http_answer_free(&h);
    /* no CSRF token: refused */
    h = post(&s, act, false, "status=accepted");
    ck_assert_int_eq(h.status, 403);
    gst_http_answer_free(&h);
    GH_OK("incident", "show", id_a1);
    ck_assert_msg(!strcmp(before, R.out), "a refused step wrote something:\n%s", R.out);
    free(before);

    h = post(&s, act, true, "status=accepted");
    ck_assert_msg(h.status == 303, "accept: %d\n%.3000s", h.status, h.body);
    gst_http_answer_free(&h);
    h = post(&s, act, true, "status=registered");
    ck_assert_int_eq(h.status, 303);
    gst_http_answer_free(&h);
    /* a dispatch needs its assignee */
    h = post(&s, act, true, "status=dispatched");
    ck_assert_int_eq(h.status, 400);
    BODY_HAS(h, "处置人");
    gst_http_answer_free(&h);
    gs_buf f = GS_BUF_INIT;
    gs_buf_puts(&f, "status=dispatched&assignee=");
    enc(&f, "李四");
    gs_buf_puts(&f, "&note=");
    enc(&f, "镇里派遣：请三日内处理");
    h = post(&s, act, true, f.data);
    gs_buf_free(&f);
    ck_assert_msg(h.status == 303, "dispatch: %d\n%.3000s", h.status, h.body);
    gst_http_answer_free(&h);
    h = get(&s, path);
    BODY_HAS(h, "派遣");
    BODY_HAS(h, "李四");
    BODY_HAS(h, "镇里派遣：请三日内处理");
    BODY_HAS(h, "value=\"dispatched\""); /* 退单/改派 */
    BODY_HAS(h, "退单/改派");
    BODY_HAS(h, "市级 "); /* the history names the city's changes */
    gst_http_answer_free(&h);

    GN_OK("sync", "--timeout", "60");
    GN_OK("incident", "show", id_a1, "--json");
    char *st = gst_json_get(R.out, "status"), *note = gst_json_get(R.out, "note");
    char *who = gst_json_get(R.out, "assignee");
    ck_assert_msg(st && !strcmp(st, "dispatched"), "status %s", st ? st : "(none)");
    ck_assert_msg(note && !strcmp(note, "镇里派遣：请三日内处理"), "note %s",
                  note ? note : "(none)");
    ck_assert_msg(who && !strcmp(who, "李四"), "assignee %s", who ? who : "(none)");
    free(st);
    free(note);
    free(who);
    GN_OK("incident", "show", id_a1);
    ASSERT_OUT_HAS("派遣");
}
END_TEST

/* 上级交办: the city hands an incident to village A; a wrong date is shown
 * beside its field with nothing stored; the right one arrives at the
 * village's PC after its sync, as 上级交办. */
START_TEST(web_city_hands_down)
{
    gst_http_session s = login_as("city");
    gst_http_answer h = get(&s, "/incidents");
    BODY_HAS(h, "共 3 条"); /* the city sees every village */
    BODY_HAS(h, "杜街机密事件");
    gst_http_answer_free(&h);
    h = get(&s, "/incidents/new");
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, VILLAGE_A);
    BODY_HAS(h, VILLAGE_B);
    BODY_HAS(h, "name=\"title\"");
    BODY_HAS(h, "name=\"deadline\"");
    gst_http_answer_free(&h);

    gs_buf f = GS_BUF_INIT;
    gs_buf_puts(&f, "_village=" VILLAGE_A "&_status=accepted&category=dispute&title=");
    enc(&f, "河道垃圾清理");
    gs_buf_puts(&f, "&description=");
    enc(&f, "市里交办：三天内清理完毕");
    gs_buf_puts(&f, "&severity=3&deadline=2026-13-45");
    h = post(&s, "/incidents/new", true, f.data);
    ck_assert_msg(h.status == 400, "bad date: %d\n%.3000s", h.status, h.body);
    BODY_HAS(h, "2026-13-45");
    BODY_HAS(h, "未保存");
    gst_http_answer_free(&h);
    GH_OK("incident", "list", "--text", "河道垃圾清理", "--json");
    ASSERT_OUT_LACKS("\"id\"");
    /* no village chosen: refused */
    h = post(&s, "/incidents/new", true, "title=x&category=dispute");
    ck_assert_int_eq(h.status, 400);
    BODY_HAS(h, "请选择村");
    gst_http_answer_free(&h);

    f.len = 0;
    gs_buf_puts(&f, "_village=" VILLAGE_A "&_status=accepted&category=dispute&title=");
    enc(&f, "河道垃圾清理");
    gs_buf_puts(&f, "&description=");
    enc(&f, "市里交办：三天内清理完毕");
    gs_buf_puts(&f, "&severity=3&deadline=2099-06-30");
    h = post(&s, "/incidents/new", true, f.data);
    gs_buf_free(&f);
    ck_assert_msg(h.status == 303, "create: %d\n%.3000s", h.status, h.body);
    char loc[300];
    ck_assert(gst_http_header(&h, "Location", loc, sizeof loc));
    gst_http_answer_free(&h);
    ck_assert_msg(!strncmp(loc, "/incident/", 10) && strstr(loc, "?ok=created"), "%s", loc);
    char id[64];
    snprintf(id, sizeof id, "%.*s", (int)strcspn(loc + 10, "?"), loc + 10);
    ck_assert_int_eq(strlen(id), 36);
    /* the queue: open ones by deadline (the overdue first), none last */
    h = get(&s, "/incidents");
    BODY_HAS(h, "共 4 条");
    const char *o1 = strstr(h.body, "杜街机密事件"), *o2 = strstr(h.body, "楼道漏水"),
               *o3 = strstr(h.body, "河道垃圾清理"), *o4 = strstr(h.body, "电线老化");
    ck_assert_msg(o1 && o2 && o3 && o4 && o1 < o2 && o2 < o3 && o3 < o4, "queue order:\n%.3000s",
                  h.body);
    gst_http_answer_free(&h);
    h = get(&s, loc);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "河道垃圾清理");
    BODY_HAS(h, "上级交办");
    BODY_HAS(h, "已交办");
    gst_http_answer_free(&h);

    GN_OK("sync", "--timeout", "60");
    GN_OK("incident", "show", id, "--json");
    char *src = gst_json_get(R.out, "source"), *st = gst_json_get(R.out, "status");
    char *title = gst_json_get(R.out, "title"), *dl = gst_json_get(R.out, "deadline");
    ck_assert_msg(src && !strcmp(src, "higher"), "source %s", src ? src : "(none)");
    ck_assert_msg(st && !strcmp(st, "accepted"), "status %s", st ? st : "(none)");
    ck_assert_msg(title && !strcmp(title, "河道垃圾清理"), "title %s", title ? title : "(none)");
    ck_assert_msg(dl && !strcmp(dl, "2099-06-30"), "deadline %s", dl ? dl : "(none)");
    free(src);
    free(st);
    free(title);
    free(dl);
    /* the other village does not get it */
    GNB_OK("sync", "--timeout", "60");
    GNDB(db_b, "incident", "list", "--json");
    ASSERT_OUT_LACKS(id);
}
END_TEST

/* ---- the queue's copy: what the hub holds, in the queue's order ------------------ */

#define MAX_LISTED 64

/* The ids a queue page lists, in order (its links to records), and its
 * total ("共 N 条"). */
static int page_ids(const char *body, char ids[][64], int64_t *total)
{
    int n = 0;
    const char *link = "<a href=\"/incident/";
    for (const char *p = body; (p = strstr(p, link)) && n < MAX_LISTED; n++) {
        p += strlen(link);
        snprintf(ids[n], 64, "%.*s", (int)strcspn(p, "\""), p);
    }
    const char *t = strstr(body, "共 ");
    *total = t ? strtoll(t + strlen("共 "), NULL, 10) : -1;
    return n;
}

/* The queue's order of two incidents, from their fields as the hub holds
 * them: open ones before closed ones (结案, 综合评价, 不予受理), then by
 * deadline (none last), then newest reported first, then by id, larger
 * first. */
static int queue_cmp(json_t *a, json_t *b)
{
    static const char *const closed[] = {"closed", "evaluated", "rejected"};
    int ca = 0, cb = 0;
    for (size_t i = 0; i < 3; i++) {
        ca |= !strcmp(json_string_value(json_object_get(a, "status")), closed[i]);
        cb |= !strcmp(json_string_value(json_object_get(b, "status")), closed[i]);
    }
    if (ca != cb)
        return ca - cb;
    const char *da = json_string_value(json_object_get(a, "deadline"));
    const char *db_ = json_string_value(json_object_get(b, "deadline"));
    if (!da != !db_)
        return da ? -1 : 1;
    if (da && strcmp(da, db_))
        return strcmp(da, db_);
    int r = strcmp(json_string_value(json_object_get(b, "reported_at")),
                   json_string_value(json_object_get(a, "reported_at")));
    return r ? r : strcmp(json_string_value(json_object_get(b, "id")),
                          json_string_value(json_object_get(a, "id")));
}

/* The queue page at query (as the city) lists exactly the incidents that
 * `gridhub incident list` with the same filters finds in the hub's table,
 * its total is their number, and they come in the queue's order. cli: the
 * command line's options for the same filters, NULL-ended. */
static void queue_matches(const gst_http_session *s, const char *query, const char *const cli[])
{
    const char *argv[24] = {"gridhub", "--db", hub_db, "incident", "list", "--json"};
    int n = 6;
    for (int i = 0; cli[i]; i++)
        argv[n++] = cli[i];
    argv[n] = NULL;
    gst_result_free(&R);
    ck_assert_int_eq(gst_run(&R, NULL, argv), 0);
    ck_assert_msg(R.status == 0, "incident list %s: %s", query, R.err);
    json_error_t je;
    json_t *want = json_loads(R.out, 0, &je);
    ck_assert_msg(json_is_array(want), "%s: %s", query, je.text);
    size_t nw = json_array_size(want);
    ck_assert_uint_le(nw, MAX_LISTED);

    char path[300];
    snprintf(path, sizeof path, "/incidents%s%s", *query ? "?" : "", query);
    gst_http_answer h = get(s, path);
    ck_assert_msg(h.status == 200, "%s: %d\n%.2000s", path, h.status, h.body);
    char ids[MAX_LISTED][64];
    int64_t total;
    int listed = page_ids(h.body, ids, &total);
    ck_assert_msg(total == (int64_t)nw && listed == (int)nw,
                  "%s: the page says %lld and lists %d, the hub holds %zu\n%.3000s", path,
                  (long long)total, listed, nw, h.body);
    json_t *prev = NULL;
    for (int i = 0; i < listed; i++) {
        json_t *rec = NULL;
        for (size_t k = 0; k < nw && !rec; k++)
            if (!strcmp(json_string_value(json_object_get(json_array_get(want, k), "id")),
                        ids[i]))
                rec = json_array_get(want, k);
        ck_assert_msg(rec, "%s: %s is listed, the hub's list lacks it", path, ids[i]);
        ck_assert_msg(!prev || queue_cmp(prev, rec) < 0,
                      "%s: row %d (%s) is out of the queue's order", path, i + 1, ids[i]);
        prev = rec;
    }
    json_decref(want);
    gst_http_answer_free(&h);
}

/* Every filter of the queue against the hub's own list. */
static void queue_all_filters(const gst_http_session *s)
{
    static const struct {
        const char *query;
        const char *cli[5];
    } cases[] = {
        {"", {NULL}},
        {"status=reported", {"--status", "reported", NULL}},
        {"status=rejected", {"--status", "rejected", NULL}},
        {"category=dispute", {"--category", "dispute", NULL}},
        {"category=safety", {"--category", "safety", NULL}},
        {"county=" COUNTY, {"--county", COUNTY, NULL}},
        {"township=" TOWNSHIP_A, {"--township", TOWNSHIP_A, NULL}},
        {"village=" VILLAGE_B, {"--village", VILLAGE_B, NULL}},
        {"assignee=%E5%BC%A0%E4%B8%89", {"--assignee", "张三", NULL}},
        {"overdue=1", {"--overdue", NULL}},
        {"q=%E6%BC%8F%E6%B0%B4", {"--text", "漏水", NULL}},
        {"status=reported&category=safety", {"--status", "reported", "--category", "safety", NULL}},
        {"township=" TOWNSHIP_A "&overdue=1", {"--township", TOWNSHIP_A, "--overdue", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        queue_matches(s, cases[i].query, cases[i].cli);
}

/* The queue is read from gridhub web's own copy of the incidents: it lists
 * what the hub holds, in the queue's order, for every filter; and it stays
 * so as changes arrive: a village's new, changed and deleted incidents
 * after its sync, and the city's own decision, in the very next page. */
START_TEST(web_queue_copy_follows_the_hub)
{
    /* more incidents in village A: deadlines passed, near, far and none;
     * categories under two parents; two assignees; one 不予受理 (closed) */
    static const char *const more[][4] = {
        {"垃圾清运不及时", "sanitation", "2026-10-03 08:00", "2026-10-10"},
        {"路灯损坏", "urban", "2026-11-10 19:30", "2026-11-12"},
        {"邻里因漏水争吵", "dispute.neighbour", "2026-11-15 08:00", ""},
        {"河道渗水", "safety.flood", "2026-11-25 07:00", "2099-01-31"},
        {"燃气管道老化", "safety.gas", "2026-11-26 09:00", "2026-11-12"},
        {"违章搭建", "urban.unmanaged_compound", "2026-11-26 09:00", ""},
    };
    char extra[6][64];
    for (size_t i = 0; i < 6; i++) {
        const char *args[16] = {"gridnode", "--db", db, "incident", "add", "--title", more[i][0],
                                "--category", more[i][1], "--reported-at", more[i][2]};
        int n = 11;
        if (*more[i][3]) {
            args[n++] = "--deadline";
            args[n++] = more[i][3];
        }
        if (i % 2) {
            args[n++] = "--assignee";
            args[n++] = i == 3 ? "张三" : "李四";
        }
        args[n] = NULL;
        gst_result_free(&R);
        ck_assert_int_eq(gst_run(&R, NULL, args), 0);
        take_id(extra[i]);
    }
    GN_OK("incident", "update", extra[1], "--status", "rejected");
    GN_OK("sync", "--timeout", "60");

    /* the copy is made when gridhub web starts; its log says so */
    int64_t end = gst_now_ms() + 60000;
    while (gst_count_in_file(web_log, "事件工单副本已建好") == 0) {
        ck_assert_msg(gst_now_ms() < end, "the queue's copy was not made:\n%s",
                      gst_read_file(web_log, NULL));
        gst_sleep_ms(50);
    }
    gst_http_session s = login_as("city");
    queue_all_filters(&s);
    char backup[PATH_MAX];
    snprintf(backup, sizeof backup, "%s/hub-backup.db", tmp);
    gst_db_backup(hub_db, backup);

    /* the village changes: one new, one changed, one deleted; synced */
    GN("incident", "add", "--title", "新报漏水", "--category", "dispute", "--deadline", "2026-11-01",
       "--reported-at", "2026-11-30 10:00");
    char fresh[64];
    take_id(fresh);
    GN_OK("incident", "update", extra[3], "--assignee", "王五", "--deadline", "2026-11-02");
    GN_OK("incident", "delete", extra[5]);
    GN_OK("sync", "--timeout", "60");
    queue_all_filters(&s);
    gst_http_answer h = get(&s, "/incidents");
    BODY_HAS(h, fresh);
    BODY_LACKS(h, extra[5]);
    gst_http_answer_free(&h);
    /* its record: the category by its name and the time to the minute, in
     * the fields and in the history */
    char path[120];
    snprintf(path, sizeof path, "/incident/%s", fresh);
    h = get(&s, path);
    BODY_HAS(h, "<dd>2026-11-30 10:00</dd>");
    BODY_HAS(h, "事件类别=矛盾纠纷");
    BODY_HAS(h, "上报时间=2026-11-30 10:00 ");
    BODY_LACKS(h, "+08:00");
    BODY_LACKS(h, "=dispute");
    gst_http_answer_free(&h);

    /* the city's own decision: in the list that follows it */
    char act[200];
    snprintf(act, sizeof act, "/incident/%s/status", fresh);
    h = post(&s, act, true, "status=rejected&note=x");
    ck_assert_msg(h.status == 303, "reject: %d\n%.2000s", h.status, h.body);
    gst_http_answer_free(&h);
    queue_all_filters(&s);
    h = get(&s, "/incidents?status=rejected");
    BODY_HAS(h, fresh);
    gst_http_answer_free(&h);

    /* the hub restored in place from the backup taken before those changes
     * (serve stopped, gridhub web running): the copy is made again */
    ck_assert_int_eq(kill(hub_pid, SIGTERM), 0);
    ck_assert_int_eq(gst_procs_wait(&procs, hub_pid, 20000), 0);
    sqlite3 *from = NULL, *to = NULL;
    ck_assert_int_eq(sqlite3_open_v2(backup, &from, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    ck_assert_int_eq(sqlite3_open(hub_db, &to), SQLITE_OK);
    sqlite3_busy_timeout(to, 10000);
    sqlite3_backup *bk = sqlite3_backup_init(to, "main", from, "main");
    ck_assert_ptr_nonnull(bk);
    ck_assert_int_eq(sqlite3_backup_step(bk, -1), SQLITE_DONE);
    ck_assert_int_eq(sqlite3_backup_finish(bk), SQLITE_OK);
    sqlite3_close(to);
    sqlite3_close(from);
    hub_pid = gst_hub_serve(&procs, hub_db, endpoint, hub_log, false);
    queue_all_filters(&s);
    h = get(&s, "/incidents");
    BODY_LACKS(h, fresh); /* the restored hub has not got it (yet) */
    gst_http_answer_free(&h);
    ck_assert_int_ge(gst_count_in_file(web_log, "事件工单副本已建好"), 2);
    /* the village gives the hub back what it lost, and more */
    GN_OK("incident", "add", "--title", "恢复后新报", "--category", "order");
    GN_OK("sync", "--timeout", "60");
    queue_all_filters(&s);
    h = get(&s, "/incidents");
    BODY_HAS(h, fresh);
    BODY_HAS(h, "恢复后新报");
    gst_http_answer_free(&h);
}
END_TEST

static Suite *queue_suite(void)
{
    Suite *s = suite_create("hub_web_queue");
    TCase *tc = gst_tcase(s, "cli", setup, teardown, 300);
    tcase_add_test(tc, cli_filters);
    tcase_add_test(tc, cli_decisions);
    tc = gst_tcase(s, "web", web_setup, teardown, 300);
    tcase_add_test(tc, web_township_scope);
    tcase_add_test(tc, web_township_dispatches);
    tcase_add_test(tc, web_city_hands_down);
    tcase_add_test(tc, web_queue_copy_follows_the_hub);
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
