/*
 * test_node_web_pages.c: the 换届选举, 红白理事会, 导入导出 and 同步 pages of
 * `gridnode web`, end to end: a real hub (`gridhub serve`, CURVE, a node
 * installed from its bundle) and a real `gridnode web --port 0` on the
 * node's database, asked over a socket as a browser would (gstest_http.h);
 * what was stored is read back with the command line.
 *
 * TCases:
 *   elections  findings of a sheet not stored (/api/elections/check) as the
 *              numbers cross the thresholds, each with its law and article;
 *              the sheet saved in one POST and the stored findings on the
 *              record page and the A4 report; a bad cell or figures that
 *              cannot be true store nothing and come back beside the cell;
 *              an edit that lowers the figures and the votes together
 *   councils   a funeral breaking the council's standard is marked with the
 *              limit and the actual value; one within it is not
 *   transfer   a GBK CSV and an XLSX workbook through the dry run and the
 *              confirmation store their rows; a bad file shows its errors by
 *              row and column and stores nothing; an expired or used token is
 *              refused; the downloads are a workbook and a CSV
 *   sync       the sync button with the hub down: running, then the
 *              failure in words; with the hub up it syncs (the records
 *              reach it) and the result appears in words; a running `sync
 *              --watch` is seen
 */
#include <check.h>
#include <iconv.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xlsxwriter.h>

#include "gridsync/buf.h"
#include "gridsync/http.h"
#include "gstest.h"
#include "gstest_cli.h"
#include "gstest_http.h"

#define VILLAGE "411122101201"
#define GRID    "411122101201001"

static char *tmp;
static char db[PATH_MAX], hub_db[PATH_MAX], hub_log[PATH_MAX], logp[PATH_MAX];
static char endpoint[PATH_MAX + 8];
static gst_result R;
static gst_procs procs;
static pid_t web;
static uint16_t port;
static gst_http_session S;

#define GH(...)        gst_cmd(&R, true, "gridhub", hub_db, __VA_ARGS__, (const char *)NULL)
#define BODY_HAS(a, s) ck_assert_msg(strstr((a).body, (s)), "page lacks \"%s\":\n%s", (s), (a).body)
#define BODY_LACKS(a, s)                                                                           \
    ck_assert_msg(!strstr((a).body, (s)), "page has \"%s\":\n%s", (s), (a).body)

/* Starts gridnode web and waits for the port it names. */
static void start_web(void)
{
    const char *argv[] = {"gridnode", "--db", db, "web", "--port", "0", "--no-browser", NULL};
    port = gst_http_serve(&procs, argv, logp, &web);
    gst_http_answer a = gst_http_request(port, "GET", "/transfer", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert(gst_http_take_session(&a, GST_HTTP_CSRF_FIELD, &S));
    ck_assert_uint_gt(strlen(S.csrf), 10);
    gst_http_answer_free(&a);
}

/* Stops it as Ctrl-C would: it must end cleanly (exit 0; under the
 * sanitizers, nothing leaked), whatever it still held. */
static void stop_web(void)
{
    kill(web, SIGTERM);
    int st = gst_procs_wait(&procs, web, 30000);
    char *log = gst_read_file(logp, NULL);
    ck_assert_msg(st == 0, "gridnode web exited %d:\n%s", st, log ? log : "");
    free(log);
    web = 0;
}

static void setup(void)
{
    tmp = gst_tmpdir();
    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(hub_log, sizeof hub_log, "%s/hub.log", tmp);
    snprintf(db, sizeof db, "%s/node.db", tmp);
    snprintf(logp, sizeof logp, "%s/web.log", tmp);
    snprintf(endpoint, sizeof endpoint, "ipc://%s/hub.sock", tmp);
    GH("init");
    ASSERT_OK();
    GH("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    ASSERT_OK();
    GH("refdata", "load", "categories", GS_TEST_SRC_DIR "/data/incident_categories.csv");
    ASSERT_OK();
    char bundle[PATH_MAX + 16];
    snprintf(bundle, sizeof bundle, "%s/a.bundle", tmp);
    GH("node", "add", "--village", VILLAGE, "--name", "王庄村", "--endpoint", endpoint, "--out",
       bundle);
    ASSERT_OK();
    GN("init", "--bundle", bundle);
    ASSERT_OK();
    GN("grid", "add", "--code", GRID, "--name", "第一网格");
    ASSERT_OK();
    start_web();
}

static void teardown(void)
{
    int st = web > 0 ? gst_procs_reap(&procs, web, false) : -1;
    if (st >= 0) { /* it ended by itself: what it said, for the failure */
        char *log = gst_read_file(logp, NULL);
        fprintf(stderr, "gridnode web exited (%d) during the test:\n%s\n", st, log ? log : "");
        free(log);
    }
    web = 0;
    gst_teardown(&procs, &R, &tmp);
}

/* ---- requests ------------------------------------------------------------------ */

/* An urlencoded body of the pairs kv (name, value, ..., NULL); the CSRF
 * field first. malloc'd. */
static char *form_of(const char *const *kv)
{
    gs_buf b = GS_BUF_INIT;
    gs_buf_printf(&b, "_csrf=%s", S.csrf);
    for (size_t i = 0; kv[i]; i += 2) {
        gs_buf_putc(&b, '&');
        gs_url_escape(&b, kv[i]);
        gs_buf_putc(&b, '=');
        gs_url_escape(&b, kv[i + 1]);
    }
    return gs_buf_steal(&b);
}

static gst_http_answer post_form(const char *path, const char *const *kv)
{
    char *body = form_of(kv);
    char extra[400];
    snprintf(extra, sizeof extra, "%sContent-Type: application/x-www-form-urlencoded\r\n",
             S.cookie);
    gst_http_answer a = gst_http_request(port, "POST", path, extra, body);
    free(body);
    return a;
}

static gst_http_answer get(const char *path)
{
    return gst_http_request(port, "GET", path, S.cookie, NULL);
}

static gst_http_answer post_json(const char *path, const char *json)
{
    char extra[400];
    snprintf(extra, sizeof extra, "%sX-CSRF-Token: %s\r\nContent-Type: application/json\r\n",
             S.cookie, S.csrf);
    return gst_http_request(port, "POST", path, extra, json);
}

/* The path a 303 leads to (after the host). */
static void location_of(const gst_http_answer *a, char *out, size_t cap)
{
    char loc[300];
    ck_assert_msg(a->status == 303, "status %d, want 303:\n%s", a->status, a->body);
    ck_assert(gst_http_header(a, "Location", loc, sizeof loc));
    const char *p = strstr(loc, "://");
    p = p ? strchr(p + 3, '/') : loc;
    snprintf(out, cap, "%s", p);
}

/* How many records `gridnode TYPE list` counts: its last line "(N 网格事件)". */
static int count_of(const char *type)
{
    GN(type, "list");
    ASSERT_OK();
    const char *p = strrchr(R.out, '(');
    ck_assert_ptr_nonnull(p);
    return atoi(p + 1);
}

/* ==== elections ============================================================================ */

/* A sheet of an election with registered R, voted V (all valid) and two
 * candidates: a chair with votes a and a woman member with votes b. */
static const char *const *sheet(const char *voted, const char *valid, const char *a, const char *b)
{
    static const char *kv[64];
    const char *const v[] = {"e.committee",
                             "village",
                             "e.election_date",
                             "2026-03-01",
                             "e.list_published",
                             "2026-02-01",
                             "e.registered",
                             "1000",
                             "e.voted",
                             voted,
                             "e.valid",
                             valid,
                             "e.invalid",
                             "0",
                             "e.seats_chair",
                             "1",
                             "e.seats_vice",
                             "0",
                             "e.seats_member",
                             "1",
                             "c0.name",
                             "张三",
                             "c0.gender",
                             "男",
                             "c0.post",
                             "chair",
                             "c0.votes",
                             a,
                             "c0.party_secretary",
                             "1",
                             "c1.name",
                             "李四",
                             "c1.gender",
                             "女",
                             "c1.post",
                             "member",
                             "c1.votes",
                             b,
                             "c2.name",
                             "",
                             NULL};
    memcpy(kv, v, sizeof v);
    return kv;
}

START_TEST(election_findings_as_typed_and_after_saving)
{
    /* 400 of 1000 voted: the election is not valid, with its law */
    gst_http_answer a = post_form("/api/elections/check", sheet("400", "400", "300", "250"));
    ck_assert_int_eq(a.status, 200);
    BODY_HAS(a, "\"code\":\"TURNOUT_INVALID\"");
    BODY_HAS(a, "\"law\":\"村民委员会组织法\"");
    BODY_HAS(a, "\"article\":\"第十五条\"");
    BODY_HAS(a, "投票人数未过登记选民半数，选举无效");
    gst_http_answer_free(&a);
    /* 600 voted: valid; the chair's 300 is not more than half (BELOW_HALF),
     * the member's 350 is: she is elected */
    a = post_form("/api/elections/check", sheet("600", "600", "300", "350"));
    ck_assert_int_eq(a.status, 200);
    BODY_LACKS(a, "TURNOUT_INVALID");
    BODY_HAS(a, "\"code\":\"BELOW_HALF\"");
    BODY_HAS(a, "得票未过投票人数半数，不能当选");
    BODY_HAS(a, "\"outcome_zh\":\"当选\"");
    BODY_HAS(a, "\"elected\":1");
    gst_http_answer_free(&a);
    /* the same as JSON; a figure that cannot be true is an error, no finding */
    a = post_json("/api/elections/check",
                  "{\"election\":{\"committee\":\"village\", \"election_date\":\"2026-03-01\","
                  " \"registered\":1000, \"voted\":1200, \"valid\":1200, \"invalid\":0,"
                  " \"seats_member\":2}, \"candidates\":[]}");
    ck_assert_int_eq(a.status, 200);
    BODY_HAS(a, "\"ok\":false");
    BODY_HAS(a, "投票人数超过登记选民数");
    gst_http_answer_free(&a);
    ck_assert_int_eq(count_of("election"), 0); /* checking stores nothing */

    /* saved: the stored findings on the record page, with the law */
    a = post_form("/elections/new", sheet("400", "400", "300", "250"));
    char path[200];
    location_of(&a, path, sizeof path);
    gst_http_answer_free(&a);
    ck_assert_int_eq(count_of("election"), 1);
    ck_assert_int_eq(count_of("candidate"), 2);
    a = get(path);
    ck_assert_int_eq(a.status, 200);
    BODY_HAS(a, "投票人数未过登记选民半数，选举无效");
    BODY_HAS(a, "《村民委员会组织法》(2018-12-29) 第十五条");
    BODY_HAS(a, "<tr><th>空缺名额</th><td>2</td></tr>");
    BODY_HAS(a, "张三");
    gst_http_answer_free(&a);
    /* the A4 report */
    char print[220];
    snprintf(print, sizeof print, "%s/print", path);
    a = get(print);
    ck_assert_int_eq(a.status, 200);
    BODY_HAS(a, "选举结果报告单</h1>");
    BODY_HAS(a, "/static/print.css");
    BODY_HAS(a, "村民选举委员会主任（签字）");
    BODY_HAS(a, "第十五条");
    gst_http_answer_free(&a);
    a = get("/static/print.css");
    BODY_HAS(a, "size: A4");
    BODY_HAS(a, "@media print");
    gst_http_answer_free(&a);
}
END_TEST

START_TEST(election_bad_sheet_stores_nothing)
{
    /* a cell that is not a number: the message beside it, nothing stored */
    gst_http_answer a = post_form("/elections/new", sheet("600", "600", "300", "三百"));
    ck_assert_int_eq(a.status, 400);
    BODY_HAS(a, "data-for=\"c1.votes\">得票数 (votes)");
    BODY_HAS(a, "value=\"三百\""); /* what was typed stays on the screen */
    BODY_HAS(a, "未保存");
    gst_http_answer_free(&a);
    /* figures that cannot be true: refused by the core's checks */
    a = post_form("/elections/new", sheet("600", "500", "300", "250"));
    ck_assert_int_eq(a.status, 400);
    BODY_HAS(a, "有效票与无效票之和不等于投票人数");
    gst_http_answer_free(&a);
    /* a candidate's votes over the valid ballots: the store refuses the
     * second candidate after the election and the first were written; all
     * of it rolls back */
    a = post_form("/elections/new", sheet("600", "600", "300", "700"));
    ck_assert_int_eq(a.status, 400);
    BODY_HAS(a, "候选人得票数超过有效票数");
    gst_http_answer_free(&a);
    ck_assert_int_eq(count_of("election"), 0);
    ck_assert_int_eq(count_of("candidate"), 0);

    /* an edit that lowers the ballots and the votes together is stored */
    a = post_form("/elections/new", sheet("800", "800", "700", "600"));
    char path[200], edit[220];
    location_of(&a, path, sizeof path);
    gst_http_answer_free(&a);
    snprintf(edit, sizeof edit, "%s/edit", path);
    a = get(edit);
    ck_assert_int_eq(a.status, 200);
    const char *id0 = strstr(a.body, "name=\"c0.id\" value=\"");
    const char *id1 = strstr(a.body, "name=\"c1.id\" value=\"");
    ck_assert(id0 && id1);
    char c0[64], c1[64];
    snprintf(c0, sizeof c0, "%.36s", id0 + 20);
    snprintf(c1, sizeof c1, "%.36s", id1 + 20);
    gst_http_answer_free(&a);
    const char *const *kv = sheet("600", "600", "500", "450");
    const char *ed[48];
    size_t n = 0;
    for (; kv[n]; n++)
        ed[n] = kv[n];
    ed[n++] = "c0.id", ed[n++] = c0, ed[n++] = "c1.id", ed[n++] = c1, ed[n] = NULL;
    a = post_form(edit, ed);
    location_of(&a, path, sizeof path);
    gst_http_answer_free(&a);
    ck_assert_int_eq(count_of("candidate"), 2);
    GN("candidate", "show", c1);
    ASSERT_OK();
    ASSERT_OUT_HAS("450");
    GN("election", "list");
    ASSERT_OUT_HAS("600");
    /* emptying a stored candidate's row deletes it, with the sheet */
    const char *const kept[] = {"e.committee",
                                "village",
                                "e.election_date",
                                "2026-03-01",
                                "e.registered",
                                "1000",
                                "e.voted",
                                "600",
                                "e.valid",
                                "600",
                                "e.invalid",
                                "0",
                                "e.seats_member",
                                "1",
                                "c0.id",
                                c0,
                                "c0.name",
                                "张三",
                                "c0.gender",
                                "male",
                                "c0.post",
                                "chair",
                                "c0.votes",
                                "500",
                                "c1.id",
                                c1,
                                "c1.name",
                                "",
                                "c1.gender",
                                "",
                                "c1.post",
                                "",
                                "c1.votes",
                                "",
                                NULL};
    a = post_form(edit, kept);
    location_of(&a, path, sizeof path);
    gst_http_answer_free(&a);
    ck_assert_int_eq(count_of("candidate"), 1);
    a = get(path);
    BODY_LACKS(a, "李四");
    BODY_HAS(a, "张三");
    gst_http_answer_free(&a);
}
END_TEST

/* ==== councils =========================================================================== */

START_TEST(funeral_breaking_standard_is_marked)
{
    const char *const council[] = {
        "name", "王庄村红白理事会",   "max_tables", "20", "max_funeral_days",
        "3",    "cremation_required", "1",          NULL};
    gst_http_answer a = post_form("/councils/new", council);
    char path[200];
    location_of(&a, path, sizeof path);
    gst_http_answer_free(&a);
    a = get("/councils");
    BODY_HAS(a, "王庄村红白理事会");
    BODY_HAS(a, "<tr><th>桌数上限</th><td>20</td></tr>");
    gst_http_answer_free(&a);

    const char *const bad[] = {"kind",       "funeral", "host", "王五", "event_date",
                               "2026-04-02", "tables",  "30",   "days", "2",
                               "cremation",  "yes",     NULL};
    a = post_form("/affairs/new", bad);
    char bad_path[200];
    location_of(&a, bad_path, sizeof bad_path);
    gst_http_answer_free(&a);
    const char *const good[] = {"kind",       "funeral", "host", "赵六", "event_date",
                                "2026-04-05", "tables",  "12",   "days", "3",
                                "cremation",  "yes",     NULL};
    a = post_form("/affairs/new", good);
    ck_assert_int_eq(a.status, 303);
    gst_http_answer_free(&a);

    a = get("/affairs");
    ck_assert_int_eq(a.status, 200);
    BODY_HAS(a, "共 2 件，其中超标 <b class=\"flag\">1</b> 件");
    BODY_HAS(a, "桌数 30 &gt; 上限 20");
    BODY_HAS(a, "桌数超过标准");
    BODY_LACKS(a, "天数 3 &gt;");
    /* the breach is on 王五's row, not 赵六's */
    const char *wang = strstr(a.body, "王五"), *zhao = strstr(a.body, "赵六");
    const char *mark = strstr(a.body, "桌数 30 &gt; 上限 20");
    ck_assert(wang && zhao && mark && wang < mark);
    ck_assert(zhao > mark || strstr(zhao, "<span class=\"ok\">无</span>"));
    gst_http_answer_free(&a);
    a = get(bad_path);
    BODY_HAS(a, "超出本村红白理事会标准");
    BODY_HAS(a, "桌数 30 &gt; 上限 20");
    gst_http_answer_free(&a);
    /* a bad form stores nothing */
    const char *const wrong[] = {"kind", "funeral", "host", "钱七", "event_date", "明天", NULL};
    a = post_form("/affairs/new", wrong);
    ck_assert_int_eq(a.status, 400);
    BODY_HAS(a, "明天");
    gst_http_answer_free(&a);
    ck_assert_int_eq(count_of("affair"), 2);
}
END_TEST

/* ==== transfer ============================================================================ */

/* text converted to GBK (as Chinese Excel saves a CSV) into out. */
static void gbk_of(const char *text, gs_buf *out)
{
    iconv_t cd = iconv_open("GBK", "UTF-8");
    ck_assert(cd != (iconv_t)-1);
    char buf[4096], *in = (char *)text, *o = buf;
    size_t inleft = strlen(text), outleft = sizeof buf;
    ck_assert(iconv(cd, &in, &inleft, &o, &outleft) != (size_t)-1);
    iconv_close(cd);
    ck_assert_uint_eq(inleft, 0);
    gs_buf_append(out, buf, sizeof buf - outleft);
    ck_assert(memchr(out->data, 0xB1, out->len) != NULL); /* not UTF-8 any more */
}

/* Uploads name (bytes data) as type: the dry run's answer. */
static gst_http_answer upload(const char *type, const char *name, const void *data, size_t len)
{
    static const char bnd[] = "----gstestBoundary7MA4YWxkTrZu0gW";
    gs_buf b = GS_BUF_INIT;
    gs_buf_printf(&b, "--%s\r\nContent-Disposition: form-data; name=\"_csrf\"\r\n\r\n%s\r\n", bnd,
                  S.csrf);
    gs_buf_printf(&b, "--%s\r\nContent-Disposition: form-data; name=\"type\"\r\n\r\n%s\r\n", bnd,
                  type);
    gs_buf_printf(&b,
                  "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                  "Content-Type: application/octet-stream\r\n\r\n",
                  bnd, name);
    gs_buf_append(&b, data, len);
    gs_buf_printf(&b, "\r\n--%s--\r\n", bnd);
    char head[600];
    int n =
        snprintf(head, sizeof head,
                 "POST /transfer HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n%s"
                 "Content-Type: multipart/form-data; boundary=%s\r\nContent-Length: %zu\r\n\r\n",
                 (unsigned)port, S.cookie, bnd, b.len);
    gs_buf req = GS_BUF_INIT;
    gs_buf_append(&req, head, (size_t)n);
    gs_buf_append(&req, b.data, b.len);
    gst_http_answer a = gst_http_raw(port, req.data, req.len);
    gs_buf_free(&b);
    gs_buf_free(&req);
    return a;
}

/* Confirms the dry run a (its token): the answer. */
static gst_http_answer confirm(const gst_http_answer *a)
{
    const char *t = strstr(a->body, "name=\"token\" value=\"");
    ck_assert_msg(t != NULL, "no confirm button:\n%s", a->body);
    char token[40];
    snprintf(token, sizeof token, "%.32s", t + 20);
    const char *const kv[] = {"token", token, NULL};
    return post_form("/transfer/confirm", kv);
}

START_TEST(import_gbk_csv_and_xlsx)
{
    /* a CSV as Chinese Excel saves it: GBK */
    static const char utf8[] = "标题,事件类别,网格编码,上报时间\r\n"
                               "井盖缺失,safety.building," GRID ",2026-03-01 09:30\r\n"
                               "路灯不亮,safety.building," GRID ",2026-03-02 10:00\r\n";
    gs_buf csv = GS_BUF_INIT;
    gbk_of(utf8, &csv);
    gst_http_answer a = upload("incidents", "事件.csv", csv.data, csv.len);
    ck_assert_int_eq(a.status, 200);
    BODY_HAS(a, "GB18030/GBK");
    BODY_HAS(a, "<td id=\"rows\">2</td>");
    BODY_HAS(a, "新增 <b id=\"new\">2</b>");
    ck_assert_int_eq(count_of("incident"), 0); /* a dry run */
    gst_http_answer c = confirm(&a);
    ck_assert_int_eq(c.status, 200);
    BODY_HAS(c, "已导入 2 条网格事件");
    ck_assert_int_eq(count_of("incident"), 2);
    GN("incident", "list");
    ASSERT_OUT_HAS("井盖缺失");
    ASSERT_OUT_HAS("路灯不亮");
    /* the token is used up: a second press imports nothing twice */
    gst_http_answer again = confirm(&a);
    ck_assert_int_eq(again.status, 409);
    ck_assert_int_eq(count_of("incident"), 2);
    gst_http_answer_free(&again);
    gst_http_answer_free(&c);
    gst_http_answer_free(&a);
    /* the same file again: nothing new */
    a = upload("incidents", "事件.csv", csv.data, csv.len);
    BODY_HAS(a, "新增 <b id=\"new\">0</b>");
    BODY_HAS(a, "不变 <b id=\"unchanged\">2</b>");
    gst_http_answer_free(&a);
    gs_buf_free(&csv);

    /* a workbook of grids */
    char xlsx[PATH_MAX + 16];
    snprintf(xlsx, sizeof xlsx, "%s/grids.xlsx", tmp);
    lxw_workbook *wb = workbook_new(xlsx);
    lxw_worksheet *ws = workbook_add_worksheet(wb, "网格");
    worksheet_write_string(ws, 0, 0, "网格编码", NULL);
    worksheet_write_string(ws, 0, 1, "网格名称", NULL);
    worksheet_write_string(ws, 0, 2, "户数", NULL);
    worksheet_write_string(ws, 1, 0, VILLAGE "002", NULL);
    worksheet_write_string(ws, 1, 1, "第二网格", NULL);
    worksheet_write_number(ws, 1, 2, 120, NULL);
    worksheet_write_string(ws, 2, 0, VILLAGE "003", NULL);
    worksheet_write_string(ws, 2, 1, "第三网格", NULL);
    worksheet_write_number(ws, 2, 2, 95, NULL);
    ck_assert_int_eq(workbook_close(wb), LXW_NO_ERROR);
    size_t len = 0;
    char *bytes = gst_read_file(xlsx, &len);
    ck_assert_ptr_nonnull(bytes);
    a = upload("grids", "网格.xlsx", bytes, len);
    char *xlsx_bytes = bytes;
    size_t xlsx_len = len;
    ck_assert_int_eq(a.status, 200);
    BODY_HAS(a, "<td>XLSX</td>");
    BODY_HAS(a, "新增 <b id=\"new\">2</b>");
    c = confirm(&a);
    ck_assert_int_eq(c.status, 200);
    ck_assert_int_eq(count_of("grid"), 3);
    GN("grid", "list");
    ASSERT_OUT_HAS("第三网格");
    gst_http_answer_free(&c);
    gst_http_answer_free(&a);
    /* a dry run left waiting for its confirmation when the desk stops */
    a = upload("grids", "网格.xlsx", xlsx_bytes, xlsx_len);
    ck_assert_ptr_nonnull(strstr(a.body, "name=\"token\""));
    gst_http_answer_free(&a);
    free(xlsx_bytes);
    stop_web();
}
END_TEST

START_TEST(import_bad_file_shows_errors_stores_nothing)
{
    static const char bad[] = "标题,事件类别,网格编码,上报时间\r\n"
                              "好的一行,safety.building," GRID ",2026-03-01 09:30\r\n"
                              "日期错了,safety.building," GRID ",2026-13-45\r\n"
                              "类别错了,no.such.category," GRID ",2026-03-03 10:00\r\n";
    gst_http_answer a = upload("incidents", "bad.csv", bad, sizeof bad - 1);
    ck_assert_int_eq(a.status, 400);
    BODY_HAS(a, "什么也没有导入");
    /* row 3, column 4 (上报时间): the date; row 4: the category */
    BODY_HAS(a, "<tr><td class=\"num\">3</td><td>4</td><td>上报时间</td>");
    BODY_HAS(a, "<tr><td class=\"num\">4</td>");
    BODY_HAS(a, "no.such.category");
    BODY_LACKS(a, "name=\"token\"");
    gst_http_answer_free(&a);
    ck_assert_int_eq(count_of("incident"), 0);
    /* a header that is not the type's */
    static const char header[] = "名字,年龄\r\n张三,30\r\n";
    a = upload("incidents", "wrong.csv", header, sizeof header - 1);
    ck_assert_int_eq(a.status, 400);
    BODY_HAS(a, "表头有");
    BODY_HAS(a, "<td>1</td><td>名字</td>");
    gst_http_answer_free(&a);
    /* not a workbook at all */
    a = upload("grids", "x.xlsx", "PK\3\4garbage", 11);
    ck_assert_int_eq(a.status, 400);
    BODY_HAS(a, "无法读取文件");
    gst_http_answer_free(&a);
    /* a made-up token */
    const char *const kv[] = {"token", "00000000000000000000000000000000", NULL};
    a = post_form("/transfer/confirm", kv);
    ck_assert_int_eq(a.status, 409);
    gst_http_answer_free(&a);
    ck_assert_int_eq(count_of("incident"), 0);
    ck_assert_int_eq(count_of("grid"), 1);
    /* the downloads */
    a = get("/transfer/template?type=incidents&format=xlsx");
    ck_assert_int_eq(a.status, 200);
    ck_assert(a.len > 4 && !memcmp(a.body, "PK\3\4", 4));
    gst_http_answer_free(&a);
    a = get("/transfer/export?type=grids&format=csv");
    ck_assert_int_eq(a.status, 200);
    BODY_HAS(a, "网格编码");
    BODY_HAS(a, GRID);
    gst_http_answer_free(&a);
    a = get("/transfer/export?type=divisions&format=csv");
    ck_assert_int_eq(a.status, 400);
    gst_http_answer_free(&a);
}
END_TEST

/* ==== sync ================================================================================== */

/* Polls /api/sync until no sync runs (60 s at the most): the answer. */
static gst_http_answer wait_sync(void)
{
    int64_t end = gst_now_ms() + 60000;
    for (;;) {
        if (gst_procs_reap(&procs, web, false) != -1) {
            char *log = gst_read_file(logp, NULL);
            ck_abort_msg("gridnode web exited during a sync:\n%s", log ? log : "");
        }
        gst_http_answer a = get("/api/sync");
        ck_assert_int_eq(a.status, 200);
        if (!strstr(a.body, "\"state\":\"running\""))
            return a;
        gst_http_answer_free(&a);
        ck_assert_msg(gst_now_ms() < end, "the sync did not end within 60 s");
        gst_sleep_ms(200);
    }
}

START_TEST(sync_button_syncs_with_hub)
{
    const char *const council[] = {"name", "同步测试理事会", "max_tables", "15", NULL};
    gst_http_answer a = post_form("/councils/new", council);
    ck_assert_int_eq(a.status, 303);
    gst_http_answer_free(&a);
    a = get("/sync");
    ck_assert_int_eq(a.status, 200);
    BODY_HAS(a, "还没有同步");
    BODY_HAS(a, "未运行"); /* no watch */
    gst_http_answer_free(&a);

    /* the hub is not up yet: the sync runs (the page says so, the button is
     * off, a second press starts no other), then fails in words */
    a = post_form("/sync", (const char *const[]){NULL});
    ck_assert_int_eq(a.status, 303);
    gst_http_answer_free(&a);
    a = get("/sync");
    BODY_HAS(a, "data-state=\"running\"");
    BODY_HAS(a, "正在同步");
    BODY_HAS(a, "id=\"sync-button\" disabled");
    BODY_HAS(a, "http-equiv=\"refresh\""); /* without JavaScript */
    gst_http_answer_free(&a);
    a = post_form("/sync", (const char *const[]){NULL});
    ck_assert_int_eq(a.status, 303);
    gst_http_answer_free(&a);
    a = wait_sync();
    BODY_HAS(a, "\"state\":\"failed\"");
    BODY_HAS(a, "无法连接市级平台");
    BODY_HAS(a, "\"pending\":2");
    gst_http_answer_free(&a);

    gst_hub_serve(&procs, hub_db, endpoint, hub_log, false);
    a = post_form("/sync", (const char *const[]){NULL});
    ck_assert_int_eq(a.status, 303);
    gst_http_answer_free(&a);
    a = wait_sync();
    BODY_HAS(a, "\"state\":\"done\"");
    BODY_HAS(a, "\"sent\":2"); /* the grid and the council */
    BODY_HAS(a, "\"pending\":0");
    gst_http_answer_free(&a);
    a = get("/sync");
    BODY_HAS(a, "同步完成：发送 2 条");
    gst_http_answer_free(&a);
    GH("council", "list");
    ASSERT_OK();
    ASSERT_OUT_HAS("同步测试理事会");

    /* without CSRF token: refused, no sync */
    a = gst_http_request(port, "POST", "/sync", S.cookie, "");
    ck_assert_int_eq(a.status, 403);
    gst_http_answer_free(&a);

    /* a watch in another process is seen */
    const char *watch[] = {"gridnode", "--db", db, "sync", "--watch", "--quiet", NULL};
    char wlog[PATH_MAX + 16];
    snprintf(wlog, sizeof wlog, "%s/watch.log", tmp);
    pid_t w = gst_procs_spawn(&procs, watch, wlog);
    int64_t end = gst_now_ms() + 20000;
    for (;;) {
        a = get("/api/sync");
        bool seen = strstr(a.body, "\"running\":true") != NULL;
        gst_http_answer_free(&a);
        if (seen)
            break;
        ck_assert_msg(gst_now_ms() < end, "the watch was not seen within 20 s");
        gst_sleep_ms(200);
    }
    a = get("/sync");
    BODY_HAS(a, "正在运行 (进程");
    gst_http_answer_free(&a);
    kill(w, SIGTERM);
    ck_assert_int_eq(gst_procs_wait(&procs, w, 20000), 0);
    a = get("/api/sync");
    BODY_HAS(a, "\"running\":false");
    gst_http_answer_free(&a);
    /* the desk stops while a sync of its own runs (the hub is gone) */
    gst_procs_kill_all(&procs);
    start_web();
    a = post_form("/sync", (const char *const[]){NULL});
    ck_assert_int_eq(a.status, 303);
    gst_http_answer_free(&a);
    stop_web();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("node_web_pages");
    TCase *tc = gst_tcase(s, "elections", setup, teardown, 300);
    tcase_add_test(tc, election_findings_as_typed_and_after_saving);
    tcase_add_test(tc, election_bad_sheet_stores_nothing);
    tc = gst_tcase(s, "councils", setup, teardown, 300);
    tcase_add_test(tc, funeral_breaking_standard_is_marked);
    tc = gst_tcase(s, "transfer", setup, teardown, 300);
    tcase_add_test(tc, import_gbk_csv_and_xlsx);
    tcase_add_test(tc, import_bad_file_shows_errors_stores_nothing);
    tc = gst_tcase(s, "sync", setup, teardown, 300);
    tcase_add_test(tc, sync_button_syncs_with_hub);
    return gst_run_suite(s);
}
