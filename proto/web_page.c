/*
 * web_page.c: the pieces of page both web doors draw (see
 * gridsync/web_page.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "gridsync/find.h"
#include "gridsync/hlc.h"
#include "gridsync/schema.h"
#include "gridsync/web_page.h"

const char *gs_web_t(const gs_http_req *rq, const char *zh, const char *en)
{
    return gs_http_en(rq) ? en : zh;
}

void gs_web_csrf_field(const gs_http_req *rq, gs_buf *b)
{
    gs_html_printf(b, "<input type=\"hidden\" name=\"_csrf\" value=\"%s\">", gs_http_csrf(rq));
}

gs_buf *gs_web_begin(const gs_http_req *rq, gs_http_resp *rs, const char *title,
                     const char *site, const char *head_extra, const char *brand,
                     const char *desk)
{
    gs_buf *b = gs_http_out(rs);
    gs_http_set_type(rs, "text/html; charset=utf-8");
    gs_html_printf(b,
                   "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta name=\"csrf-token\" content=\"%s\">\n"
                   "<title>%s · %s</title>\n"
                   "<link rel=\"stylesheet\" href=\"/static/app.css\">\n",
                   gs_http_en(rq) ? "en" : "zh-CN", gs_http_csrf(rq), title, site);
    gs_buf_puts(b, head_extra ? head_extra : "");
    gs_html_printf(b,
                   "</head>\n<body>\n"
                   "<header class=\"topbar\"><div class=\"brand\"><span class=\"village\">%s</span>"
                   " <span class=\"desk\">%s</span></div>",
                   brand, desk);
    return b;
}

void gs_web_lang_switch(const gs_http_req *rq, gs_buf *b)
{
    bool en = gs_http_en(rq);
    gs_buf_printf(b,
                  "<div class=\"lang\"><a href=\"?lang=zh\"%s>中文</a> | "
                  "<a href=\"?lang=en\"%s>English</a></div>",
                  en ? "" : " class=\"on\"", en ? " class=\"on\"" : "");
}

void gs_web_logout(const gs_http_req *rq, gs_buf *b)
{
    gs_buf_puts(b, "<form class=\"logout\" method=\"post\" action=\"/logout\">");
    gs_web_csrf_field(rq, b);
    gs_html_printf(b, "<button type=\"submit\">%s</button></form>",
                   gs_web_t(rq, "退出登录", "Log out"));
}

void gs_web_tab(gs_buf *b, const char *path, const char *label, bool active)
{
    gs_buf_printf(b, "<a href=\"%s\"%s>%s</a>", path, /* constant text */
                  active ? " class=\"active\" aria-current=\"page\"" : "", label);
}

void gs_web_main(gs_buf *b, const char *title)
{
    gs_html_printf(b, "</nav>\n<main>\n<h1>%s</h1>\n", title);
}

void gs_web_end(const gs_http_req *rq, gs_http_resp *rs, const char *footer_zh,
                const char *footer_en)
{
    gs_html_printf(gs_http_out(rs),
                   "</main>\n<footer>gridsync %s · %s</footer>\n</body>\n</html>\n", GS_VERSION,
                   gs_web_t(rq, footer_zh, footer_en));
}

int64_t gs_web_count(const gs_http_req *rq, gs_buf *b, int64_t total, int64_t page,
                     int64_t per_page)
{
    int64_t pages = total ? (total + per_page - 1) / per_page : 1;
    gs_buf_puts(b, "<p class=\"count\">");
    gs_buf_printf(b, gs_web_t(rq, "共 %lld 条, 第 %lld/%lld 页", "%lld in all, page %lld/%lld"),
                  (long long)total, (long long)page, (long long)pages);
    gs_buf_puts(b, "</p>\n");
    return pages;
}

/* The list's URL for page k with the same filters. */
static void page_link(const gs_http_req *rq, gs_buf *b, const char *path,
                      const char *const *args, int64_t k)
{
    gs_buf_printf(b, "%s?", path);
    for (size_t i = 0; args[i]; i++) {
        const char *v = gs_http_query(rq, args[i]);
        if (!v || !*v)
            continue;
        gs_buf_printf(b, "%s=", args[i]);
        gs_url_escape(b, v);
        gs_buf_putc(b, '&');
    }
    gs_buf_printf(b, "page=%lld", (long long)k);
}

void gs_web_pager(const gs_http_req *rq, gs_buf *b, const char *path, const char *const *args,
                  int64_t page, int64_t pages)
{
    if (pages <= 1)
        return;
    gs_buf link = GS_BUF_INIT;
    gs_buf_puts(b, "<nav class=\"pager\">");
    if (page > 1) {
        page_link(rq, &link, path, args, page - 1);
        gs_html_printf(b, "<a rel=\"prev\" href=\"%s\">%s</a> ", link.data,
                       gs_web_t(rq, "上一页", "Previous"));
    }
    if (page < pages) {
        gs_buf_reset(&link);
        page_link(rq, &link, path, args, page + 1);
        gs_html_printf(b, "<a rel=\"next\" href=\"%s\">%s</a>", link.data,
                       gs_web_t(rq, "下一页", "Next"));
    }
    gs_buf_puts(b, "</nav>\n");
    gs_buf_free(&link);
}

void gs_web_list_body(const gs_http_req *rq, gs_buf *b, const gs_web_list *l, const gs_buf *rows,
                      int nrows, int64_t total, int64_t page)
{
    int64_t pages = gs_web_count(rq, b, total, page, l->per_page);
    if (!nrows) {
        gs_html_printf(b, "<p class=\"empty\">%s</p>\n", gs_web_t(rq, l->empty_zh, l->empty_en));
    } else {
        gs_buf_puts(b, "<table class=\"list\"><thead><tr>");
        for (const gs_web_col *c = l->cols; c->zh; c++)
            gs_html_printf(b, "<th>%s</th>", gs_web_t(rq, c->zh, c->en));
        gs_buf_puts(b, "</tr></thead>\n<tbody>\n");
        gs_buf_append(b, rows->data, rows->len);
        gs_buf_puts(b, "</tbody></table>\n");
    }
    gs_web_pager(rq, b, l->path, l->args, page, pages);
}

gs_buf *gs_web_login_begin(const gs_http_req *rq, gs_http_resp *rs, const char *title,
                           const char *h1, const char *extra_css, const char *error)
{
    gs_buf *b = gs_http_out(rs);
    gs_buf_reset(b);
    gs_http_set_type(rs, "text/html; charset=utf-8");
    gs_html_printf(b,
                   "<!DOCTYPE html>\n<html lang=\"%s\">\n<head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<title>%s</title><link rel=\"stylesheet\" href=\"/static/app.css\">",
                   gs_http_en(rq) ? "en" : "zh-CN", title);
    if (extra_css)
        gs_html_printf(b, "<link rel=\"stylesheet\" href=\"%s\">", extra_css);
    gs_html_printf(b, "</head>\n<body class=\"login\"><main><h1>%s</h1>", h1);
    if (error)
        gs_html_printf(b, "<p class=\"error\" role=\"alert\">%s</p>", error);
    gs_buf_puts(b, "<form method=\"post\" action=\"/login\">");
    gs_web_csrf_field(rq, b);
    return b;
}

int gs_web_status_of(int rc)
{
    switch (rc) {
    case GS_OK: return 200;
    case GS_ENOTFOUND: return 404;
    case GS_EAUTH:
    case GS_ESCOPE: return 403;
    case GS_EEXIST:
    case GS_ETRANSITION:
    case GS_ERULE: return 409;
    case GS_ENOMEM:
    case GS_ESQL:
    case GS_EIO: return 500;
    default: return 400;
    }
}

int64_t gs_web_time_left(const gs_http_req *rq, const gs_record *r, gs_buf *b)
{
    int64_t days;
    if (!gs_find_days_left(r, NULL, &days))
        return 0;
    if (days < 0)
        gs_buf_printf(b, gs_web_t(rq, "超期 %lld 天", "overdue by %lld days"), (long long)-days);
    else if (days == 0)
        gs_buf_puts(b, gs_web_t(rq, "今天到期", "due today"));
    else
        gs_buf_printf(b, gs_web_t(rq, "剩余 %lld 天", "%lld days left"), (long long)days);
    return days;
}

void gs_web_deadline(const gs_http_req *rq, const gs_record *r, gs_buf *b)
{
    gs_buf left = GS_BUF_INIT;
    int64_t days = gs_web_time_left(rq, r, &left);
    if (left.len)
        gs_html_printf(b, "<p class=\"deadline%s\">%s %s · %s</p>\n", days < 0 ? " overdue" : "",
                       gs_web_t(rq, "处置期限", "Deadline"), gs_record_str(r, GS_INCIDENT_DEADLINE),
                       left.data);
    gs_buf_free(&left);
}

const char *gs_web_status_label(const gs_http_req *rq, const char *status)
{
    const gs_field *fd = &gs_rectype_get(GS_RT_INCIDENT)->fields[GS_INCIDENT_STATUS];
    if (!status)
        return "";
    return gs_http_en(rq) ? status : gs_enum_zh(fd, status);
}

void gs_web_workflow_begin(const gs_http_req *rq, const gs_record *r, const char *title_en,
                           gs_buf *b)
{
    gs_html_printf(b, "<section class=\"workflow\"><h2>%s</h2>\n<p>%s <strong>%s</strong></p>\n",
                   gs_web_t(rq, "办理", title_en), gs_web_t(rq, "当前状态:", "Status:"),
                   gs_web_status_label(rq, gs_record_str(r, GS_INCIDENT_STATUS)));
}

void gs_web_step_begin(const gs_http_req *rq, const gs_record *r, const char *to, gs_buf *b)
{
    gs_html_printf(b, "<form method=\"post\" action=\"/incident/%s/status\" class=\"step\">",
                   gs_record_key(r));
    gs_web_csrf_field(rq, b);
    gs_html_printf(b, "<input type=\"hidden\" name=\"status\" value=\"%s\">", to);
}

void gs_web_workflow_end(const gs_http_req *rq, int steps, gs_buf *b)
{
    if (!steps)
        gs_html_printf(b, "<p>%s</p>\n", gs_web_t(rq, "已是终态，无需再办。", "A final state."));
    gs_buf_puts(b, "</section>\n");
}

void gs_web_history_begin(const gs_http_req *rq, gs_buf *b)
{
    gs_html_printf(b,
                   "<section class=\"history\"><h2>%s</h2>\n<table class=\"list\"><thead><tr>"
                   "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>\n",
                   gs_web_t(rq, "历史", "History"), gs_web_t(rq, "时间", "When"),
                   gs_web_t(rq, "来源", "By"), gs_web_t(rq, "内容", "What"));
}

void gs_web_display(const gs_http_req *rq, const gs_record *r, int f, gs_buf *b)
{
    if (!gs_record_has(r, f))
        return;
    const gs_field *fd = &r->rt->fields[f];
    const char *s = gs_record_str(r, f);
    if (fd->type == GS_FT_ENUM && gs_http_en(rq))
        gs_buf_puts(b, s);
    else if (fd->type == GS_FT_DATETIME && s && strlen(s) == 25 && s[10] == 'T' &&
             !strcmp(s + 19, "+08:00"))
        gs_buf_printf(b, "%.10s %.5s", s, s + 11);
    else
        gs_find_display(r, f, b);
}

static void display_on(void *rq, const gs_record *r, int f, gs_buf *b)
{
    gs_web_display(rq, r, f, b);
}

/* One row: when (to the second), who (the city marked 市级), what. */
void gs_web_history_row(const gs_change *c, void *history)
{
    gs_web_history *h = history;
    gs_buf when = GS_BUF_INIT, what = GS_BUF_INIT;
    gs_hlc_format(c->hlc, &when);
    if (when.len > 19)
        when.len = 19, when.data[19] = '\0';
    if (when.data)
        when.data[10] = ' ';
    gs_find_change_text_by(c, h->display ? h->display : display_on,
                           h->display ? h->arg : (void *)h->rq, gs_http_en(h->rq), &what);
    bool city = !strncmp(c->origin, "hub", 3) && (!c->origin[3] || c->origin[3] == '.');
    gs_buf_puts(h->b, city ? "<tr class=\"city\">" : "<tr>");
    gs_html_printf(h->b, "<td>%s</td><td>%s%s #%llu</td><td>%s</td></tr>\n",
                   when.data ? when.data : "", city ? gs_web_t(h->rq, "市级 ", "city ") : "",
                   c->origin, (unsigned long long)c->seq, what.data ? what.data : "");
    gs_buf_free(&when);
    gs_buf_free(&what);
}

void gs_web_history_end(gs_buf *b)
{
    gs_buf_puts(b, "</tbody></table></section>\n");
}

int gs_web_split_tail(const char *tail, char *id, size_t n, char action[16])
{
    const char *slash = strchr(tail, '/');
    size_t len = slash ? (size_t)(slash - tail) : strlen(tail);
    if (len == 0 || len >= n || (slash && strlen(slash + 1) >= 16))
        return -1;
    memcpy(id, tail, len);
    id[len] = '\0';
    snprintf(action, 16, "%s", slash ? slash + 1 : "");
    return 0;
}
