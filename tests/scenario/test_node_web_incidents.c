/*
 * test_node_web_incidents.c: 网格事件 in the browser and the JSON API,
 * through a real `gridnode web --port 0 --no-browser` process, over HTTP
 * as a browser sends it (urlencoded forms with the session cookie and the
 * page's CSRF token; JSON with the X-CSRF-Token header), checked against
 * the command line (the same records, the same messages).
 *
 * The node is made as a village gets it: a hub with the city's categories
 * issues a bundle, `gridnode init --bundle`, a grid added with the CLI.
 *
 * Cleanup: main() points TMPDIR at a directory of its own (gst_tmp_top)
 * and kills any `gridnode web` a failed test left behind (sweep).
 *
 * TCases: form (create from the pickers, a wrong date beside its field and
 * nothing stored, escaping, the workflow's buttons to 结案, a forbidden
 * step, CSRF, the edit form); list (filters, search, paging); api (create,
 * read, update, errors, the same record as the CLI).
 */
#include <check.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "gridsync/http.h"
#include "gstest_cli.h"
#include "gstest_http.h"

#define VILLAGE "411122101201"
#define GRID    "411122101201001"

static char *tmp;
static char db[PATH_MAX], hub_db[PATH_MAX], web_log[PATH_MAX + 16];
static gst_result R;
static gst_procs procs;
static int port;
static pid_t web_pid;

#define GH(...) gst_cmd(&R, true, "gridhub", hub_db, __VA_ARGS__, (const char *)NULL)
#define OK(what) ck_assert_msg(R.status == 0, "%s: exit %d: %s", (what), R.status, R.err)

/* ---- fixture: a node with the city's categories, serving its pages ---------- */

static void setup(void)
{
    tmp = gst_tmpdir();
    snprintf(db, sizeof db, "%s/node.db", tmp);
    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(web_log, sizeof web_log, "%s/web.log", tmp);
    GH("init");
    OK("gridhub init");
    GH("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    OK("refdata divisions");
    GH("refdata", "load", "categories", GS_TEST_SRC_DIR "/data/incident_categories.csv");
    OK("refdata categories");
    char bundle[PATH_MAX + 16];
    snprintf(bundle, sizeof bundle, "%s/a.bundle", tmp);
    GH("node", "add", "--village", VILLAGE, "--name", "王庄村", "--endpoint", "tcp://127.0.0.1:1",
       "--out", bundle);
    OK("node add");
    GN("init", "--bundle", bundle);
    OK("gridnode init");
    GN("grid", "add", "--code", GRID, "--name", "第一网格");
    OK("grid add");

    const char *argv[] = {"gridnode", "--db", db, "web", "--port", "0", "--no-browser", NULL};
    pid_t pid = web_pid = gst_procs_spawn(&procs, argv, web_log);
    int64_t end = gst_now_ms() + 20000;
    port = 0;
    while (!port) {
        char *log = gst_read_file(web_log, NULL);
        const char *p = log ? strstr(log, "serving http://127.0.0.1:") : NULL;
        if (p)
            port = atoi(p + strlen("serving http://127.0.0.1:"));
        free(log);
        ck_assert_msg(gst_procs_reap(&procs, pid, false) == -1, "gridnode web exited at start");
        ck_assert_msg(gst_now_ms() < end, "gridnode web did not start within 20 s");
        if (!port)
            gst_sleep_ms(10);
    }
}

/* Stops the server as Ctrl-C does: it must end cleanly, and with a
 * sanitizer build its log must hold no report (a leak shows at exit). */
static void stop_web(void)
{
    ck_assert_int_eq(kill(web_pid, SIGINT), 0);
    int st = gst_procs_wait(&procs, web_pid, 20000);
    char *log = gst_read_file(web_log, NULL);
    ck_assert_msg(st == 0, "gridnode web ended with %d:\n%s", st, log ? log : "");
    ck_assert_msg(log && !strstr(log, "Sanitizer") && !strstr(log, "runtime error"), "%s", log);
    free(log);
}

static void teardown(void)
{
    gst_teardown(&procs, &R, &tmp);
}

/* ---- HTTP as a browser sends it (gstest_http.h) ------------------------------- */

typedef gst_http_answer answer;
#define answer_free gst_http_answer_free

/* The session: its cookie and the CSRF token of its pages. */
static char cookie[300], csrf[100];

static answer http(const char *method, const char *path, const char *type, const char *body,
                   bool with_csrf_header)
{
    gs_buf extra = GS_BUF_INIT;
    if (cookie[0])
        gs_buf_printf(&extra, "Cookie: %s\r\n", cookie);
    if (with_csrf_header)
        gs_buf_printf(&extra, "X-CSRF-Token: %s\r\n", csrf);
    if (body)
        gs_buf_printf(&extra, "Content-Type: %s\r\n", type);
    answer a = gst_http_request((uint16_t)port, method, path, extra.data, body);
    gs_buf_free(&extra);
    ck_assert_msg(a.status, "%s %s: no answer", method, path);
    /* keep the session cookie a first answer sets */
    gst_http_session ss = {{0}};
    if (gst_http_take_session(&a, NULL, &ss)) {
        const char *c = ss.cookie + strlen("Cookie: ");
        snprintf(cookie, sizeof cookie, "%.*s", (int)strcspn(c, "\r"), c);
    }
    return a;
}

static answer get(const char *path)
{
    return http("GET", path, NULL, NULL, false);
}

/* Appends k=v&, urlencoded. */
static void field(gs_buf *b, const char *k, const char *v)
{
    gs_buf_printf(b, "%s%s=", b->len ? "&" : "", k);
    gs_url_escape(b, v);
}

/* POSTs a form: NULL-terminated name, value pairs, with the page's _csrf. */
static answer post_form(const char *path, ...)
{
    gs_buf b = GS_BUF_INIT;
    field(&b, "_csrf", csrf);
    va_list ap;
    va_start(ap, path);
    for (const char *k; (k = va_arg(ap, const char *));)
        field(&b, k, va_arg(ap, const char *));
    va_end(ap);
    answer a = http("POST", path, "application/x-www-form-urlencoded", b.data, false);
    gs_buf_free(&b);
    return a;
}

static answer post_json(const char *path, const char *json)
{
    return http("POST", path, "application/json", json, true);
}

/* Opens a page of the desk as a browser does: the session cookie and the
 * page's CSRF token (its hidden _csrf field). */
static answer open_page(const char *path)
{
    answer a = get(path);
    ck_assert_msg(a.status == 200, "GET %s: %d\n%s", path, a.status, a.text);
    gst_http_token(a.body, GST_HTTP_CSRF_FIELD, csrf, sizeof csrf);
    ck_assert_msg(cookie[0], "no session cookie from %s", path);
    return a;
}

/* (the page is clipped in the message: Check's messages are bounded) */
#define HAS(a, s)                                                                                  \
    ck_assert_msg(strstr((a).body, (s)) != NULL, "lacks \"%s\":\n%.3000s", (s),                   \
                  page_main((a).body))
#define LACKS(a, s)                                                                                \
    ck_assert_msg(strstr((a).body, (s)) == NULL, "has \"%s\":\n%.3000s", (s), page_main((a).body))

/* The page from its <main> on (the layout's head says nothing to a test). */
static const char *page_main(const char *body)
{
    const char *m = strstr(body, "<main>");
    return m ? m : body;
}

/* The Location of a 303 (a redirect to a page of this desk). */
static char *location(const answer *a)
{
    ck_assert_msg(a->status == 303, "status %d, want 303:\n%s", a->status, a->text);
    const char *l = strcasestr(a->text, "\r\nLocation: ");
    ck_assert_ptr_nonnull(l);
    l += strlen("\r\nLocation: ");
    return strndup(l, strcspn(l, "\r"));
}

/* The id in a record page's path /incident/ID?ok=... */
static char *id_of(const char *loc)
{
    const char *p = strstr(loc, "/incident/");
    ck_assert_ptr_nonnull(p);
    p += strlen("/incident/");
    return strndup(p, strcspn(p, "?/"));
}

static long long incidents_stored(void)
{
    GN("status", "--json");
    OK("status");
    char *v = gst_json_get(R.out, "incident");
    ck_assert_ptr_nonnull(v);
    long long n = atoll(v);
    free(v);
    return n;
}

/* The value of the option whose text is label in a page's select. */
static char *option_value(const char *html, const char *label)
{
    char needle[200];
    snprintf(needle, sizeof needle, "\">%s</option>", label);
    const char *p = strstr(html, needle);
    ck_assert_msg(p != NULL, "no option %s", label);
    const char *v = p;
    while (v > html && strncmp(v, "value=\"", 7))
        v--;
    v += 7;
    return strndup(v, (size_t)(p - v));
}

/* ==== form ====================================================================== */

START_TEST(form_create_workflow_to_closed)
{
    answer a = open_page("/incidents/new");
    /* pickers show names, carry ids */
    HAS(a, "<option value=\"" GRID "\">第一网格</option>");
    HAS(a, "矛盾纠纷 › 邻里纠纷</option>");
    LACKS(a, "name=\"id\"");
    LACKS(a, "name=\"village_code\"");
    char *cat = option_value(a.body, "矛盾纠纷 › 邻里纠纷");
    char *grid = option_value(a.body, "第一网格");
    ck_assert_str_eq(cat, "dispute.neighbour");
    answer_free(&a);

    /* a wrong date: the command line's message beside the field, what was
     * typed kept, nothing stored */
    a = post_form("/incidents/new", "title", "井盖缺失", "category", cat, "grid_code", grid,
                  "deadline", "2026-02-30", "severity", "3", NULL);
    ck_assert_int_eq(a.status, 400);
    HAS(a, "<p class=\"err\" id=\"e-deadline\">处置期限 (deadline): &quot;2026-02-30&quot; is not "
           "valid; expected a date like 2026-11-28</p>");
    HAS(a, "value=\"2026-02-30\"");
    HAS(a, "value=\"井盖缺失\"");
    HAS(a, "<option value=\"" GRID "\" selected>第一网格</option>");
    GN("incident", "add", "--title", "x", "--category", cat, "--deadline", "2026-02-30");
    ck_assert_msg(strstr(R.err, "处置期限 (deadline): \"2026-02-30\" is not valid") != NULL, "%s",
                  R.err);
    ck_assert_int_eq(incidents_stored(), 0);
    answer_free(&a);

    /* created: a 303 to its page with a notice; the title shows as text */
    a = post_form("/incidents/new", "title", "<script>alert(1)</script>", "category", cat,
                  "grid_code", grid, "deadline", "2099-12-31", "severity", "3", "description",
                  "东街口", NULL);
    char *loc = location(&a), *id = id_of(loc);
    answer_free(&a);
    ck_assert_int_eq(incidents_stored(), 1);
    a = open_page(loc);
    HAS(a, "已登记，已保存");
    HAS(a, "&lt;script&gt;alert(1)&lt;/script&gt;");
    LACKS(a, "<script>alert(1)");
    HAS(a, "第一网格");
    HAS(a, "剩余 ");
    /* only what the workflow allows from 上报 */
    HAS(a, "name=\"status\" value=\"accepted\"");
    HAS(a, "name=\"status\" value=\"rejected\"");
    LACKS(a, "name=\"status\" value=\"closed\"");
    answer_free(&a);

    /* a forbidden step is refused with the rule's message, nothing stored */
    char path[200];
    snprintf(path, sizeof path, "/incident/%s/status", id);
    a = post_form(path, "status", "closed", NULL);
    ck_assert_int_eq(a.status, 409);
    HAS(a, "cannot go to 结案(closed)");
    answer_free(&a);
    GN("incident", "show", id, "--json");
    ASSERT_JSON(R.out, "status", "reported");

    /* without the CSRF token: refused */
    char saved[100];
    snprintf(saved, sizeof saved, "%s", csrf);
    snprintf(csrf, sizeof csrf, "%s", "0000");
    a = post_form(path, "status", "accepted", NULL);
    ck_assert_int_eq(a.status, 403);
    answer_free(&a);
    snprintf(csrf, sizeof csrf, "%s", saved);
    GN("incident", "show", id, "--json");
    ASSERT_JSON(R.out, "status", "reported");

    /* the buttons, one after another, to 结案 */
    static const char *const steps[] = {"accepted",  "registered", "dispatched", "in_progress",
                                        "feedback",  "verified",   "closed"};
    char record[200];
    snprintf(record, sizeof record, "/incident/%s", id);
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        a = open_page(record);
        char button[80];
        snprintf(button, sizeof button, "name=\"status\" value=\"%s\"", steps[i]);
        HAS(a, button);
        answer_free(&a);
        a = post_form(path, "status", steps[i], "note", "第 n 步", NULL);
        char *l = location(&a);
        ck_assert_ptr_nonnull(strstr(l, "ok=status"));
        free(l);
        answer_free(&a);
    }
    GN("incident", "show", id, "--json");
    ASSERT_JSON(R.out, "status", "closed");
    char *closed_at = gst_json_get(R.out, "closed_at");
    ck_assert_msg(closed_at && strlen(closed_at) == 25, "closed_at %s", closed_at);
    a = open_page(record);
    /* a time of the day to the minute, in the record and its history: the
     * stored 2026-12-03T09:25:19+08:00 is 2026-12-03 09:25 */
    char shown_at[40];
    snprintf(shown_at, sizeof shown_at, "<dd>%.10s %.5s</dd>", closed_at, closed_at + 11);
    HAS(a, shown_at);
    LACKS(a, closed_at);
    LACKS(a, "+08:00");
    free(closed_at);
    HAS(a, "<strong>结案</strong>");
    HAS(a, "name=\"status\" value=\"evaluated\"");
    LACKS(a, "name=\"status\" value=\"accepted\"");
    /* the whole history: the creation and seven steps */
    const char *hist = strstr(a.body, "class=\"history\"");
    ck_assert_ptr_nonnull(hist);
    int rows = 0;
    for (const char *p = hist; (p = strstr(p, "<tr><td>")); p++)
        rows++;
    ck_assert_int_eq(rows, 8);
    HAS(a, "状态=结案 处置说明=第 n 步");
    answer_free(&a);
    free(cat), free(grid), free(loc), free(id);
    stop_web();
}
END_TEST

/* The edit form: the record's values, a wrong number refused beside its
 * field, then only what changed is written. */
START_TEST(form_edit)
{
    GN("incident", "add", "--title", "路灯不亮", "--category", "dispute.neighbour", "--grid", GRID,
       "--severity", "2");
    OK("add");
    char *id = strndup(R.out, strcspn(R.out, "\n"));
    char path[200];
    snprintf(path, sizeof path, "/incident/%s/edit", id);
    answer a = open_page(path);
    HAS(a, "value=\"路灯不亮\"");
    HAS(a, "<option value=\"" GRID "\" selected>第一网格</option>");
    LACKS(a, "name=\"status\"");
    answer_free(&a);

    a = post_form(path, "title", "路灯不亮", "category", "dispute.neighbour", "grid_code", GRID,
                  "severity", "7", "assignee", "张三", NULL);
    ck_assert_int_eq(a.status, 400);
    HAS(a, "紧急程度 (severity): &quot;7&quot; is not valid; expected a whole number from 1 to 4");
    answer_free(&a);
    GN("incident", "show", id, "--json");
    ASSERT_JSON(R.out, "assignee", "");

    a = post_form(path, "title", "路灯不亮", "category", "dispute.neighbour", "grid_code", "",
                  "severity", "2", "assignee", "张三", NULL);
    char *loc = location(&a);
    ck_assert_ptr_nonnull(strstr(loc, "ok=updated"));
    answer_free(&a);
    GN("incident", "show", id, "--json");
    ASSERT_JSON(R.out, "assignee", "张三");
    ASSERT_JSON(R.out, "grid_code", ""); /* emptied: cleared */
    ASSERT_JSON(R.out, "title", "路灯不亮");
    GN("incident", "show", id);
    ck_assert_msg(strstr(R.out, "#3 网格编码=∅ 处置人=张三\n") != NULL, "history:\n%s", R.out);
    free(loc), free(id);
    stop_web();
}
END_TEST

/* ==== list ======================================================================== */

static void add_incident(const char *title, const char *cat, const char *reporter,
                         const char *deadline, const char *reported_at)
{
    GN("incident", "add", "--title", title, "--category", cat, "--reporter", reporter,
       "--deadline", deadline, "--reported-at", reported_at, "--grid", GRID);
    OK("incident add");
}

START_TEST(list_filters_search_paging)
{
    add_incident("邻居噪音扰民", "dispute.neighbour", "李四", "2020-01-01", "2026-03-01 09:00");
    add_incident("消防通道堵塞", "safety.fire", "王五", "2099-01-01", "2026-03-05 10:00");
    add_incident("宅基地边界", "dispute.land", "王五", "2099-01-01", "2026-04-01 10:00");

    answer a = open_page("/incidents");
    HAS(a, "共 3 条, 第 1/1 页");
    /* overdue first, then newest */
    const char *late = strstr(a.body, "邻居噪音扰民"), *land = strstr(a.body, "宅基地边界"),
               *fire = strstr(a.body, "消防通道堵塞");
    ck_assert(late && land && fire && late < land && land < fire);
    HAS(a, "<tr class=\"overdue\">");
    HAS(a, "超期 ");
    HAS(a, "矛盾纠纷 › 邻里纠纷");
    HAS(a, "<td>第一网格</td>");
    answer_free(&a);

    static const struct {
        const char *query, *count, *has, *lacks;
    } cases[] = {
        {"/incidents?overdue=1", "共 1 条", "邻居噪音扰民", "宅基地边界"},
        {"/incidents?reporter=%E7%8E%8B%E4%BA%94", "共 2 条", "消防通道堵塞", "邻居噪音扰民"},
        {"/incidents?category=dispute", "共 2 条", "宅基地边界", "消防通道堵塞"},
        {"/incidents?text=%E9%80%9A%E9%81%93", "共 1 条", "消防通道堵塞", "宅基地边界"},
        {"/incidents?since=2026-03-02&until=2026-03-31", "共 1 条", "消防通道堵塞", "宅基地边界"},
        {"/incidents?status=accepted", "共 0 条", "没有符合条件的事件", "宅基地边界"},
        {"/incidents?grid=" GRID "&status=reported&category=&text=", "共 3 条", "宅基地边界", "没有符合"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        a = open_page(cases[i].query);
        HAS(a, cases[i].count);
        HAS(a, cases[i].has);
        LACKS(a, cases[i].lacks);
        answer_free(&a);
    }
    /* the filter form keeps what was chosen */
    a = open_page("/incidents?overdue=1&category=dispute");
    HAS(a, "name=\"overdue\" value=\"1\" checked");
    HAS(a, "<option value=\"dispute\" selected>");
    answer_free(&a);
    a = get("/incidents?since=2026-13-01");
    ck_assert_int_eq(a.status, 400);
    HAS(a, "since &quot;2026-13-01&quot;: expected a date");
    answer_free(&a);

    /* 52 more: two pages of 50 */
    char csv[PATH_MAX + 16];
    snprintf(csv, sizeof csv, "%s/more.csv", tmp);
    FILE *f = fopen(csv, "w");
    ck_assert_ptr_nonnull(f);
    fputs("title,category,reported_at\n", f);
    for (int i = 0; i < 52; i++)
        fprintf(f, "批量事件 %02d,dispute.family,2026-05-01 08:%02d\n", i, i);
    fclose(f);
    GN("import", "incidents", csv);
    OK("import");
    a = open_page("/incidents");
    HAS(a, "共 55 条, 第 1/2 页");
    HAS(a, "rel=\"next\" href=\"/incidents?page=2\"");
    answer_free(&a);
    /* the page after the overdue one and 49 of the newest: the rest, in order */
    a = open_page("/incidents?page=2");
    HAS(a, "共 55 条, 第 2/2 页");
    LACKS(a, "邻居噪音扰民");
    LACKS(a, "批量事件 03");
    const char *b02 = strstr(a.body, "批量事件 02"), *b00 = strstr(a.body, "批量事件 00");
    land = strstr(a.body, "宅基地边界");
    fire = strstr(a.body, "消防通道堵塞");
    ck_assert(b02 && b00 && land && fire && b02 < b00 && b00 < land && land < fire);
    answer_free(&a);
    a = open_page("/incidents?text=%E6%89%B9%E9%87%8F&page=2");
    HAS(a, "共 52 条, 第 2/2 页");
    HAS(a, "批量事件 01");
    HAS(a, "批量事件 00");
    LACKS(a, "批量事件 02");
    HAS(a, "rel=\"prev\" href=\"/incidents?text=%E6%89%B9%E9%87%8F&amp;page=1\"");
    answer_free(&a);
    stop_web();
}
END_TEST

/* ==== api ========================================================================== */

/* GET /api/session: the token a script sends back. */
static void api_session(void)
{
    answer a = get("/api/session");
    ck_assert_int_eq(a.status, 200);
    char *t = gst_json_get(a.body, "csrf");
    ck_assert_ptr_nonnull(t);
    snprintf(csrf, sizeof csrf, "%s", t);
    free(t);
    answer_free(&a);
}

START_TEST(api_same_records_as_cli)
{
    api_session();
    answer a = post_json("/api/incidents", "{\"title\":\"API 上报 \\\"引号\\\"\",\"category\":"
                                           "\"dispute.neighbour\",\"grid_code\":\"" GRID "\","
                                           "\"severity\":4,\"status\":\"受理\",\"deadline\":\"2026/12/31\"}");
    ck_assert_msg(a.status == 201, "%d %s", a.status, a.body);
    char *id = gst_json_get(a.body, "id");
    ck_assert_ptr_nonnull(id);
    answer_free(&a);
    GN("incident", "show", id, "--json");
    OK("show");
    ASSERT_JSON(R.out, "title", "API 上报 \"引号\"");
    ASSERT_JSON(R.out, "status", "accepted");
    ASSERT_JSON(R.out, "severity", "4");
    ASSERT_JSON(R.out, "deadline", "2026-12-31");
    ASSERT_JSON(R.out, "grid_code", GRID);
    char *cli = strdup(R.out);

    /* read back: the same record as the CLI's JSON, and its history */
    char path[200];
    snprintf(path, sizeof path, "/api/incidents/%s", id);
    a = get(path);
    ck_assert_int_eq(a.status, 200);
    const char *rec = strstr(a.body, "\"record\":");
    ck_assert_ptr_nonnull(rec);
    ck_assert_msg(!strncmp(rec + 9, cli, strlen(cli) - 1), "api %s\ncli %s", rec + 9, cli);
    HAS(a, "\"history\":[{");
    HAS(a, "\"op\":\"upsert\"");
    answer_free(&a);

    /* errors name the field; nothing stored */
    long long before = incidents_stored();
    a = post_json("/api/incidents", "{\"title\":\"x\",\"category\":\"dispute.neighbour\","
                                    "\"deadline\":\"2026-02-30\"}");
    ck_assert_int_eq(a.status, 400);
    HAS(a, "\"field\":\"deadline\"");
    HAS(a, "处置期限 (deadline): \\\"2026-02-30\\\" is not valid");
    answer_free(&a);
    a = post_json("/api/incidents", "{\"title\":\"x\",\"category\":\"dispute.neighbour\","
                                    "\"closed_at\":\"2026-01-01\"}");
    ck_assert_int_eq(a.status, 400);
    HAS(a, "\"field\":\"closed_at\"");
    answer_free(&a);
    a = post_json("/api/incidents", "{\"title\":");
    ck_assert_int_eq(a.status, 400);
    answer_free(&a);
    ck_assert_int_eq(incidents_stored(), before);

    /* update: a step the workflow forbids is 409 on status; an allowed one saves */
    a = post_json(path, "{\"status\":\"in_progress\"}");
    ck_assert_int_eq(a.status, 409);
    HAS(a, "\"field\":\"status\"");
    answer_free(&a);
    a = post_json(path, "{\"status\":\"registered\",\"note\":\"立案\"}");
    ck_assert_msg(a.status == 200, "%d %s", a.status, a.body);
    answer_free(&a);
    GN("incident", "show", id, "--json");
    ASSERT_JSON(R.out, "status", "registered");
    ASSERT_JSON(R.out, "note", "立案");

    /* a record the CLI made, listed with the CLI's filter names */
    GN("incident", "add", "--title", "命令行事件", "--category", "safety.fire", "--reporter", "赵六");
    OK("add");
    a = get("/api/incidents?reporter=%E8%B5%B5%E5%85%AD&limit=10");
    ck_assert_int_eq(a.status, 200);
    HAS(a, "\"total\":1");
    HAS(a, "命令行事件");
    answer_free(&a);
    a = get("/api/incidents?limit=1&offset=1");
    HAS(a, "\"total\":2");
    HAS(a, "\"limit\":1");
    answer_free(&a);
    a = get("/api/incidents/nonexistent");
    ck_assert_int_eq(a.status, 404);
    answer_free(&a);
    a = get("/api/grids?overdue=1");
    ck_assert_int_eq(a.status, 400);
    HAS(a, "--overdue");
    answer_free(&a);
    free(id), free(cli);
    stop_web();
}
END_TEST

/* Kills a `gridnode web` a failed test left running (Check runs no
 * teardown after a failure): the pids in top/pids whose command line still
 * names top. */
static void sweep(const char *top, const char *pid_file)
{
    char *pids = gst_read_file(pid_file, NULL);
    for (char *p = pids, *end; p && *p; p = end + strspn(end, "\n")) {
        long pid = strtol(p, &end, 10);
        if (end == p)
            break;
        char proc[64];
        size_t len = 0;
        snprintf(proc, sizeof proc, "/proc/%ld/cmdline", pid);
        char *cmd = gst_read_file(proc, &len);
        for (size_t i = 0; cmd && i < len; i++)
            cmd[i] = cmd[i] ? cmd[i] : ' ';
        if (cmd && strstr(cmd, top))
            kill((pid_t)pid, SIGKILL);
        free(cmd);
    }
    free(pids);
}

int main(void)
{
    char *top = gst_tmp_top(), pid_file[PATH_MAX];
    snprintf(pid_file, sizeof pid_file, "%s/pids", top);
    procs.pid_file = pid_file;
    Suite *s = suite_create("node_web_incidents");
    TCase *tc = gst_tcase(s, "form", setup, teardown, 120);
    tcase_add_test(tc, form_create_workflow_to_closed);
    tcase_add_test(tc, form_edit);
    tc = gst_tcase(s, "list", setup, teardown, 120);
    tcase_add_test(tc, list_filters_search_paging);
    tc = gst_tcase(s, "api", setup, teardown, 120);
    tcase_add_test(tc, api_same_records_as_cli);
    int rc = gst_run_suite(s);
    sweep(top, pid_file);
    gst_rmrf(top);
    free(top);
    return rc;
}
