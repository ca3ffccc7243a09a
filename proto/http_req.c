/*
 * http_req.c: what a handler of the HTTP layer (gridsync/http.h) reads of
 * its request (path, query, form fields and uploads, the JSON body, headers,
 * cookies, the session's user and CSRF token) and writes into its answer
 * (HTML, JSON, a redirect, a download, an error page). The server and the
 * gates a request passes first are http.c's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http_int.h"

#define MAX_JSON_DEPTH 32 /* nesting of a JSON body */
/* ---- the request ------------------------------------------------------------ */

const char *gs_http_method(const gs_http_req *rq) { return rq->method; }
const char *gs_http_path(const gs_http_req *rq) { return rq->path; }
const char *gs_http_tail(const gs_http_req *rq) { return rq->tail ? rq->tail : ""; }
const char *gs_http_peer(const gs_http_req *rq) { return rq->peer; }
void *gs_http_app(const gs_http_req *rq) { return rq->srv->cfg.app; }
const char *gs_http_csrf(const gs_http_req *rq) { return rq->csrf; }
const char *gs_http_lang(const gs_http_req *rq) { return rq->lang; }

const char *gs_http_user(const gs_http_req *rq)
{
    return rq->user[0] ? rq->user : NULL;
}

const char *gs_http_who(const gs_http_req *rq)
{
    return rq->who[0] ? rq->who : rq->user;
}

bool gs_http_is_api(const gs_http_req *rq)
{
    return !strncmp(rq->path, "/api/", 5) || !strcmp(rq->path, "/api");
}

const char *gs_http_query(const gs_http_req *rq, const char *key)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *gs_http_header(const gs_http_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *gs_http_cookie(const gs_http_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);
}

const char *gs_http_form(const gs_http_req *rq, const char *key)
{
    for (size_t i = 0; i < rq->nfields; i++)
        if (!rq->fields[i].file && !strcmp(rq->fields[i].key, key))
            return rq->fields[i].val.data ? rq->fields[i].val.data : "";
    return NULL;
}

int gs_http_form_each(const gs_http_req *rq, int (*fn)(const char *k, const char *v, void *arg),
                      void *arg)
{
    for (size_t i = 0; i < rq->nfields; i++) {
        if (rq->fields[i].file)
            continue;
        int rc = fn(rq->fields[i].key, rq->fields[i].val.data ? rq->fields[i].val.data : "", arg);
        if (rc)
            return rc;
    }
    return 0;
}

const gs_http_upload *gs_http_file(const gs_http_req *rq, const char *key)
{
    for (size_t i = 0; i < rq->nfields; i++) {
        http_field *f = &rq->fields[i];
        if (f->file && !strcmp(f->key, key)) {
            f->up.data = (const unsigned char *)(f->val.data ? f->val.data : "");
            f->up.len = f->val.len;
            return &f->up;
        }
    }
    return NULL;
}

const char *gs_http_body(const gs_http_req *rq, size_t *len)
{
    if (len)
        *len = rq->body.len;
    return rq->body.data ? rq->body.data : "";
}

/* The deepest nesting of arrays and objects in a JSON text (strings
 * skipped), counted before the parser sees it: a body of 10,000 brackets is
 * refused without recursion. */
static int json_depth(const char *p, size_t n)
{
    int depth = 0, max = 0;
    bool str = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                str = false;
        } else if (c == '"') {
            str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > max)
                max = depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return max;
}

json_t *gs_http_json(gs_http_req *rq, gs_errbuf *eb)
{
    if (rq->json)
        return rq->json;
    size_t len;
    const char *body = gs_http_body(rq, &len);
    if (!len) {
        gs_errf(eb, GS_EMALFORMED, "请求正文为空，应为 JSON (the body is empty; JSON expected)");
        return NULL;
    }
    if (json_depth(body, len) > MAX_JSON_DEPTH) {
        gs_errf(eb, GS_EMALFORMED,
                "JSON 嵌套超过 %d 层 (JSON nested deeper than %d levels)", MAX_JSON_DEPTH,
                MAX_JSON_DEPTH);
        return NULL;
    }
    json_error_t je;
    rq->json = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
    if (!rq->json)
        gs_errf(eb, GS_EMALFORMED, "JSON 格式错误，第 %d 行第 %d 列: %s (malformed JSON at line %d, "
                "column %d)", je.line, je.column, je.text, je.line, je.column);
    return rq->json;
}

/* ---- the response ----------------------------------------------------------- */

gs_buf *gs_http_out(gs_http_resp *rs) { return &rs->out; }
void gs_http_set_status(gs_http_resp *rs, int status) { rs->status = status; }

void gs_http_set_type(gs_http_resp *rs, const char *content_type)
{
    free(rs->type);
    rs->type = strdup(content_type);
}

void gs_http_set_header(gs_http_resp *rs, const char *name, const char *value)
{
    if (rs->nhdrs >= (int)(sizeof rs->hdrs / sizeof rs->hdrs[0]))
        return;
    rs->hdrs[rs->nhdrs].name = strdup(name);
    rs->hdrs[rs->nhdrs].value = strdup(value);
    rs->nhdrs++;
}

int gs_http_redirect(gs_http_resp *rs, const char *path)
{
    /* only a path of this server: "//host" or "http:" would leave it */
    if (!path || path[0] != '/' || path[1] == '/' || path[1] == '\\' || strpbrk(path, "\r\n"))
        path = "/";
    rs->status = 303;
    gs_http_set_header(rs, "Location", path);
    gs_buf_reset(&rs->out);
    gs_buf_puts(&rs->out, "");
    return 0;
}

int gs_http_json_reply(gs_http_resp *rs, int status, json_t *j)
{
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    json_decref(j);
    if (!text)
        return GS_ENOMEM;
    gs_buf_reset(&rs->out);
    gs_buf_puts(&rs->out, text);
    free(text);
    rs->status = status;
    gs_http_set_type(rs, "application/json; charset=utf-8");
    return rs->out.err;
}

/* The small page of an error, in the language asked. */
static void error_page(gs_http_req *rq, gs_http_resp *rs, int status, const char *msg)
{
    bool en = gs_http_en(rq);
    gs_buf *b = &rs->out;
    gs_buf_reset(b);
    gs_html_printf(b,
                   "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                   "<title>%d</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head>"
                   "<body><main class=\"error-page\"><h1>%d</h1><p class=\"error\">%s</p>"
                   "<p><a href=\"/\">%s</a></p></main></body></html>\n",
                   en ? "en" : "zh-CN", status, status, msg, en ? "Home" : "返回首页");
    rs->status = status;
    gs_http_set_type(rs, "text/html; charset=utf-8");
}

int gs_http_error(gs_http_req *rq, gs_http_resp *rs, int status, const char *field,
                  const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (gs_http_is_api(rq)) {
        json_t *j = json_pack("{s:s}", "error", msg);
        if (j && field)
            json_object_set_new(j, "field", json_string(field));
        return gs_http_json_reply(rs, status, j);
    }
    error_page(rq, rs, status, msg);
    return rs->out.err;
}

int gs_http_download(gs_http_resp *rs, const char *filename, const char *type, const void *data,
                     size_t len)
{
    gs_buf_reset(&rs->out);
    gs_buf_append(&rs->out, data, len);
    gs_http_set_type(rs, type);
    rs->status = 200;
    /* an ASCII name for old clients, the UTF-8 one (RFC 6266) for the rest */
    gs_buf cd = GS_BUF_INIT;
    gs_buf_puts(&cd, "attachment; filename=\"");
    for (const unsigned char *p = (const unsigned char *)filename; *p; p++)
        gs_buf_putc(&cd, *p < 0x20 || *p >= 0x7f || *p == '"' || *p == '\\' ? '_' : (char)*p);
    gs_buf_puts(&cd, "\"; filename*=UTF-8''");
    gs_url_escape(&cd, filename);
    if (!cd.err)
        gs_http_set_header(rs, "Content-Disposition", cd.data);
    gs_buf_free(&cd);
    return rs->out.err;
}
