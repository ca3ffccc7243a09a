/*
 * reports.c: 报表, every report of `gridhub report` as XLSX (a worksheet per
 * sheet) or CSV (UTF-8 with a BOM, for Excel) for the user's area and a
 * period: the same hub_report_doc and the sheet model's renderers, so a
 * download holds what the command prints. The area is the user's own or a
 * county, township or village inside it; anything else is refused (403),
 * never widened or narrowed silently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "web.h"

static const struct {
    const char *kind, *zh, *en;
    bool dates;
} kinds[] = {
    {"summary", "汇总", "Summary", true},
    {"incidents", "网格事件", "Incidents", true},
    {"elections", "换届选举", "Elections", true},
    {"councils", "红白理事会", "Councils", true},
    {"nodes", "节点同步状况", "Node sync health", false},
};

/* The options of the area picker: the user's area, then the counties or
 * townships inside it. */
typedef struct pick_ctx {
    gs_buf *b;
    const hweb_scope *sc;
    const char *selected;
} pick_ctx;

static int pick_one(const hub_division *d, void *arg)
{
    pick_ctx *x = arg;
    if (!hweb_scope_within(x->sc, d->code))
        return 0;
    gs_html_printf(x->b, "<option value=\"%s\"%s>%s %s</option>", d->code,
                   !strcmp(d->code, x->selected) ? " selected" : "",
                   strlen(d->code) == 9 ? "　" : "", d->name);
    return 0;
}

static int page_reports(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, false))
        return 0;
    char since[11], until[11];
    gs_errbuf eb = {{0}};
    if (hweb_period(rq, since, until, &eb))
        return gs_http_error(rq, rs, 400, "since", "%s", eb.msg);
    const char *area = gs_http_query(rq, "area");
    hub_report_req req = {0};
    int rc = hweb_report_area(&sc, area, &req);
    if (rc == GS_ESCOPE)
        return hweb_forbidden(rq, rs);
    if (rc)
        return gs_http_error(rq, rs, 400, "area", "%s",
                             hweb_t(rq, "区划代码不对。", "Not a division code."));
    const char *code = req.county ? req.county : req.township ? req.township : req.village;
    hweb_begin(rq, rs, HWEB_REPORTS, hweb_t(rq, "报表下载", "Report downloads"));
    gs_buf *b = gs_http_out(rs);
    gs_html_printf(b,
                   "<form class=\"period\" method=\"get\"><label>%s <select name=\"area\">"
                   "<option value=\"\">%s</option>",
                   hweb_t(rq, "范围", "Area"), sc.division_name);
    pick_ctx x = {b, &sc, code ? code : ""};
    if (sc.role == HWEB_CITY)
        hub_division_children(w->store, NULL, "county", pick_one, &x, &eb);
    if (sc.role != HWEB_TOWNSHIP)
        hub_division_children(w->store, sc.role == HWEB_COUNTY ? sc.division : NULL, "township",
                              pick_one, &x, &eb);
    gs_html_printf(b,
                   "</select></label><label>%s <input type=\"date\" name=\"since\" value=\"%s\">"
                   "</label><label>%s <input type=\"date\" name=\"until\" value=\"%s\"></label>"
                   "<button type=\"submit\">%s</button></form>\n",
                   hweb_t(rq, "自", "From"), since, hweb_t(rq, "至", "to"), until,
                   hweb_t(rq, "选择", "Choose"));
    gs_html_printf(b,
                   "<table class=\"downloads\"><thead><tr><th>%s</th><th>%s</th></tr></thead>"
                   "<tbody>\n",
                   hweb_t(rq, "报表", "Report"), hweb_t(rq, "下载", "Download"));
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        gs_buf q = GS_BUF_INIT;
        gs_buf_printf(&q, "kind=%s", kinds[i].kind);
        if (code)
            gs_buf_printf(&q, "&amp;area=%s", code);
        if (kinds[i].dates)
            gs_buf_printf(&q, "&amp;since=%s&amp;until=%s", since, until);
        gs_html_printf(b, "<tr><td>%s</td><td>", hweb_t(rq, kinds[i].zh, kinds[i].en));
        gs_buf_printf(b,
                      "<a href=\"/reports/download?%s&amp;format=xlsx\">XLSX</a>"
                      "<a href=\"/reports/download?%s&amp;format=csv\">CSV</a></td></tr>\n",
                      q.data, q.data); /* digits and dates only: checked above */
        gs_buf_free(&q);
    }
    gs_html_printf(
        b, "</tbody></table><p class=\"note\">%s</p>\n",
        hweb_t(rq,
               "与命令 gridhub report 的输出相同；CSV 为 UTF-8（带 BOM），可直接用 Excel "
               "打开。",
               "The same as gridhub report prints; the CSV is UTF-8 with a BOM for "
               "Excel."));
    hweb_end(rq, rs);
    return 0;
}

/* The workbook of a document, read back from a temporary file. */
static int xlsx_bytes(const gs_doc *d, gs_buf *out, gs_errbuf *eb)
{
    char path[] = "/tmp/gridhub-web-XXXXXX.xlsx";
    int fd = mkstemps(path, 5);
    if (fd < 0)
        return gs_errf(eb, GS_EIO, "cannot make a temporary file");
    close(fd);
    int rc = gs_doc_xlsx(d, path, eb);
    FILE *f = rc ? NULL : fopen(path, "rb");
    if (!rc && !f)
        rc = gs_errf(eb, GS_EIO, "cannot read the workbook back");
    char chunk[65536];
    size_t n;
    while (f && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        gs_buf_append(out, chunk, n);
    if (f)
        fclose(f);
    unlink(path);
    if (!rc && out->err)
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
    return rc;
}

static int get_download(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    hweb *w = app;
    hweb_scope sc;
    if (hweb_page_scope(rq, rs, &sc, false))
        return 0;
    const char *kind = gs_http_query(rq, "kind"), *format = gs_http_query(rq, "format");
    size_t k = 0;
    while (k < sizeof kinds / sizeof kinds[0] && (!kind || strcmp(kinds[k].kind, kind)))
        k++;
    if (k == sizeof kinds / sizeof kinds[0])
        return gs_http_error(rq, rs, 400, "kind", "%s",
                             hweb_t(rq, "没有这种报表。", "No such report."));
    if (!format || (strcmp(format, "xlsx") && strcmp(format, "csv")))
        return gs_http_error(rq, rs, 400, "format", "%s",
                             hweb_t(rq, "格式应为 xlsx 或 csv。", "format: xlsx or csv."));
    hub_report_req req = {.kind = kinds[k].kind};
    int rc = hweb_report_area(&sc, gs_http_query(rq, "area"), &req);
    if (rc == GS_ESCOPE)
        return hweb_forbidden(rq, rs);
    if (rc)
        return gs_http_error(rq, rs, 400, "area", "%s",
                             hweb_t(rq, "区划代码不对。", "Not a division code."));
    char since[11], until[11];
    gs_errbuf eb = {{0}};
    if (hweb_period(rq, since, until, &eb))
        return gs_http_error(rq, rs, 400, "since", "%s", eb.msg);
    if (kinds[k].dates) {
        req.since = since;
        req.until = until;
    }
    gs_doc *d = NULL;
    if ((rc = hub_report_doc(hub_store_db(w->store), &req, &d, &eb)))
        return gs_http_error(rq, rs, rc == GS_EINVAL ? 400 : 500, NULL, "%s", eb.msg);
    const char *code = req.county ? req.county : req.township ? req.township : req.village;
    char name[160];
    snprintf(name, sizeof name, "%s_%s%s%s%s%s.%s", kinds[k].zh, code ? code : "全市",
             kinds[k].dates ? "_" : "", kinds[k].dates ? since : "", kinds[k].dates ? "_" : "",
             kinds[k].dates ? until : "", format);
    gs_buf out = GS_BUF_INIT;
    if (!strcmp(format, "csv")) {
        gs_doc_csv(d, true, &out);
        rc = out.err ? gs_errf(&eb, GS_ENOMEM, "out of memory") : GS_OK;
    } else {
        rc = xlsx_bytes(d, &out, &eb);
    }
    gs_doc_destroy(&d);
    if (rc) {
        gs_buf_free(&out);
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    }
    hweb_audit(w, rq, "report download", name);
    rc = gs_http_download(rs, name,
                          !strcmp(format, "csv")
                              ? "text/csv; charset=utf-8"
                              : "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                          out.data, out.len);
    gs_buf_free(&out);
    return rc;
}

const gs_http_route hweb_report_routes[] = {
    {"GET", "/reports", page_reports, 0},
    {"GET", "/reports/download", get_download, 0},
    {NULL, NULL, NULL, 0},
};
