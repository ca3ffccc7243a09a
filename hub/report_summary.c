/*
 * report_summary.c: `gridhub report summary`: per county (or township, or
 * village) and the total, the villages the city expects, with a node and
 * reporting, committee elections held, turnout, incidents, red-white
 * councils; every rate over the villages of the area (report_area.c).
 * One sheet, shown in five parts in a terminal.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* ---- summary --------------------------------------------------------------------------------- */

static const gs_col summary_cols[] = {
    AREA_COLS,
    {"villages", "村社区", GS_CT_INT, 0, 1, NULL, GS_ROLL_SUM},
    {"villages_unlisted", "名单外", GS_CT_INT, 0, 1, NULL, GS_ROLL_SUM},
    {"villages_registered", "已开通", GS_CT_INT, 0, 1, NULL, GS_ROLL_SUM},
    {"villages_without_node", "未开通", GS_CT_INT, 0, 1, NULL, GS_ROLL_SUM},
    {"villages_reporting", "7日内同步", GS_CT_INT, 0, 1, NULL, GS_ROLL_SUM},
    {"reporting_pct", "同步率%", GS_CT_DEC, 0, 1, "%", GS_ROLL_RATIO},
    {"elections_village", "村委会选举", GS_CT_INT, 0, 2, NULL, GS_ROLL_SUM},
    {"elections_residents", "居委会选举", GS_CT_INT, 0, 2, NULL, GS_ROLL_SUM},
    {"elections_party", "党组织选举", GS_CT_INT, 0, 2, NULL, GS_ROLL_SUM},
    {"villagers_committees", "村委会", GS_CT_INT, 0, 2, NULL, GS_ROLL_SUM},
    {"villagers_committees_elected", "已选村委会", GS_CT_INT, 0, 2, NULL, GS_ROLL_SUM},
    {"villagers_election_pct", "村委会换届率%", GS_CT_DEC, 0, 2, "%", GS_ROLL_RATIO},
    {"residents_committees", "居委会", GS_CT_INT, 0, 2, NULL, GS_ROLL_SUM},
    {"residents_committees_elected", "已选居委会", GS_CT_INT, 0, 2, NULL, GS_ROLL_SUM},
    {"residents_election_pct", "居委会换届率%", GS_CT_DEC, 0, 2, "%", GS_ROLL_RATIO},
    {"registered_voters", "登记选民", GS_CT_INT, 0, 3, NULL, GS_ROLL_SUM},
    {"ballots_cast", "投票人数", GS_CT_INT, 0, 3, NULL, GS_ROLL_SUM},
    {"turnout_pct", "投票率%", GS_CT_DEC, 0, 3, "%", GS_ROLL_RATIO},
    {"villages_turnout_below_95", "投票率<95%的村", GS_CT_INT, 0, 3, NULL, GS_ROLL_SUM},
    {"elections_invalid", "依法无效", GS_CT_INT, 0, 3, NULL, GS_ROLL_SUM},
    {"seats_unfilled", "空缺名额", GS_CT_INT, 0, 3, NULL, GS_ROLL_SUM},
    {"elections_no_woman", "无女性当选", GS_CT_INT, 0, 3, NULL, GS_ROLL_SUM},
    {"yijiantiao", "一肩挑", GS_CT_INT, 0, 3, NULL, GS_ROLL_SUM},
    {"incidents_opened", "新发事件", GS_CT_INT, 0, 4, NULL, GS_ROLL_SUM},
    {"incidents_closed", "已结案", GS_CT_INT, 0, 4, NULL, GS_ROLL_SUM},
    {"incidents_rejected", "不予受理", GS_CT_INT, 0, 4, NULL, GS_ROLL_SUM},
    {"incidents_open", "未办结", GS_CT_INT, 0, 4, NULL, GS_ROLL_SUM},
    {"incidents_open_over_30d", "超30天未办结", GS_CT_INT, 0, 4, NULL, GS_ROLL_SUM},
    {"median_days_to_close", "结案天数中位数", GS_CT_DEC, 0, 4, "天", GS_ROLL_MEDIAN},
    {"villages_with_council", "有理事会的村", GS_CT_INT, 0, 5, NULL, GS_ROLL_SUM},
    {"council_coverage_pct", "理事会覆盖率%", GS_CT_DEC, 0, 5, "%", GS_ROLL_RATIO},
    AFFAIR_COLS(5),
};
static const char *const summary_parts[] = {
    "村社区与同步 villages and sync", "换届选举 elections held", "选举结果 election results",
    "网格事件 incidents", "红白理事会 councils"};

static void summary_row(gs_sheet *s, area *a)
{
    figs *f = &a->f;
    gs_row r = rpt_area_row(s, a);
    gs_row_int(&r, f->villages);
    gs_row_int(&r, f->unlisted);
    gs_row_int(&r, f->registered);
    gs_row_int(&r, f->villages - f->registered);
    gs_row_int(&r, f->reporting);
    gs_row_pct(&r, f->reporting, f->villages);
    gs_row_int(&r, f->elections[GS_COMMITTEE_VILLAGE]);
    gs_row_int(&r, f->elections[GS_COMMITTEE_RESIDENTS]);
    gs_row_int(&r, f->elections[GS_COMMITTEE_PARTY]);
    for (int k = 0; k < KIND__COUNT; k++) {
        gs_row_int(&r, f->kind[k]);
        gs_row_int(&r, f->held[k]);
        gs_row_pct(&r, f->held[k], f->kind[k]);
    }
    gs_row_int(&r, f->voters);
    gs_row_int(&r, f->ballots);
    gs_row_pct(&r, f->ballots, f->voters);
    gs_row_int(&r, f->low_turnout);
    gs_row_int(&r, f->invalid);
    gs_row_int(&r, f->unfilled);
    gs_row_int(&r, f->no_woman);
    gs_row_int(&r, f->yijiantiao);
    gs_row_int(&r, f->opened);
    gs_row_int(&r, f->closed);
    gs_row_int(&r, f->rejected);
    gs_row_int(&r, f->open);
    gs_row_int(&r, f->age[2] + f->age[3]);
    rpt_put_median(&r, &f->close_days);
    gs_row_int(&r, f->council_villages);
    gs_row_pct(&r, f->council_villages, f->villages);
    rpt_affair_cells(&r, f);
    gs_row_end(&r);
}

int rpt_summary(const ctx *c, gs_doc *rp)
{
    areas as;
    rpt_areas_init(&as, c);
    int rc = as.err ? rpt_oom() : rpt_villages_load(c, &as);
    if (!rc)
        rc = rpt_q_elections(c, &as);
    if (!rc) {
        rpt_villages_rollup(&as);
        rpt_villages_notes(c, &as, rp);
    }
    if (!rc)
        rc = rpt_q_incidents(c, &as, NULL, NULL);
    if (!rc)
        rc = rpt_q_affairs(c, &as);
    if (!rc) {
        rpt_areas_sort(&as);
        gs_sheet *s = gs_doc_add(rp, "by_area", "汇总 summary", summary_cols, NCOLS(summary_cols));
        if (s) {
            gs_sheet_set_parts(s, summary_parts, (int)NCOLS(summary_parts));
            rpt_area_rows(s, &as, summary_row);
        }
    }
    rpt_areas_free(&as);
    return rc;
}
