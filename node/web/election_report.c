/*
 * election_report.c: a stored election as it is read: its record page
 * (/election/ID: the figures, the findings with their law, the elected,
 * unfilled seats and 一肩挑, the candidates with their outcomes) and the
 * A4 选举结果报告单 (/election/ID/print) with signature lines, for the
 * routes of elections.c, which enters and edits the results sheet.
 */
#include <stdio.h>
#include <string.h>

#include "entry.h"
#include "pages.h"

static void figures_table(gs_buf *b, const gs_record *e)
{
    const int *shown = pg_election_cells;
    gs_buf_puts(b, "<table class=\"figures\">\n");
    for (size_t i = 0; shown[i] >= 0; i++) {
        if (!gs_record_has(e, shown[i]))
            continue;
        gs_html_printf(b, "<tr><th>%s</th><td>", e->rt->fields[shown[i]].label_zh);
        pg_display(b, e, shown[i]);
        gs_buf_puts(b, "</td></tr>\n");
    }
    gs_buf_puts(b, "</table>\n");
}

static void candidates_table(gs_buf *b, gs_record *const *c, size_t n, gs_committee k)
{
    gs_buf_puts(b, "<table class=\"list\"><thead><tr><th>姓名</th><th>性别</th><th>职务</th>"
                   "<th>轮次</th><th>得票数</th><th>党组织书记</th><th>结果</th><th>审查结果</th>"
                   "</tr></thead><tbody>\n");
    static const int cols[] = {
        GS_CANDIDATE_NAME,  GS_CANDIDATE_GENDER,          GS_CANDIDATE_POST,    GS_CANDIDATE_ROUND,
        GS_CANDIDATE_VOTES, GS_CANDIDATE_PARTY_SECRETARY, GS_CANDIDATE_OUTCOME, -1};
    for (size_t i = 0; i < n; i++) {
        const char *out = pg_str(c[i], GS_CANDIDATE_OUTCOME);
        gs_html_printf(b, "<tr class=\"%s\">", out && !strcmp(out, "elected") ? "elected" : "");
        for (size_t j = 0; cols[j] >= 0; j++) {
            gs_buf_puts(b, "<td>");
            pg_display(b, c[i], cols[j]);
            gs_buf_puts(b, "</td>");
        }
        gs_buf_puts(b, "<td>");
        gs_findset fs = 0;
        if (pg_str(c[i], GS_CANDIDATE_FINDINGS) &&
            !gs_findset_parse(pg_str(c[i], GS_CANDIDATE_FINDINGS), &fs) && fs)
            pg_findings_html(b, pg_str(c[i], GS_CANDIDATE_FINDINGS), k);
        gs_buf_puts(b, "</td></tr>\n");
    }
    gs_buf_puts(b, "</tbody></table>\n");
}

int pg_election_page(gs_http_req *rq, gs_http_resp *rs, const gs_record *e, const pg_list *c)
{
    gs_committee k = node_committee_of(NULL, e);
    gs_buf title = GS_BUF_INIT;
    gs_buf_printf(&title, "%s %s", nweb_t(rq, "换届选举", "Election"),
                  pg_str(e, GS_ELECTION_ELECTION_DATE) ? pg_str(e, GS_ELECTION_ELECTION_DATE) : "");
    nweb_begin(rq, rs, NWEB_ELECTIONS, title.data);
    gs_buf_free(&title);
    gs_buf *b = gs_http_out(rs);
    gs_html_printf(b,
                   "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n<p class=\"actions\">"
                   "<a class=\"button\" href=\"/election/%s/edit\">修改</a> "
                   "<a class=\"button\" href=\"/election/%s/print\">打印选举结果报告单</a> "
                   "<a href=\"/elections\">返回列表</a></p>\n",
                   gs_record_key(e), gs_record_key(e));
    gs_buf_puts(b, "<div class=\"record-grid\"><section><h2>选举数据</h2>\n");
    figures_table(b, e);
    gs_buf_puts(b, "</section><section class=\"findings-box\"><h2>审查结果</h2>\n");
    pg_findings_html(b, pg_str(e, GS_ELECTION_FINDINGS), k);
    gs_buf_printf(
        b,
        "<table class=\"figures\"><tr><th>当选人数</th><td>%lld</td></tr>"
        "<tr><th>当选女性人数</th><td>%lld</td></tr><tr><th>空缺名额</th><td>%lld</td></tr>"
        "<tr><th>一肩挑</th><td>%s</td></tr></table>\n",
        (long long)pg_int(e, GS_ELECTION_ELECTED, 0),
        (long long)pg_int(e, GS_ELECTION_WOMEN_ELECTED, 0),
        (long long)pg_int(e, GS_ELECTION_UNFILLED, 0),
        pg_int(e, GS_ELECTION_YIJIANTIAO, 0) ? "是" : "否");
    gs_buf_puts(b, "</section></div>\n<h2>候选人</h2>\n");
    candidates_table(b, c->v, c->n, k);
    nweb_end(rq, rs);
    return GS_OK;
}

/* The A4 report: a page of its own (no nav), print.css for paper. */
int pg_election_print(gs_http_resp *rs, nweb *w, const gs_record *e, const pg_list *c)
{
    gs_committee k = node_committee_of(NULL, e);
    char village[128];
    pg_village_name(w->store, village, sizeof village);
    gs_buf *b = gs_http_out(rs);
    gs_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">\n");
    gs_html_printf(b, "<title>选举结果报告单 %s</title>\n", village);
    gs_buf_puts(b,
                "<link rel=\"stylesheet\" href=\"/static/print.css\"></head>\n<body class=\"a4\">\n"
                "<p class=\"noprint\"><a href=\"/elections\">返回</a> · "
                "按 Ctrl+P 打印 (A4)</p>\n");
    gs_html_printf(b, "<h1>%s选举结果报告单</h1>\n", village);
    gs_buf_puts(b, "<p class=\"sub\">");
    pg_display(b, e, GS_ELECTION_COMMITTEE);
    gs_buf_puts(b, " · 选举日 ");
    pg_display(b, e, GS_ELECTION_ELECTION_DATE);
    gs_html_printf(b, " · 村社区代码 %s</p>\n", node_store_identity(w->store)->village);
    figures_table(b, e);
    gs_buf_puts(b, "<h2>候选人得票及结果</h2>\n");
    candidates_table(b, c->v, c->n, k);
    gs_buf_printf(b, "<p>当选 %lld 人（女性 %lld 人），空缺 %lld 名；一肩挑：%s。</p>\n",
                  (long long)pg_int(e, GS_ELECTION_ELECTED, 0),
                  (long long)pg_int(e, GS_ELECTION_WOMEN_ELECTED, 0),
                  (long long)pg_int(e, GS_ELECTION_UNFILLED, 0),
                  pg_int(e, GS_ELECTION_YIJIANTIAO, 0) ? "是" : "否");
    gs_buf_puts(b, "<h2>审查结果及法律依据</h2>\n");
    pg_findings_html(b, pg_str(e, GS_ELECTION_FINDINGS), k);
    gs_buf_puts(b, "<table class=\"sign\"><tr><td>村民选举委员会主任（签字）：</td><td></td>"
                   "<td>监票人（签字）：</td><td></td></tr>\n<tr><td>计票人（签字）：</td><td></td>"
                   "<td>日期：</td><td>&nbsp;&nbsp;&nbsp;&nbsp;年&nbsp;&nbsp;&nbsp;&nbsp;月"
                   "&nbsp;&nbsp;&nbsp;&nbsp;日</td></tr></table>\n"
                   "<p class=\"seal\">（村民选举委员会盖章）</p>\n</body></html>\n");
    return GS_OK;
}

