/*
 * web.c: `gridnode web`, the village desk: the command (and `gridnode web
 * passwd`), the server over the shared HTTP layer (gridsync/http.h), the
 * layout every page shares (nweb_begin/nweb_end), the login page, and the
 * route table assembled from the page groups.
 *
 * Each page group (incidents.c, elections.c ...) defines its own route
 * table (declared in web.h); this file puts them together in the order
 * their routes must be tried (elections.c's /api/elections/check before
 * api.c's /api/elections/ prefix).
 *
 * Security model (docs/web.md): loopback by default, where every visitor
 * gets a session at once and CSRF tokens keep other web sites from posting
 * to 127.0.0.1; binding beyond loopback needs a password (argon2id in the
 * node's meta table), and once one is set every page needs a login.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../cli.h"
#include "gridsync/mpack.h"
#include "gridsync/rules.h"
#include "gridsync/web_page.h"
#include "web.h"

extern char **environ;

/* The assets compiled in (node/web/assets/, cmake/embed.cmake). */
extern const gs_http_asset nweb_assets[];
extern const size_t nweb_assets_count;

#define HOME_OVERDUE_LIST 50    /* overdue incidents the home page lists */
#define HOME_OVERDUE_COUNT 1000 /* and counts, beyond which it says "1000+" */
#define LOGIN_USER "desk" /* the one user of a village desk with a password */

/* ---- the layout ------------------------------------------------------------- */

const char *nweb_t(const gs_http_req *rq, const char *zh, const char *en)
{
    return gs_web_t(rq, zh, en);
}

void nweb_csrf_field(gs_http_req *rq, gs_buf *b)
{
    gs_web_csrf_field(rq, b);
}

/* The village's name from the divisions the node holds, else the node's
 * own name (init --name), else the village code. */
static void village_name(nweb *w, char *out, size_t cap)
{
    const node_identity *id = node_store_identity(w->store);
    const gs_rectype *rt = gs_rectype_get(GS_RT_DIVISION);
    gs_record *r = NULL;
    snprintf(out, cap, "%s", id->name[0] ? id->name : id->village);
    if (node_store_get(w->store, rt, id->village, &r, NULL) == GS_OK) {
        const char *name = gs_record_str(r, GS_DIVISION_NAME);
        if (name && *name)
            snprintf(out, cap, "%s", name);
        gs_record_destroy(&r);
    }
}

static const struct {
    const char *path, *zh, *en;
} tabs[NWEB__COUNT] = {
    [NWEB_HOME] = {"/", "首页", "Home"},
    [NWEB_INCIDENTS] = {"/incidents", "网格事件", "Incidents"},
    [NWEB_ELECTIONS] = {"/elections", "换届选举", "Elections"},
    [NWEB_COUNCILS] = {"/councils", "红白理事会", "Councils"},
    [NWEB_TRANSFER] = {"/transfer", "导入导出", "Import/Export"},
    [NWEB_SYNC] = {"/sync", "同步", "Sync"},
};

void nweb_begin(gs_http_req *rq, gs_http_resp *rs, nweb_tab tab, const char *title)
{
    nweb *w = gs_http_app(rq);
    bool en = gs_http_en(rq);
    char village[128];
    village_name(w, village, sizeof village);
    gs_buf *b = gs_web_begin(rq, rs, title, village,
                             "<script src=\"/static/app.js\" defer></script>\n", village,
                             nweb_t(rq, "村级工作台", "village desk"));
    gs_html_printf(b, "<div class=\"node\">%s <code>%s</code></div>", nweb_t(rq, "节点", "node"),
                   node_store_identity(w->store)->node_id);
    gs_web_lang_switch(rq, b);
    if (w->login && gs_http_user(rq))
        gs_web_logout(rq, b);
    gs_buf_puts(b, "</header>\n<nav class=\"tabs\">");
    for (int t = 0; t < NWEB__COUNT; t++)
        gs_web_tab(b, tabs[t].path, en ? tabs[t].en : tabs[t].zh, t == (int)tab);
    gs_web_main(b, title);
}

void nweb_end(gs_http_req *rq, gs_http_resp *rs)
{
    gs_web_end(rq, rs, "数据只存放在本机，联网时同步到城市中心",
               "data stays on this PC and is synced to the city when online");
}

/* ---- 首页 --------------------------------------------------------------------- */

/* What the home page's list callbacks write into. */
typedef struct home_ctx {
    gs_http_req *rq;
    gs_buf *b;
} home_ctx;

/* One line of the overdue list. */
static int put_overdue(const char *id, const char *title, const char *status,
                       const char *deadline, void *arg)
{
    home_ctx *x = arg;
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    const gs_field *sf = &rt->fields[GS_INCIDENT_STATUS];
    gs_html_printf(x->b,
                   "<li><a href=\"/incident/%s\">%s</a> <span class=\"status\">%s</span> "
                   "<span class=\"deadline\">%s %s</span></li>\n",
                   id, title, gs_http_en(x->rq) ? status : gs_enum_zh(sf, status),
                   nweb_t(x->rq, "期限", "deadline"), deadline);
    return 0;
}

/* One change the city refused: what, why, and what to do. */
static int put_rejected(const node_rejected *r, void *arg)
{
    home_ctx *x = arg;
    const gs_rectype *rt = r->rtype[0] ? gs_rectype_find(r->rtype) : NULL;
    gs_html_printf(x->b, "<li><strong>%s</strong> ",
                   rt ? (gs_http_en(x->rq) ? rt->name : rt->label_zh) : r->rtype);
    if (rt && rt->id == GS_RT_INCIDENT && r->rid[0])
        gs_html_printf(x->b, "<a href=\"/incident/%s\">%.8s</a>", r->rid, r->rid);
    else
        gs_html_printf(x->b, "<code>%.8s</code>", r->rid);
    gs_html_printf(x->b,
                   " (#%llu, %s)<br><span class=\"reason\">%s: %s</span> <code>%s</code><br>"
                   "<span class=\"todo\">%s</span></li>\n",
                   (unsigned long long)r->seq, r->at, nweb_t(x->rq, "原因", "reason"), r->reason,
                   r->code,
                   nweb_t(x->rq,
                          "请按原因改正这条记录后再同步；改正后的修改会被重新审核。",
                          "correct the record as the reason says, then sync: the correction is "
                          "judged again."));
    return 0;
}

static void local_time(int64_t ms, char *out, size_t cap)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%d %H:%M", &tm);
}

static int page_home(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = app;
    gs_errbuf eb = {{0}};
    node_sync_state ss;
    int64_t counts[GS_ST__COUNT];
    if (node_store_sync_state(w->store, &ss, &eb) ||
        node_store_incident_counts(w->store, counts, GS_ST__COUNT, &eb))
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    bool en = gs_http_en(rq);
    nweb_begin(rq, rs, NWEB_HOME, nweb_t(rq, "首页：待办事项", "Home: what needs doing"));
    gs_buf *b = gs_http_out(rs);

    if (ss.skew_ms > NODE_CLOCK_SKEW_WARN_MS || ss.skew_ms < -NODE_CLOCK_SKEW_WARN_MS) {
        long long s = (long long)(ss.skew_ms / 1000);
        if (en)
            gs_html_printf(b, "<p class=\"warn clock\">This PC's clock is off the city's by %+lld "
                              "s: set the date and time right, then sync.</p>\n", s);
        else
            gs_html_printf(b, "<p class=\"warn clock\">本机时钟与城市中心相差 %+lld 秒，"
                              "请校准电脑的日期和时间后再同步。</p>\n", s);
    }

    gs_buf_printf(b, "<p class=\"actions\"><a class=\"button\" href=\"/incidents/new\">%s</a> "
                     "<a class=\"button secondary\" href=\"/transfer\">%s</a> "
                     "<a class=\"button secondary\" href=\"/sync\">%s</a></p>\n",
                  nweb_t(rq, "登记新事件", "New incident"), nweb_t(rq, "导入表格", "Import a file"),
                  nweb_t(rq, "同步", "Sync"));

    /* overdue first */
    char today[11];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(today, sizeof today, "%Y-%m-%d", &tm);
    gs_buf list = GS_BUF_INIT;
    int64_t overdue = 0;
    home_ctx ox = {rq, &list};
    node_store_overdue_each(w->store, today, HOME_OVERDUE_LIST, put_overdue, &ox,
                            HOME_OVERDUE_COUNT, &overdue, &eb);
    gs_html_printf(b, "<section class=\"card overdue\"><h2>%s <span class=\"count\">%lld%s</span>"
                      "</h2>",
                   nweb_t(rq, "超期未办结", "Overdue, not closed"),
                   (long long)(overdue > HOME_OVERDUE_COUNT ? HOME_OVERDUE_COUNT : overdue),
                   overdue > HOME_OVERDUE_COUNT ? "+" : "");
    if (overdue) {
        gs_buf_puts(b, "<ul class=\"overdue-list\">\n");
        gs_buf_append(b, list.data, list.len);
        gs_buf_puts(b, "</ul>");
        if (overdue > HOME_OVERDUE_LIST)
            gs_html_printf(b, "<p><a href=\"/incidents?overdue=1\">%s</a></p>",
                           nweb_t(rq, "查看全部超期事件", "all overdue incidents"));
    } else {
        gs_html_printf(b, "<p class=\"ok\">%s</p>", nweb_t(rq, "没有超期的事件。", "None."));
    }
    gs_buf_puts(b, "</section>\n");
    gs_buf_free(&list);

    /* refused by the city */
    gs_html_printf(b, "<section class=\"card rejected\"><h2>%s <span class=\"count\">%lld</span>"
                      "</h2>",
                   nweb_t(rq, "城市中心退回的修改", "Changes the city refused"),
                   (long long)(ss.rejected > 0 ? ss.rejected : 0));
    if (ss.rejected > 0) {
        gs_buf_puts(b, "<ul class=\"rejected-list\">\n");
        home_ctx x = {rq, b};
        node_store_rejected_each(w->store, put_rejected, &x, &eb);
        gs_buf_puts(b, "</ul>");
    } else {
        gs_html_printf(b, "<p class=\"ok\">%s</p>", nweb_t(rq, "没有被退回的修改。", "None."));
    }
    gs_buf_puts(b, "</section>\n");

    /* incidents by state */
    gs_buf_puts(b, "<div class=\"cards\">\n");
    gs_html_printf(b, "<section class=\"card states\"><h2>%s</h2>\n<table class=\"counts\">"
                      "<thead><tr><th>%s</th><th>%s</th></tr></thead><tbody>\n",
                   nweb_t(rq, "网格事件（按状态）", "Incidents by state"), nweb_t(rq, "状态", "state"),
                   nweb_t(rq, "件数", "count"));
    int64_t total = 0;
    for (int i = 0; i < GS_ST__COUNT; i++) {
        total += counts[i];
        if (!counts[i])
            continue;
        gs_html_printf(b, "<tr class=\"st-%s\"><td><a href=\"/incidents?status=%s\">%s</a>%s%s%s"
                          "</td><td class=\"num\">%lld</td></tr>\n",
                       gs_status_names[i], gs_status_names[i], gs_status_names_zh[i],
                       en ? " (" : "", en ? gs_status_names[i] : "", en ? ")" : "",
                       (long long)counts[i]);
    }
    gs_html_printf(b, "<tr class=\"total\"><td>%s</td><td class=\"num\">%lld</td></tr>"
                      "</tbody></table></section>\n",
                   nweb_t(rq, "合计", "total"), (long long)total);

    /* sync */
    char when[32] = "";
    if (ss.last_sync_ms)
        local_time(ss.last_sync_ms, when, sizeof when);
    gs_html_printf(b, "<section class=\"card sync\"><h2>%s</h2><dl>"
                      "<dt>%s</dt><dd class=\"pending\"><span class=\"count\">%lld</span></dd>"
                      "<dt>%s</dt><dd class=\"last-sync\">%s</dd></dl>"
                      "<p><a class=\"button\" href=\"/sync\">%s</a></p></section>\n",
                   nweb_t(rq, "同步", "Sync"), nweb_t(rq, "待同步的修改", "changes not yet synced"),
                   (long long)ss.pending, nweb_t(rq, "上次同步", "last sync"),
                   ss.last_sync_ms ? when : nweb_t(rq, "从未同步", "never"),
                   nweb_t(rq, "去同步", "Go to sync"));

    gs_buf_puts(b, "</div>\n");
    nweb_end(rq, rs);
    return 0;
}

/* ---- login ------------------------------------------------------------------ */

static void login_form(gs_http_req *rq, gs_http_resp *rs, const char *error)
{
    gs_buf *b = gs_web_login_begin(rq, rs, nweb_t(rq, "登录 · 村级工作台", "Log in · village desk"),
                                   nweb_t(rq, "村级工作台 登录", "Village desk: log in"), NULL, error);
    gs_html_printf(b,
                   "<label for=\"password\">%s</label>"
                   "<input type=\"password\" id=\"password\" name=\"password\" required autofocus "
                   "autocomplete=\"current-password\">"
                   "<button type=\"submit\">%s</button></form>"
                   "<p class=\"lang\"><a href=\"?lang=zh\">中文</a> | <a href=\"?lang=en\">English"
                   "</a></p></main></body></html>\n",
                   nweb_t(rq, "密码", "Password"), nweb_t(rq, "登录", "Log in"));
}

static int page_login(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = app;
    if (!w->login || gs_http_user(rq))
        return gs_http_redirect(rs, "/");
    login_form(rq, rs, NULL);
    return 0;
}

static int post_login(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = app;
    if (!w->login)
        return gs_http_redirect(rs, "/");
    const char *pw = gs_http_form(rq, "password");
    gs_errbuf eb = {{0}};
    int rc = gs_http_login(rq, LOGIN_USER, pw ? pw : "", &eb);
    if (rc == GS_OK)
        return gs_http_redirect(rs, "/");
    login_form(rq, rs, eb.msg);
    gs_http_set_status(rs, rc == GS_ETIMEOUT ? 429 : 401);
    return 0;
}

static int post_logout(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = app;
    gs_http_logout(rq);
    return gs_http_redirect(rs, w->login ? "/login" : "/");
}

/* The login callback: the password against the hash in the meta table. */
static int check_login(void *app, const char *user, const char *password, char *who,
                       size_t who_cap)
{
    nweb *w = app;
    char hash[256];
    node_store_meta_text(w->store, NODE_META_WEB_PASSWORD, hash, sizeof hash);
    if (strcmp(user, LOGIN_USER) || !hash[0] || !gs_password_check(hash, password))
        return GS_EAUTH;
    snprintf(who, who_cap, "%s", "村工作台");
    return GS_OK;
}

const gs_http_route nweb_home_routes[] = {
    {"GET", "/", page_home, 0},
    {"GET", "/login", page_login, GS_ROUTE_PUBLIC},
    {"POST", "/login", post_login, GS_ROUTE_PUBLIC},
    {"POST", "/logout", post_logout, 0},
    {NULL, NULL, NULL, 0},
};

/* ---- the command ------------------------------------------------------------ */

static const char web_help[] =
    "usage: gridnode web [--port 8080] [--bind 127.0.0.1] [--no-browser] [--db PATH]\n"
    "       gridnode web passwd [--db PATH]\n"
    "\n"
    "村级工作台: serves the village's pages (首页, 网格事件, 换届选举, 红白理事会, 导入导出,\n"
    "同步) from this node's database, on http://127.0.0.1:8080/ by default, and opens the\n"
    "browser when there is a desktop (else prints the address). Ctrl-C stops it.\n"
    "\n"
    "Only this PC can reach it, unless --bind names another address (an office LAN:\n"
    "--bind 0.0.0.0); that needs a password, set with `gridnode web passwd`, and once a\n"
    "password is set every page asks for it. `web passwd` reads the new password twice\n"
    "from the terminal (once from standard input when that is not a terminal); at least\n"
    "8 characters.\n";

/* The routes of every page group, in one table. */
static gs_http_route *all_routes(size_t *n)
{
    const gs_http_route *groups[] = {nweb_home_routes,     nweb_incident_routes, nweb_grid_routes,
                                     nweb_election_routes, nweb_council_routes,
                                     nweb_transfer_routes, nweb_sync_routes,
                                     nweb_api_routes};
    return gs_http_routes_join(groups, sizeof groups / sizeof groups[0], n);
}

static bool is_loopback(const char *bind)
{
    struct in_addr a4;
    if (!strcmp(bind, "localhost") || !strcmp(bind, "::1"))
        return true;
    return inet_pton(AF_INET, bind, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127;
}

static int cmd_passwd(node_cli *cli, int argc, char **argv)
{
    gs_cli_args a;
    int rc = gs_cli_parse(cli, "web passwd", argc, argv, NULL, NULL, NULL, &a);
    if (rc)
        return rc;
    if (a.npos)
        return node_usage("web passwd: unexpected argument %s", a.pos[0]);
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    char pw[256] = "", hash[256];
    gs_errbuf eb = {{0}};
    if (gs_cli_new_password(pw, sizeof pw, &eb))
        rc = node_fail("web passwd: %s", eb.msg);
    else if (gs_password_hash(pw, hash, sizeof hash, &eb) || node_store_begin(s, &eb) ||
             node_store_meta_set_text(s, NODE_META_WEB_PASSWORD, hash, &eb) ||
             node_store_commit(s, &eb)) {
        node_store_rollback(s);
        rc = node_fail("web passwd: %s", eb.msg);
    } else {
        printf("网页登录密码已设置 (web password set): `gridnode web` now asks for it\n");
    }
    sodium_memzero(pw, sizeof pw);
    node_store_close(&s);
    return rc;
}

/* Opens url in the desktop's browser, without waiting for it. */
static void open_browser(const char *url)
{
    pid_t pid;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    char *argv[] = {"xdg-open", (char *)url, NULL};
    if (posix_spawnp(&pid, "xdg-open", &fa, NULL, argv, environ) != 0)
        printf("无法打开浏览器，请手动打开上面的地址 (could not start a browser: open the address "
               "above)\n");
    posix_spawn_file_actions_destroy(&fa);
}

int node_cmd_web(node_cli *cli)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        fputs(web_help, stdout);
        return NODE_EXIT_OK;
    }
    if (cli->argc > 0 && !strcmp(cli->argv[0], "passwd"))
        return cmd_passwd(cli, cli->argc - 1, cli->argv + 1);
    enum { O_PORT, O_BIND, O_NO_BROWSER };
    static const gs_cli_opt opts[] = {{"--port", true, O_PORT},
                                      {"--bind", true, O_BIND},
                                      {"--no-browser", false, O_NO_BROWSER},
                                      {NULL, false, 0}};
    gs_cli_args a;
    int rc = gs_cli_parse(cli, "web", cli->argc, cli->argv, opts, NULL, NULL, &a);
    if (rc)
        return rc;
    if (a.npos)
        return node_usage("web: unexpected argument %s", a.pos[0]);
    const char *port_s = gs_cli_arg(&a, O_PORT), *bind = gs_cli_arg(&a, O_BIND);
    if (!bind)
        bind = "127.0.0.1";
    long port = 8080;
    if (port_s) {
        char *end;
        port = strtol(port_s, &end, 10);
        if (!*port_s || *end || port < 0 || port > 65535)
            return node_usage("web: --port \"%s\": expected a port number 0-65535", port_s);
    }
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    char hash[256];
    node_store_meta_text(s, NODE_META_WEB_PASSWORD, hash, sizeof hash);
    if (!is_loopback(bind) && !hash[0]) {
        node_store_close(&s);
        return node_fail("web: --bind %s: 要让局域网内的其他电脑访问，请先用 `gridnode web passwd` "
                         "设置登录密码 (binding beyond this PC needs a password: run `gridnode web "
                         "passwd` first)",
                         bind);
    }
    nweb w = {0};
    w.store = s;
    w.db_path = cli->db;
    w.login = hash[0] != '\0';
    pthread_mutex_init(&w.sync_lock, NULL);
    size_t nroutes = 0;
    gs_http_route *routes = all_routes(&nroutes);
    char hostname[256] = "";
    gethostname(hostname, sizeof hostname - 1);
    const char *hosts[] = {hostname, NULL};
    gs_http_config cfg = {
        .name = "gridnode web",
        .bind = bind,
        .port = (uint16_t)port,
        .routes = routes,
        .nroutes = nroutes,
        .assets = nweb_assets,
        .nassets = nweb_assets_count,
        .app = &w,
        .login = w.login ? check_login : NULL,
        .login_path = "/login",
        .hosts = hosts,
    };
    gs_http_signals_block(); /* before the server's thread starts: it inherits the mask */
    gs_errbuf eb = {{0}};
    if (!routes || gs_http_start(&w.srv, &cfg, &eb)) {
        free(routes);
        pthread_mutex_destroy(&w.sync_lock);
        node_store_close(&s);
        return node_fail("web: %s", routes ? eb.msg : "out of memory");
    }
    char url[300];
    gs_http_url(url, sizeof url, false, bind, true, gs_http_port(w.srv));
    printf("gridnode web: serving %s\n", url);
    bool desktop = getenv("DISPLAY") || getenv("WAYLAND_DISPLAY");
    if (desktop && !gs_cli_count(&a, O_NO_BROWSER))
        open_browser(url);
    printf("村级工作台已启动，请用浏览器打开 %s ；按 Ctrl-C 停止。\n"
           "The village desk is running: open %s in a browser; Ctrl-C stops it.\n",
           url, url);
    if (w.login)
        printf("已设置密码，打开页面时需要登录 (a password is set: the pages ask for it)\n");
    fflush(stdout);
    gs_http_signals_wait();
    gs_http_stop(&w.srv);
    nweb_sync_stop(&w); /* a sync the 同步 page started ends before the store closes */
    nweb_transfer_free(&w);
    while (waitpid(-1, NULL, WNOHANG) > 0) /* a browser opener that has ended */
        ;
    free(routes);
    pthread_mutex_destroy(&w.sync_lock);
    node_store_close(&s);
    printf("gridnode web: stopped\n");
    return NODE_EXIT_OK;
}
