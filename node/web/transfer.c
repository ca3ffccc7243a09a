/*
 * transfer.c: 导入导出, the import and export page of the village desk.
 *
 *   GET  /transfer                  the upload form and the downloads
 *   POST /transfer                  an upload (multipart: type, file): the dry
 *                                   run, rows, errors by row and column, what
 *                                   is new / changed / unchanged, and a
 *                                   confirm button when nothing is wrong
 *   POST /transfer/confirm          imports the kept upload (token), all or
 *                                   nothing
 *   GET  /transfer/template?type=T&format=xlsx|csv   the import template
 *   GET  /transfer/export?type=T&format=xlsx|csv     every record of T
 *
 * The import is node_import_run (import.c), the function `gridnode import`
 * runs: the dry run is a run that rolls back, the confirmation one that
 * commits. Between the two the upload's bytes are kept in memory under a
 * random token (32 hex digits from libsodium), at most MAX_KEPT uploads and
 * MAX_KEPT_BYTES together, each for KEEP_MS; the oldest goes first. Only
 * the server's thread touches them (web.h), so they need no lock.
 *
 * Templates and exports are the command's: node_import_template (import.c)
 * and gs_find_print_list (gridnode export), written into memory (a CSV
 * through open_memstream, a workbook through a temporary file, since
 * libxlsxwriter writes files) and sent as a download with a Chinese name.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gridsync/find.h"
#include "gridsync/hlc.h"
#include "import.h"
#include "pages.h"

#define MAX_KEPT       4
#define MAX_KEPT_BYTES ((size_t)64 << 20)
#define KEEP_MS        (30 * 60 * 1000)
#define MAX_SHOWN      500 /* errors listed on the page; then a count */

#define XLSX_TYPE "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

/* One upload waiting for its confirmation. */
typedef struct kept {
    char token[33];
    const gs_rectype *rt;
    char *name;
    unsigned char *data;
    size_t len;
    int64_t at_ms;
} kept;

struct nweb_transfer {
    kept k[MAX_KEPT];
};

static void kept_clear(kept *k)
{
    free(k->name);
    if (k->data)
        sodium_memzero(k->data, k->len);
    free(k->data);
    memset(k, 0, sizeof *k);
}

void nweb_transfer_free(nweb *w)
{
    if (!w->transfer)
        return;
    for (int i = 0; i < MAX_KEPT; i++)
        kept_clear(&w->transfer->k[i]);
    free(w->transfer);
    w->transfer = NULL;
}

/* Drops what has expired, then the oldest until a new upload of len bytes
 * fits. */
static void kept_make_room(struct nweb_transfer *t, size_t len)
{
    int64_t now = (int64_t)gs_wall_ms();
    for (;;) {
        size_t total = len;
        int oldest = -1, free_slot = -1;
        for (int i = 0; i < MAX_KEPT; i++) {
            kept *k = &t->k[i];
            if (k->token[0] && now - k->at_ms > KEEP_MS)
                kept_clear(k);
            if (!k->token[0]) {
                free_slot = i;
                continue;
            }
            total += k->len;
            if (oldest < 0 || k->at_ms < t->k[oldest].at_ms)
                oldest = i;
        }
        if (free_slot >= 0 && total <= MAX_KEPT_BYTES)
            return;
        if (oldest < 0)
            return;
        kept_clear(&t->k[oldest]);
    }
}

/* Keeps an upload; its token into token. GS_ENOMEM when it cannot. */
static int kept_add(nweb *w, const gs_rectype *rt, const char *name, const void *data, size_t len,
                    char token[33])
{
    if (!w->transfer && !(w->transfer = calloc(1, sizeof *w->transfer)))
        return GS_ENOMEM;
    if (len > MAX_KEPT_BYTES)
        return GS_ETOOBIG;
    kept_make_room(w->transfer, len);
    kept *k = NULL;
    for (int i = 0; i < MAX_KEPT && !k; i++)
        if (!w->transfer->k[i].token[0])
            k = &w->transfer->k[i];
    if (!k)
        return GS_ENOMEM;
    /* wiped when dropped: the file may hold people's names and phone numbers */
    if (!(k->data = malloc(len ? len : 1)) || !(k->name = strdup(name))) {
        kept_clear(k);
        return GS_ENOMEM;
    }
    memcpy(k->data, data, len);
    k->len = len;
    k->rt = rt;
    k->at_ms = (int64_t)gs_wall_ms();
    unsigned char r[16];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(k->token, sizeof k->token, r, sizeof r);
    memcpy(token, k->token, 33);
    return GS_OK;
}

/* The kept upload of token, or NULL (unknown or expired). */
static kept *kept_find(nweb *w, const char *token)
{
    if (!w->transfer || !token || strlen(token) != 32)
        return NULL;
    int64_t now = (int64_t)gs_wall_ms();
    for (int i = 0; i < MAX_KEPT; i++) {
        kept *k = &w->transfer->k[i];
        if (k->token[0] && sodium_memcmp(k->token, token, 32) == 0)
            return now - k->at_ms > KEEP_MS ? (kept_clear(k), NULL) : k;
    }
    return NULL;
}

/* ---- running an import -------------------------------------------------------- */

/* The errors of one run, as a page shows them. */
typedef struct err_rows {
    gs_buf html;
    int n;
} err_rows;

static void collect_error(const node_import_error *e, void *arg)
{
    err_rows *er = arg;
    if (++er->n > MAX_SHOWN)
        return;
    gs_html_printf(&er->html, "<tr><td class=\"num\">%zu</td><td>%s</td><td>%s</td><td>%s</td></tr>\n",
                   e->row, e->col ? e->col : "", e->header ? e->header : "", e->msg);
}

/* Reads the bytes and runs the import (commit: for real). GS_OK with res
 * and the errors' rows, or an error reading the file (eb). */
static int run(nweb *w, const gs_rectype *rt, const char *name, const void *data, size_t len,
               bool commit, node_import_result *res, err_rows *er, gs_errbuf *eb)
{
    gs_csv *csv = NULL;
    int rc = node_import_read(&csv, name, data, len, eb);
    if (rc)
        return rc;
    char where[400];
    if (gs_csv_sheet(csv))
        snprintf(where, sizeof where, "%s: sheet \"%s\"", name, gs_csv_sheet(csv));
    else
        snprintf(where, sizeof where, "%s", name);
    node_import_opts o = {where, commit, false, collect_error, er};
    rc = node_import_run(w->store, rt, csv, &o, res, eb);
    gs_csv_destroy(&csv);
    return rc;
}

static void result_html(gs_http_req *rq, gs_buf *b, const char *name, const node_import_result *r,
                        const err_rows *er)
{
    gs_html_printf(b, "<table class=\"figures\"><tr><th>文件</th><td>%s</td></tr>"
                      "<tr><th>类型</th><td>%s</td></tr><tr><th>编码</th><td>%s</td></tr>",
                   name, r->rt->label_zh, node_import_encoding_name(r->encoding));
    if (!r->header_bad)
        gs_buf_printf(b, "<tr><th>数据行</th><td id=\"rows\">%zu</td></tr>", r->rows);
    gs_buf_puts(b, "</table>\n");
    if (!r->errors)
        gs_buf_printf(b, "<p class=\"counts-row\"><span>新增 <b id=\"new\">%zu</b></span>"
                         "<span>修改 <b id=\"changed\">%zu</b></span>"
                         "<span>不变 <b id=\"unchanged\">%zu</b></span>%s</p>\n",
                      r->created, r->updated, r->unchanged,
                      r->examples ? "<span class=\"hint\">（模板示例行已跳过）</span>" : "");
    if (er->n) {
        gs_buf_printf(b, "<p class=\"alert\" id=\"import-errors\">%s%d 处错误，什么也没有导入 (%d "
                         "error(s); nothing was imported)</p>\n",
                      r->header_bad ? "表头有 " : "共 ", er->n, er->n);
        gs_buf_printf(b, "<table class=\"list errors-table\"><thead><tr><th>%s</th><th>%s</th>"
                         "<th>%s</th><th>%s</th></tr></thead><tbody>\n%s</tbody></table>\n",
                      nweb_t(rq, "行", "Row"), nweb_t(rq, "列", "Column"),
                      nweb_t(rq, "表头", "Header"), nweb_t(rq, "问题", "Problem"),
                      er->html.data ? er->html.data : "");
        if (er->n > MAX_SHOWN)
            gs_buf_printf(b, "<p>…… 另有 %d 处错误</p>\n", er->n - MAX_SHOWN);
    }
}

/* ---- pages -------------------------------------------------------------------------- */

/* The types a village imports and exports. */
static bool importable(const gs_rectype *rt)
{
    return rt && !rt->reference;
}

static void upload_form(gs_http_req *rq, gs_buf *b, const char *selected)
{
    gs_buf_puts(b, "<form method=\"post\" action=\"/transfer\" enctype=\"multipart/form-data\" "
                   "class=\"record\" id=\"upload\">\n");
    nweb_csrf_field(rq, b);
    gs_buf_printf(b, "<p><label for=\"type\">%s</label> <select name=\"type\" id=\"type\">",
                  nweb_t(rq, "导入到", "Import as"));
    for (int i = 0; i < GS_RT__COUNT; i++) {
        const gs_rectype *rt = gs_rectype_get(i);
        if (importable(rt))
            gs_html_printf(b, "<option value=\"%s\"%s>%s</option>", rt->plural,
                           selected && !strcmp(selected, rt->plural) ? " selected" : "",
                           rt->label_zh);
    }
    gs_buf_printf(b, "</select></p>\n<p><label for=\"file\">%s</label> <input type=\"file\" "
                     "name=\"file\" id=\"file\" accept=\".csv,.xlsx,text/csv\" required></p>\n"
                     "<p><button type=\"submit\" class=\"primary\">%s</button> <span class=\"hint\">%s"
                     "</span></p></form>\n",
                  nweb_t(rq, "文件 (CSV 或 Excel .xlsx)", "File (CSV or Excel .xlsx)"),
                  nweb_t(rq, "检查（试导入）", "Check (dry run)"),
                  nweb_t(rq, "先检查，确认后才保存", "checked first; saved only when you confirm"));
}

static int h_page(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    (void)app;
    nweb_begin(rq, rs, NWEB_TRANSFER, nweb_t(rq, "导入导出", "Import and export"));
    gs_buf *b = gs_http_out(rs);
    gs_buf_printf(b, "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n<h2>%s</h2>\n",
                  nweb_t(rq, "导入", "Import"));
    upload_form(rq, b, gs_http_query(rq, "type"));
    gs_buf_printf(b, "<h2>%s</h2>\n<table class=\"list downloads\"><thead><tr><th></th><th>%s</th>"
                     "<th>%s</th></tr></thead><tbody>\n",
                  nweb_t(rq, "模板与导出", "Templates and exports"),
                  nweb_t(rq, "导入模板", "Template"), nweb_t(rq, "导出全部记录", "Export all"));
    for (int i = 0; i < GS_RT__COUNT; i++) {
        const gs_rectype *rt = gs_rectype_get(i);
        if (!importable(rt))
            continue;
        gs_html_printf(b, "<tr><th>%s</th><td><a href=\"/transfer/template?type=%s&amp;format=xlsx\">"
                          "Excel</a> · <a href=\"/transfer/template?type=%s&amp;format=csv\">CSV</a>"
                          "</td><td><a href=\"/transfer/export?type=%s&amp;format=xlsx\">Excel</a> · "
                          "<a href=\"/transfer/export?type=%s&amp;format=csv\">CSV</a></td></tr>\n",
                       rt->label_zh, rt->plural, rt->plural, rt->plural, rt->plural);
    }
    gs_buf_puts(b, "</tbody></table>\n");
    nweb_end(rq, rs);
    return GS_OK;
}

/* The type a request names (form field or query "type"), importable. */
static const gs_rectype *type_of(const char *name)
{
    const gs_rectype *rt = name ? gs_rectype_find(name) : NULL;
    return importable(rt) ? rt : NULL;
}

static int h_upload(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    const gs_rectype *rt = type_of(gs_http_form(rq, "type"));
    const gs_http_upload *up = gs_http_file(rq, "file");
    if (!rt)
        return gs_http_error(rq, rs, 400, "type", "请选择要导入的记录类型 (choose what the file holds)");
    if (!up || !up->len)
        return gs_http_error(rq, rs, 400, "file", "请选择一个 CSV 或 Excel 文件 (choose a file)");
    const char *name = up->filename && *up->filename ? up->filename : "upload.csv";
    node_import_result res;
    err_rows er = {GS_BUF_INIT, 0};
    gs_errbuf eb = {{0}};
    int rc = run(w, rt, name, up->data, up->len, false, &res, &er, &eb);
    if (rc == GS_ENOMEM || rc == GS_ESQL) {
        gs_buf_free(&er.html);
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    }
    char token[33] = "";
    if (!rc && !res.errors && kept_add(w, rt, name, up->data, up->len, token)) {
        gs_buf_free(&er.html);
        return gs_http_error(rq, rs, 413, "file", "文件太大，无法保留待确认 (too large to keep)");
    }
    if (rc || res.errors)
        gs_http_set_status(rs, 400);
    nweb_begin(rq, rs, NWEB_TRANSFER, nweb_t(rq, "导入检查结果", "Dry run"));
    gs_buf *b = gs_http_out(rs);
    gs_buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n");
    if (rc) {
        gs_html_printf(b, "<p class=\"alert\" id=\"import-errors\">无法读取文件，什么也没有导入：%s</p>\n",
                       eb.msg);
    } else {
        result_html(rq, b, name, &res, &er);
        if (!res.errors) {
            gs_buf_printf(b, "<form method=\"post\" action=\"/transfer/confirm\" id=\"confirm\">");
            nweb_csrf_field(rq, b);
            gs_html_printf(b, "<input type=\"hidden\" name=\"token\" value=\"%s\">"
                              "<p><button type=\"submit\" class=\"primary\">确认导入</button> "
                              "<a href=\"/transfer\">取消</a></p></form>\n",
                           token);
        }
    }
    gs_buf_free(&er.html);
    gs_buf_printf(b, "<h2>%s</h2>\n", nweb_t(rq, "重新上传", "Upload again"));
    upload_form(rq, b, rt->plural);
    nweb_end(rq, rs);
    return GS_OK;
}

static int h_confirm(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    kept *k = kept_find(w, gs_http_form(rq, "token"));
    if (!k)
        return gs_http_error(rq, rs, 409, "token",
                             "这次上传已过期或已导入，请重新上传文件 (the upload expired or was "
                             "imported already: upload the file again)");
    node_import_result res;
    err_rows er = {GS_BUF_INIT, 0};
    gs_errbuf eb = {{0}};
    char name[256];
    snprintf(name, sizeof name, "%s", k->name);
    int rc = run(w, k->rt, name, k->data, k->len, true, &res, &er, &eb);
    kept_clear(k); /* confirmed once: a second press imports nothing twice */
    if (rc) {
        gs_buf_free(&er.html);
        return gs_http_error(rq, rs, rc == GS_ENOMEM || rc == GS_ESQL ? 500 : 400, NULL, "%s",
                             eb.msg);
    }
    if (!res.saved)
        gs_http_set_status(rs, 409); /* the data changed since the dry run */
    nweb_begin(rq, rs, NWEB_TRANSFER, nweb_t(rq, "导入结果", "Import"));
    gs_buf *b = gs_http_out(rs);
    gs_buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n");
    if (res.saved)
        gs_buf_printf(b, "<p class=\"ok\" id=\"imported\">已导入 %zu 条%s：新增 %zu，修改 %zu，不变 %zu。</p>\n",
                      res.created + res.updated, res.rt->label_zh, res.created, res.updated,
                      res.unchanged);
    result_html(rq, b, name, &res, &er);
    gs_buf_free(&er.html);
    gs_buf_printf(b, "<p><a class=\"button\" href=\"/transfer\">%s</a></p>\n",
                  nweb_t(rq, "返回导入导出", "Back"));
    nweb_end(rq, rs);
    return GS_OK;
}

/* ---- downloads ---------------------------------------------------------------------- */

/* Reads a whole file into out. */
static int slurp(const char *path, gs_buf *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return GS_EIO;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        gs_buf_append(out, chunk, n);
    int rc = ferror(f) ? GS_EIO : out->err;
    fclose(f);
    return rc;
}

/* A temporary file's path (created, empty, mode 0600) into path. */
static int temp_path(char path[], size_t cap)
{
    const char *dir = getenv("TMPDIR");
    snprintf(path, cap, "%s/gridnode-web-XXXXXX.xlsx", dir && *dir ? dir : "/tmp");
    int fd = mkstemps(path, 5);
    if (fd < 0)
        return GS_EIO;
    close(fd);
    return GS_OK;
}

static int export_lister(void *s, const gs_rectype *rt, const gs_find_filter *f, gs_find_each each,
                         void *arg, gs_errbuf *eb)
{
    return node_store_list(s, rt, f, each, arg, eb);
}

/* template or export of rt as xlsx or csv into out. */
static int write_download(nweb *w, const gs_rectype *rt, bool tmpl, bool xlsx, gs_buf *out,
                          gs_errbuf *eb)
{
    char path[512] = "";
    int rc = GS_OK;
    if (xlsx && temp_path(path, sizeof path))
        return gs_errf(eb, GS_EIO, "cannot make a temporary file");
    if (tmpl && xlsx) {
        rc = node_import_template(w->store, rt, path, eb);
    } else if (tmpl) {
        gs_buf_puts(out, "\xEF\xBB\xBF"); /* Excel opens UTF-8 only with the mark */
        gs_schema_csv_header(rt, true, out);
    } else {
        gs_find_opts o = {.out = xlsx ? path : NULL, .bom = true, .zh = true};
        char *mem = NULL;
        size_t len = 0;
        FILE *f = xlsx ? NULL : open_memstream(&mem, &len);
        if (!xlsx && !f)
            return gs_errf(eb, GS_ENOMEM, "out of memory");
        gs_find_filter all = {0};
        rc = gs_find_print_list(rt, &all, xlsx ? GS_FIND_XLSX : GS_FIND_CSV, &o, export_lister,
                                w->store, f, eb);
        if (f) {
            fclose(f);
            if (!rc)
                gs_buf_append(out, mem, len);
            free(mem);
        }
    }
    if (!rc && xlsx && slurp(path, out))
        rc = gs_errf(eb, GS_EIO, "cannot read the workbook back");
    if (path[0])
        unlink(path);
    return rc;
}

static int download(gs_http_req *rq, gs_http_resp *rs, nweb *w, bool tmpl)
{
    const gs_rectype *rt = type_of(gs_http_query(rq, "type"));
    const char *format = gs_http_query(rq, "format");
    if (!rt)
        return gs_http_error(rq, rs, 400, "type", "没有这种记录类型 (no such record type)");
    bool xlsx = !format || !strcmp(format, "xlsx");
    if (!xlsx && strcmp(format, "csv"))
        return gs_http_error(rq, rs, 400, "format", "格式只能是 xlsx 或 csv (format is xlsx or csv)");
    gs_buf out = GS_BUF_INIT;
    gs_errbuf eb = {{0}};
    if (write_download(w, rt, tmpl, xlsx, &out, &eb)) {
        gs_buf_free(&out);
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    }
    char name[160];
    snprintf(name, sizeof name, "%s%s.%s", rt->label_zh, tmpl ? "导入模板" : "", xlsx ? "xlsx" : "csv");
    int rc = gs_http_download(rs, name, xlsx ? XLSX_TYPE : "text/csv; charset=utf-8",
                              out.data ? out.data : "", out.len);
    gs_buf_free(&out);
    return rc;
}

static int h_template(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return download(rq, rs, pg_web(app), true);
}

static int h_export(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return download(rq, rs, pg_web(app), false);
}

const gs_http_route nweb_transfer_routes[] = {
    {"GET", "/transfer", h_page, 0},
    {"POST", "/transfer", h_upload, 0},
    {"POST", "/transfer/confirm", h_confirm, 0},
    {"GET", "/transfer/template", h_template, 0},
    {"GET", "/transfer/export", h_export, 0},
    {NULL, NULL, NULL, 0},
};
