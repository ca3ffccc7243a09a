/*
 * report_nodes.c: `gridhub report nodes`: every registered node's sync
 * health, oldest silence first, and the villages with no node yet, never
 * synced, or silent over 30 and over 7 days.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* ---- nodes ----------------------------------------------------------------------------------- */

static const gs_col node_cols[] = {
    {"id", "节点", GS_CT_CODE, 0, 0, NULL, GS_ROLL_NONE},
    {"village", "村社区代码", GS_CT_CODE, 0, 0, NULL, GS_ROLL_NONE},
    {"village_name", "村社区", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"township_name", "乡镇", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"county_name", "县区", GS_CT_TEXT, GS_COL_NOTABLE, 0, NULL, GS_ROLL_NONE},
    {"name", "名称", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"enabled", "启用", GS_CT_BOOL, 0, 0, NULL, GS_ROLL_NONE},
    {"last_seen", "最后同步", GS_CT_DATETIME, 0, 0, NULL, GS_ROLL_NONE},
    {"silent_days", "未同步天数", GS_CT_INT, 0, 0, "天", GS_ROLL_NONE},
    {"acked_seq", "已确认", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"pending", "待同步", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"rejected", "退回", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"clock_skew_s", "时钟偏差(秒)", GS_CT_DEC, 0, 0, "秒", GS_ROLL_NONE},
    {"software", "版本", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
};
static const gs_col node_total_cols[] = {
    {"nodes", "节点", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},          {"enabled", "启用", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"reporting", "7日内同步", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM}, {"never_seen", "从未同步", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"pending", "待同步", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},      {"rejected", "退回", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
};

typedef struct node_acc {
    const ctx *c;
    gs_sheet *s;
    int64_t n, enabled, reporting, never, pending, rejected;
} node_acc;

static int node_row(sqlite3_stmt *st, void *arg)
{
    node_acc *a = arg;
    const ctx *c = a->c;
    const char *village = rpt_text(st, 1);
    bool enabled = sqlite3_column_int64(st, 3) != 0;
    int64_t seen = sqlite3_column_int64(st, 4), pending = sqlite3_column_int64(st, 6),
            rejected = sqlite3_column_int64(st, 7), skew = sqlite3_column_int64(st, 8);
    gs_row r = gs_sheet_row(a->s);
    gs_row_text(&r, rpt_text(st, 0));
    rpt_place_cells(&r, c, village);
    gs_row_text(&r, rpt_text(st, 2));
    gs_row_bool(&r, enabled);
    rpt_seen_cells(&r, c, seen);
    gs_row_int(&r, sqlite3_column_int64(st, 5));
    gs_row_int(&r, pending);
    gs_row_int(&r, rejected);
    int64_t mag = skew < 0 ? -skew : skew, tenths = (mag + 50) / 100;
    gs_row_fmt(&r, "%s%" PRId64 ".%" PRId64, skew < 0 && tenths ? "-" : "", tenths / 10, tenths % 10);
    gs_row_text(&r, sqlite3_column_type(st, 9) == SQLITE_NULL ? NULL : rpt_text(st, 9));
    gs_row_end(&r);
    a->n++;
    a->enabled += enabled;
    a->reporting += seen > 0 && seen >= c->o.as_of_ms - 7 * DAY_MS;
    a->never += seen <= 0;
    a->pending += pending;
    a->rejected += rejected;
    return 0;
}

/* The villages the nodes report lists, each under its most pressing state:
 * no node issued, a node issued but never synced, silent more than 30 days,
 * silent more than 7 days. The others (synced within 7 days) are not listed. */
enum { VS_NO_NODE, VS_NEVER, VS_OVER_30, VS_OVER_7, VS_OK };
static const char *const vstate_names[] = {"no_node", "never_synced", "silent_over_30d",
                                           "silent_over_7d"};
static const char *const vstate_names_zh[] = {"未开通", "从未同步", "超30天未同步",
                                              "超7天未同步"};

static const gs_col village_state_cols[] = {
    {"state", "状态代码", GS_CT_CODE, GS_COL_NOTABLE, 0, NULL, GS_ROLL_NONE},
    {"state_name", "状态", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"village", "村社区代码", GS_CT_CODE, 0, 0, NULL, GS_ROLL_NONE},
    {"village_name", "村社区", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"township_name", "乡镇", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"county_name", "县区", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"listed", "名单内", GS_CT_BOOL, 0, 0, NULL, GS_ROLL_NONE},
    {"nodes", "节点", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"last_seen", "最后同步", GS_CT_DATETIME, 0, 0, NULL, GS_ROLL_NONE},
    {"silent_days", "未同步天数", GS_CT_INT, 0, 0, "天", GS_ROLL_NONE},
};
static const gs_col village_state_total_cols[] = {
    {"villages", "村社区", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"no_node", "未开通", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"never_synced", "从未同步", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"silent_over_7d", "超7天未同步", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"silent_over_30d", "超30天未同步", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"reporting", "7日内同步", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
};

static int village_state(const ctx *c, const vstate *v)
{
    if (v->nodes == 0)
        return VS_NO_NODE;
    if (v->last_seen_ms <= 0)
        return VS_NEVER;
    if (v->last_seen_ms < c->o.as_of_ms - 30 * DAY_MS)
        return VS_OVER_30;
    if (v->last_seen_ms < c->o.as_of_ms - 7 * DAY_MS)
        return VS_OVER_7;
    return VS_OK;
}

static int cmp_vstate_code(const void *x, const void *y)
{
    return strcmp(((const vstate *)x)->code, ((const vstate *)y)->code);
}

/* The villages without a node or silent, per the area's village list
 * (rpt_villages_load), and their counts. */
static int village_states(const ctx *c, gs_doc *rp)
{
    gs_sheet *s = gs_doc_add(rp, "villages",
                          "村社区 villages: 未开通、从未同步、超30天和超7天未同步 without a node or "
                          "silent",
                          village_state_cols, NCOLS(village_state_cols));
    gs_sheet *tot = gs_sheet_attach_total(s, village_state_total_cols, NCOLS(village_state_total_cols));
    if (!s || !tot)
        return rpt_oom();
    areas as;
    rpt_areas_init(&as, c);
    int rc = as.err ? rpt_oom() : rpt_villages_load(c, &as);
    if (rc) {
        rpt_areas_free(&as);
        return rc;
    }
    rpt_villages_notes(c, &as, rp);
    if (as.nv > 1) /* qsort of NULL, even of no elements, is undefined */
        qsort(as.v, as.nv, sizeof *as.v, cmp_vstate_code); /* vidx is stale from here */
    int64_t n[VS_OK + 1] = {0};
    for (int state = VS_NO_NODE; state < VS_OK; state++)
        for (size_t i = 0; i < as.nv; i++) {
            const vstate *v = &as.v[i];
            if (village_state(c, v) != state)
                continue;
            gs_row r = gs_sheet_row(s);
            gs_row_text(&r, vstate_names[state]);
            gs_row_text(&r, vstate_names_zh[state]);
            rpt_place_cells(&r, c, v->code);
            gs_row_bool(&r, v->listed);
            gs_row_int(&r, v->nodes);
            rpt_seen_cells(&r, c, v->last_seen_ms);
            gs_row_end(&r);
        }
    for (size_t i = 0; i < as.nv; i++)
        n[village_state(c, &as.v[i])]++;
    gs_row r = gs_sheet_row(tot);
    gs_row_int(&r, (int64_t)as.nv);
    gs_row_int(&r, n[VS_NO_NODE]);
    gs_row_int(&r, n[VS_NEVER]);
    gs_row_int(&r, n[VS_OVER_7] + n[VS_OVER_30]);
    gs_row_int(&r, n[VS_OVER_30]);
    gs_row_int(&r, n[VS_OK]);
    gs_row_end(&r);
    rpt_areas_free(&as);
    return 0;
}

int rpt_nodes(const ctx *c, gs_doc *rp)
{
    node_acc a = {0};
    a.c = c;
    a.s = gs_doc_add(rp, "nodes", "节点 nodes (最久未同步在前 oldest silence first)", node_cols,
                     NCOLS(node_cols));
    gs_sheet *tot = gs_sheet_attach_total(a.s, node_total_cols, NCOLS(node_total_cols));
    if (!a.s || !tot)
        return rpt_oom();
    gs_buf q = GS_BUF_INIT;
    gs_buf_puts(&q, "SELECT n.id, n.village, n.name, n.enabled, n.last_seen_ms, n.acked_through, "
                    "n.pending, (SELECT count(*) FROM quarantine q WHERE q.origin = n.id), "
                    "n.skew_ms, n.software FROM nodes n WHERE 1");
    rpt_where_area(&q, c, "n.village");
    gs_buf_puts(&q, " ORDER BY n.last_seen_ms, n.id");
    int rc = rpt_query(c, &q, node_row, &a);
    if (rc)
        return rc;
    gs_row r = gs_sheet_row(tot);
    gs_row_int(&r, a.n);
    gs_row_int(&r, a.enabled);
    gs_row_int(&r, a.reporting);
    gs_row_int(&r, a.never);
    gs_row_int(&r, a.pending);
    gs_row_int(&r, a.rejected);
    gs_row_end(&r);
    return village_states(c, rp);
}
