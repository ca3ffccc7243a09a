/*
 * users.c: 用户 (city only): the people of `gridhub web`, adding one (the
 * same checks as `gridhub user add`: hub_user_check), disabling and
 * enabling (a disabled user's sessions end at once), and the audit log,
 * newest first, a page at a time. Every change is written to the log.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../cli.h"
#include "web.h"

#define AUDIT_PAGE 50

static const char *role_zh(const char *role)
{
    return !strcmp(role, "county") ? "县区" : !strcmp(role, "township") ? "乡镇（街道）" : "市级";
}

typedef struct list_ctx {
    gs_http_req *rq;
    gs_buf *b;
    hweb *w;
    const char *me;
} list_ctx;

static int user_row(const hub_user *u, void *arg)
{
    list_ctx *x = arg;
    hub_division d = {{0}};
    gs_errbuf eb = {{0}};
    if (u->division[0])
        hub_division_get(x->w->store, u->division, &d, &eb);
    gs_html_printf(x->b,
                   "<tr%s data-login=\"%s\"><td><code>%s</code></td><td>%s</td><td>%s</td>"
                   "<td>%s <code>%s</code></td><td>%s</td><td>%s</td><td>",
                   u->disabled ? " class=\"disabled\"" : "", u->login, u->login, u->name,
                   gs_http_en(x->rq) ? u->role : role_zh(u->role), d.name, u->division,
                   u->pw_hash[0] ? hweb_t(x->rq, "已设置", "set")
                                 : hweb_t(x->rq, "首次登录时设置", "at first login"),
                   u->disabled ? hweb_t(x->rq, "已停用", "disabled")
                               : hweb_t(x->rq, "启用", "enabled"));
    if (strcmp(u->login, x->me)) {
        gs_html_printf(x->b, "<form class=\"inline\" method=\"post\" action=\"/users/%s\">",
                       u->disabled ? "enable" : "disable");
        hweb_csrf_field(x->rq, x->b);
        gs_html_printf(x->b,
                       "<input type=\"hidden\" name=\"login\" value=\"%s\">"
                       "<button type=\"submit\" class=\"secondary\">%s</button></form>",
                       u->login,
                       u->disabled ? hweb_t(x->rq, "启用", "Enable")
                                   : hweb_t(x->rq, "停用", "Disable"));
    }
    gs_buf_puts(x->b, "</td></tr>\n");
    return 0;
}

static int division_option(const hub_division *d, void *arg)
{
    gs_html_printf(arg, "<option value=\"%s\">%s %s</option>", d->code, d->code, d->name);
    return 0;
}

static void users_page(gs_http_req *rq, gs_http_resp *rs, hweb *w, const char *error,
                       const char *ok)
{
    hweb_begin(rq, rs, HWEB_USERS, hweb_t(rq, "用户", "Users"));
    gs_buf *b = gs_http_out(rs);
    if (error)
        gs_html_printf(b, "<p class=\"error\" role=\"alert\">%s</p>", error);
    if (ok)
        gs_html_printf(b, "<p class=\"ok\" role=\"status\">%s</p>", ok);
    gs_html_printf(b,
                   "<p><a href=\"/audit\">%s</a></p><table class=\"users\"><thead><tr><th>%s</th>"
                   "<th>%s</th><th>%s</th><th>%s</th><th>%s</th><th>%s</th><th></th></tr></thead>"
                   "<tbody>\n",
                   hweb_t(rq, "查看操作日志", "The audit log"), hweb_t(rq, "登录名", "login"),
                   hweb_t(rq, "姓名", "name"), hweb_t(rq, "角色", "role"),
                   hweb_t(rq, "区划", "division"), hweb_t(rq, "密码", "password"),
                   hweb_t(rq, "状态", "state"));
    list_ctx x = {rq, b, w, gs_http_user(rq) ? gs_http_user(rq) : ""};
    gs_errbuf eb = {{0}};
    hub_user_each(w->store, user_row, &x, &eb);
    gs_buf_puts(b, "</tbody></table>\n");
    gs_html_printf(b,
                   "<section class=\"card\"><h2>%s</h2><form class=\"stack\" method=\"post\" "
                   "action=\"/users\">",
                   hweb_t(rq, "添加用户", "Add a user"));
    hweb_csrf_field(rq, b);
    gs_html_printf(b,
                   "<label for=\"name\">%s</label><input id=\"name\" name=\"name\" required "
                   "maxlength=\"60\">"
                   "<label for=\"login\">%s</label><input id=\"login\" name=\"login\" required "
                   "pattern=\"[A-Za-z0-9._-]{1,63}\">"
                   "<label for=\"role\">%s</label><select id=\"role\" name=\"role\">"
                   "<option value=\"township\">%s</option><option value=\"county\">%s</option>"
                   "<option value=\"city\">%s</option></select>"
                   "<label for=\"division\">%s</label><select id=\"division\" name=\"division\">"
                   "<option value=\"\">%s</option>",
                   hweb_t(rq, "姓名", "Name"), hweb_t(rq, "登录名（字母、数字）", "Login"),
                   hweb_t(rq, "角色", "Role"), hweb_t(rq, "乡镇（街道）", "township"),
                   hweb_t(rq, "县区", "county"), hweb_t(rq, "市级", "city"),
                   hweb_t(rq, "区划", "Division"),
                   hweb_t(rq, "（市级用户不选）", "(none for the city)"));
    hub_division_children(w->store, NULL, "county", division_option, b, &eb);
    hub_division_children(w->store, NULL, "township", division_option, b, &eb);
    gs_html_printf(b,
                   "</select><p><button type=\"submit\">%s</button></p><p class=\"note\">%s</p>"
                   "</form></section>\n",
                   hweb_t(rq, "添加", "Add"),
                   hweb_t(rq, "新用户首次登录时自己设置密码。",
                          "A new user sets a password at the first login."));
    hweb_end(rq, rs);
}

static int page_users(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, true))
        return 0;
    users_page(rq, rs, app, NULL, NULL);
    return 0;
}

static int post_user(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, true))
        return 0;
    const char *f[4] = {gs_http_form(rq, "name"), gs_http_form(rq, "login"),
                        gs_http_form(rq, "role"), gs_http_form(rq, "division")};
    hub_user u = {0};
    gs_errbuf eb = {{0}};
    int rc = GS_OK;
    if (!f[0] || !f[1] || !f[2])
        rc =
            gs_errf(&eb, GS_EINVAL, "%s",
                    hweb_t(rq, "请填写姓名、登录名和角色。", "Name, login and role are required."));
    else if (strlen(f[0]) > 60 || strlen(f[1]) >= sizeof u.login || strlen(f[2]) >= sizeof u.role ||
             (f[3] && strlen(f[3]) >= sizeof u.division))
        rc = gs_errf(&eb, GS_EINVAL, "%s", hweb_t(rq, "填写的内容太长。", "A field is too long."));
    if (!rc) {
        snprintf(u.name, sizeof u.name, "%s", f[0]);
        snprintf(u.login, sizeof u.login, "%s", f[1]);
        snprintf(u.role, sizeof u.role, "%s", f[2]);
        snprintf(u.division, sizeof u.division, "%s", !strcmp(f[2], "city") || !f[3] ? "" : f[3]);
        rc = hub_user_check(w->store, &u, &eb);
    }
    if (!rc)
        rc = hub_user_add(w->store, &u, &eb);
    if (rc) {
        users_page(rq, rs, w, eb.msg, NULL);
        gs_http_set_status(rs, rc == GS_EEXIST ? 409 : 400);
        return 0;
    }
    char detail[200];
    snprintf(detail, sizeof detail, "%s %s %s %s", u.login, u.name, u.role, u.division);
    hweb_audit(w, rq, "user add", detail);
    return gs_http_redirect(rs, "/users");
}

static int set_disabled(gs_http_req *rq, gs_http_resp *rs, hweb *w, bool disabled)
{
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, true))
        return 0;
    const char *login = gs_http_form(rq, "login");
    gs_errbuf eb = {{0}};
    if (!login || !*login)
        return gs_http_error(rq, rs, 400, "login", "%s",
                             hweb_t(rq, "缺少登录名。", "login is required."));
    if (!strcmp(login, sc.user))
        return gs_http_error(rq, rs, 409, "login", "%s",
                             hweb_t(rq, "不能停用自己。", "You cannot disable yourself."));
    int rc = hub_user_set_disabled(w->store, login, disabled, &eb);
    if (rc == GS_ENOTFOUND)
        return gs_http_error(rq, rs, 404, "login", "%s",
                             hweb_t(rq, "没有这个用户。", "No such user."));
    if (rc)
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    if (disabled)
        gs_http_end_sessions(w->srv, login);
    hweb_audit(w, rq, disabled ? "user disable" : "user enable", login);
    return gs_http_redirect(rs, "/users");
}

static int post_disable(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return set_disabled(rq, rs, app, true);
}

static int post_enable(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return set_disabled(rq, rs, app, false);
}

static int audit_row(const hub_audit *a, void *arg)
{
    gs_buf *b = arg;
    time_t t = (time_t)(a->at_ms / 1000) + 8 * 3600;
    struct tm tm;
    char when[32];
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
    gs_html_printf(b,
                   "<tr><td>%s</td><td><code>%s</code></td><td>%s</td><td>%s</td><td>%s</td>"
                   "</tr>\n",
                   when, a->user, a->address, a->action, a->detail);
    return 0;
}

static int page_audit(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, true))
        return 0;
    const char *p = gs_http_query(rq, "page");
    long page = 1;
    if (p) {
        char *end;
        page = strtol(p, &end, 10);
        if (!*p || *end || page < 1 || page > 1000000)
            return gs_http_error(rq, rs, 400, "page", "%s",
                                 hweb_t(rq, "页码不对。", "page: a number from 1."));
    }
    hweb_begin(rq, rs, HWEB_USERS, hweb_t(rq, "操作日志", "Audit log"));
    gs_buf *b = gs_http_out(rs);
    gs_buf rows = GS_BUF_INIT;
    int64_t total = 0;
    gs_errbuf eb = {{0}};
    hub_audit_each(w->store, (page - 1) * AUDIT_PAGE, AUDIT_PAGE, &total, audit_row, &rows, &eb);
    gs_html_printf(b,
                   "<p>%s %lld</p><table class=\"audit\"><thead><tr><th>%s</th><th>%s</th>"
                   "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
                   hweb_t(rq, "共", "lines:"), (long long)total, hweb_t(rq, "时间", "time"),
                   hweb_t(rq, "用户", "user"), hweb_t(rq, "地址", "address"),
                   hweb_t(rq, "操作", "action"), hweb_t(rq, "内容", "detail"));
    if (rows.len)
        gs_buf_append(b, rows.data, rows.len);
    gs_buf_free(&rows);
    gs_buf_puts(b, "</tbody></table><p class=\"pager\">");
    if (page > 1)
        gs_html_printf(b, "<a href=\"/audit?page=%ld\">%s</a>", page - 1,
                       hweb_t(rq, "较新", "newer"));
    if (page * AUDIT_PAGE < total)
        gs_html_printf(b, "<a href=\"/audit?page=%ld\">%s</a>", page + 1,
                       hweb_t(rq, "较早", "older"));
    gs_buf_puts(b, "</p>\n");
    hweb_end(rq, rs);
    return 0;
}

const gs_http_route hweb_user_routes[] = {
    {"GET", "/users", page_users, 0},
    {"POST", "/users", post_user, 0},
    {"POST", "/users/disable", post_disable, 0},
    {"POST", "/users/enable", post_enable, 0},
    {"GET", "/audit", page_audit, 0},
    {NULL, NULL, NULL, 0},
};
