/*
 * report_councils.c: `gridhub report councils`: coverage and affairs by
 * area, each council's standards, and the violations by rule.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* ---- councils -------------------------------------------------------------------------------- */

static const gs_col council_area_cols[] = {
    AREA_COLS,
    {"villages", "村社区", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"villages_registered", "已开通", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"villages_with_council", "有理事会的村", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"coverage_pct", "覆盖率%", GS_CT_DEC, 0, 0, "%", GS_ROLL_RATIO},
    {"councils", "理事会", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    AFFAIR_COLS(0),
};

static int64_t affairs_total(const figs *f)
{
    int64_t n = 0;
    for (int i = 0; i < GS_AFFAIR__COUNT; i++)
        n += f->affairs[i];
    return n;
}

void rpt_affair_cells(gs_row *r, const figs *f)
{
    gs_row_int(r, f->affairs[GS_AFFAIR_WEDDING]);
    gs_row_int(r, f->affairs[GS_AFFAIR_FUNERAL]);
    gs_row_int(r, f->affairs[GS_AFFAIR_OTHER]);
    gs_row_int(r, affairs_total(f));
    gs_row_int(r, f->violating);
    gs_row_pct(r, f->violating, affairs_total(f));
}

static void council_area_row(gs_sheet *s, area *a)
{
    figs *f = &a->f;
    gs_row r = rpt_area_row(s, a);
    gs_row_int(&r, f->villages);
    gs_row_int(&r, f->registered);
    gs_row_int(&r, f->council_villages);
    gs_row_pct(&r, f->council_villages, f->villages);
    gs_row_int(&r, f->councils);
    rpt_affair_cells(&r, f);
    gs_row_end(&r);
}

static const gs_col standard_cols[] = {
    {"id", "理事会编号", GS_CT_CODE, GS_COL_NOTABLE, 0, NULL, GS_ROLL_NONE},
    {"village", "村社区代码", GS_CT_CODE, GS_COL_NOTABLE, 0, NULL, GS_ROLL_NONE},
    {"village_name", "村社区", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"township_name", "乡镇", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"county_name", "县区", GS_CT_TEXT, GS_COL_NOTABLE, 0, NULL, GS_ROLL_NONE},
    {"name", "理事会", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"established_on", "成立日期", GS_CT_DATE, 0, 0, NULL, GS_ROLL_NONE},
    {"max_tables", "桌数", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"max_cost_per_table", "每桌费用", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"max_gift", "礼金", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"max_cars", "车辆", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"max_funeral_days", "丧事天数", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"max_bride_price", "彩礼", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"cremation_required", "要求火化", GS_CT_BOOL, 0, 0, NULL, GS_ROLL_NONE},
};

static const gs_col violation_cols[] = {
    {"code", "代码", GS_CT_CODE, 0, 0, NULL, GS_ROLL_NONE},    {"text", "违规项", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"source", "依据", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},  {"wedding", "红事", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"funeral", "白事", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM}, {"other", "其他", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"total", "合计", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
};

static int standard_row(sqlite3_stmt *st, void *arg)
{
    const ctx *c = ((void **)arg)[0];
    gs_sheet *s = ((void **)arg)[1];
    const char *village = rpt_text(st, 1);
    gs_row r = gs_sheet_row(s);
    gs_row_text(&r, rpt_text(st, 0));
    rpt_place_cells(&r, c, village);
    gs_row_text(&r, rpt_text(st, 2));
    gs_row_text(&r, sqlite3_column_type(st, 3) == SQLITE_NULL ? NULL : rpt_text(st, 3));
    for (int i = 4; i <= 9; i++)
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
            gs_row_null(&r);
        else
            gs_row_int(&r, sqlite3_column_int64(st, i));
    gs_row_bool(&r, sqlite3_column_int64(st, 10) != 0);
    gs_row_end(&r);
    return 0;
}

typedef struct viol_acc {
    int64_t n[GS_FIND__COUNT][GS_AFFAIR__COUNT];
} viol_acc;

static int violation_row(sqlite3_stmt *st, void *arg)
{
    viol_acc *v = arg;
    int ki = -1;
    for (int i = 0; gs_affair_kind_names[i]; i++)
        if (!strcmp(gs_affair_kind_names[i], rpt_text(st, 0)))
            ki = i;
    if (ki < 0)
        return 0;
    int ci = 1;
    for (int f = 0; f < GS_FIND__COUNT; f++)
        if (gs_finding_get((gs_finding)f)->severity == GS_SEV_VIOLATION)
            v->n[f][ki] += sqlite3_column_int64(st, ci++);
    return 0;
}

int rpt_councils(const ctx *c, gs_doc *rp)
{
    areas as;
    rpt_areas_init(&as, c);
    int rc = as.err ? rpt_oom() : rpt_villages_load(c, &as);
    if (!rc) {
        rpt_villages_rollup(&as);
        rpt_villages_notes(c, &as, rp);
        rc = rpt_q_councils(c, &as);
    }
    if (!rc)
        rc = rpt_q_affairs(c, &as);
    if (!rc) {
        rpt_areas_sort(&as);
        gs_sheet *s = gs_doc_add(rp, "by_area", "覆盖与事项 coverage and affairs", council_area_cols,
                              NCOLS(council_area_cols));
        if (s)
            rpt_area_rows(s, &as, council_area_row);
    }
    rpt_areas_free(&as);
    if (rc)
        return rc;

    gs_sheet *s = gs_doc_add(rp, "councils", "各理事会标准 standards of each council (- 未设上限)",
                          standard_cols, NCOLS(standard_cols));
    if (!s)
        return rpt_oom();
    gs_buf q = GS_BUF_INIT;
    gs_buf_puts(&q, "SELECT id, village_code, name, established_on, max_tables, "
                    "max_cost_per_table, max_gift, max_cars, max_funeral_days, max_bride_price, "
                    "coalesce(cremation_required, 0) FROM councils WHERE _deleted = 0");
    rpt_where_area(&q, c, "village_code");
    gs_buf_puts(&q, " ORDER BY village_code, id");
    const void *args[2] = {c, s};
    if ((rc = rpt_query(c, &q, standard_row, (void *)args)))
        return rc;

    viol_acc *v = calloc(1, sizeof *v);
    if (!v)
        return rpt_oom();
    gs_buf_reset(&q);
    gs_buf_puts(&q, "SELECT kind");
    for (int f = 0; f < GS_FIND__COUNT; f++) {
        const gs_finding_info *fi = gs_finding_get((gs_finding)f);
        if (fi->severity == GS_SEV_VIOLATION)
            gs_buf_printf(&q, ", sum(instr(';' || coalesce(violations, '') || ';', ';%s;') > 0)",
                          fi->name);
    }
    gs_buf_printf(&q, " FROM affairs%s", rpt_scan_where(c));
    rpt_where_area(&q, c, "village_code");
    rpt_where_dates(&q, c, "event_date");
    gs_buf_puts(&q, " GROUP BY kind");
    rc = rpt_query(c, &q, violation_row, v);
    gs_sheet *vs = rc ? NULL
                   : gs_doc_add(rp, "violations", "违规项 violations by rule", violation_cols,
                                NCOLS(violation_cols));
    if (!rc && !vs)
        rc = rpt_oom();
    int64_t tot[GS_AFFAIR__COUNT + 1] = {0};
    for (int f = 0; !rc && f < GS_FIND__COUNT; f++) {
        const gs_finding_info *fi = gs_finding_get((gs_finding)f);
        if (fi->severity != GS_SEV_VIOLATION)
            continue;
        gs_buf src = GS_BUF_INIT;
        rpt_rule_text(fi, &src);
        gs_row r = gs_sheet_row(vs);
        gs_row_text(&r, fi->name);
        gs_row_text(&r, fi->zh);
        gs_row_text(&r, src.data ? src.data : "");
        gs_buf_free(&src);
        int64_t sum = 0;
        for (int k = 0; k < GS_AFFAIR__COUNT; k++) {
            gs_row_int(&r, v->n[f][k]);
            tot[k] += v->n[f][k];
            sum += v->n[f][k];
        }
        gs_row_int(&r, sum);
        tot[GS_AFFAIR__COUNT] += sum;
        gs_row_end(&r);
    }
    if (!rc) {
        gs_row r = gs_sheet_row(vs);
        gs_row_null(&r);
        gs_row_text(&r, "合计 total");
        gs_row_null(&r);
        for (int k = 0; k <= GS_AFFAIR__COUNT; k++)
            gs_row_int(&r, tot[k]);
        gs_row_end(&r);
        gs_sheet_set_total_last(vs);
    }
    free(v);
    return rc;
}
