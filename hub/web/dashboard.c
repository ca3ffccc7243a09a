/*
 * dashboard.c: 全市概览, the annual-review figures of the user's area as
 * cards, and charts drawn here as inline SVG (no script, nothing fetched):
 * bars by county or township (or village), incidents by category and by
 * month. `/` is the user's whole area, `/area/CODE` a county, township or
 * village inside it; a row's name leads one level down, a village to its
 * incidents in the queue (/incidents?village=CODE).
 *
 * Every figure is a cell of the sheets `gridhub report` renders
 * (hub_report_doc with the same area and period): nothing is counted here,
 * so a card always equals what `gridhub report ... --format json` prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web.h"

/* A card: a column of a report sheet's total row. */
typedef struct card {
    const char *col, *zh, *en;
    const char *sheet; /* NULL: the summary's by_area; else a sheet of the incidents report */
    const char *unit;
    int good_at_least; /* > 0: a percentage, good at or above it, bad below */
    bool bad_if_any;   /* a count that should be zero */
} card;

static const card sync_cards[] = {
    {"villages", "应开通村社区", "villages expected", NULL, NULL, 0, false},
    {"villages_registered", "已开通", "with a node", NULL, NULL, 0, false},
    {"villages_without_node", "未开通", "without a node", NULL, NULL, 0, true},
    {"villages_reporting", "7日内同步", "synced within 7 days", NULL, NULL, 0, false},
    {"reporting_pct", "同步率", "reporting", NULL, "%", 90, false},
};
static const card election_cards[] = {
    {"elections_village", "村委会选举", "villagers' committee elections", NULL, NULL, 0, false},
    {"elections_residents", "居委会选举", "residents' committee elections", NULL, NULL, 0, false},
    {"elections_party", "党组织选举", "party branch elections", NULL, NULL, 0, false},
    {"villagers_election_pct", "村委会换届率", "villagers' committees elected", NULL, "%", 95,
     false},
    {"turnout_pct", "投票率", "turnout", NULL, "%", 95, false},
    {"villages_turnout_below_95", "投票率低于95%的村", "villages below 95% turnout", NULL, NULL, 0,
     true},
    {"elections_invalid", "依法无效", "invalid", NULL, NULL, 0, true},
    {"seats_unfilled", "空缺名额", "seats unfilled", NULL, NULL, 0, true},
    {"elections_no_woman", "无女性当选", "no woman elected", NULL, NULL, 0, true},
    {"yijiantiao", "一肩挑", "one person both posts", NULL, NULL, 0, false},
};
static const card council_cards[] = {
    {"villages_with_council", "有红白理事会的村", "villages with a council", NULL, NULL, 0, false},
    {"council_coverage_pct", "理事会覆盖率", "council coverage", NULL, "%", 95, false},
    {"affairs_total", "红白事", "affairs", NULL, NULL, 0, false},
    {"affairs_with_violations", "违规事项", "affairs over the standards", NULL, NULL, 0, true},
};
static const card incident_cards[] = {
    {"incidents_opened", "新发事件", "opened", NULL, NULL, 0, false},
    {"incidents_closed", "已结案", "closed", NULL, NULL, 0, false},
    {"incidents_open", "未办结", "open", NULL, NULL, 0, false},
    {"overdue", "超期未办结", "overdue", "by_month", NULL, 0, true},
    {"closure_pct", "结案率", "closure rate", "by_month", "%", 90, false},
    {"on_time_pct", "按期结案率", "closed on time", "by_month", "%", 90, false},
    {"incidents_open_over_30d", "超30天未办结", "open over 30 days", NULL, NULL, 0, true},
    {"median_days_to_close", "结案天数中位数", "median days to close", NULL, "天", 0, false},
};

static void put_cards(gs_http_req *rq, gs_buf *b, const gs_doc *sum, const gs_doc *inc,
                      const char *zh, const char *en, const card *cards, size_t n)
{
    gs_html_printf(b, "<section class=\"group\"><h2>%s</h2><div class=\"cards\">",
                   hweb_t(rq, zh, en));
    for (size_t i = 0; i < n; i++) {
        const card *k = &cards[i];
        /* the area's figure: the total, the last row */
        const gs_sheet *s = k->sheet ? hweb_sheet(inc, k->sheet) : hweb_sheet(sum, "by_area");
        size_t row = s && gs_sheet_nrows(s) ? gs_sheet_nrows(s) - 1 : 0;
        const char *v = hweb_cell(s, row, k->col);
        if (!hweb_sheet_has_col(s, k->col))
            continue; /* a column the report does not have */
        const char *cls = "";
        if (v && k->good_at_least)
            cls = atof(v) >= k->good_at_least ? " good" : " bad";
        else if (v && k->bad_if_any && atof(v) > 0)
            cls = " bad";
        gs_html_printf(b,
                       "<div class=\"figure%s\" data-report=\"%s\" data-sheet=\"%s\" "
                       "data-key=\"%s\">"
                       "<div class=\"label\">%s</div>"
                       "<div class=\"value\">%s<span class=\"unit\">%s</span></div>",
                       cls, k->sheet ? "incidents" : "summary", k->sheet ? k->sheet : "by_area",
                       k->col, hweb_t(rq, k->zh, k->en), v ? v : "-", v && k->unit ? k->unit : "");
        if (k->good_at_least)
            gs_html_printf(b, "<div class=\"target\">%s %d%%</div>", hweb_t(rq, "目标", "target"),
                           k->good_at_least);
        gs_buf_puts(b, "</div>");
    }
    gs_buf_puts(b, "</div></section>\n");
}

/* ---- charts ---------------------------------------------------------------------- */

typedef struct series {
    const char *col, *zh, *en, *color;
} series;

/* Horizontal bars, one group per row of s (the total row left out), a bar
 * per series; each row's name links one level down. */
static void bars(gs_http_req *rq, gs_buf *b, const gs_sheet *s, const char *label_col,
                 const char *title_zh, const char *title_en, const series *sr, int ns,
                 bool area_links)
{
    (void)area_links;
    size_t rows = gs_sheet_nrows(s);
    if (rows)
        rows--; /* the total is the last row: not a bar */
    double max = 1;
    for (size_t r = 0; r < rows; r++)
        for (int k = 0; k < ns; k++) {
            const char *v = hweb_cell(s, r, sr[k].col);
            if (v && atof(v) > max)
                max = atof(v);
        }
    int bar = 12, gap = 8, label_w = 130, width = 500;
    int group = bar * ns + gap;
    int height = (int)rows * group + 30;
    gs_html_printf(b, "<figure class=\"card chart\"><figcaption><h2>%s</h2><div class=\"legend\">",
                   hweb_t(rq, title_zh, title_en));
    for (int k = 0; k < ns; k++)
        gs_html_printf(b,
                       "<svg class=\"swatch\" width=\"14\" height=\"14\" aria-hidden=\"true\">"
                       "<rect width=\"14\" height=\"14\" fill=\"%s\"/></svg>%s",
                       sr[k].color, hweb_t(rq, sr[k].zh, sr[k].en));
    gs_html_printf(b,
                   "</div></figcaption><svg viewBox=\"0 0 %d %d\" role=\"img\" "
                   "xmlns=\"http://www.w3.org/2000/svg\" aria-label=\"%s\">",
                   width, height > 40 ? height : 40, hweb_t(rq, title_zh, title_en));
    for (size_t r = 0; r < rows; r++) {
        int y = (int)r * group + 10;
        const char *name = hweb_cell(s, r, label_col), *code = hweb_cell(s, r, "code");
        const char *level = hweb_cell(s, r, "level");
        bool link = code && level && strcmp(level, "unknown");
        if (link) {
            if (!strcmp(level, "village"))
                gs_html_printf(b, "<a href=\"/incidents?village=%s\">", code);
            else
                gs_html_printf(b, "<a href=\"/area/%s\">", code);
        }
        gs_html_printf(b, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.24s</text>", label_w - 6,
                       y + bar * ns / 2 + 4, name ? name : "-");
        if (link)
            gs_buf_puts(b, "</a>");
        for (int k = 0; k < ns; k++) {
            const char *v = hweb_cell(s, r, sr[k].col);
            double x = v ? atof(v) : 0;
            int w = (int)((width - label_w - 60) * x / max + 0.5);
            gs_html_printf(b,
                           "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\">"
                           "<title>%s: %s</title></rect>"
                           "<text x=\"%d\" y=\"%d\" font-size=\"11\">%s</text>",
                           label_w, y + k * bar, w, bar - 2, sr[k].color,
                           hweb_t(rq, sr[k].zh, sr[k].en), v ? v : "0", label_w + w + 4,
                           y + k * bar + bar - 3, v ? v : "0");
        }
    }
    gs_buf_puts(b, "</svg></figure>\n");
}

/* The monthly trend: a line per series over the months of the period. */
static void trend(gs_http_req *rq, gs_buf *b, const gs_sheet *s)
{
    size_t n = gs_sheet_nrows(s);
    if (n)
        n--; /* the total row */
    if (!n)
        return;
    static const series sr[] = {{"opened", "新发", "opened", "#b22222"},
                                {"closed", "结案", "closed", "#1f5fa8"}};
    double max = 1;
    for (size_t r = 0; r < n; r++)
        for (int k = 0; k < 2; k++) {
            const char *v = hweb_cell(s, r, sr[k].col);
            if (v && atof(v) > max)
                max = atof(v);
        }
    int width = 500, height = 220, left = 40, bottom = 30, top = 10;
    double step = n > 1 ? (double)(width - left - 20) / (double)(n - 1) : 0;
    gs_html_printf(b, "<figure class=\"card chart\"><figcaption><h2>%s</h2><div class=\"legend\">",
                   hweb_t(rq, "网格事件月度趋势", "Incidents by month"));
    for (int k = 0; k < 2; k++)
        gs_html_printf(b,
                       "<svg class=\"swatch\" width=\"14\" height=\"14\" aria-hidden=\"true\">"
                       "<rect width=\"14\" height=\"14\" fill=\"%s\"/></svg>%s",
                       sr[k].color, hweb_t(rq, sr[k].zh, sr[k].en));
    gs_html_printf(b,
                   "</div></figcaption><svg viewBox=\"0 0 %d %d\" role=\"img\" "
                   "xmlns=\"http://www.w3.org/2000/svg\" aria-label=\"%s\">"
                   "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#9aa5b3\"/>"
                   "<text x=\"4\" y=\"%d\">%.0f</text><text x=\"4\" y=\"%d\">0</text>",
                   width, height, hweb_t(rq, "网格事件月度趋势", "Incidents by month"), left,
                   height - bottom, width - 10, height - bottom, top + 10, max, height - bottom);
    for (int k = 0; k < 2; k++) {
        gs_html_printf(b, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"",
                       sr[k].color);
        for (size_t r = 0; r < n; r++) {
            const char *v = hweb_cell(s, r, sr[k].col);
            double y = (height - bottom) - (height - bottom - top) * (v ? atof(v) : 0) / max;
            gs_buf_printf(b, "%.1f,%.1f ", left + step * (double)r, y);
        }
        gs_buf_puts(b, "\"/>");
        for (size_t r = 0; r < n; r++) {
            const char *v = hweb_cell(s, r, sr[k].col), *m = hweb_cell(s, r, "month");
            double y = (height - bottom) - (height - bottom - top) * (v ? atof(v) : 0) / max;
            gs_html_printf(b,
                           "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"><title>%s %s: "
                           "%s</title></circle>",
                           left + step * (double)r, y, sr[k].color, m ? m : "",
                           hweb_t(rq, sr[k].zh, sr[k].en), v ? v : "0");
        }
    }
    for (size_t r = 0; r < n; r++) {
        const char *m = hweb_cell(s, r, "month");
        if (n <= 12 || r % (n / 12 + 1) == 0)
            gs_html_printf(b,
                           "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
                           "font-size=\"11\">%s</text>",
                           left + step * (double)r, height - 10, m ? m + 2 : "");
    }
    gs_buf_puts(b, "</svg></figure>\n");
}

/* ---- the page -------------------------------------------------------------------- */

/* The way down to code from the user's area: 全市 › 县区 › 乡镇 › 村. */
static void crumbs(gs_http_req *rq, hweb *w, gs_buf *b, const hweb_scope *sc, const char *code,
                   const char *q)
{
    gs_buf_puts(b, "<p class=\"crumbs\">");
    bool first = true;
    if (sc->role == HWEB_CITY) {
        gs_html_printf(b, "<a href=\"/%s\">%s</a>", q, hweb_t(rq, "全市", "City"));
        first = false;
    }
    size_t lens[] = {6, 9, 12};
    for (int i = 0; i < 3; i++) {
        char part[16];
        if (strlen(code) < lens[i])
            break;
        snprintf(part, sizeof part, "%.*s", (int)lens[i], code);
        if (!hweb_scope_within(sc, part))
            continue;
        hub_division d;
        gs_errbuf eb = {{0}};
        const char *name = hub_division_get(w->store, part, &d, &eb) == GS_OK ? d.name : part;
        gs_html_printf(b, "%s<a href=\"/area/%s%s\">%s</a>", first ? "" : " › ", part, q, name);
        first = false;
    }
    gs_buf_puts(b, "</p>\n");
}

static int show(gs_http_req *rq, gs_http_resp *rs, hweb *w, const char *code)
{
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, false))
        return 0;
    hub_report_req req = {.kind = "summary"};
    int rc = hweb_report_area(&sc, code, &req);
    if (rc == GS_ESCOPE)
        return hweb_forbidden(rq, rs);
    if (rc)
        return gs_http_error(rq, rs, 404, NULL, "%s",
                             hweb_t(rq, "没有这个区划代码。", "No such division code."));
    char since[11], until[11];
    gs_errbuf eb = {{0}};
    if (hweb_period(rq, since, until, &eb))
        return gs_http_error(rq, rs, 400, "since", "%s", eb.msg);
    req.since = since;
    req.until = until;
    /* kept between pages (figures.c): ?fresh=1 reads them now */
    const char *fr = gs_http_query(rq, "fresh");
    bool fresh = fr && strcmp(fr, "0");
    hweb_fig fsum, finc = {0};
    if ((rc = hweb_figs_get(w, &req, fresh, &fsum, &eb)) == GS_OK) {
        req.kind = "incidents";
        req.no_stages = true; /* not shown here, and a scan of the whole change log */
        rc = hweb_figs_get(w, &req, fresh, &finc, &eb);
        if (rc)
            hweb_figs_put(w, &fsum);
    }
    if (rc)
        return gs_http_error(rq, rs, rc == GS_EINVAL ? 404 : 500, NULL, "%s", eb.msg);
    const gs_doc *sum = fsum.doc, *inc = finc.doc;
    const char *area = req.county ? req.county : req.township ? req.township : req.village;
    hub_division d = {{0}};
    if (area)
        hub_division_get(w->store, area, &d, &eb);
    char title[200];
    snprintf(title, sizeof title, "%s%s%s", hweb_t(rq, "概览", "Overview"), area ? " · " : "",
             area ? (d.name[0] ? d.name : area) : "");
    if (!area)
        snprintf(title, sizeof title, "%s", hweb_t(rq, "全市概览", "City overview"));
    hweb_begin(rq, rs, HWEB_DASHBOARD, title);
    gs_buf *b = gs_http_out(rs);
    gs_buf q = GS_BUF_INIT;
    gs_buf_puts(&q, "?since=");
    gs_url_escape(&q, since);
    gs_buf_puts(&q, "&amp;until=");
    gs_url_escape(&q, until);
    crumbs(rq, w, b, &sc, area ? area : "", q.data);
    gs_html_printf(b,
                   "<form class=\"period\" method=\"get\"><label>%s <input type=\"date\" "
                   "name=\"since\" value=\"%s\"></label><label>%s <input type=\"date\" "
                   "name=\"until\" value=\"%s\"></label><button type=\"submit\">%s</button>",
                   hweb_t(rq, "自", "From"), since, hweb_t(rq, "至", "to"), until,
                   hweb_t(rq, "查看", "Show"));
    if (req.village)
        gs_html_printf(b, " <a class=\"button secondary\" href=\"/incidents?village=%s\">%s</a>",
                       req.village, hweb_t(rq, "查看该村的事件", "This village's incidents"));
    gs_buf_puts(b, "</form>\n");

    const gs_sheet *s = hweb_sheet(sum, "by_area");
    put_cards(rq, b, sum, inc, "村社区与同步", "Villages and sync", sync_cards,
              sizeof sync_cards / sizeof sync_cards[0]);
    put_cards(rq, b, sum, inc, "网格事件", "Incidents", incident_cards,
              sizeof incident_cards / sizeof incident_cards[0]);
    put_cards(rq, b, sum, inc, "换届选举", "Elections", election_cards,
              sizeof election_cards / sizeof election_cards[0]);
    put_cards(rq, b, sum, inc, "红白理事会", "Red-white councils", council_cards,
              sizeof council_cards / sizeof council_cards[0]);

    const char *by = req.township ? "按村社区" : req.county ? "按乡镇（街道）" : "按县区";
    const char *by_en = req.township ? "by village" : req.county ? "by township" : "by county";
    char tz[96], te[96];
    gs_buf_puts(b, "<div class=\"charts\">");
    if (!req.village) {
        static const series sync_sr[] = {
            {"villages", "应开通", "expected", "#c7ced8"},
            {"villages_registered", "已开通", "with a node", "#1f5fa8"},
            {"villages_reporting", "7日内同步", "synced in 7 days", "#1c6b34"}};
        snprintf(tz, sizeof tz, "村社区开通与同步（%s）", by);
        snprintf(te, sizeof te, "Villages and sync (%s)", by_en);
        bars(rq, b, s, "name", tz, te, sync_sr, 3, true);
        static const series inc_sr[] = {{"incidents_opened", "新发", "opened", "#b22222"},
                                        {"incidents_closed", "结案", "closed", "#1f5fa8"},
                                        {"incidents_open", "未办结", "open", "#e08a00"}};
        snprintf(tz, sizeof tz, "网格事件（%s）", by);
        snprintf(te, sizeof te, "Incidents (%s)", by_en);
        bars(rq, b, s, "name", tz, te, inc_sr, 3, true);
    }
    const gs_sheet *months = hweb_sheet(inc, "by_month");
    if (months)
        trend(rq, b, months);
    const gs_sheet *cats = hweb_sheet(inc, "by_category");
    if (cats && gs_sheet_nrows(cats) > 1) {
        static const series cat_sr[] = {{"total", "事件数", "incidents", "#6a4c93"}};
        bars(rq, b, cats, "name", "网格事件（按类别）", "Incidents by category", cat_sr, 1, false);
    }
    gs_buf_puts(b, "</div>\n");

    /* the rows, as a table a person can read aloud, with the links down */
    if (s && !req.village) {
        gs_html_printf(b,
                       "<section class=\"card\"><h2>%s</h2><table class=\"areas\"><thead><tr>"
                       "<th>%s</th><th class=\"num\">%s</th><th class=\"num\">%s</th>"
                       "<th class=\"num\">%s</th><th class=\"num\">%s</th>"
                       "<th class=\"num\">%s</th><th class=\"num\">%s</th></tr></thead><tbody>",
                       hweb_t(rq, by, by_en), hweb_t(rq, "名称", "name"),
                       hweb_t(rq, "应开通", "expected"), hweb_t(rq, "已开通", "with a node"),
                       hweb_t(rq, "7日内同步", "synced 7 d"), hweb_t(rq, "新发事件", "opened"),
                       hweb_t(rq, "已结案", "closed"), hweb_t(rq, "未办结", "open"));
        for (size_t r = 0; r < gs_sheet_nrows(s); r++) {
            const char *code_r = hweb_cell(s, r, "code"), *level = hweb_cell(s, r, "level");
            const char *name = hweb_cell(s, r, "name");
            bool is_total = r + 1 == gs_sheet_nrows(s);
            gs_html_printf(b, "<tr%s data-code=\"%s\"><td>", is_total ? " class=\"total\"" : "",
                           code_r ? code_r : "");
            if (!is_total && code_r && level && !strcmp(level, "village"))
                gs_html_printf(b,
                               "<a href=\"/area/%s%s\">%s</a> · <a href=\"/incidents?village="
                               "%s\">%s</a>",
                               code_r, q.data, name, code_r, hweb_t(rq, "事件", "incidents"));
            else if (!is_total && code_r && level && strcmp(level, "unknown"))
                gs_html_printf(b, "<a href=\"/area/%s%s\">%s</a>", code_r, q.data, name);
            else
                gs_html_printf(b, "%s", is_total ? hweb_t(rq, "合计", "total") : name);
            const char *cols[] = {"villages",         "villages_registered", "villages_reporting",
                                  "incidents_opened", "incidents_closed",    "incidents_open"};
            gs_buf_puts(b, "</td>");
            for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
                const char *v = hweb_cell(s, r, cols[k]);
                gs_html_printf(b, "<td class=\"num\">%s</td>", v ? v : "-");
            }
            gs_buf_puts(b, "</tr>\n");
        }
        gs_buf_puts(b, "</tbody></table></section>\n");
    }
    /* 2026-11-28T09:30:00+08:00 shown as 2026-11-28 09:30:00 */
    gs_buf_reset(&q);
    gs_datetime_from_ms(fsum.made_ms < finc.made_ms ? fsum.made_ms : finc.made_ms, &q);
    if (q.data && q.len > 10)
        q.data[10] = ' ';
    gs_html_printf(b, "<p class=\"note as-of\" data-current=\"%d\">%s %.19s%s%s",
                   fsum.current && finc.current, hweb_t(rq, "数据读取于", "Figures read at"),
                   q.data ? q.data : "", hweb_t(rq, "。", ". "),
                   hweb_t(rq, "以上数字与同一时刻 gridhub report 同一范围、同一期间打印的相同。",
                          "They are those gridhub report printed then for the same area and "
                          "period."));
    if (!(fsum.current && finc.current))
        gs_html_printf(b, " %s <a href=\"?since=%s&amp;until=%s&amp;fresh=1\">%s</a>",
                       hweb_t(rq, "此后数据库有更新，数字每分钟重读一次；",
                              "The database has changed since; the figures are read again "
                              "every minute;"),
                       since, until, hweb_t(rq, "现在刷新", "read them now"));
    gs_buf_puts(b, "</p>");
    gs_buf_free(&q);
    hweb_figs_put(w, &fsum);
    hweb_figs_put(w, &finc);
    hweb_end(rq, rs);
    return 0;
}

static int page_dashboard(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return show(rq, rs, app, NULL);
}

static int page_area(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return show(rq, rs, app, gs_http_tail(rq));
}

const gs_http_route hweb_dashboard_routes[] = {
    {"GET", "/", page_dashboard, 0},
    {"GET", "/area/", page_area, GS_ROUTE_PREFIX},
    {NULL, NULL, NULL, 0},
};
