/*
 * test_hub_web.c: `gridhub web`, the city's pages, end to end: a hub with
 * Luohe's division codes and village list behind a running `gridhub
 * serve`, two village nodes (大刘村 in 大刘镇, 源汇区; 黄庄村 in 召陵镇,
 * 召陵区) that enter incidents with `gridnode` and sync them, people added
 * with `gridhub user`, and a real `gridhub web --bind 127.0.0.1:0` asked
 * over a socket as a browser would (gstest_http.h).
 *
 * TCases: dashboard (every card equals `gridhub report ... --format json`
 * for the city and for a township; the other pages answer), people (a
 * wrong password refused and throttled, a new user's first login sets the
 * password, a bad one refused), scope (a township user sees its villages
 * only: 403 for another township's pages and downloads, no city-only tabs;
 * a download holds only its villages; disabled mid-session, its next
 * request is refused; the audit log holds what they did).
 */
#include <check.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gstest_cli.h"
#include "gstest_http.h"

#define V1       "411102100201" /* 大刘村, 大刘镇 411102100, 源汇区 */
#define V2       "411104100201" /* 黄庄村, 召陵镇 411104100, 召陵区 */
#define PASSWORD "secret-2026"

static char *tmp;
static char hub_db[PATH_MAX], hub_log[PATH_MAX], web_log[PATH_MAX], endpoint[64];
static char year_since[11], year_until[11];
static gst_result R;
static gst_procs procs;
static pid_t web;
static uint16_t port;

#define GH_OK(...)                                                                                 \
    do {                                                                                           \
        int st_ = gst_cmd(&R, true, "gridhub", hub_db, __VA_ARGS__, (const char *)NULL);           \
        ck_assert_msg(st_ == 0, "gridhub %s: exit %d\n%s", #__VA_ARGS__, st_, R.err);              \
    } while (0)

#define BODY_HAS(a, s)                                                                             \
    ck_assert_msg(strstr((a).body, (s)), "page lacks \"%s\":\n%.3000s", (s), (a).body)
#define BODY_LACKS(a, s) ck_assert_msg(!strstr((a).body, (s)), "page has \"%s\"", (s))

/* Registers a node for village, installs it, enters incidents and syncs. */
static void village(const char *code, int n, bool close_one, bool overdue_one)
{
    char ndb[PATH_MAX], bundle[PATH_MAX], grid[16];
    snprintf(ndb, sizeof ndb, "%s/%s.db", tmp, code);
    snprintf(bundle, sizeof bundle, "%s/%s.bundle", tmp, code);
    snprintf(grid, sizeof grid, "%s001", code);
    GH_OK("node", "add", "--village", code, "--name", "村委会电脑", "--endpoint", endpoint, "--out",
          bundle);
    RUN_OK("gridnode", "--db", ndb, "init", "--bundle", bundle);
    char id[80] = "";
    for (int i = 0; i < n; i++) {
        char title[64];
        snprintf(title, sizeof title, "事件 %d", i + 1);
        if (i == 0 && overdue_one)
            RUN_OK("gridnode", "--db", ndb, "incident", "add", "--grid", grid, "--category",
                   "safety.fire", "--title", title, "--deadline", "2020-01-01");
        else
            RUN_OK("gridnode", "--db", ndb, "incident", "add", "--grid", grid, "--category",
                   "safety.fire", "--title", title, "--deadline", "2090-12-31");
        snprintf(id, sizeof id, "%.*s", (int)strcspn(R.out, "\n"), R.out);
    }
    if (close_one) {
        RUN_OK("gridnode", "--db", ndb, "incident", "update", id, "--status", "accepted");
        RUN_OK("gridnode", "--db", ndb, "incident", "update", id, "--status", "closed");
    }
    RUN_OK("gridnode", "--db", ndb, "sync", "--timeout", "60", "--quiet");
}

static void set_password(const char *login)
{
    gst_result_free(&R);
    gst_runv(&R, PASSWORD "\n", "gridhub", "--db", hub_db, "user", "passwd", login,
             (const char *)NULL);
    ASSERT_OK();
}

static void start_web(void)
{
    const char *argv[] = {"gridhub", "--db", hub_db, "web", "--bind", "127.0.0.1:0", NULL};
    port = gst_http_serve(&procs, argv, web_log, &web);
}

static void setup(void)
{
    tmp = gst_tmpdir();
    snprintf(hub_db, sizeof hub_db, "%s/hub.db", tmp);
    snprintf(hub_log, sizeof hub_log, "%s/hub.log", tmp);
    snprintf(web_log, sizeof web_log, "%s/web.log", tmp);
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", gst_free_port());
    time_t now = time(NULL) + 8 * 3600;
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(year_since, sizeof year_since, "%04d-01-01", tm.tm_year + 1900);
    snprintf(year_until, sizeof year_until, "%04d-12-31", tm.tm_year + 1900);
    GH_OK("init");
    GH_OK("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_divisions.csv");
    GH_OK("refdata", "load", "divisions", GS_TEST_SRC_DIR "/data/luohe_villages.csv");
    gst_hub_serve(&procs, hub_db, endpoint, hub_log, false);
    village(V1, 3, true, true);
    village(V2, 1, false, false);
    GH_OK("user", "add", "--name", "王芳", "--login", "wangfang", "--role", "city");
    GH_OK("user", "add", "--name", "李强", "--login", "liqiang", "--role", "township", "--division",
          "411102100");
    GH_OK("user", "add", "--name", "赵敏", "--login", "zhaomin", "--role", "township", "--division",
          "411104100");
    set_password("wangfang");
    set_password("liqiang");
    start_web();
}

static void teardown(void)
{
    gst_teardown(&procs, &R, &tmp);
}

/* ---- a browser's session ---------------------------------------------------------------- */

static gst_http_answer get(const char *path, const gst_http_session *s)
{
    return gst_http_request(port, "GET", path, s ? s->cookie : NULL, NULL);
}

static gst_http_answer post_form(const char *path, const gst_http_session *s, const char *body)
{
    return gst_http_post_form(port, path, s, body);
}

/* A fresh session at the login page. */
static gst_http_session login_page(void)
{
    gst_http_answer h = get("/login", NULL);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "用户名");
    gst_http_session s = {{0}};
    ck_assert(gst_http_take_session(&h, GST_HTTP_CSRF_FIELD, &s));
    gst_http_answer_free(&h);
    return s;
}

/* Logs in; the session that carries the user. */
static gst_http_session login(const char *user, const char *password)
{
    return gst_http_login(port, user, password, NULL);
}

/* ---- the figures --------------------------------------------------------------------------- */

/* The value a card shows: data-key="KEY" ... class="value">V<span. */
static char *card_value(const char *page, const char *report, const char *key)
{
    char pat[160];
    snprintf(pat, sizeof pat, "data-report=\"%s\" data-sheet=\"%s\" data-key=\"%s\"", report,
             !strcmp(report, "summary") ? "by_area" : "by_month", key);
    const char *p = strstr(page, pat);
    ck_assert_msg(p != NULL, "no card %s", pat);
    p = strstr(p, "class=\"value\">");
    ck_assert_ptr_nonnull(p);
    p += strlen("class=\"value\">");
    return strndup(p, strcspn(p, "<"));
}

/* The total row's value of key in `gridhub report KIND ... --format json`,
 * as the card shows it ("-" for null). */
static char *report_value(json_t *doc, const char *sheet, const char *key)
{
    json_t *v = json_object_get(json_object_get(json_object_get(doc, sheet), "total"), key);
    ck_assert_msg(v != NULL, "report JSON lacks %s.total.%s", sheet, key);
    char buf[64];
    if (json_is_null(v))
        snprintf(buf, sizeof buf, "-");
    else if (json_is_integer(v))
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(buf, sizeof buf, "%.1f", json_real_value(v));
    else
        snprintf(buf, sizeof buf, "%s", json_string_value(v));
    return strdup(buf);
}

static json_t *report_json(const char *kind, const char *area_opt, const char *area)
{
    if (area_opt)
        GH_OK("report", kind, area_opt, area, "--since", year_since, "--until", year_until,
              "--format", "json");
    else
        GH_OK("report", kind, "--since", year_since, "--until", year_until, "--format", "json");
    json_error_t je;
    json_t *j = json_loads(R.out, 0, &je);
    ck_assert_msg(j != NULL, "report JSON: %s", je.text);
    return j;
}

/* Every card of the page equals the report's figure for the same area and period. */
static void cards_equal_report(const char *page, const char *area_opt, const char *area)
{
    static const char *const summary_keys[] = {"villages",
                                               "villages_registered",
                                               "villages_without_node",
                                               "villages_reporting",
                                               "reporting_pct",
                                               "elections_village",
                                               "elections_residents",
                                               "elections_party",
                                               "villagers_election_pct",
                                               "turnout_pct",
                                               "villages_turnout_below_95",
                                               "elections_invalid",
                                               "seats_unfilled",
                                               "elections_no_woman",
                                               "yijiantiao",
                                               "villages_with_council",
                                               "council_coverage_pct",
                                               "affairs_total",
                                               "affairs_with_violations",
                                               "incidents_opened",
                                               "incidents_closed",
                                               "incidents_open",
                                               "incidents_open_over_30d",
                                               "median_days_to_close"};
    static const char *const month_keys[] = {"overdue", "closure_pct", "on_time_pct"};
    json_t *sum = report_json("summary", area_opt, area);
    for (size_t i = 0; i < sizeof summary_keys / sizeof summary_keys[0]; i++) {
        char *c = card_value(page, "summary", summary_keys[i]);
        char *r = report_value(sum, "by_area", summary_keys[i]);
        ck_assert_msg(!strcmp(c, r), "%s %s: card %s, report %s", area ? area : "city",
                      summary_keys[i], c, r);
        free(c), free(r);
    }
    json_decref(sum);
    json_t *inc = report_json("incidents", area_opt, area);
    for (size_t i = 0; i < sizeof month_keys / sizeof month_keys[0]; i++) {
        char *c = card_value(page, "incidents", month_keys[i]);
        char *r = report_value(inc, "by_month", month_keys[i]);
        ck_assert_msg(!strcmp(c, r), "%s %s: card %s, report %s", area ? area : "city",
                      month_keys[i], c, r);
        free(c), free(r);
    }
    json_decref(inc);
}

/* ==== dashboard ================================================================== */

START_TEST(dashboard_figures_are_the_reports)
{
    gst_http_session s = login("wangfang", PASSWORD);
    gst_http_answer h = get("/", &s);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "<title>全市概览");
    BODY_HAS(h, ">节点</a>"); /* the city's tabs */
    BODY_HAS(h, ">用户</a>");
    BODY_HAS(h, "王芳");
    /* the data is there: 4 incidents, 1 closed, 1 overdue, 1,334 villages, 2 with a node */
    char *v = card_value(h.body, "summary", "incidents_opened");
    ck_assert_str_eq(v, "4");
    free(v);
    v = card_value(h.body, "incidents", "overdue");
    ck_assert_str_eq(v, "1");
    free(v);
    v = card_value(h.body, "summary", "villages");
    ck_assert_str_eq(v, "1334");
    free(v);
    v = card_value(h.body, "summary", "villages_registered");
    ck_assert_str_eq(v, "2");
    free(v);
    cards_equal_report(h.body, NULL, NULL);
    /* charts drawn here, linking down a level; no script */
    BODY_HAS(h, "<svg");
    BODY_HAS(h, "<a href=\"/area/411102\">");
    BODY_LACKS(h, "<script");
    gst_http_answer_free(&h);

    /* a county, then a township, then a village leads to its incidents */
    h = get("/area/411102", &s);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "<a href=\"/area/411102100\">");
    gst_http_answer_free(&h);
    h = get("/area/411102100", &s);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "大刘镇");
    BODY_HAS(h, "<a href=\"/incidents?village=" V1 "\">");
    cards_equal_report(h.body, "--township", "411102100");
    gst_http_answer_free(&h);

    /* a period of its own, and a bad one */
    h = get("/area/411102100?since=2020-01-01&until=2020-12-31", &s);
    if (h.status != 200) {
        char *log = gst_read_file(web_log, NULL);
        fprintf(stderr, "web log:\n%s\n", log ? log : "(none)");
        free(log);
    }
    ck_assert_int_eq(h.status, 200);
    v = card_value(h.body, "summary", "incidents_opened");
    ck_assert_str_eq(v, "0");
    free(v);
    gst_http_answer_free(&h);
    h = get("/?since=2026-13-40", &s);
    ck_assert_int_eq(h.status, 400);
    BODY_HAS(h, "since");
    gst_http_answer_free(&h);
    h = get("/area/41110", &s);
    ck_assert_int_eq(h.status, 404);
    gst_http_answer_free(&h);

    /* the other pages answer */
    h = get("/health", &s);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "data-village=\"" V1 "\"");
    BODY_HAS(h, "未开通");
    gst_http_answer_free(&h);
    h = get("/reports", &s);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "/reports/download?kind=summary");
    gst_http_answer_free(&h);
    h = get("/reports/download?kind=incidents&format=xlsx", &s);
    ck_assert_int_eq(h.status, 200);
    ck_assert(h.len > 100 && !memcmp(h.body, "PK", 2)); /* a zip: the workbook */
    gst_http_answer_free(&h);
}
END_TEST

/* The CSRF token a page carries (its meta element), into s. */
static void take_csrf(const gst_http_answer *h, gst_http_session *s)
{
    ck_assert(gst_http_token(h->body, GST_HTTP_CSRF_META, s->csrf, sizeof s->csrf));
}

/* 节点 and 用户: the city registers a PC (its bundle installs), revokes it;
 * adds a user, disables another whose session ends at once. */
START_TEST(city_registers_nodes_and_people)
{
    gst_http_session s = login("wangfang", PASSWORD);
    gst_http_answer h = get("/nodes", &s);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "data-node=\"" V1 "-1\"");
    take_csrf(&h, &s);
    gst_http_answer_free(&h);
    char body[600];
    /* a village the city does not know: refused, nothing stored */
    snprintf(body, sizeof body, "_csrf=%s&village=419999999201&name=PC&endpoint=%s", s.csrf,
             endpoint);
    h = post_form("/nodes", &s, body);
    ck_assert_int_eq(h.status, 400);
    BODY_HAS(h, "neither a known division");
    gst_http_answer_free(&h);
    snprintf(body, sizeof body,
             "_csrf=%s&village=" V2 "&name=%%E7%%AC%%AC%%E4%%BA%%8C%%E5%%8F%%B0"
             "&endpoint=%s",
             s.csrf, endpoint);
    h = post_form("/nodes", &s, body);
    ck_assert_msg(h.status == 200, "register: %d %s", h.status, h.body);
    char v[300];
    ck_assert(gst_http_header(&h, "Content-Disposition", v, sizeof v));
    ck_assert_ptr_nonnull(strstr(v, V2 "-2.bundle"));
    char bundle[PATH_MAX], ndb[PATH_MAX];
    snprintf(bundle, sizeof bundle, "%s/web.bundle", tmp);
    snprintf(ndb, sizeof ndb, "%s/web-node.db", tmp);
    ck_assert_int_eq(gst_write_file(bundle, h.body, strlen(h.body)), 0);
    gst_http_answer_free(&h);
    RUN_OK("gridnode", "--db", ndb, "init", "--bundle", bundle);
    RUN_OK("gridnode", "--db", ndb, "sync", "--timeout", "60", "--quiet");
    snprintf(body, sizeof body, "_csrf=%s&id=" V2 "-2", s.csrf);
    h = post_form("/nodes/revoke", &s, body);
    ck_assert_int_eq(h.status, 303);
    gst_http_answer_free(&h);
    GH_OK("node", "list", "--json");
    ASSERT_OUT_HAS("\"id\":\"" V2 "-2\",\"village\":\"" V2
                   "\",\"name\":\"第二台\",\"enabled\":false");
    /* a township user cannot */
    gst_http_session t = login("liqiang", PASSWORD);
    h = get("/", &t);
    take_csrf(&h, &t);
    gst_http_answer_free(&h);
    snprintf(body, sizeof body, "_csrf=%s&id=" V1 "-1", t.csrf);
    h = post_form("/nodes/revoke", &t, body);
    ck_assert_int_eq(h.status, 403);
    gst_http_answer_free(&h);

    /* people: add one (bad division refused), disable liqiang mid-session */
    snprintf(body, sizeof body,
             "_csrf=%s&name=%%E5%%BC%%A0%%E4%%B8%%89&login=zhangsan&role=county&division=411102100",
             s.csrf);
    h = post_form("/users", &s, body);
    ck_assert_int_eq(h.status, 400);
    BODY_HAS(h, "is a township, not a county");
    gst_http_answer_free(&h);
    snprintf(body, sizeof body,
             "_csrf=%s&name=%%E5%%BC%%A0%%E4%%B8%%89&login=zhangsan&role=county&division=411102",
             s.csrf);
    h = post_form("/users", &s, body);
    ck_assert_int_eq(h.status, 303);
    gst_http_answer_free(&h);
    h = get("/users", &s);
    BODY_HAS(h, "data-login=\"zhangsan\"");
    BODY_HAS(h, "源汇区");
    gst_http_answer_free(&h);
    h = get("/", &t);
    ck_assert_int_eq(h.status, 200);
    gst_http_answer_free(&h);
    snprintf(body, sizeof body, "_csrf=%s&login=liqiang", s.csrf);
    h = post_form("/users/disable", &s, body);
    ck_assert_int_eq(h.status, 303);
    gst_http_answer_free(&h);
    h = get("/", &t);
    ck_assert_msg(h.status == 303 || h.status == 401, "after disable: %d", h.status);
    gst_http_answer_free(&h);
    /* the log, newest first */
    h = get("/audit", &s);
    ck_assert_int_eq(h.status, 200);
    const char *dis = strstr(h.body, "user disable"), *add = strstr(h.body, "node add");
    ck_assert(dis && add && dis < add);
    BODY_HAS(h, "node revoke");
    BODY_HAS(h, "zhangsan");
    gst_http_answer_free(&h);
}
END_TEST

/* ==== people ====================================================================== */

START_TEST(login_first_password_and_throttle)
{
    /* not logged in: to the login page */
    gst_http_answer h = get("/", NULL);
    ck_assert_int_eq(h.status, 303);
    gst_http_answer_free(&h);

    gst_http_session s = login_page();
    char body[400];
    snprintf(body, sizeof body, "_csrf=%s&user=wangfang&password=wrong-password", s.csrf);
    h = post_form("/login", &s, body);
    ck_assert_int_eq(h.status, 401);
    BODY_HAS(h, "用户名或密码不对");
    gst_http_answer_free(&h);

    /* a new user without a password: asked for one, twice */
    snprintf(body, sizeof body, "_csrf=%s&user=zhaomin&password=", s.csrf);
    h = post_form("/login", &s, body);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "首次登录");
    BODY_HAS(h, "name=\"again\"");
    gst_http_answer_free(&h);
    snprintf(body, sizeof body, "_csrf=%s&user=zhaomin&first=1&new=short&again=short", s.csrf);
    h = post_form("/login", &s, body);
    ck_assert_int_eq(h.status, 400);
    BODY_HAS(h, "至少 8 个字符");
    gst_http_answer_free(&h);
    snprintf(body, sizeof body, "_csrf=%s&user=zhaomin&first=1&new=zhao-2026&again=zhao-2027",
             s.csrf);
    h = post_form("/login", &s, body);
    ck_assert_int_eq(h.status, 400);
    BODY_HAS(h, "两次输入的密码不一样");
    gst_http_answer_free(&h);
    snprintf(body, sizeof body, "_csrf=%s&user=zhaomin&first=1&new=zhao-2026&again=zhao-2026",
             s.csrf);
    h = post_form("/login", &s, body);
    ck_assert_int_eq(h.status, 303);
    gst_http_session in = {{0}};
    ck_assert(gst_http_take_session(&h, NULL, &in));
    gst_http_answer_free(&h);
    h = get("/", &in);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "召陵镇");
    BODY_HAS(h, "赵敏");
    gst_http_answer_free(&h);
    /* the password is set: the first-login form is no longer offered */
    s = login_page();
    snprintf(body, sizeof body, "_csrf=%s&user=zhaomin&first=1&new=other-2026&again=other-2026",
             s.csrf);
    h = post_form("/login", &s, body);
    ck_assert_int_eq(h.status, 401);
    gst_http_answer_free(&h);
    in = login("zhaomin", "zhao-2026");
    s = login_page();

    /* failed logins from this address: throttled after five */
    int status = 0;
    for (int i = 0; i < 8 && status != 429; i++) {
        snprintf(body, sizeof body, "_csrf=%s&user=wangfang&password=guess-%d", s.csrf, i);
        h = post_form("/login", &s, body);
        status = h.status;
        if (status == 429)
            BODY_HAS(h, "秒后再试");
        gst_http_answer_free(&h);
    }
    ck_assert_int_eq(status, 429);
    /* even the right password waits */
    snprintf(body, sizeof body, "_csrf=%s&user=wangfang&password=" PASSWORD, s.csrf);
    h = post_form("/login", &s, body);
    ck_assert_int_eq(h.status, 429);
    gst_http_answer_free(&h);
}
END_TEST

/* ==== scope ======================================================================== */

START_TEST(township_sees_its_villages_only)
{
    gst_http_session s = login("liqiang", PASSWORD);
    gst_http_answer h = get("/", &s);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "大刘镇");
    BODY_LACKS(h, ">节点</a>");
    BODY_LACKS(h, ">用户</a>");
    BODY_LACKS(h, "召陵");
    cards_equal_report(h.body, "--township", "411102100");
    gst_http_answer_free(&h);

    /* another township, county, village: 403, naming nothing of it */
    const char *refused[] = {"/area/411104100",
                             "/area/411104",
                             "/area/" V2,
                             "/area/411102",
                             "/health?township=411104100",
                             "/reports/download?kind=summary&format=csv&area=411104100",
                             "/reports/download?kind=nodes&format=xlsx&area=" V2,
                             "/reports?area=411104",
                             "/users",
                             "/nodes"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        h = get(refused[i], &s);
        ck_assert_msg(h.status == 403, "%s: %d", refused[i], h.status);
        BODY_LACKS(h, "召陵");
        BODY_LACKS(h, "黄庄");
        gst_http_answer_free(&h);
    }
    /* SQL in a filter is refused as not a code, and nothing leaks */
    struct {
        const char *path;
        int status;
    } inert[] = {{"/health?township=41110210%27", 400},
                 {"/health?township=%27%20OR%201=1--", 400},
                 {"/area/411102100%27%20OR%20%271%27=%271", 404},
                 {"/reports/download?kind=summary%27--&format=csv", 400},
                 {"/reports/download?kind=summary&format=csv&area=4111%25", 400},
                 {"/?since=2026-01-01%27%20OR%201=1", 400}};
    for (size_t i = 0; i < sizeof inert / sizeof inert[0]; i++) {
        h = get(inert[i].path, &s);
        ck_assert_msg(h.status == inert[i].status, "%s: %d", inert[i].path, h.status);
        BODY_LACKS(h, "召陵");
        BODY_LACKS(h, "SQL");
        gst_http_answer_free(&h);
    }
    /* its own village: yes */
    h = get("/area/" V1, &s);
    ck_assert_int_eq(h.status, 200);
    gst_http_answer_free(&h);
    /* a download without an area is its township's only */
    h = get("/reports/download?kind=summary&format=csv", &s);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "大刘镇");
    BODY_HAS(h, V1);
    BODY_LACKS(h, V2);
    BODY_LACKS(h, "召陵");
    gst_http_answer_free(&h);
    h = get("/health", &s);
    ck_assert_int_eq(h.status, 200);
    BODY_HAS(h, "data-village=\"" V1 "\"");
    BODY_LACKS(h, V2);
    gst_http_answer_free(&h);

    /* disabled from the command line mid-session: the next request is refused */
    GH_OK("user", "disable", "liqiang");
    h = get("/", &s);
    ck_assert_msg(h.status == 303 || h.status == 401, "after disable: %d", h.status);
    gst_http_answer_free(&h);
    gst_http_session again = login_page();
    char body[300];
    snprintf(body, sizeof body, "_csrf=%s&user=liqiang&password=" PASSWORD, again.csrf);
    h = post_form("/login", &again, body);
    ck_assert_int_eq(h.status, 401);
    gst_http_answer_free(&h);

    /* the audit log: who, from where, what */
    sqlite3 *db = NULL;
    ck_assert_int_eq(sqlite3_open_v2(hub_db, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    ck_assert_int_eq(sqlite3_prepare_v2(db,
                                        "SELECT user, address, action, detail FROM audit "
                                        "ORDER BY id",
                                        -1, &st, NULL),
                     SQLITE_OK);
    bool logged_in = false, downloaded = false, disabled = false;
    while (sqlite3_step(st) == SQLITE_ROW) {
        const char *u = (const char *)sqlite3_column_text(st, 0),
                   *a = (const char *)sqlite3_column_text(st, 1),
                   *act = (const char *)sqlite3_column_text(st, 2),
                   *d = (const char *)sqlite3_column_text(st, 3);
        logged_in |= !strcmp(u, "liqiang") && !strcmp(a, "127.0.0.1") && !strcmp(act, "login");
        downloaded |= !strcmp(u, "liqiang") && !strcmp(act, "report download") &&
                      strstr(d, "汇总_411102100") != NULL;
        disabled |= !strcmp(act, "user disable") && !strcmp(d, "liqiang");
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    ck_assert(logged_in);
    ck_assert(downloaded);
    ck_assert(disabled);
}
END_TEST

/* ==== the command line ================================================================= */

START_TEST(user_commands_refuse_bad_input)
{
    struct {
        const char *args[12];
        const char *says;
    } bad[] = {
        {{"user", "add", "--name", "甲", "--login", "a b", "--role", "city"}, "--login"},
        {{"user", "add", "--name", "甲", "--login", "jia", "--role", "mayor"}, "--role"},
        {{"user", "add", "--name", "甲", "--login", "jia", "--role", "township", "--division",
          "411102"},
         "is a county, not a township"},
        {{"user", "add", "--name", "甲", "--login", "jia", "--role", "county", "--division",
          "419999"},
         "not in the division table"},
        {{"user", "add", "--name", "甲", "--login", "jia", "--role", "county"}, "needs --division"},
        {{"user", "add", "--name", "甲", "--login", "jia", "--role", "city", "--division",
          "411102"},
         "has none"},
        {{"user", "add", "--name", "王芳", "--login", "wangfang", "--role", "city"},
         "already exists"},
        {{"user", "disable", "nobody"}, "no user nobody"},
        {{"user", "list", "--format", "xml"}, "--format"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[16] = {"gridhub", "--db", hub_db};
        int n = 3;
        for (int k = 0; bad[i].args[k]; k++)
            argv[n++] = bad[i].args[k];
        argv[n] = NULL;
        gst_result_free(&R);
        gst_run(&R, NULL, argv);
        ck_assert_msg(R.status == 1 || R.status == 2, "case %zu: exit %d", i, R.status);
        ASSERT_ERR_HAS(bad[i].says);
        ck_assert_msg(strchr(R.err, '\n') == R.err + strlen(R.err) - 1, "one line: %s", R.err);
    }
    gst_result_free(&R);
    gst_runv(&R, "short\n", "gridhub", "--db", hub_db, "user", "passwd", "zhaomin",
             (const char *)NULL);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("至少 8 个字符");
    GH_OK("user", "list", "--format", "json");
    ASSERT_OUT_HAS("\"login\": \"zhaomin\"");
    ASSERT_OUT_HAS("\"password_set\": false");
    ASSERT_OUT_HAS("\"division_name\": \"大刘镇\"");
}
END_TEST

/* SIGTERM: a clean stop. */
START_TEST(stops_cleanly)
{
    kill(web, SIGTERM);
    ck_assert_int_eq(gst_procs_wait(&procs, web, 20000), 0);
    ck_assert_int_eq(gst_count_in_file(web_log, "gridhub web: stopped"), 1);
}
END_TEST

/* 黄庄村 reports n more incidents and syncs. */
static void more_incidents(int n)
{
    char ndb[PATH_MAX], grid[16];
    snprintf(ndb, sizeof ndb, "%s/%s.db", tmp, V2);
    snprintf(grid, sizeof grid, "%s001", V2);
    for (int i = 0; i < n; i++)
        RUN_OK("gridnode", "--db", ndb, "incident", "add", "--grid", grid, "--category",
               "safety.fire", "--title", "新的事件", "--deadline", "2090-12-31");
    RUN_OK("gridnode", "--db", ndb, "sync", "--timeout", "60", "--quiet");
}

/* The dashboard's figures are kept between pages (hub/web/figures.c): the
 * same until the database changes; after a sync, within the max age, the
 * kept ones with a note that says so and a link to read them now; that
 * link, and a web started with --figures-max-age 0, give the new ones. */
/* The dashboard at path shows opened incidents, its figures current or
 * not (data-current); when current, every card equals the report's. */
static void dashboard_shows(const gst_http_session *s, const char *path, const char *opened,
                            bool current)
{
    gst_http_answer h = get(path, s);
    ck_assert_int_eq(h.status, 200);
    char *v = card_value(h.body, "summary", "incidents_opened");
    ck_assert_msg(!strcmp(v, opened), "%s: %s opened, not %s", path, v, opened);
    free(v);
    BODY_HAS(h, current ? "data-current=\"1\"" : "data-current=\"0\"");
    BODY_HAS(h, "数据读取于 ");
    if (current) {
        BODY_LACKS(h, "fresh=1");
        cards_equal_report(h.body, NULL, NULL);
    } else {
        BODY_HAS(h, "此后数据库有更新");
        BODY_HAS(h, "fresh=1\">现在刷新</a>");
    }
    gst_http_answer_free(&h);
}

START_TEST(dashboard_figures_kept_until_changed)
{
    gst_http_session s = login("wangfang", PASSWORD);
    dashboard_shows(&s, "/", "4", true);
    more_incidents(2);
    /* within the minute: the figures read before, said to be so */
    dashboard_shows(&s, "/", "4", false);
    /* 现在刷新: the report's figures now; and so for the next page, nothing
     * having changed */
    char path[100];
    snprintf(path, sizeof path, "/?since=%s&until=%s&fresh=1", year_since, year_until);
    dashboard_shows(&s, path, "6", true);
    dashboard_shows(&s, "/", "6", true);

    /* --figures-max-age 0: never older figures than the database's */
    kill(web, SIGTERM);
    ck_assert_int_eq(gst_procs_wait(&procs, web, 20000), 0);
    const char *argv[] = {"gridhub", "--db", hub_db, "web", "--bind", "127.0.0.1:0",
                          "--figures-max-age", "0", NULL};
    port = gst_http_serve(&procs, argv, web_log, &web);
    s = login("wangfang", PASSWORD);
    dashboard_shows(&s, "/", "6", true);
    more_incidents(1);
    dashboard_shows(&s, "/", "7", true);

    /* a bad max age is refused with one line */
    gst_result_free(&R);
    int st = gst_cmd(&R, true, "gridhub", hub_db, "web", "--figures-max-age", "soon",
                     (const char *)NULL);
    ck_assert_int_eq(st, 2);
    ck_assert_msg(strstr(R.err, "--figures-max-age \"soon\": expected seconds"), "%s", R.err);
}
END_TEST

static Suite *web_suite(void)
{
    Suite *s = suite_create("hub_web");
    TCase *tc = gst_tcase(s, "dashboard", setup, teardown, 300);
    tcase_add_test(tc, dashboard_figures_are_the_reports);
    tcase_add_test(tc, dashboard_figures_kept_until_changed);
    tcase_add_test(tc, city_registers_nodes_and_people);
    tc = gst_tcase(s, "people", setup, teardown, 300);
    tcase_add_test(tc, login_first_password_and_throttle);
    tcase_add_test(tc, user_commands_refuse_bad_input);
    tc = gst_tcase(s, "scope", setup, teardown, 300);
    tcase_add_test(tc, township_sees_its_villages_only);
    tcase_add_test(tc, stops_cleanly);
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
