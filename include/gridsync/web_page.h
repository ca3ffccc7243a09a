/*
 * gridsync/web_page.h: the pieces of page both web doors draw the same way
 * (the village desk, `gridnode web`, and the city's pages, `gridhub web`):
 * an incident's time left and deadline line, its status label, the head and
 * end of the workflow section, the history table, and the split of a
 * record page's path. Each door keeps what differs (its actor's buttons,
 * links, the record's fields); the words here are the same for both.
 */
#ifndef GRIDSYNC_WEB_PAGE_H
#define GRIDSYNC_WEB_PAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gridsync/buf.h"
#include "gridsync/change.h"
#include "gridsync/find.h"
#include "gridsync/http.h"
#include "gridsync/record.h"

/* zh, or en when the page asks for English. */
const char *gs_web_t(const gs_http_req *rq, const char *zh, const char *en);

/* The hidden field "_csrf" every form sends back (gs_http_csrf). */
void gs_web_csrf_field(const gs_http_req *rq, gs_buf *b);

/* The layout of a page, in the order drawn. gs_web_begin: the doctype, the
 * head (title "TITLE · SITE", the CSRF meta, app.css, then head_extra as
 * it is: constant HTML), <body>, and the top bar's brand (brand, desk). */
gs_buf *gs_web_begin(const gs_http_req *rq, gs_http_resp *rs, const char *title,
                     const char *site, const char *head_extra, const char *brand,
                     const char *desk);
/* The language switch 中文 | English, the current one marked. */
void gs_web_lang_switch(const gs_http_req *rq, gs_buf *b);
/* The logout button (a form posting to /logout). */
void gs_web_logout(const gs_http_req *rq, gs_buf *b);
/* One tab of the nav (path and label constant text), active marked. */
void gs_web_tab(gs_buf *b, const char *path, const char *label, bool active);
/* Closes the nav and opens <main> with the page's heading. */
void gs_web_main(gs_buf *b, const char *title);
/* Closes <main> and the page, with a footer of the version and a line. */
void gs_web_end(const gs_http_req *rq, gs_http_resp *rs, const char *footer_zh,
                const char *footer_en);

/* A list's pages. gs_web_count writes "共 N 条, 第 P/Q 页" and returns Q,
 * the pages of per_page rows (at least 1). gs_web_pager writes the links
 * 上一页 and 下一页 when there are pages > 1: path?ARG=V&...&page=K with the
 * request's non-empty query arguments named in args (NULL-ended). */
int64_t gs_web_count(const gs_http_req *rq, gs_buf *b, int64_t total, int64_t page,
                     int64_t per_page);
void gs_web_pager(const gs_http_req *rq, gs_buf *b, const char *path, const char *const *args,
                  int64_t page, int64_t pages);

/* A list page's body after its filters: the count line, then the empty
 * line (empty_zh/en) when no row, else a table of cols' heads around rows
 * (the <tr> already drawn), then the pager. */
typedef struct gs_web_col {
    const char *zh, *en;
} gs_web_col;
typedef struct gs_web_list {
    const gs_web_col *cols; /* ends with {NULL} */
    const char *empty_zh, *empty_en;
    const char *path;         /* the list's path, for the pager */
    const char *const *args;  /* the filters the pager keeps (NULL-ended) */
    int64_t per_page;
} gs_web_list;
void gs_web_list_body(const gs_http_req *rq, gs_buf *b, const gs_web_list *l, const gs_buf *rows,
                      int nrows, int64_t total, int64_t page);

/* Starts the login page (its own layout, without the menu): the head with
 * title, app.css and extra_css when not NULL, the heading h1, the error when
 * not NULL, and the open form posting to /login with its CSRF field. The
 * caller adds the fields, the button and the end. Returns the body. */
gs_buf *gs_web_login_begin(const gs_http_req *rq, gs_http_resp *rs, const char *title,
                           const char *h1, const char *extra_css, const char *error);

/* The HTTP status of a core result: 200 for GS_OK, 404 not found, 403
 * refused (auth, scope), 409 a conflict (exists, transition, rule), 500
 * the machine's fault (memory, SQL, I/O), else 400. */
int gs_web_status_of(int rc);

/* Appends "剩余 2 天", "今天到期" or "超期 3 天" for an open incident with a
 * deadline, nothing otherwise; returns the days left (0 when none). */
int64_t gs_web_time_left(const gs_http_req *rq, const gs_record *r, gs_buf *b);
/* The record page's line "处置期限 DATE · 剩余 N 天" (class overdue when
 * late); nothing for an incident without time left. */
void gs_web_deadline(const gs_http_req *rq, const gs_record *r, gs_buf *b);
/* The label of an incident status: Chinese, or the canonical name in
 * English; "" for NULL. */
const char *gs_web_status_label(const gs_http_req *rq, const char *status);

/* The workflow section's head: title (zh/en) and the current status. */
void gs_web_workflow_begin(const gs_http_req *rq, const gs_record *r, const char *title_en,
                           gs_buf *b);
/* Opens one step's form: posting to /incident/ID/status with the CSRF
 * field and the status to; the door adds its inputs, button and </form>. */
void gs_web_step_begin(const gs_http_req *rq, const gs_record *r, const char *to, gs_buf *b);
/* Its end; steps is how many buttons were drawn (none: "已是终态"). */
void gs_web_workflow_end(const gs_http_req *rq, int steps, gs_buf *b);

/* The display text of field f of r on a page: enums in Chinese (the
 * canonical value on an English page), booleans 是/否, a time of China's
 * day to the minute ("2026-12-03 09:03" for 2026-12-03T09:03:59+08:00);
 * nothing when it has no value. References are the door's to name. */
void gs_web_display(const gs_http_req *rq, const gs_record *r, int f, gs_buf *b);

/* The history table: its head, one row per change (a gs_find_change_each
 * over a gs_web_history), its end. A change from the city is marked 市级. */
typedef struct gs_web_history {
    const gs_http_req *rq;
    gs_buf *b;
    gs_find_display_fn display; /* each value (arg first); NULL: gs_web_display */
    void *arg;
} gs_web_history;
void gs_web_history_begin(const gs_http_req *rq, gs_buf *b);
void gs_web_history_row(const gs_change *c, void *history);
void gs_web_history_end(gs_buf *b);

/* Splits a record page's path tail "ID" or "ID/ACTION" into id (n bytes)
 * and action (16 bytes, "" for the record page). 0, or -1 when it names no
 * page (empty id, too long a part). */
int gs_web_split_tail(const char *tail, char *id, size_t n, char action[16]);

#endif
