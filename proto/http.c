/*
 * http.c: the HTTP layer both web doors share (gridsync/http.h), over
 * libmicrohttpd with one internal polling thread.
 *
 * A request goes through these gates, in order, before a handler sees it;
 * each refusal is a complete answer with the security headers, and nothing
 * of the request reaches the program:
 *   1. the request line (path and query) and headers over limits.max_header:
 *      431 (MHD's memory limit, set a little above, answers what is larger
 *      still with 414 or 431 and closes); a Content-Length over
 *      limits.max_body: 413 before a byte of the body is read; a chunked body
 *      that grows past it: 413 or the connection closed;
 *   2. a Host that is neither an address, "localhost" nor one of cfg->hosts:
 *      400 (DNS rebinding);
 *   3. /static/NAME: only names of the asset table exist (no path of a
 *      request ever reaches the file system);
 *   4. the route table: 404, 405;
 *   5. the session (http_session.c); a page needing a login redirects to
 *      cfg->login_path (401 under /api/);
 *   6. anything but GET/HEAD: a foreign Origin, a malformed form, a missing
 *      or wrong CSRF token: 403/400.
 * Handlers run on MHD's one thread, one at a time.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <sodium.h>

#include "gridsync/mpack.h"
#include "http_int.h"

#define MAX_FIELDS 1000  /* form fields of one request */

static const gs_http_limits default_limits = {
    20u << 20, 16u << 10, 30, 64, 16, 8 * 3600,
};

/* ---- building the answer ---------------------------------------------------- */

static void security_headers(struct MHD_Response *r)
{
    MHD_add_response_header(r, "Content-Security-Policy",
                            "default-src 'self'; script-src 'self'; style-src 'self'; "
                            "img-src 'self' data:; frame-ancestors 'none'; form-action 'self'");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "Referrer-Policy", "same-origin");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
}

/* Queues rs (or, for a static file, data) on the connection. */
static enum MHD_Result send_answer(gs_http_req *rq, gs_http_resp *rs, const gs_http_asset *asset)
{
    struct MHD_Response *r;
    if (asset) {
        r = MHD_create_response_from_buffer(asset->len, (void *)asset->data,
                                            MHD_RESPMEM_PERSISTENT);
    } else {
        if (rs->out.err) {
            gs_buf_free(&rs->out);
            rs->status = 500;
            gs_buf_puts(&rs->out, "500 out of memory\n");
        }
        size_t len = rs->out.len;
        char *body = len ? gs_buf_steal(&rs->out) : NULL;
        r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(body);
    }
    if (!r)
        return MHD_NO;
    security_headers(r);
    if (asset) {
        MHD_add_response_header(r, "Content-Type", asset->type);
        MHD_add_response_header(r, "Cache-Control", "public, max-age=86400");
    } else {
        MHD_add_response_header(r, "Content-Type",
                                rs->type ? rs->type : "text/html; charset=utf-8");
        MHD_add_response_header(r, "Cache-Control", "no-store");
        for (int i = 0; i < rs->nhdrs; i++)
            MHD_add_response_header(r, rs->hdrs[i].name, rs->hdrs[i].value);
        char cookie[256];
        if (rq->new_session && rq->has_session) {
            snprintf(cookie, sizeof cookie, "gs_session=%s; Path=/; HttpOnly; SameSite=Strict%s",
                     rq->token, rq->srv->tls ? "; Secure" : "");
            MHD_add_response_header(r, "Set-Cookie", cookie);
        }
        if (rq->lang_set) {
            snprintf(cookie, sizeof cookie, "gs_lang=%s; Path=/; Max-Age=31536000; SameSite=Strict%s",
                     rq->lang, rq->srv->tls ? "; Secure" : "");
            MHD_add_response_header(r, "Set-Cookie", cookie);
        }
    }
    int status = asset || !rs->status ? 200 : rs->status;
    enum MHD_Result ok = MHD_queue_response(rq->conn, (unsigned)status, r);
    MHD_destroy_response(r);
    rq->answered = true;
    return ok;
}

static void resp_free(gs_http_resp *rs)
{
    gs_buf_free(&rs->out);
    free(rs->type);
    for (int i = 0; i < rs->nhdrs; i++) {
        free(rs->hdrs[i].name);
        free(rs->hdrs[i].value);
    }
}

/* Answers at once with an error page (a refusal at one of the gates). */
static enum MHD_Result refuse(gs_http_req *rq, int status, const char *msg)
{
    gs_http_resp rs = {0};
    gs_http_error(rq, &rs, status, NULL, "%s", msg);
    enum MHD_Result ok = send_answer(rq, &rs, NULL);
    resp_free(&rs);
    return ok;
}

/* ---- the gates -------------------------------------------------------------- */

/* Whether host (a Host header's name, the port cut off) may name this
 * server: an IP address (no DNS name, so no rebinding), localhost, the
 * bind address or one of cfg->hosts. */
static bool host_ok(const gs_http_server *srv, const char *host)
{
    if (!host || !*host)
        return false;
    char name[256];
    size_t n = strlen(host);
    if (n >= sizeof name)
        return false;
    memcpy(name, host, n + 1);
    if (name[0] == '[') { /* [::1]:8080 */
        char *end = strchr(name, ']');
        if (!end || (end[1] && end[1] != ':'))
            return false;
        *end = '\0';
        unsigned char a[16];
        return inet_pton(AF_INET6, name + 1, a) == 1;
    }
    char *colon = strchr(name, ':');
    if (colon) {
        if (strchr(colon + 1, ':') || !colon[1] || strspn(colon + 1, "0123456789") != strlen(colon + 1))
            return false;
        *colon = '\0';
    }
    unsigned char a[4];
    if (inet_pton(AF_INET, name, a) == 1 || !strcasecmp(name, "localhost"))
        return true;
    if (srv->cfg.bind && !strcasecmp(name, srv->cfg.bind))
        return true;
    for (const char *const *h = srv->cfg.hosts; h && *h; h++)
        if (!strcasecmp(name, *h))
            return true;
    return false;
}

/* Whether an Origin header (when present) names this server: the scheme
 * and the request's own Host. */
static bool origin_ok(const gs_http_req *rq)
{
    const char *origin = gs_http_header(rq, "Origin");
    if (!origin)
        return true;
    const char *host = gs_http_header(rq, "Host");
    const char *scheme = rq->srv->tls ? "https://" : "http://";
    size_t sl = strlen(scheme);
    return host && !strncmp(origin, scheme, sl) && !strcmp(origin + sl, host);
}

static const gs_http_asset *find_asset(const gs_http_server *srv, const char *name)
{
    for (size_t i = 0; i < srv->cfg.nassets; i++)
        if (srv->cfg.assets[i].name && !strcmp(srv->cfg.assets[i].name, name))
            return &srv->cfg.assets[i];
    return NULL;
}

/* The route of the request; *wrong_method when a route has the path but not
 * the method. */
static const gs_http_route *find_route(gs_http_req *rq, bool *wrong_method)
{
    const gs_http_config *c = &rq->srv->cfg;
    const char *m = !strcmp(rq->method, "HEAD") ? "GET" : rq->method;
    *wrong_method = false;
    for (size_t i = 0; i < c->nroutes && c->routes[i].path; i++) {
        const gs_http_route *r = &c->routes[i];
        size_t n = strlen(r->path);
        bool match = (r->flags & GS_ROUTE_PREFIX) ? !strncmp(rq->path, r->path, n)
                                                   : !strcmp(rq->path, r->path);
        if (!match)
            continue;
        if (strcmp(r->method, m)) {
            *wrong_method = true;
            continue;
        }
        rq->tail = (r->flags & GS_ROUTE_PREFIX) ? rq->path + n : "";
        return r;
    }
    return NULL;
}

static void pick_lang(gs_http_req *rq)
{
    const char *q = gs_http_query(rq, "lang");
    const char *c = gs_http_cookie(rq, "gs_lang");
    if (q && (!strcmp(q, "en") || !strcmp(q, "zh"))) {
        snprintf(rq->lang, sizeof rq->lang, "%s", q);
        rq->lang_set = true;
    } else {
        snprintf(rq->lang, sizeof rq->lang, "%s", c && !strcmp(c, "en") ? "en" : "zh");
    }
}

/* Runs the request through the gates after its body, then its handler. */
static enum MHD_Result handle(gs_http_req *rq)
{
    gs_http_server *srv = rq->srv;
    pick_lang(rq);
    bool en = gs_http_en(rq);
    if (!host_ok(srv, gs_http_header(rq, "Host")))
        return refuse(rq, 400, en ? "This server does not answer to that host name."
                                  : "主机名不对：本服务不接受这个地址 (Host not allowed)");
    if (rq->too_big) {
        char m[160];
        snprintf(m, sizeof m, "请求太大：上限 %zu 字节 (request body over %zu bytes)",
                 srv->lim.max_body, srv->lim.max_body);
        return refuse(rq, 413, m);
    }
    bool get = !strcmp(rq->method, "GET") || !strcmp(rq->method, "HEAD");
    if (!strncmp(rq->path, "/static/", 8)) {
        const gs_http_asset *a = get ? find_asset(srv, rq->path + 8) : NULL;
        if (!a)
            return refuse(rq, 404, en ? "Not found." : "找不到这个页面 (not found)");
        return send_answer(rq, NULL, a);
    }
    bool wrong_method;
    const gs_http_route *route = find_route(rq, &wrong_method);
    if (!route && wrong_method)
        return refuse(rq, 405, en ? "This page does not take that method."
                                  : "这个页面不接受这种请求 (method not allowed)");
    if (!route)
        return refuse(rq, 404, en ? "Not found." : "找不到这个页面 (not found)");
    http_session_attach(rq);
    gs_http_resp rs = {0};
    enum MHD_Result ok;
    if (srv->cfg.login && !rq->user[0] && !(route->flags & GS_ROUTE_PUBLIC)) {
        if (gs_http_is_api(rq))
            gs_http_error(rq, &rs, 401, NULL, "请先登录 (log in first)");
        else
            gs_http_redirect(&rs, srv->cfg.login_path ? srv->cfg.login_path : "/login");
    } else if (!get && !origin_ok(rq)) {
        gs_http_error(rq, &rs, 403, NULL, "请求来自别的网站，已拒绝 (request from another site "
                                          "refused)");
    } else if (!get && rq->form_bad) {
        gs_http_error(rq, &rs, 400, NULL, "表单格式错误 (malformed form data)");
    } else if (!get && !http_csrf_ok(rq, gs_http_header(rq, "X-CSRF-Token")) &&
               !http_csrf_ok(rq, gs_http_form(rq, "_csrf"))) {
        gs_http_error(rq, &rs, 403, "_csrf",
                      "表单已过期或来源不明，请刷新页面后重试 (missing or wrong CSRF token: "
                      "reload the page and try again)");
    } else {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int rc = route->fn(rq, &rs, srv->cfg.app);
        if (rc && !rs.out.len && !rs.status)
            gs_http_error(rq, &rs, 500, NULL, "服务器内部错误: %s (internal error)",
                          gs_strerror(rc));
        /* the handler's time, for the browser's developer tools and the
         * benchmarks (what the server spent, not the network) */
        clock_gettime(CLOCK_MONOTONIC, &t1);
        char dur[48];
        snprintf(dur, sizeof dur, "app;dur=%.1f",
                 (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
        gs_http_set_header(&rs, "Server-Timing", dur);
    }
    ok = send_answer(rq, &rs, NULL);
    resp_free(&rs);
    return ok;
}

/* ---- forms ------------------------------------------------------------------ */

static enum MHD_Result on_form_data(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *filename, const char *content_type,
                                    const char *transfer_encoding, const char *data, uint64_t off,
                                    size_t size)
{
    (void)kind, (void)content_type, (void)transfer_encoding;
    gs_http_req *rq = cls;
    if (!key)
        return MHD_YES;
    http_field *f = rq->nfields ? &rq->fields[rq->nfields - 1] : NULL;
    if (off == 0 || !f || strcmp(f->key, key)) {
        if (rq->nfields >= MAX_FIELDS) {
            rq->form_bad = true;
            return MHD_NO;
        }
        if (rq->nfields == rq->capfields) {
            size_t cap = rq->capfields ? rq->capfields * 2 : 16;
            http_field *nf = realloc(rq->fields, cap * sizeof *nf);
            if (!nf) {
                rq->form_bad = true;
                return MHD_NO;
            }
            rq->fields = nf;
            rq->capfields = cap;
        }
        f = &rq->fields[rq->nfields++];
        memset(f, 0, sizeof *f);
        f->key = strdup(key);
        f->file = filename != NULL;
        f->up.filename = filename ? strdup(filename) : NULL;
        if (!f->key || (filename && !f->up.filename)) {
            rq->form_bad = true;
            return MHD_NO;
        }
    }
    gs_buf_append(&f->val, data, size);
    if (!f->val.data)
        gs_buf_puts(&f->val, "");
    return f->val.err ? MHD_NO : MHD_YES;
}

/* After the whole body: the form parser's verdict, and every field name and
 * text value valid UTF-8. */
static void finish_form(gs_http_req *rq)
{
    if (rq->pp && MHD_destroy_post_processor(rq->pp) != MHD_YES)
        rq->form_bad = true;
    rq->pp = NULL;
    for (size_t i = 0; i < rq->nfields; i++) {
        http_field *f = &rq->fields[i];
        if (!gs_utf8_valid(f->key, strlen(f->key)) ||
            (!f->file && (!gs_utf8_valid(f->val.data ? f->val.data : "", f->val.len) ||
                          memchr(f->val.data ? f->val.data : "", '\0', f->val.len))))
            rq->form_bad = true;
    }
}

/* ---- MHD's callbacks -------------------------------------------------------- */

static enum MHD_Result count_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    *(size_t *)cls += strlen(key) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

/* The first call of a request: its state, and the gates that need no body. */
static enum MHD_Result begin(gs_http_server *srv, gs_http_req *rq, struct MHD_Connection *conn,
                             const char *url, const char *method)
{
    rq->srv = srv;
    rq->conn = conn;
    http_watch_request(srv, conn, true);
    snprintf(rq->method, sizeof rq->method, "%s", method);
    rq->path = strdup(url ? url : "/");
    snprintf(rq->lang, sizeof rq->lang, "zh");
    rq->body.limit = srv->lim.max_body + 1;
    if (!rq->path)
        return MHD_NO;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;
        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, rq->peer,
                      sizeof rq->peer);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, rq->peer,
                      sizeof rq->peer);
    }
    /* the request line is the path and the query (MHD hands them apart) */
    size_t hbytes = strlen(rq->path) + strlen(method) + 16;
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, count_header, &hbytes);
    MHD_get_connection_values(conn, MHD_HEADER_KIND, count_header, &hbytes);
    if (hbytes > srv->lim.max_header)
        return refuse(rq, 431, "请求头太大 (request headers too large)");
    if (rq->nul_in_uri)
        return refuse(rq, 400, "地址中有空字符 (a NUL byte in the address)");
    const char *cl = gs_http_header(rq, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > srv->lim.max_body) {
        rq->too_big = true;
        return handle(rq); /* 413 before the body is read; MHD closes the connection */
    }
    const char *ct = gs_http_header(rq, "Content-Type");
    if (ct && (!strncasecmp(ct, "application/x-www-form-urlencoded", 33) ||
               !strncasecmp(ct, "multipart/form-data", 19))) {
        rq->pp = MHD_create_post_processor(conn, 64 * 1024, on_form_data, rq);
        if (!rq->pp)
            rq->form_bad = true; /* multipart without a boundary */
    }
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **con_cls)
{
    (void)version;
    gs_http_server *srv = cls;
    gs_http_req *rq = *con_cls;
    if (!rq)
        return MHD_NO; /* uri_log could not allocate it */
    if (!rq->conn)
        return begin(srv, rq, conn, url, method);
    if (*upload_size) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (rq->answered || rq->too_big)
            return MHD_YES;
        rq->body_bytes += n;
        if (rq->body_bytes > srv->lim.max_body) {
            rq->too_big = true;
            /* MHD takes no answer in the middle of a body: close */
            return MHD_NO;
        }
        if (rq->pp) {
            if (MHD_post_process(rq->pp, upload_data, n) != MHD_YES)
                rq->form_bad = true;
        } else if (!rq->form_bad) {
            gs_buf_append(&rq->body, upload_data, n);
        }
        return MHD_YES;
    }
    if (rq->answered)
        return MHD_YES;
    finish_form(rq);
    return handle(rq);
}

/* MHD's first sight of a request, with the URI as sent (before it is
 * percent-decoded): the request's state is made here, and a %00 noted (the
 * decoded path would end at it: "app.css%00.txt" must not be "app.css"). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls, (void)conn;
    gs_http_req *rq = calloc(1, sizeof *rq);
    if (rq && uri)
        rq->nul_in_uri = strstr(uri, "%00") != NULL;
    return rq;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)toe;
    http_watch_request(cls, conn, false); /* waiting for the next request's headers */
    gs_http_req *rq = *con_cls;
    if (!rq)
        return;
    if (rq->pp)
        MHD_destroy_post_processor(rq->pp);
    for (size_t i = 0; i < rq->nfields; i++) {
        free(rq->fields[i].key);
        free((char *)rq->fields[i].up.filename);
        gs_buf_free(&rq->fields[i].val);
    }
    free(rq->fields);
    gs_buf_free(&rq->body);
    json_decref(rq->json);
    free(rq->path);
    sodium_memzero(rq->token, sizeof rq->token);
    free(rq);
    *con_cls = NULL;
}

static void on_log(void *cls, const char *fmt, va_list ap)
{
    gs_http_server *srv = cls;
    vsnprintf(srv->log, sizeof srv->log, fmt, ap);
    size_t n = strlen(srv->log);
    while (n && (srv->log[n - 1] == '\n' || srv->log[n - 1] == '\r'))
        srv->log[--n] = '\0';
    if (srv->started)
        fprintf(stderr, "%s: %s\n", srv->cfg.name ? srv->cfg.name : "http", srv->log);
}

/* ---- the server ------------------------------------------------------------- */

int gs_http_start(gs_http_server **out, const gs_http_config *cfg, gs_errbuf *eb)
{
    if (sodium_init() < 0)
        return gs_errf(eb, GS_EIO, "libsodium could not start");
    const char *bind = cfg->bind && *cfg->bind ? cfg->bind : "127.0.0.1";
    struct sockaddr_in a4 = {0};
    struct sockaddr_in6 a6 = {0};
    struct sockaddr *sa;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ERROR_LOG;
    const char *addr = !strcasecmp(bind, "localhost") ? "127.0.0.1" : bind;
    if (inet_pton(AF_INET, addr, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons(cfg->port);
        sa = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, addr, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons(cfg->port);
        sa = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        return gs_errf(eb, GS_EINVAL, "监听地址 \"%s\" 不是 IP 地址 (bind address is not an IP "
                       "address)", bind);
    }
    bool tls = cfg->tls_cert_pem && cfg->tls_key_pem;
    if (tls && MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES)
        return gs_errf(eb, GS_EINVAL, "this libmicrohttpd has no TLS support");
    gs_http_server *srv = calloc(1, sizeof *srv);
    if (!srv)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    srv->cfg = *cfg;
    srv->lim = cfg->limits;
#define DEFAULT(f)                                                                                 \
    if (!srv->lim.f)                                                                               \
    srv->lim.f = default_limits.f
    DEFAULT(max_body);
    DEFAULT(max_header);
    DEFAULT(timeout_s);
    DEFAULT(max_conns);
    DEFAULT(per_ip);
    DEFAULT(session_idle_s);
#undef DEFAULT
    srv->tls = tls;
    pthread_mutex_init(&srv->lock, NULL);
    http_watch_init(srv);
    if (tls) {
        srv->cert = strdup(cfg->tls_cert_pem);
        srv->key = strdup(cfg->tls_key_pem);
        flags |= MHD_USE_TLS;
    }
    /* MHD's per-connection pool holds the request line and headers; a bit
     * above max_header, so that the header check (begin) answers 431 and
     * only what is larger still is cut off by MHD itself */
    size_t pool = srv->lim.max_header + 16 * 1024;
    struct MHD_OptionItem opts[] = {
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)on_log, srv},
        {MHD_OPTION_SOCK_ADDR, 0, sa},
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)srv->lim.max_conns, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)srv->lim.per_ip, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)srv->lim.timeout_s, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, (intptr_t)pool, NULL},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)http_watch_notify, srv},
        {MHD_OPTION_URI_LOG_CALLBACK, (intptr_t)on_uri, NULL},
        {tls ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, 0, srv->cert},
        {MHD_OPTION_HTTPS_MEM_KEY, 0, srv->key},
        {MHD_OPTION_END, 0, NULL},
    };
    srv->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, opts,
                              MHD_OPTION_END);
    if (!srv->d) {
        /* MHD's last word says which: GnuTLS refused the certificate or the key
         * ("Failed to initialize TLS support."), or the address could not be had */
        int rc = tls && strstr(srv->log, "TLS")
                     ? gs_errf(eb, GS_EMALFORMED,
                               "TLS 证书或私钥无法使用 (the TLS certificate or key cannot be "
                               "used): %s",
                               srv->log)
                     : gs_errf(eb, GS_EIO, "无法在 %s:%u 上监听 (cannot listen on %s:%u)%s%s",
                               bind, (unsigned)cfg->port, bind, (unsigned)cfg->port,
                               srv->log[0] ? ": " : "", srv->log);
        srv->started = true;
        gs_http_stop(&srv);
        return rc;
    }
    if (http_watch_start(srv)) {
        gs_http_stop(&srv);
        return gs_errf(eb, GS_ENOMEM, "cannot start the connection watchdog");
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->d, MHD_DAEMON_INFO_BIND_PORT);
    srv->port = di ? di->port : cfg->port;
    srv->started = true;
    *out = srv;
    return GS_OK;
}

uint16_t gs_http_port(const gs_http_server *srv)
{
    return srv ? srv->port : 0;
}

void gs_http_stop(gs_http_server **sp)
{
    if (!sp || !*sp)
        return;
    gs_http_server *srv = *sp;
    http_watch_stop(srv);
    if (srv->d)
        MHD_stop_daemon(srv->d);
    pthread_cond_destroy(&srv->wake);
    free(srv->conns);
    pthread_mutex_destroy(&srv->lock);
    if (srv->key)
        sodium_memzero(srv->key, strlen(srv->key));
    free(srv->cert);
    free(srv->key);
    sodium_memzero(srv->sessions, sizeof srv->sessions);
    free(srv);
    *sp = NULL;
}
