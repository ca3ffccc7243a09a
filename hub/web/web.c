/*
 * web.c: `gridhub web`, the city's pages: the command, the server over the
 * shared HTTP layer (gridsync/http.h), login (with the password a new user
 * sets at the first login), the users' scope, the audit log, the layout
 * every page shares (hweb_begin/hweb_end), and the route table assembled
 * from the page groups.
 *
 * Each page group (dashboard.c, queue.c ...) defines its own route table
 * (declared in web.h); this file puts them together, login first.
 *
 * Every page needs a login: the HTTP layer asks check_login for a password
 * and user_ok on every request, so a user disabled (here or by `gridhub
 * user disable`) is refused at the next request. The database is the
 * hub's, opened as a second connection beside `gridhub serve` (WAL: reads
 * never block the sync server; the few writes here are single statements,
 * waiting for the server's transactions through the busy timeout).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "../cli.h"
#include "gridsync/bundle.h"
#include "gridsync/hlc.h"
#include "gridsync/mpack.h"
#include "gridsync/record.h"
#include "gridsync/web_page.h"
#include "web.h"

/* The assets compiled in (hub/web/assets/ and the desk's app.css). */
extern const gs_http_asset hweb_assets[];
extern const size_t hweb_assets_count;


/* ---- scope ------------------------------------------------------------------ */

int hweb_scope_of(gs_http_req *rq, hweb *w, hweb_scope *out)
{
    const char *login = gs_http_user(rq);
    hub_user u;
    gs_errbuf eb = {{0}};
    memset(out, 0, sizeof *out);
    if (!login || hub_user_get(w->store, login, &u, &eb) || u.disabled)
        return GS_EAUTH;
    snprintf(out->user, sizeof out->user, "%s", u.login);
    snprintf(out->display, sizeof out->display, "%s", u.name);
    if (!strcmp(u.role, "county"))
        out->role = HWEB_COUNTY;
    else if (!strcmp(u.role, "township"))
        out->role = HWEB_TOWNSHIP;
    else
        out->role = HWEB_CITY;
    if (out->role == HWEB_CITY) {
        snprintf(out->division_name, sizeof out->division_name, "%s", "市民政局");
        return GS_OK;
    }
    snprintf(out->division, sizeof out->division, "%s", u.division);
    /* the significant digits: 6 for a county, 9 for a township */
    snprintf(out->prefix, sizeof out->prefix, "%.*s", out->role == HWEB_COUNTY ? 6 : 9, u.division);
    hub_division d;
    if (hub_division_get(w->store, u.division, &d, &eb) == GS_OK)
        snprintf(out->division_name, sizeof out->division_name, "%s", d.name);
    else
        snprintf(out->division_name, sizeof out->division_name, "%s", u.division);
    return GS_OK;
}

bool hweb_scope_has(const hweb_scope *sc, const char *code)
{
    if (!code || !*code || strspn(code, "0123456789") != strlen(code))
        return false;
    if (sc->role == HWEB_CITY)
        return true;
    size_t np = strlen(sc->prefix), nc = strlen(code);
    if (nc >= np)
        return !strncmp(code, sc->prefix, np);
    /* a county or township code above the scope: the user's own ancestors */
    return (nc == 6 || nc == 9) && !strncmp(code, sc->prefix, nc);
}

bool hweb_scope_within(const hweb_scope *sc, const char *code)
{
    size_t n = code ? strlen(code) : 0;
    if (!(n == 6 || n == 9 || n == 12) || strspn(code, "0123456789") != n)
        return false;
    return sc->role == HWEB_CITY || (n >= strlen(sc->prefix) && hweb_scope_has(sc, code));
}

int hweb_report_area(const hweb_scope *sc, const char *code, hub_report_req *req)
{
    req->county = req->township = req->village = NULL;
    if (!code || !*code)
        code = sc->division; /* the user's own area ("" for the city) */
    if (!*code)
        return GS_OK;
    size_t n = strlen(code);
    if (!(n == 6 || n == 9 || n == 12) || strspn(code, "0123456789") != n)
        return GS_EINVAL;
    if (!hweb_scope_within(sc, code))
        return GS_ESCOPE;
    if (n == 6)
        req->county = code;
    else if (n == 9)
        req->township = code;
    else
        req->village = code;
    return GS_OK;
}

int hweb_period(gs_http_req *rq, char since[11], char until[11], gs_errbuf *eb)
{
    time_t now = time(NULL) + 8 * 3600; /* China time */
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(since, 11, "%04d-01-01", tm.tm_year + 1900);
    snprintf(until, 11, "%04d-12-31", tm.tm_year + 1900);
    const char *names[] = {"since", "until"};
    char *outs[] = {since, until};
    for (int i = 0; i < 2; i++) {
        const char *v = rq ? gs_http_query(rq, names[i]) : NULL;
        int64_t d;
        if (!v || !*v)
            continue;
        if (strlen(v) != 10 || !gs_date_days(v, &d))
            return gs_errf(eb, GS_EINVAL, "%s=%.40s: 日期应为 YYYY-MM-DD (expected a date)",
                           names[i], v);
        snprintf(outs[i], 11, "%s", v);
    }
    if (strcmp(since, until) > 0)
        return gs_errf(eb, GS_EINVAL, "since %s is after until %s", since, until);
    return GS_OK;
}

const gs_sheet *hweb_sheet(const gs_doc *d, const char *key)
{
    for (size_t i = 0; d && i < gs_doc_nsheets(d); i++)
        if (!strcmp(gs_sheet_key(gs_doc_sheet(d, i)), key))
            return gs_doc_sheet(d, i);
    return NULL;
}

const char *hweb_cell(const gs_sheet *s, size_t r, const char *col)
{
    if (!s || r >= gs_sheet_nrows(s))
        return NULL;
    for (size_t c = 0; c < gs_sheet_ncols(s); c++)
        if (!strcmp(gs_sheet_col(s, c)->key, col))
            return gs_sheet_cell(s, r, c);
    return NULL;
}

bool hweb_sheet_has_col(const gs_sheet *s, const char *col)
{
    for (size_t c = 0; s && c < gs_sheet_ncols(s); c++)
        if (!strcmp(gs_sheet_col(s, c)->key, col))
            return true;
    return false;
}

int hweb_forbidden(gs_http_req *rq, gs_http_resp *rs)
{
    return gs_http_error(
        rq, rs, 403, NULL, "%s",
        hweb_t(rq, "无权访问：这不在您的管辖范围内。", "Forbidden: this is outside your area."));
}

int hweb_page_scope(gs_http_req *rq, gs_http_resp *rs, hweb_scope *sc, bool city_only)
{
    hweb *w = gs_http_app(rq);
    if (hweb_scope_of(rq, w, sc)) {
        gs_http_logout(rq);
        if (gs_http_is_api(rq))
            gs_http_error(rq, rs, 401, NULL, "%s", hweb_t(rq, "请重新登录", "log in again"));
        else
            gs_http_redirect(rs, "/login");
        return GS_EAUTH;
    }
    if (city_only && sc->role != HWEB_CITY) {
        hweb_forbidden(rq, rs);
        return GS_ESCOPE;
    }
    return GS_OK;
}

int hweb_audit(hweb *w, gs_http_req *rq, const char *action, const char *detail)
{
    /* every change made through the pages is audited: all but the people's
     * own (logins, passwords, users) and downloads may change a figure */
    static const char *const no_figures[] = {"login", "password", "user ", "report download"};
    bool figures = true;
    for (size_t i = 0; i < sizeof no_figures / sizeof no_figures[0]; i++)
        if (!strncmp(action, no_figures[i], strlen(no_figures[i])))
            figures = false;
    if (figures)
        w->epoch++;
    gs_errbuf eb = {{0}};
    int rc = hub_audit_add(w->store, gs_http_user(rq), gs_http_peer(rq), action, detail, &eb);
    if (rc)
        fprintf(stderr, "gridhub web: audit log: %s\n", eb.msg);
    return rc;
}

/* ---- the layout ------------------------------------------------------------- */

const char *hweb_t(const gs_http_req *rq, const char *zh, const char *en)
{
    return gs_web_t(rq, zh, en);
}

void hweb_csrf_field(gs_http_req *rq, gs_buf *b)
{
    gs_web_csrf_field(rq, b);
}

static const struct {
    const char *path, *zh, *en;
    bool city_only;
} tabs[HWEB__COUNT] = {
    [HWEB_DASHBOARD] = {"/", "全市概览", "Overview", false},
    [HWEB_QUEUE] = {"/incidents", "事件工单", "Incidents", false},
    [HWEB_HEALTH] = {"/health", "同步状况", "Sync health", false},
    [HWEB_REGISTRY] = {"/nodes", "节点", "Nodes", true},
    [HWEB_REPORTS] = {"/reports", "报表", "Reports", false},
    [HWEB_USERS] = {"/users", "用户", "Users", true},
};

static const char *role_text(const gs_http_req *rq, hweb_role r)
{
    switch (r) {
    case HWEB_COUNTY:
        return hweb_t(rq, "县区", "county");
    case HWEB_TOWNSHIP:
        return hweb_t(rq, "乡镇（街道）", "township");
    default:
        return hweb_t(rq, "市级", "city");
    }
}

void hweb_begin(gs_http_req *rq, gs_http_resp *rs, hweb_tab tab, const char *title)
{
    hweb *w = gs_http_app(rq);
    bool en = gs_http_en(rq);
    hweb_scope sc;
    if (hweb_scope_of(rq, w, &sc))
        memset(&sc, 0, sizeof sc);
    gs_buf *b = gs_web_begin(rq, rs, title, hweb_t(rq, "市级驾驶舱", "city dashboard"),
                             "<link rel=\"stylesheet\" href=\"/static/city.css\">\n",
                             sc.division_name[0] ? sc.division_name : "市民政局",
                             hweb_t(rq, "网格治理市级驾驶舱", "grid governance: city dashboard"));
    gs_html_printf(b,
                   "<div class=\"node user\"><span class=\"who\">%s</span> · <span class=\"role\">"
                   "%s</span></div>",
                   sc.display, role_text(rq, sc.role));
    gs_web_lang_switch(rq, b);
    gs_web_logout(rq, b);
    gs_buf_puts(b, "</header>\n<nav class=\"tabs\">");
    for (int t = 0; t < HWEB__COUNT; t++)
        if (!tabs[t].city_only || sc.role == HWEB_CITY)
            gs_web_tab(b, tabs[t].path, en ? tabs[t].en : tabs[t].zh, t == (int)tab);
    gs_web_main(b, title);
}

void hweb_end(gs_http_req *rq, gs_http_resp *rs)
{
    gs_web_end(rq, rs, "数据来自各村同步到市级中心的记录",
               "figures from the records the villages synced to the city");
}

/* ---- login -------------------------------------------------------------------- */

/* The login page; with first set, the form that sets a new user's password
 * (login kept, the new password twice). */
static void login_form(gs_http_req *rq, gs_http_resp *rs, const char *error, const char *first)
{
    gs_buf *b = gs_web_login_begin(rq, rs, hweb_t(rq, "登录 · 市级驾驶舱", "Log in · city dashboard"),
                                   hweb_t(rq, "网格治理市级驾驶舱 登录", "City dashboard: log in"),
                                   "/static/city.css", error);
    if (first) {
        gs_html_printf(b,
                       "<p class=\"first-login\">%s</p>"
                       "<input type=\"hidden\" name=\"user\" value=\"%s\">"
                       "<input type=\"hidden\" name=\"first\" value=\"1\">"
                       "<label for=\"new\">%s</label>"
                       "<input type=\"password\" id=\"new\" name=\"new\" required autofocus "
                       "minlength=\"8\" autocomplete=\"new-password\">"
                       "<label for=\"again\">%s</label>"
                       "<input type=\"password\" id=\"again\" name=\"again\" required "
                       "minlength=\"8\" autocomplete=\"new-password\">",
                       hweb_t(rq, "首次登录：请设置您的密码（至少 8 个字符）。",
                              "First login: set your password (at least 8 characters)."),
                       first, hweb_t(rq, "新密码", "New password"),
                       hweb_t(rq, "再输一次", "Again"));
    } else {
        gs_html_printf(b,
                       "<label for=\"user\">%s</label>"
                       "<input type=\"text\" id=\"user\" name=\"user\" required autofocus "
                       "autocomplete=\"username\">"
                       "<label for=\"password\">%s</label>"
                       "<input type=\"password\" id=\"password\" name=\"password\" "
                       "autocomplete=\"current-password\">",
                       hweb_t(rq, "用户名", "User name"), hweb_t(rq, "密码", "Password"));
    }
    gs_html_printf(b,
                   "<button type=\"submit\">%s</button></form>"
                   "<p class=\"lang\"><a href=\"?lang=zh\">中文</a> | <a href=\"?lang=en\">English"
                   "</a></p></main></body></html>\n",
                   first ? hweb_t(rq, "设置密码并登录", "Set password and log in")
                         : hweb_t(rq, "登录", "Log in"));
}

static int page_login(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    if (gs_http_user(rq) && hweb_scope_of(rq, w, &sc) == GS_OK)
        return gs_http_redirect(rs, "/");
    login_form(rq, rs, NULL, NULL);
    return 0;
}

/* The first login of a user who has no password yet: sets it (twice the
 * same, 8 characters or more), then logs in with it. */
static int first_login(gs_http_req *rq, gs_http_resp *rs, hweb *w, const hub_user *u)
{
    const char *pw = gs_http_form(rq, "new"), *again = gs_http_form(rq, "again");
    const char *err = NULL;
    if (!pw || !again)
        return login_form(rq, rs, NULL, u->login), 0;
    if (!gs_password_long_enough(pw))
        err = hweb_t(rq, "密码至少 8 个字符。", "The password needs at least 8 characters.");
    else if (strcmp(pw, again))
        err = hweb_t(rq, "两次输入的密码不一样。", "The two passwords differ.");
    if (err) {
        login_form(rq, rs, err, u->login);
        gs_http_set_status(rs, 400);
        return 0;
    }
    char hash[256];
    gs_errbuf eb = {{0}};
    if (gs_password_hash(pw, hash, sizeof hash, &eb) ||
        hub_user_set_password(w->store, u->login, hash, &eb))
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    int rc = gs_http_login(rq, u->login, pw, &eb);
    if (rc) {
        login_form(rq, rs, eb.msg, NULL);
        gs_http_set_status(rs, rc == GS_ETIMEOUT ? 429 : 401);
        return 0;
    }
    hweb_audit(w, rq, "password set", "首次登录设置密码 first login");
    return gs_http_redirect(rs, "/");
}

static int post_login(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    const char *user = gs_http_form(rq, "user"), *pw = gs_http_form(rq, "password");
    hub_user u;
    gs_errbuf eb = {{0}};
    if (user && *user && hub_user_get(w->store, user, &u, &eb) == GS_OK && !u.disabled &&
        !u.pw_hash[0])
        return first_login(rq, rs, w, &u);
    int rc = gs_http_login(rq, user ? user : "", pw ? pw : "", &eb);
    if (rc == GS_OK) {
        hweb_audit(w, rq, "login", "");
        return gs_http_redirect(rs, "/");
    }
    login_form(rq, rs, eb.msg, NULL);
    gs_http_set_status(rs, rc == GS_ETIMEOUT ? 429 : 401);
    return 0;
}

static int post_logout(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    (void)app;
    gs_http_logout(rq);
    return gs_http_redirect(rs, "/login");
}

/* The login callback: an enabled user's password against its hash. */
static int check_login(void *app, const char *user, const char *password, char *who, size_t who_cap)
{
    hweb *w = app;
    hub_user u;
    gs_errbuf eb = {{0}};
    if (hub_user_get(w->store, user, &u, &eb) || u.disabled || !u.pw_hash[0] ||
        !gs_password_check(u.pw_hash, password))
        return GS_EAUTH;
    snprintf(who, who_cap, "%s", u.name);
    return GS_OK;
}

/* Checked on every request: the session's user still exists and is enabled. */
static bool user_ok(void *app, const char *user)
{
    hweb *w = app;
    hub_user u;
    gs_errbuf eb = {{0}};
    return hub_user_get(w->store, user, &u, &eb) == GS_OK && !u.disabled;
}

const gs_http_route hweb_login_routes[] = {
    {"GET", "/login", page_login, GS_ROUTE_PUBLIC},
    {"POST", "/login", post_login, GS_ROUTE_PUBLIC},
    {"POST", "/logout", post_logout, 0},
    {NULL, NULL, NULL, 0},
};

/* ---- the command ---------------------------------------------------------------- */

static const char web_help[] =
    "usage: gridhub web [--bind ADDR:PORT] [--tls-cert FILE --tls-key FILE]\n"
    "                   [--endpoint tcp://HOST:PORT] [--figures-max-age SECONDS] [--db PATH]\n"
    "\n"
    "市级驾驶舱: serves the city's pages (全市概览, 事件工单, 同步状况, 节点, 报表, 用户)\n"
    "from the hub's database, beside a running `gridhub serve`, on\n"
    "http://127.0.0.1:8443/ by default (port 0: a free port). Every page needs a login:\n"
    "add people with `gridhub user add`. With --tls-cert and --tls-key (PEM files) it\n"
    "serves HTTPS; else put it behind a reverse proxy that does (docs/web.md).\n"
    "--endpoint: the sync address written into the bundles the 节点 page makes (the\n"
    "address `gridhub serve --bind` listens on, as the village PCs reach it).\n"
    "--figures-max-age: the dashboard's figures are read again when the database has\n"
    "changed and they are older than this (default 60; 0: on every page). The page\n"
    "says when they were read; its 刷新 link reads them now.\n"
    "SIGINT or SIGTERM stops it.\n";

/* The routes of every page group built in, in one table. */
static gs_http_route *all_routes(size_t *n)
{
    const gs_http_route *groups[] = {hweb_login_routes,  hweb_dashboard_routes, hweb_queue_routes,
                                     hweb_health_routes, hweb_registry_routes,  hweb_report_routes,
                                     hweb_user_routes};
    return gs_http_routes_join(groups, sizeof groups / sizeof groups[0], n);
}

/* Splits ADDR:PORT ("127.0.0.1:8443", "[::1]:8443", "0.0.0.0:0") into
 * addr (brackets removed) and port; false when it is not that. */
static bool split_bind(const char *s, char *addr, size_t cap, uint16_t *port)
{
    const char *colon = strrchr(s, ':');
    if (!colon || colon == s)
        return false;
    const char *a = s, *ae = colon;
    if (*s == '[') {
        if (ae[-1] != ']')
            return false;
        a++, ae--;
    }
    if ((size_t)(ae - a) >= cap || ae == a)
        return false;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (!colon[1] || *end || p < 0 || p > 65535)
        return false;
    memcpy(addr, a, (size_t)(ae - a));
    addr[ae - a] = '\0';
    *port = (uint16_t)p;
    return true;
}

/* Reads a PEM file whole (at most 1 MiB) that holds a "-----BEGIN ...kind"
 * block ("CERTIFICATE", "PRIVATE KEY"); NULL with a message naming the file
 * printed. What is inside the block GnuTLS judges when the server starts. */
static char *read_pem(const char *opt, const char *path, const char *kind)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        hub_fail("web: %s %s: cannot be read", opt, path);
        return NULL;
    }
    char *buf = malloc(1u << 20);
    size_t n = buf ? fread(buf, 1, (1u << 20) - 1, f) : 0;
    bool more = buf && fgetc(f) != EOF, bad = ferror(f) != 0; /* a directory */
    fclose(f);
    if (!buf || more || bad || !n) {
        hub_fail("web: %s %s: %s", opt, path,
                 !buf   ? "out of memory"
                 : more ? "over 1 MiB"
                 : bad  ? "cannot be read"
                        : "empty");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    const char *begin = strstr(buf, "-----BEGIN ");
    if (!begin || !strstr(begin, kind)) {
        hub_fail("web: %s %s: not a PEM file with a %s", opt, path, kind);
        free(buf);
        return NULL;
    }
    return buf;
}

int hub_cmd_web(hub_cli *cli)
{
    if (gs_cli_wants_help(cli->argc, cli->argv)) {
        fputs(web_help, stdout);
        return 0;
    }
    enum { O_BIND, O_CERT, O_KEY, O_ENDPOINT, O_MAX_AGE };
    static const gs_cli_opt opts[] = {{"--bind", true, O_BIND},
                                      {"--tls-cert", true, O_CERT},
                                      {"--tls-key", true, O_KEY},
                                      {"--endpoint", true, O_ENDPOINT},
                                      {"--figures-max-age", true, O_MAX_AGE},
                                      {NULL, false, 0}};
    gs_cli_args a;
    int rc = gs_cli_parse(cli, "web", cli->argc, cli->argv, opts, NULL, NULL, &a);
    if (rc)
        return rc;
    if (a.npos)
        return hub_usage("web: unexpected argument %s", a.pos[0]);
    const char *bind_s = gs_cli_arg(&a, O_BIND), *cert_f = gs_cli_arg(&a, O_CERT),
               *key_f = gs_cli_arg(&a, O_KEY), *endpoint = gs_cli_arg(&a, O_ENDPOINT);
    char addr[128];
    uint16_t port = 8443;
    snprintf(addr, sizeof addr, "127.0.0.1");
    if (bind_s && !split_bind(bind_s, addr, sizeof addr, &port))
        return hub_usage("web: --bind \"%s\": expected ADDR:PORT, as 127.0.0.1:8443", bind_s);
    if (!cert_f != !key_f)
        return hub_usage("web: --tls-cert and --tls-key go together");
    const char *max_age_s = gs_cli_arg(&a, O_MAX_AGE);
    long max_age = 60;
    if (max_age_s) {
        char *end;
        max_age = strtol(max_age_s, &end, 10);
        if (!*max_age_s || *end || max_age < 0 || max_age > 86400)
            return hub_usage("web: --figures-max-age \"%s\": expected seconds, 0 to 86400",
                             max_age_s);
    }
    if (endpoint && !gs_endpoint_valid(endpoint))
        return hub_fail("web: --endpoint \"%s\": expected tcp://HOST:PORT or ipc://PATH", endpoint);
    char *cert = NULL, *key = NULL;
    if (cert_f && (!(cert = read_pem("--tls-cert", cert_f, "CERTIFICATE")) ||
                   !(key = read_pem("--tls-key", key_f, "PRIVATE KEY")))) {
        free(cert);
        return 1;
    }
    hub_store *s = hub_open(cli);
    if (!s) {
        free(cert);
        free(key);
        return 1;
    }
    sqlite3_busy_timeout(hub_store_db(s), WEB_BUSY_MS);
    hweb w = {0};
    w.store = s;
    w.db_path = cli->db;
    w.endpoint = endpoint;
    size_t nroutes = 0;
    gs_http_route *routes = all_routes(&nroutes);
    char hostname[256] = "";
    gethostname(hostname, sizeof hostname - 1);
    const char *hosts[] = {hostname, NULL};
    gs_http_config cfg = {
        .name = "gridhub web",
        .bind = addr,
        .port = port,
        .tls_cert_pem = cert,
        .tls_key_pem = key,
        .routes = routes,
        .nroutes = nroutes,
        .assets = hweb_assets,
        .nassets = hweb_assets_count,
        .app = &w,
        .login = check_login,
        .user_ok = user_ok,
        .login_path = "/login",
        .hosts = hosts,
    };
    gs_http_signals_block(); /* before the threads start: they inherit the mask */
    gs_errbuf eb = {{0}};
    if (routes && (hweb_figs_start(&w, max_age, &eb) || hweb_qcopy_start(&w, &eb))) {
        hweb_figs_stop(&w);
        free(routes);
        free(cert);
        free(key);
        hub_store_close(&s);
        return hub_fail("web: %s", eb.msg);
    }
    if (routes) {
        /* the city's dashboard for this year, made before anyone asks */
        char since[11], until[11];
        hweb_period(NULL, since, until, &eb);
        hub_report_req warm = {.kind = "summary", .since = since, .until = until};
        hweb_figs_warm(&w, &warm);
        warm.kind = "incidents";
        warm.no_stages = true;
        hweb_figs_warm(&w, &warm);
    }
    rc = routes ? gs_http_start(&w.srv, &cfg, &eb) : gs_errf(&eb, GS_ENOMEM, "out of memory");
    if (rc) {
        hweb_qcopy_stop(&w);
        hweb_figs_stop(&w);
        free(routes);
        free(cert);
        free(key);
        hub_store_close(&s);
        if (rc == GS_EMALFORMED) /* GnuTLS refused them: say which files */
            return hub_fail("web: --tls-cert %s, --tls-key %s: %s", cert_f, key_f, eb.msg);
        return hub_fail("web: %s", eb.msg);
    }
    char url[300];
    gs_http_url(url, sizeof url, cert != NULL, addr, false, gs_http_port(w.srv));
    printf("gridhub web: serving %s\n", url);
    printf("市级驾驶舱已启动，请用浏览器打开上面的地址；按 Ctrl-C 停止。\n");
    fflush(stdout);
    gs_http_signals_wait();
    gs_http_stop(&w.srv);
    hweb_qcopy_stop(&w);
    hweb_figs_stop(&w);
    free(routes);
    if (cert)
        sodium_memzero(key, strlen(key));
    free(cert);
    free(key);
    hub_store_close(&s);
    printf("gridhub web: stopped\n");
    return 0;
}
