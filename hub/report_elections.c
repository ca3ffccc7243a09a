/*
 * report_elections.c: `gridhub report elections`: one row per election with
 * its legal findings and the rule each comes from (the citation depends on
 * the committee: a residents' committee's finding rests on another law), a
 * total, and one row per finding and citation.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"

/* ---- elections ------------------------------------------------------------------------------- */

static const gs_col election_cols[] = {
    {"id", "选举编号", GS_CT_CODE, 0, 0, NULL, GS_ROLL_NONE},
    {"village", "村社区代码", GS_CT_CODE, GS_COL_NOTABLE, 0, NULL, GS_ROLL_NONE},
    {"village_name", "村社区", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"township", "乡镇代码", GS_CT_CODE, GS_COL_NOTABLE, 0, NULL, GS_ROLL_NONE},
    {"township_name", "乡镇", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"county", "县区代码", GS_CT_CODE, GS_COL_NOTABLE, 0, NULL, GS_ROLL_NONE},
    {"county_name", "县区", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"committee", "委员会代码", GS_CT_CODE, GS_COL_NOTABLE, 0, NULL, GS_ROLL_NONE},
    {"committee_name", "委员会", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"election_date", "选举日", GS_CT_DATE, 0, 0, NULL, GS_ROLL_NONE},
    {"registered", "登记选民", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"voted", "投票人数", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"turnout_pct", "投票率%", GS_CT_DEC, 0, 0, "%", GS_ROLL_RATIO},
    {"seats", "应选名额", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"elected", "当选", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"unfilled", "空缺", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"women_elected", "女性当选", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"yijiantiao", "一肩挑", GS_CT_BOOL, 0, 0, NULL, GS_ROLL_NONE},
    {"finding_codes", "审查结果", GS_CT_TEXT, GS_COL_NOJSON, 0, NULL, GS_ROLL_NONE},
    {"finding_rules", "审查结果及依据", GS_CT_TEXT, GS_COL_NOTABLE | GS_COL_NOJSON, 0, NULL, GS_ROLL_NONE},
    {"findings", "审查结果", GS_CT_JSON, GS_COL_NOTABLE | GS_COL_NOCSV, 0, NULL, GS_ROLL_NONE},
};
static const gs_col election_total_cols[] = {
    {"elections", "选举", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},         {"with_findings", "有审查结果", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"registered", "登记选民", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},    {"voted", "投票人数", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"turnout_pct", "投票率%", GS_CT_DEC, 0, 0, "%", GS_ROLL_RATIO},    {"seats", "应选名额", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"elected", "当选", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},           {"unfilled", "空缺", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
    {"women_elected", "女性当选", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM}, {"yijiantiao", "一肩挑", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
};
static const gs_col finding_cols[] = {
    {"code", "代码", GS_CT_CODE, 0, 0, NULL, GS_ROLL_NONE},    {"text", "审查结果", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"law", "依据", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},     {"version", "版本", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE},
    {"article", "条款", GS_CT_TEXT, 0, 0, NULL, GS_ROLL_NONE}, {"elections", "选举数", GS_CT_INT, 0, 0, NULL, GS_ROLL_SUM},
};

typedef struct elist {
    const ctx *c;
    gs_sheet *s;
    int64_t n, with_findings, voters, ballots, seats, elected, unfilled, women, yjt;
    int64_t per_finding[GS_COMMITTEE__COUNT][GS_FIND__COUNT]; /* by committee kind */
    int err;
} elist;

/* Appends the rule a finding comes from: "村民委员会组织法(2018-12-29)第十五条". */
void rpt_rule_text(const gs_finding_info *fi, gs_buf *b)
{
    gs_buf_puts(b, fi->law);
    if (fi->version[0])
        gs_buf_printf(b, "(%s)", fi->version);
    gs_buf_puts(b, fi->article);
}

static int election_row(sqlite3_stmt *st, void *arg)
{
    elist *e = arg;
    const ctx *c = e->c;
    const char *village = rpt_text(st, 1);
    const division *t = rpt_township_of(&c->div, village), *k = rpt_county_of(&c->div, village);
    int64_t R = sqlite3_column_int64(st, 4), B = sqlite3_column_int64(st, 5),
            seats = sqlite3_column_int64(st, 6), elected = sqlite3_column_int64(st, 7),
            unfilled = sqlite3_column_int64(st, 8), women = sqlite3_column_int64(st, 9);
    bool yjt = sqlite3_column_int64(st, 10) != 0;
    const char *findings = rpt_text(st, 11);
    const char *committee = rpt_text(st, 2);
    int ci = -1;
    for (int i = 0; gs_committee_names[i]; i++)
        if (!strcmp(gs_committee_names[i], committee))
            ci = i;

    /* the findings: codes, text with rules (CSV), objects (JSON) */
    gs_buf rules = GS_BUF_INIT;
    json_t *cites = json_array();
    bool bad = !cites;
    int nf = 0;
    for (const char *p = findings; *p;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char name[64];
        snprintf(name, sizeof name, "%.*s", (int)(len < 63 ? len : 63), p);
        p += len + (end != NULL);
        if (!name[0])
            continue;
        gs_finding f = gs_finding_find(name);
        /* cited by the law of this election's committee */
        gs_committee kind = ci < 0 ? GS_COMMITTEE_VILLAGE : (gs_committee)ci;
        const gs_finding_info *fi = f < GS_FIND__COUNT ? gs_finding_cite(f, kind) : NULL;
        if (fi)
            e->per_finding[kind][f]++;
        if (nf)
            gs_buf_puts(&rules, "；");
        gs_buf_printf(&rules, "%s [%s", fi ? fi->zh : "未知审查结果 unknown finding", name);
        if (fi && fi->law[0]) {
            gs_buf_puts(&rules, "; ");
            rpt_rule_text(fi, &rules);
        }
        gs_buf_puts(&rules, "]");
        json_t *cite = json_pack("{s:s, s:s, s:s, s:s, s:s}", "code", name, "text",
                                 fi ? fi->zh : "", "law", fi ? fi->law : "", "version",
                                 fi ? fi->version : "", "article", fi ? fi->article : "");
        if (!cite || json_array_append_new(cites, cite)) /* NULL cites: -1, cite freed */
            bad = true;
        nf++;
    }
    /* the cell holds JSON text; the sheet's JSON form parses and prints it */
    char *cites_text = bad ? NULL : json_dumps(cites, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(cites);

    gs_row r = gs_sheet_row(e->s);
    gs_row_text(&r, rpt_text(st, 0));
    gs_row_text(&r, village);
    gs_row_text(&r, rpt_name_of(c, village));
    gs_row_text(&r, t ? t->code : NULL);
    gs_row_text(&r, t ? t->name : UNKNOWN_NAME);
    gs_row_text(&r, k ? k->code : NULL);
    gs_row_text(&r, k ? k->name : UNKNOWN_NAME);
    gs_row_text(&r, committee);
    gs_row_text(&r, ci >= 0 ? gs_committee_names_zh[ci] : committee);
    gs_row_text(&r, rpt_text(st, 3));
    gs_row_int(&r, R);
    gs_row_int(&r, B);
    gs_row_pct(&r, B, R);
    gs_row_int(&r, seats);
    gs_row_int(&r, elected);
    gs_row_int(&r, unfilled);
    gs_row_int(&r, women);
    gs_row_bool(&r, yjt);
    gs_row_text(&r, findings);
    gs_row_text(&r, rules.data ? rules.data : "");
    gs_row_own(&r, cites_text);
    gs_row_end(&r);
    if (rules.err || !cites_text)
        gs_sheet_fail(e->s);
    gs_buf_free(&rules);

    e->n++;
    e->with_findings += nf > 0;
    e->voters += R;
    e->ballots += B;
    e->seats += seats;
    e->elected += elected;
    e->unfilled += unfilled;
    e->women += women;
    e->yjt += yjt;
    return 0;
}

int rpt_elections(const ctx *c, gs_doc *rp)
{
    gs_sheet *s =
        gs_doc_add(rp, "elections", "换届选举 elections", election_cols, NCOLS(election_cols));
    gs_sheet *tot = gs_sheet_attach_total(s, election_total_cols, NCOLS(election_total_cols));
    gs_sheet *fs = gs_doc_add(rp, "findings", "审查结果及依据 findings and their rules", finding_cols,
                           NCOLS(finding_cols));
    if (!s || !tot || !fs)
        return rpt_oom();
    gs_sheet_set_nocsv(fs);
    elist e = {0};
    e.c = c;
    e.s = s;
    gs_buf q = GS_BUF_INIT;
    gs_buf_puts(&q, "SELECT id, village_code, committee, election_date, coalesce(registered, 0), "
                    "coalesce(voted, 0), coalesce(seats_chair, 0) + coalesce(seats_vice, 0) + "
                    "coalesce(seats_member, 0), coalesce(elected, 0), coalesce(unfilled, 0), "
                    "coalesce(women_elected, 0), coalesce(yijiantiao, 0), coalesce(findings, '') "
                    "FROM elections WHERE _deleted = 0");
    rpt_where_area(&q, c, "village_code");
    rpt_where_dates(&q, c, "election_date");
    if (c->o.findings_only)
        gs_buf_puts(&q, " AND coalesce(findings, '') <> ''");
    gs_buf_puts(&q, " ORDER BY village_code, election_date, committee, id");
    int rc = rpt_query(c, &q, election_row, &e);
    if (rc)
        return rc;
    gs_row r = gs_sheet_row(tot);
    gs_row_int(&r, e.n);
    gs_row_int(&r, e.with_findings);
    gs_row_int(&r, e.voters);
    gs_row_int(&r, e.ballots);
    gs_row_pct(&r, e.ballots, e.voters);
    gs_row_int(&r, e.seats);
    gs_row_int(&r, e.elected);
    gs_row_int(&r, e.unfilled);
    gs_row_int(&r, e.women);
    gs_row_int(&r, e.yjt);
    gs_row_end(&r);
    /* one row per finding and citation: a finding of residents' committees
     * rests on another law than the same finding of villagers' committees */
    for (int f = GS_FIND_NONE + 1; f < GS_FIND__COUNT; f++) {
        for (int k = 0; k < GS_COMMITTEE__COUNT; k++) {
            const gs_finding_info *fi = gs_finding_cite((gs_finding)f, (gs_committee)k);
            int64_t n = 0;
            bool first = true;
            for (int j = 0; j < GS_COMMITTEE__COUNT; j++) {
                if (gs_finding_cite((gs_finding)f, (gs_committee)j) != fi)
                    continue;
                first = first && j >= k; /* the row is written at its first kind */
                n += e.per_finding[j][f];
            }
            if (!n || !first)
                continue;
            gs_row fr = gs_sheet_row(fs);
            gs_row_text(&fr, fi->name);
            gs_row_text(&fr, fi->zh);
            gs_row_text(&fr, fi->law[0] ? fi->law : NULL);
            gs_row_text(&fr, fi->version[0] ? fi->version : NULL);
            gs_row_text(&fr, fi->article[0] ? fi->article : NULL);
            gs_row_int(&fr, n);
            gs_row_end(&fr);
        }
    }
    return 0;
}
