/*
 * test_node_web.c: `gridnode web` end to end: a real `gridnode web --port 0
 * --no-browser` process on a node made with `gridnode init`, asked over a
 * socket as a browser would (gstest_http.h).
 *
 * TCases: home (the 首页's Chinese content and counts after incidents are
 * entered with the command line, escaping, the assets, a clean stop on
 * SIGTERM); lan (binding beyond loopback refused without a password; `web
 * passwd`; then every page asks for the login, a wrong password is
 * refused, the right one gets in, and logging out ends the session).
 */
#include <check.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gstest_cli.h"
#include "gstest_http.h"

#define NODE_ID "411122101201-n1"
#define VILLAGE "411122101201"
#define HUB     "tcp://127.0.0.1:7700"

static char *tmp;
static char db[PATH_MAX], logp[PATH_MAX];
static gst_result R;
static gst_procs procs;
static pid_t web;
static uint16_t port;

static void setup(void)
{
    tmp = gst_tmpdir();
    snprintf(db, sizeof db, "%s/node.db", tmp);
    snprintf(logp, sizeof logp, "%s/web.log", tmp);
    GN("init", "--node-id", NODE_ID, "--village", VILLAGE, "--hub", HUB, "--name", "王庄村");
    ASSERT_OK();
}

static void teardown(void)
{
    gst_teardown(&procs, &R, &tmp);
}

/* Starts gridnode web with the extra arguments and waits for its "serving"
 * line, which names the port it got. */
static void start_web(const char *bind)
{
    const char *argv[] = {"gridnode", "--db", db, "web", "--port", "0", "--no-browser",
                          "--bind", bind, NULL};
    port = gst_http_serve(&procs, argv, logp, &web);
}

/* Stops it as Ctrl-C would; it must exit 0 and say so. */
static void stop_web(void)
{
    kill(web, SIGTERM);
    ck_assert_int_eq(gst_procs_wait(&procs, web, 20000), 0);
    ck_assert_int_eq(gst_count_in_file(logp, "gridnode web: stopped"), 1);
}

static gst_http_answer get(const char *path, const char *extra)
{
    return gst_http_request(port, "GET", path, extra, NULL);
}

#define BODY_HAS(a, s) ck_assert_msg(strstr((a).body, (s)), "page lacks \"%s\":\n%s", (s), (a).body)
#define BODY_LACKS(a, s) ck_assert_msg(!strstr((a).body, (s)), "page has \"%s\":\n%s", (s), (a).body)

static char *add_incident(const char *title, const char *deadline)
{
    if (deadline)
        GN("incident", "add", "--category", "dispute", "--title", title, "--deadline", deadline);
    else
        GN("incident", "add", "--category", "dispute", "--title", title);
    ASSERT_OK();
    return strndup(R.out, strcspn(R.out, "\n"));
}

/* ==== home ====================================================================== */

START_TEST(home_shows_what_needs_doing)
{
    char *late = add_incident("<script>alert(1)</script> 邻里纠纷", "2020-01-01");
    char *a = add_incident("路灯不亮", NULL);
    char *b = add_incident("垃圾堆放", "2090-12-31");
    GN("incident", "update", b, "--status", "accepted");
    ASSERT_OK();
    char *c = add_incident("已调解", "2020-02-02"); /* closed: overdue no more */
    GN("incident", "update", c, "--status", "accepted");
    ASSERT_OK();
    GN("incident", "update", c, "--status", "closed");
    ASSERT_OK();
    start_web("127.0.0.1");

    gst_http_answer h = get("/", NULL);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "<html lang=\"zh-CN\">");
    BODY_HAS(h, "王庄村");         /* no division rows: the node's name */
    BODY_HAS(h, NODE_ID);
    BODY_HAS(h, ">网格事件</a>"); /* the nav */
    BODY_HAS(h, ">换届选举</a>");
    BODY_HAS(h, ">红白理事会</a>");
    BODY_HAS(h, ">导入导出</a>");
    BODY_HAS(h, ">同步</a>");
    /* overdue first: one (the closed one is not), with its link */
    BODY_HAS(h, "超期未办结 <span class=\"count\">1</span>");
    char link[120];
    snprintf(link, sizeof link, "<a href=\"/incident/%s\">", late);
    BODY_HAS(h, link);
    BODY_HAS(h, "&lt;script&gt;alert(1)&lt;/script&gt; 邻里纠纷");
    BODY_LACKS(h, "<script>alert");
    ck_assert(strstr(h.body, "超期未办结") < strstr(h.body, "网格事件（按状态）"));
    /* by state, with Chinese names */
    BODY_HAS(h, ">上报</a></td><td class=\"num\">2</td>");
    BODY_HAS(h, ">受理</a></td><td class=\"num\">1</td>");
    BODY_HAS(h, ">结案</a></td><td class=\"num\">1</td>");
    BODY_HAS(h, "合计</td><td class=\"num\">4</td>");
    /* not yet synced: 4 adds and 3 updates; never synced */
    BODY_HAS(h, "待同步的修改</dt><dd class=\"pending\"><span class=\"count\">7</span>");
    BODY_HAS(h, "从未同步");
    BODY_HAS(h, "城市中心退回的修改 <span class=\"count\">0</span>");
    char v[300];
    ck_assert(gst_http_header(&h, "Content-Security-Policy", v, sizeof v));
    gst_http_answer_free(&h);

    /* English on the switch */
    h = get("/?lang=en", NULL);
    BODY_HAS(h, "<html lang=\"en\">");
    BODY_HAS(h, "Overdue, not closed");
    gst_http_answer_free(&h);

    /* the assets are inside the binary */
    h = get("/static/app.css", NULL);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "Microsoft YaHei");
    gst_http_answer_free(&h);
    h = get("/static/app.js", NULL);
    ck_assert_int_eq(h.status, 200);
    gst_http_answer_free(&h);
    h = get("/static/../node.db", NULL);
    ck_assert_int_eq(h.status, 404);
    gst_http_answer_free(&h);

    /* the command line and the page show the same: an edit appears */
    GN("incident", "update", a, "--status", "accepted");
    ASSERT_OK();
    h = get("/", NULL);
    BODY_HAS(h, ">受理</a></td><td class=\"num\">2</td>");
    gst_http_answer_free(&h);

    stop_web();
    GN("status"); /* the database is fine after the stop */
    ASSERT_OK();
    free(late), free(a), free(b), free(c);
}
END_TEST

/* What a sync leaves behind, as the hub would have it written: a clock off
 * by five minutes, the time of the last sync, a change the city refused.
 * (Written into the database directly: this test has no hub; test_sync and
 * test_security make those through real syncs.) */
START_TEST(home_shows_sync_state_and_refusals)
{
    char *first = add_incident("邻里纠纷", NULL);
    int64_t ten_min_ago = (int64_t)time(NULL) * 1000 - 600000;
    char sql[600];
    snprintf(sql, sizeof sql,
             "INSERT OR REPLACE INTO meta VALUES ('clock_skew_ms', -300000);"
             "INSERT OR REPLACE INTO meta VALUES ('last_sync_ms', %lld);"
             "INSERT INTO rejected VALUES (1, 'GS_ESCOPE', '网格 411122101201999 不属于本村', "
             "'2026-12-01T08:00:00Z');",
             (long long)ten_min_ago);
    RUN_OK("sqlite3", db, sql);
    start_web("127.0.0.1");
    gst_http_answer h = get("/", NULL);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "本机时钟与城市中心相差 -300 秒");
    BODY_LACKS(h, "从未同步");
    char when[32];
    time_t t = (time_t)(ten_min_ago / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    BODY_HAS(h, when);
    BODY_HAS(h, "城市中心退回的修改 <span class=\"count\">1</span>");
    char link[120];
    snprintf(link, sizeof link, "<a href=\"/incident/%s\">", first);
    BODY_HAS(h, link);
    BODY_HAS(h, "网格 411122101201999 不属于本村");
    BODY_HAS(h, "GS_ESCOPE");
    BODY_HAS(h, "请按原因改正这条记录后再同步");
    /* the clock warning comes before everything else */
    ck_assert(strstr(h.body, "本机时钟") < strstr(h.body, "超期未办结"));
    gst_http_answer_free(&h);
    stop_web();
    free(first);
}
END_TEST

/* Very many overdue: the home page lists the 50 oldest deadlines first, counts
 * up to 1000 ("1000+") and links to the whole list. */
START_TEST(home_with_very_many_overdue)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/many.csv", tmp);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("category,title,reported_at,deadline,status\n", f);
    for (int i = 0; i < 1005; i++) /* deadlines from 2021-01-01 on, the last one oldest */
        fprintf(f, "dispute,超期 %04d,2020-12-01T08:00:00Z,%04d-%02d-%02d,reported\n", i,
                2021 + (1004 - i) / 336, 1 + (1004 - i) / 28 % 12, 1 + (1004 - i) % 28);
    fputs("dispute,已结案的旧事,2020-12-01T08:00:00Z,2020-06-01,reported\n", f);
    fclose(f);
    GN("import", "incident", path);
    ASSERT_OK();
    start_web("127.0.0.1");
    gst_http_answer h = get("/", NULL);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "超期未办结 <span class=\"count\">1000+</span>");
    BODY_HAS(h, "/incidents?overdue=1");
    /* the oldest first: 2020-06-01, then 超期 1004 (2021-01-01) */
    const char *first = strstr(h.body, "期限 2020-06-01");
    const char *second = strstr(h.body, "超期 1004");
    ck_assert_msg(first && second && first < second, "%s", h.body);
    int items = 0;
    for (const char *p = strstr(h.body, "overdue-list"); p && (p = strstr(p, "<li>")); p++)
        items++;
    ck_assert_int_eq(items, 50);
    gst_http_answer_free(&h);
    stop_web();
}
END_TEST

START_TEST(web_help_and_bad_options)
{
    GN("web", "--help");
    ASSERT_OK();
    ASSERT_OUT_HAS("gridnode web passwd");
    ASSERT_OUT_HAS("--no-browser");
    GN("web", "--port", "99999");
    ASSERT_EXIT(2);
    ASSERT_ERR_HAS("--port");
    GN("web", "--colour");
    ASSERT_EXIT(2);
    GN("--help");
    ASSERT_OUT_HAS("web");
}
END_TEST

/* ==== lan ======================================================================= */

START_TEST(lan_needs_a_password)
{
    /* beyond loopback without a password: refused, saying what to do */
    GN("web", "--bind", "0.0.0.0", "--port", "0", "--no-browser");
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("gridnode web passwd");
    ASSERT_ERR_HAS("0.0.0.0");

    /* a short password is refused, and nothing is set */
    gst_result_free(&R);
    gst_runv(&R, "short\n", "gridnode", "--db", db, "web", "passwd", (const char *)NULL);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("8");
    GN("web", "--bind", "0.0.0.0", "--port", "0", "--no-browser");
    ASSERT_EXIT(1);

    gst_result_free(&R);
    gst_runv(&R, "正确的马电池订书钉\n", "gridnode", "--db", db, "web", "passwd",
             (const char *)NULL);
    ASSERT_OK();
    ASSERT_OUT_HAS("web password set");
    start_web("0.0.0.0");
    /* every page asks for the login */
    gst_http_answer h = get("/", NULL);
    ck_assert_int_eq(h.status, 303);
    char v[300];
    ck_assert(gst_http_header(&h, "Location", v, sizeof v));
    ck_assert_str_eq(v, "/login");
    gst_http_answer_free(&h);

    h = get("/login", NULL);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "type=\"password\"");
    gst_http_session s = {{0}};
    ck_assert(gst_http_take_session(&h, GST_HTTP_CSRF_FIELD, &s));
    ck_assert_int_eq(strlen(s.csrf), 64);
    gst_http_answer_free(&h);

    char extra[400], body[400];
    snprintf(extra, sizeof extra, "%sContent-Type: application/x-www-form-urlencoded\r\n",
             s.cookie);
    snprintf(body, sizeof body, "_csrf=%s&password=wrong+password", s.csrf);
    h = gst_http_request(port, "POST", "/login", extra, body);
    ck_assert_int_eq(h.status, 401);
    BODY_HAS(h, "用户名或密码不对");
    gst_http_answer_free(&h);
    h = get("/", s.cookie);
    ck_assert_int_eq(h.status, 303);
    gst_http_answer_free(&h);

    /* the right one (percent-encoded UTF-8) gets in, on a new session */
    snprintf(body, sizeof body,
             "_csrf=%s&password=%%E6%%AD%%A3%%E7%%A1%%AE%%E7%%9A%%84%%E9%%A9%%AC%%E7%%94%%B5"
             "%%E6%%B1%%A0%%E8%%AE%%A2%%E4%%B9%%A6%%E9%%92%%89",
             s.csrf);
    h = gst_http_request(port, "POST", "/login", extra, body);
    ck_assert_int_eq(h.status, 303);
    gst_http_session in = {{0}};
    ck_assert(gst_http_take_session(&h, NULL, &in));
    ck_assert_str_ne(in.cookie, s.cookie);
    gst_http_answer_free(&h);
    h = get("/", in.cookie);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "首页");
    BODY_HAS(h, "退出登录");
    ck_assert(gst_http_take_session(&h, NULL, &in) == false); /* the session is kept */
    /* log out: the session ends */
    ck_assert(gst_http_token(h.body, GST_HTTP_CSRF_META, in.csrf, sizeof in.csrf));
    gst_http_answer_free(&h);
    snprintf(extra, sizeof extra, "%sContent-Type: application/x-www-form-urlencoded\r\n",
             in.cookie);
    snprintf(body, sizeof body, "_csrf=%s", in.csrf);
    h = gst_http_request(port, "POST", "/logout", extra, body);
    ck_assert_int_eq(h.status, 303);
    gst_http_answer_free(&h);
    h = get("/", in.cookie);
    ck_assert_int_eq(h.status, 303);
    gst_http_answer_free(&h);
    stop_web();
}
END_TEST

static Suite *web_suite(void)
{
    Suite *s = suite_create("node_web");
    TCase *tc = gst_tcase(s, "home", setup, teardown, 300);
    tcase_add_test(tc, home_shows_what_needs_doing);
    tcase_add_test(tc, home_shows_sync_state_and_refusals);
    tcase_add_test(tc, home_with_very_many_overdue);
    tcase_add_test(tc, web_help_and_bad_options);
    tc = gst_tcase(s, "lan", setup, teardown, 300);
    tcase_add_test(tc, lan_needs_a_password);
    return s;
}

int main(void)
{
    char *top = gst_tmp_top();
    int rc = gst_run_suite(web_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
