/*
 * health.c: 同步状况, every village the area expects with its nodes: last
 * sync, changes pending, changes refused, clock skew; the villages never
 * issued a node (未开通), never synced and silent over 7 or 30 days marked.
 *
 * The rows are those of `gridhub report nodes` (hub_report_doc): its
 * "nodes" sheet (every node of the area) and its "villages" sheet (the
 * villages without a node or silent, from the same village list the
 * summary divides by), put together by village code. A township filter is
 * the report's own area option.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

/* One line of the page: a node of a village, or a village without one. */
typedef struct line {
    const char *code;
    size_t node_row;  /* in the nodes sheet, or SIZE_MAX */
    size_t state_row; /* in the villages sheet, or SIZE_MAX */
} line;

static int cmp_line(const void *a, const void *b)
{
    const line *x = a, *y = b;
    int c = strcmp(x->code, y->code);
    if (c)
        return c;
    return (x->node_row > y->node_row) - (x->node_row < y->node_row);
}

typedef struct pick_ctx {
    gs_buf *b;
    const char *selected;
} pick_ctx;

static int pick_township(const hub_division *d, void *arg)
{
    pick_ctx *x = arg;
    gs_html_printf(x->b, "<option value=\"%s\"%s>%s</option>", d->code,
                   !strcmp(d->code, x->selected) ? " selected" : "", d->name);
    return 0;
}

/* The village's state of the villages sheet (no_node, never_synced,
 * silent_over_30d, silent_over_7d), or NULL when it reports. */
static const char *state_of(const gs_sheet *vs, const line *l, const char **zh)
{
    if (l->state_row == SIZE_MAX)
        return NULL;
    *zh = hweb_cell(vs, l->state_row, "state_name");
    return hweb_cell(vs, l->state_row, "state");
}

static int page_health(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, false))
        return 0;
    const char *township = gs_http_query(rq, "township");
    if (township && !*township)
        township = NULL;
    if (township && strlen(township) != 9)
        return gs_http_error(rq, rs, 400, "township", "%s",
                             hweb_t(rq, "乡镇代码应为 9 位数字。", "township: 9 digits."));
    hub_report_req req = {.kind = "nodes"};
    int rc = hweb_report_area(&sc, township, &req);
    if (rc == GS_ESCOPE)
        return hweb_forbidden(rq, rs);
    if (rc)
        return gs_http_error(rq, rs, 400, "township", "%s",
                             hweb_t(rq, "乡镇代码不对。", "Not a township code."));
    gs_doc *d = NULL;
    gs_errbuf eb = {{0}};
    if ((rc = hub_report_doc(hub_store_db(w->store), &req, &d, &eb)))
        return gs_http_error(rq, rs, rc == GS_EINVAL ? 400 : 500, NULL, "%s", eb.msg);
    const gs_sheet *ns = hweb_sheet(d, "nodes"), *vs = hweb_sheet(d, "villages");
    size_t nn = ns ? gs_sheet_nrows(ns) : 0, nv = vs ? gs_sheet_nrows(vs) : 0;
    line *lines = calloc(nn + nv + 1, sizeof *lines);
    if (!lines) {
        gs_doc_destroy(&d);
        return gs_http_error(rq, rs, 500, NULL, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < nv; i++)
        lines[n++] = (line){hweb_cell(vs, i, "village"), SIZE_MAX, i};
    for (size_t i = 0; i < nn; i++)
        lines[n++] = (line){hweb_cell(ns, i, "village"), i, SIZE_MAX};
    if (n > 1) /* qsort of NULL, even of no elements, is undefined */
        qsort(lines, n, sizeof *lines, cmp_line);
    /* a node's line takes its village's state (the villages sheet has one
     * line per silent village, after its nodes once sorted) */
    for (size_t i = 0; i < n; i++)
        if (lines[i].node_row != SIZE_MAX)
            for (size_t j = i + 1; j < n && !strcmp(lines[j].code, lines[i].code); j++)
                if (lines[j].state_row != SIZE_MAX)
                    lines[i].state_row = lines[j].state_row;

    hweb_begin(rq, rs, HWEB_HEALTH, hweb_t(rq, "同步状况", "Sync health"));
    gs_buf *b = gs_http_out(rs);
    gs_html_printf(b,
                   "<form class=\"period\" method=\"get\"><label>%s <select name=\"township\">"
                   "<option value=\"\">%s</option>",
                   hweb_t(rq, "乡镇（街道）", "Township"), sc.division_name);
    pick_ctx x = {b, township ? township : ""};
    if (sc.role != HWEB_TOWNSHIP)
        hub_division_children(w->store, sc.role == HWEB_COUNTY ? sc.division : NULL, "township",
                              pick_township, &x, &eb);
    gs_html_printf(b, "</select></label><button type=\"submit\">%s</button></form>\n",
                   hweb_t(rq, "筛选", "Filter"));
    const gs_sheet *vt = vs ? gs_sheet_total(vs) : NULL, *nt = ns ? gs_sheet_total(ns) : NULL;
    static const struct {
        const char *col, *zh, *en;
        bool bad;
    } cards[] = {{"villages", "应开通村社区", "villages expected", false},
                 {"reporting", "7日内同步", "synced within 7 days", false},
                 {"no_node", "未开通", "no node issued", true},
                 {"never_synced", "从未同步", "never synced", true},
                 {"silent_over_7d", "超7天未同步", "silent over 7 days", true},
                 {"silent_over_30d", "超30天未同步", "silent over 30 days", true}};
    gs_buf_puts(b, "<div class=\"cards\">");
    for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++) {
        const char *v = hweb_cell(vt, 0, cards[i].col);
        gs_html_printf(b,
                       "<div class=\"figure%s\" data-key=\"%s\"><div class=\"label\">%s</div>"
                       "<div class=\"value\">%s</div></div>",
                       cards[i].bad && v && atoll(v) > 0 ? " bad" : "", cards[i].col,
                       hweb_t(rq, cards[i].zh, cards[i].en), v ? v : "-");
    }
    const char *pend = hweb_cell(nt, 0, "pending"), *rej = hweb_cell(nt, 0, "rejected");
    gs_html_printf(b,
                   "<div class=\"figure\" data-key=\"pending\"><div class=\"label\">%s</div>"
                   "<div class=\"value\">%s</div></div>"
                   "<div class=\"figure%s\" data-key=\"rejected\"><div class=\"label\">%s</div>"
                   "<div class=\"value\">%s</div></div></div>\n",
                   hweb_t(rq, "待同步的修改", "changes pending"), pend ? pend : "-",
                   rej && atoll(rej) > 0 ? " bad" : "", hweb_t(rq, "退回的修改", "changes refused"),
                   rej ? rej : "-");

    gs_html_printf(b,
                   "<table class=\"health\"><thead><tr><th>%s</th><th>%s</th><th>%s</th>"
                   "<th>%s</th><th>%s</th><th class=\"num\">%s</th><th class=\"num\">%s</th>"
                   "<th class=\"num\">%s</th><th>%s</th></tr></thead><tbody>\n",
                   hweb_t(rq, "村社区", "village"), hweb_t(rq, "乡镇", "township"),
                   hweb_t(rq, "状态", "state"), hweb_t(rq, "节点", "node"),
                   hweb_t(rq, "最后同步", "last sync"), hweb_t(rq, "待同步", "pending"),
                   hweb_t(rq, "退回", "refused"), hweb_t(rq, "时钟偏差(秒)", "clock skew (s)"),
                   hweb_t(rq, "事件", "records"));
    for (size_t i = 0; i < n; i++) {
        const line *l = &lines[i];
        if (l->node_row == SIZE_MAX && i > 0 && !strcmp(lines[i - 1].code, l->code))
            continue; /* the state line of a village whose nodes are shown */
        const char *zh = NULL, *state = state_of(vs, l, &zh);
        const char *cls = !state                           ? "ok"
                          : !strcmp(state, "no_node")      ? "unopened"
                          : !strcmp(state, "never_synced") ? "never"
                                                           : "silent";
        bool node = l->node_row != SIZE_MAX;
        const gs_sheet *src = node ? ns : vs;
        size_t r = node ? l->node_row : l->state_row;
        const char *vname = hweb_cell(src, r, "village_name"),
                   *tname = hweb_cell(src, r, "township_name");
        gs_html_printf(b,
                       "<tr class=\"%s\" data-village=\"%s\"><td>%s <code>%s</code></td>"
                       "<td>%s</td><td><span class=\"tag %s\">%s</span></td>",
                       cls, l->code, vname ? vname : "", l->code, tname ? tname : "",
                       !state                             ? "ok"
                       : !strcmp(state, "silent_over_7d") ? "warn"
                                                          : "bad",
                       state ? (gs_http_en(rq) ? state : zh) : hweb_t(rq, "正常", "reporting"));
        if (node) {
            const char *enabled = hweb_cell(ns, r, "enabled");
            const char *seen = hweb_cell(ns, r, "last_seen"), *p = hweb_cell(ns, r, "pending");
            const char *q = hweb_cell(ns, r, "rejected"), *sk = hweb_cell(ns, r, "clock_skew_s");
            const char *id = hweb_cell(ns, r, "id");
            gs_html_printf(b,
                           "<td><code>%s</code>%s</td><td>%.19s</td><td class=\"num\">%s</td>"
                           "<td class=\"num\">%s</td><td class=\"num\">%s</td>",
                           id ? id : "", enabled && !strcmp(enabled, "否") ? " (停用 revoked)" : "",
                           seen ? seen : hweb_t(rq, "从未", "never"), p ? p : "-", q ? q : "-",
                           sk ? sk : "-");
        } else {
            gs_html_printf(b, "<td>%s</td><td></td><td></td><td></td><td></td>",
                           hweb_t(rq, "未开通", "no node"));
        }
        gs_html_printf(b, "<td><a href=\"/incidents?village=%s\">%s</a></td></tr>\n", l->code,
                       hweb_t(rq, "查看", "view"));
    }
    gs_buf_puts(b, "</tbody></table>\n");
    free(lines);
    gs_doc_destroy(&d);
    hweb_end(rq, rs);
    return 0;
}

const gs_http_route hweb_health_routes[] = {
    {"GET", "/health", page_health, 0},
    {NULL, NULL, NULL, 0},
};
