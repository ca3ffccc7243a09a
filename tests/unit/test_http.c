/*
 * test_http.c: the shared HTTP layer (gridsync/http.h) as a client sees it:
 * an in-process server on 127.0.0.1 (a free port) with a few test routes,
 * and a client over raw sockets, so that a test can send what no browser
 * would. The hostile-HTTP suite lives here: oversized headers and bodies,
 * slow senders, malformed JSON and forms, path traversal, CSRF, a foreign
 * Origin or Host, login throttling; after each one the server must still
 * answer a normal request, and a refused request must not reach its handler.
 */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gridsync/http.h"
#include "gstest.h"
#include "gstest_http.h"

/* ---- the server under test ------------------------------------------------ */

static gs_http_server *srv;
static unsigned handled; /* calls of the handlers that change something */

static int page(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    (void)app;
    const char *q = gs_http_query(rq, "q");
    gs_html_printf(gs_http_out(rs), "<p>q=%s</p>\ncsrf=%s;\nuser=%s;\nlang=%s;\n", q ? q : "",
                   gs_http_csrf(rq), gs_http_user(rq) ? gs_http_user(rq) : "-", gs_http_lang(rq));
    return 0;
}

static int echo_field(const char *k, const char *v, void *arg)
{
    gs_buf_printf(arg, "%s=%s\n", k, v);
    return 0;
}

static int form(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    (void)app;
    handled++;
    gs_http_set_type(rs, "text/plain; charset=utf-8");
    gs_http_form_each(rq, echo_field, gs_http_out(rs));
    const gs_http_upload *up = gs_http_file(rq, "file");
    if (up)
        gs_buf_printf(gs_http_out(rs), "file %s %zu bytes\n", up->filename, up->len);
    return 0;
}

static int api_json(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    (void)app;
    gs_errbuf eb = {{0}};
    json_t *j = gs_http_json(rq, &eb);
    if (!j)
        return gs_http_error(rq, rs, 400, "body", "%s", eb.msg);
    handled++;
    return gs_http_json_reply(rs, 200, json_pack("{s:b,s:I}", "ok", 1, "size",
                                                 (json_int_t)json_object_size(j)));
}

static int login(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    (void)app;
    gs_errbuf eb = {{0}};
    const char *u = gs_http_form(rq, "user"), *p = gs_http_form(rq, "password");
    int rc = gs_http_login(rq, u ? u : "", p ? p : "", &eb);
    if (rc)
        return gs_http_error(rq, rs, rc == GS_ETIMEOUT ? 429 : 401, NULL, "%s", eb.msg);
    return gs_http_redirect(rs, "/page");
}

static int download(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    (void)rq, (void)app;
    return gs_http_download(rs, "事件 2026.csv", "text/csv; charset=utf-8", "a,b\r\n", 5);
}

static const gs_http_route routes[] = {
    {"GET", "/page", page, 0},
    {"POST", "/form", form, 0},
    {"POST", "/api/json", api_json, 0},
    {"GET", "/api/", page, GS_ROUTE_PREFIX},
    {"GET", "/login", page, GS_ROUTE_PUBLIC},
    {"POST", "/login", login, GS_ROUTE_PUBLIC},
    {"GET", "/download", download, 0},
};

static const unsigned char css[] = "body{color:red}";
static const gs_http_asset assets[] = {
    {"app.css", "text/css; charset=utf-8", css, sizeof css - 1},
};

static int check_pw(void *app, const char *user, const char *password, char *who, size_t cap)
{
    (void)app;
    if (strcmp(user, "wang") || strcmp(password, "right horse"))
        return GS_EAUTH;
    snprintf(who, cap, "王芳");
    return GS_OK;
}

static void start(bool with_login, unsigned timeout_s, unsigned idle_s)
{
    gs_http_config cfg = {
        .name = "test",
        .bind = "127.0.0.1",
        .limits = {.max_body = 64 * 1024, .max_header = 8 * 1024, .timeout_s = timeout_s,
                   .session_idle_s = idle_s},
        .routes = routes,
        .nroutes = sizeof routes / sizeof routes[0],
        .assets = assets,
        .nassets = 1,
        .login = with_login ? check_pw : NULL,
        .login_path = "/login",
    };
    gs_errbuf eb = {{0}};
    handled = 0;
    ck_assert_msg(gs_http_start(&srv, &cfg, &eb) == GS_OK, "%s", eb.msg);
    ck_assert_uint_gt(gs_http_port(srv), 0);
}

static void setup_open(void) { start(false, 2, 0); }
static void setup_login(void) { start(true, 2, 0); }
static void teardown(void) { gs_http_stop(&srv); }

/* ---- the client ------------------------------------------------------------- */

typedef gst_http_answer answer;
#define answer_free gst_http_answer_free
#define header gst_http_header

static int dial(void) { return gst_http_dial(gs_http_port(srv)); }
#define send_all gst_http_send
#define read_answer gst_http_read

static answer raw(const char *req, size_t len)
{
    return gst_http_raw(gs_http_port(srv), req, len);
}

static answer request(const char *method, const char *path, const char *extra, const char *body)
{
    return gst_http_request(gs_http_port(srv), method, path, extra, body);
}

typedef gst_http_session session;

/* A session from GET /page (which prints "csrf=TOKEN;"). */
static session new_session(const char *extra)
{
    session s = {{0}};
    answer a = request("GET", "/page", extra, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert(gst_http_take_session(&a, "csrf=", &s));
    ck_assert_int_eq(strlen(s.csrf), 64);
    answer_free(&a);
    return s;
}

/* Every answer carries the security headers. */
static void assert_security_headers(const answer *a)
{
    char v[400];
    ck_assert_msg(header(a, "Content-Security-Policy", v, sizeof v), "no CSP in %.200s", a->text);
    ck_assert_ptr_nonnull(strstr(v, "default-src 'self'"));
    ck_assert_ptr_nonnull(strstr(v, "frame-ancestors 'none'"));
    ck_assert(header(a, "X-Content-Type-Options", v, sizeof v));
    ck_assert_str_eq(v, "nosniff");
    ck_assert(header(a, "Referrer-Policy", v, sizeof v));
    ck_assert_str_eq(v, "same-origin");
}

/* After a hostile request: a normal one is still answered. */
static void still_serving(void)
{
    answer a = request("GET", "/page?q=ok", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert_ptr_nonnull(strstr(a.body, "q=ok"));
    answer_free(&a);
}

/* ---- text helpers ----------------------------------------------------------- */

START_TEST(html_escape_and_printf)
{
    gs_buf b = GS_BUF_INIT;
    gs_html_escape(&b, "<a href=\"x\">'&'</a> 村");
    ck_assert_str_eq(b.data, "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt; 村");
    gs_buf_reset(&b);
    gs_html_printf(&b, "<td>%s</td><td>%d|%5.1f|%lld|%zu|%03u|%.3s|100%%</td>", "<b>", -7, 2.25,
                   (long long)1 << 40, (size_t)12, 7u, "abcdef");
    ck_assert_str_eq(b.data, "<td>&lt;b&gt;</td><td>-7|  2.2|1099511627776|12|007|abc|100%</td>");
    gs_buf_reset(&b);
    gs_url_escape(&b, "a b&c=d/事");
    ck_assert_str_eq(b.data, "a%20b%26c%3Dd%2F%E4%BA%8B");
    gs_buf_free(&b);
}
END_TEST

START_TEST(password_hash_and_check)
{
    char hash[256];
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_password_hash("村委会 2026 密码", hash, sizeof hash, &eb), GS_OK);
    ck_assert_ptr_nonnull(strstr(hash, "$argon2id$"));
    ck_assert(gs_password_check(hash, "村委会 2026 密码"));
    ck_assert(!gs_password_check(hash, "村委会 2026 密码 "));
    ck_assert(!gs_password_check("not a hash", "x"));
    ck_assert_int_eq(gs_password_hash("x", hash, 16, &eb), GS_EINVAL);
}
END_TEST

/* ---- normal use --------------------------------------------------------------- */

START_TEST(serves_pages_with_headers_and_session)
{
    answer a = request("GET", "/page?q=%3Cscript%3Ealert(1)%3C/script%3E", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    assert_security_headers(&a);
    char v[300];
    ck_assert(header(&a, "Cache-Control", v, sizeof v));
    ck_assert_str_eq(v, "no-store");
    /* the value comes back as text, never as markup */
    ck_assert_ptr_nonnull(strstr(a.body, "q=&lt;script&gt;alert(1)&lt;/script&gt;"));
    ck_assert_ptr_null(strstr(a.body, "<script>"));
    ck_assert_ptr_nonnull(strstr(a.body, "user=local;"));
    /* the session cookie: HttpOnly, SameSite=Strict, not Secure without TLS */
    ck_assert(header(&a, "Set-Cookie", v, sizeof v));
    ck_assert_msg(!strncmp(v, "gs_session=", 11) && strlen(v) > 11 + 64, "%s", v);
    ck_assert_ptr_nonnull(strstr(v, "; HttpOnly"));
    ck_assert_ptr_nonnull(strstr(v, "; SameSite=Strict"));
    ck_assert_ptr_nonnull(strstr(v, "; Path=/"));
    ck_assert_ptr_null(strstr(v, "Secure"));
    answer_free(&a);

    /* the session is kept: same CSRF token, no new cookie */
    session s = new_session(NULL);
    a = request("GET", "/page", s.cookie, NULL);
    ck_assert(!header(&a, "Set-Cookie", v, sizeof v));
    char want[100];
    snprintf(want, sizeof want, "csrf=%s;", s.csrf);
    ck_assert_ptr_nonnull(strstr(a.body, want));
    answer_free(&a);

    /* HEAD answers like GET without a body; a wrong method 405; none 404 */
    a = request("HEAD", "/page", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body, "");
    answer_free(&a);
    a = request("PUT", "/page", NULL, "x");
    ck_assert_int_eq(a.status, 405);
    assert_security_headers(&a);
    answer_free(&a);
    a = request("GET", "/nothing-here", NULL, NULL);
    ck_assert_int_eq(a.status, 404);
    assert_security_headers(&a);
    ck_assert_ptr_nonnull(strstr(a.body, "找不到"));
    answer_free(&a);
    /* a prefix route, and errors in JSON under /api/ */
    a = request("GET", "/api/anything/below", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    answer_free(&a);
    a = request("GET", "/api-not", NULL, NULL);
    ck_assert_int_eq(a.status, 404);
    answer_free(&a);
    /* the language switch is kept in a cookie */
    a = request("GET", "/page?lang=en", NULL, NULL);
    ck_assert_ptr_nonnull(strstr(a.body, "lang=en;"));
    ck_assert_ptr_nonnull(strstr(a.text, "gs_lang=en"));
    answer_free(&a);
    a = request("GET", "/page", "Cookie: gs_lang=en\r\n", NULL);
    ck_assert_ptr_nonnull(strstr(a.body, "lang=en;"));
    answer_free(&a);
    /* a download with a Chinese file name */
    a = request("GET", "/download", NULL, NULL);
    ck_assert(header(&a, "Content-Disposition", v, sizeof v));
    ck_assert_str_eq(v, "attachment; filename=\"______ 2026.csv\"; "
                        "filename*=UTF-8''%E4%BA%8B%E4%BB%B6%202026.csv");
    ck_assert_str_eq(a.body, "a,b\r\n");
    answer_free(&a);
    a = request("GET", "/static/app.css", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    answer_free(&a);
}
END_TEST

START_TEST(forms_json_and_uploads)
{
    session s = new_session(NULL);
    char extra[400], body[600];
    snprintf(extra, sizeof extra, "%sContent-Type: application/x-www-form-urlencoded\r\n",
             s.cookie);
    snprintf(body, sizeof body, "_csrf=%s&title=%%E6%%B5%%8B%%E8%%AF%%95+1&empty=", s.csrf);
    answer a = request("POST", "/form", extra, body);
    ck_assert_int_eq(a.status, 200);
    ck_assert_ptr_nonnull(strstr(a.body, "title=测试 1\nempty=\n"));
    answer_free(&a);

    snprintf(extra, sizeof extra,
             "%sX-CSRF-Token: %s\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n", s.cookie,
             s.csrf);
    const char *mp = "--XyZ\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\nincident\r\n"
                     "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"村.csv\"\r\n"
                     "Content-Type: text/csv\r\n\r\nid,title\r\n1,x\r\n\r\n--XyZ--\r\n";
    a = request("POST", "/form", extra, mp);
    ck_assert_int_eq(a.status, 200);
    ck_assert_ptr_nonnull(strstr(a.body, "kind=incident\n"));
    ck_assert_msg(strstr(a.body, "file 村.csv 15 bytes"), "%s", a.body);
    answer_free(&a);

    snprintf(extra, sizeof extra, "%sX-CSRF-Token: %s\r\nContent-Type: application/json\r\n",
             s.cookie, s.csrf);
    a = request("POST", "/api/json", extra, "{\"a\":1,\"b\":[1,2,{\"c\":\"村\"}]}");
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body, "{\"ok\":true,\"size\":2}");
    answer_free(&a);
    ck_assert_uint_eq(handled, 3);
}
END_TEST

/* ---- the hostile-HTTP suite ------------------------------------------------------ */

START_TEST(oversized_headers)
{
    /* over max_header (8 KiB here): 431 from the layer */
    gs_buf h = GS_BUF_INIT;
    gs_buf_puts(&h, "X-Junk: ");
    for (int i = 0; i < 10 * 1024; i++)
        gs_buf_putc(&h, 'a');
    gs_buf_puts(&h, "\r\n");
    answer a = request("GET", "/page", h.data, NULL);
    ck_assert_int_eq(a.status, 431);
    assert_security_headers(&a);
    answer_free(&a);
    still_serving();
    /* far over (200 KiB): MHD's own memory limit answers 431 and closes */
    for (int i = 0; i < 190 * 1024; i++)
        gs_buf_putc(&h, 'b');
    gs_buf_puts(&h, "\r\n");
    a = request("GET", "/page", h.data, NULL);
    ck_assert_msg(a.status == 431 || a.status == 0, "status %d", a.status);
    answer_free(&a);
    gs_buf_free(&h);
    still_serving();
    /* many small headers add up the same */
    gs_buf_reset(&h);
    for (int i = 0; i < 600; i++)
        gs_buf_printf(&h, "X-H%d: 0123456789\r\n", i);
    a = request("GET", "/page", h.data, NULL);
    ck_assert_int_eq(a.status, 431);
    answer_free(&a);
    gs_buf_free(&h);
    still_serving();
}
END_TEST

START_TEST(oversized_body)
{
    session s = new_session(NULL);
    char extra[400];
    snprintf(extra, sizeof extra,
             "%sX-CSRF-Token: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             "Content-Length: 10000000\r\n",
             s.cookie, s.csrf);
    /* a Content-Length over max_body: 413 before the body is read */
    answer a = request("POST", "/form", extra, NULL);
    ck_assert_int_eq(a.status, 413);
    assert_security_headers(&a);
    answer_free(&a);
    still_serving();

    /* a chunked body without length that grows past the limit */
    gs_buf req = GS_BUF_INIT;
    gs_buf_printf(&req,
                  "POST /form HTTP/1.1\r\nHost: 127.0.0.1\r\n%sX-CSRF-Token: %s\r\n"
                  "Content-Type: application/x-www-form-urlencoded\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n",
                  s.cookie, s.csrf);
    char chunk[4096 + 16];
    memset(chunk, 'a', sizeof chunk);
    for (int i = 0; i < 40; i++) { /* 160 KiB */
        gs_buf_puts(&req, "1000\r\n");
        gs_buf_append(&req, chunk, 4096);
        gs_buf_puts(&req, "\r\n");
    }
    gs_buf_puts(&req, "0\r\n\r\n");
    a = raw(req.data, req.len);
    ck_assert_msg(a.status == 413 || a.status == 0, "status %d", a.status);
    answer_free(&a);
    gs_buf_free(&req);
    ck_assert_uint_eq(handled, 0);
    still_serving();
}
END_TEST

START_TEST(slow_sender)
{
    /* timeout 2 s: a sender that goes quiet is cut off ... */
    int slow = dial();
    send_all(slow, "GET /page HTTP/1.1\r\n", 20);
    int64_t t0 = gst_now_ms();
    /* ... while the server answers others meanwhile */
    still_serving();
    ck_assert_int_lt(gst_now_ms() - t0, 1000);
    answer a;
    read_answer(slow, &a, 4000);
    ck_assert_msg(a.status == 0 && a.len == 0, "a silent sender got: %.100s", a.text);
    ck_assert_int_lt(gst_now_ms() - t0, 4000);
    answer_free(&a);
    close(slow);

    /* one that trickles a byte every 400 ms is never silent, yet its
     * headers are not complete after the 2 s: it is closed as well */
    slow = dial();
    const char *req = "GET /page HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: aaaaaaaaaaaaaaaaaaaa";
    t0 = gst_now_ms();
    int64_t closed_at = 0;
    for (size_t i = 0; i < strlen(req) && !closed_at; i++) {
        if (send(slow, req + i, 1, MSG_NOSIGNAL) != 1) {
            closed_at = gst_now_ms();
            break;
        }
        struct pollfd p = {slow, POLLIN, 0};
        if (poll(&p, 1, 400) > 0) { /* readable: the end of the stream */
            char c;
            ck_assert_int_le(recv(slow, &c, 1, 0), 0);
            closed_at = gst_now_ms();
        }
        if (i % 3 == 1)
            still_serving();
    }
    ck_assert_msg(closed_at, "a trickling sender was never closed");
    ck_assert_int_ge(closed_at - t0, 1900);
    ck_assert_int_lt(closed_at - t0, 4000);
    close(slow);
    still_serving();

    /* a kept-alive connection gets the same deadline for its next request */
    slow = dial();
    char first[200];
    snprintf(first, sizeof first, "GET /page HTTP/1.1\r\nHost: 127.0.0.1:%u\r\n\r\n",
             gs_http_port(srv));
    send_all(slow, first, strlen(first));
    read_answer(slow, &a, 4500);
    ck_assert_int_eq(a.status, 200); /* answered, then closed by the deadline */
    answer_free(&a);
    close(slow);
}
END_TEST

START_TEST(malformed_json)
{
    session s = new_session(NULL);
    char extra[400];
    snprintf(extra, sizeof extra, "%sX-CSRF-Token: %s\r\nContent-Type: application/json\r\n",
             s.cookie, s.csrf);
    answer a = request("POST", "/api/json", extra, "{\"a\": 1,\n \"b\": }");
    ck_assert_int_eq(a.status, 400);
    ck_assert_ptr_nonnull(strstr(a.body, "\"error\":"));
    ck_assert_ptr_nonnull(strstr(a.body, "line 2"));
    ck_assert_ptr_nonnull(strstr(a.body, "\"field\":\"body\""));
    assert_security_headers(&a);
    answer_free(&a);
    still_serving();

    a = request("POST", "/api/json", extra, "{\"a\": 1, \"a\": 2}");
    ck_assert_int_eq(a.status, 400);
    answer_free(&a);

    char *deep = malloc(20001);
    memset(deep, '[', 10000);
    memset(deep + 10000, ']', 10000);
    deep[20000] = '\0';
    a = request("POST", "/api/json", extra, deep);
    ck_assert_int_eq(a.status, 400);
    ck_assert_ptr_nonnull(strstr(a.body, "32"));
    answer_free(&a);
    free(deep);
    a = request("POST", "/api/json", extra, "");
    ck_assert_int_eq(a.status, 400);
    answer_free(&a);
    a = request("POST", "/api/json", extra, "\"just a string\"");
    ck_assert_int_eq(a.status, 400);
    answer_free(&a);
    ck_assert_uint_eq(handled, 0);
    still_serving();
}
END_TEST

START_TEST(malformed_forms)
{
    session s = new_session(NULL);
    char extra[400], body[300];
    /* invalid UTF-8 in a field */
    snprintf(extra, sizeof extra, "%sContent-Type: application/x-www-form-urlencoded\r\n",
             s.cookie);
    snprintf(body, sizeof body, "_csrf=%s&title=%%FF%%FE", s.csrf);
    answer a = request("POST", "/form", extra, body);
    ck_assert_int_eq(a.status, 400);
    assert_security_headers(&a);
    answer_free(&a);
    /* a NUL byte in a field */
    snprintf(body, sizeof body, "_csrf=%s&title=a%%00b", s.csrf);
    a = request("POST", "/form", extra, body);
    ck_assert_int_eq(a.status, 400);
    answer_free(&a);
    /* multipart without a boundary */
    snprintf(extra, sizeof extra, "%sX-CSRF-Token: %s\r\nContent-Type: multipart/form-data\r\n",
             s.cookie, s.csrf);
    a = request("POST", "/form", extra, "--x\r\n\r\n");
    ck_assert_int_eq(a.status, 400);
    answer_free(&a);
    /* multipart cut off in the middle */
    snprintf(extra, sizeof extra,
             "%sX-CSRF-Token: %s\r\nContent-Type: multipart/form-data; boundary=B\r\n", s.cookie,
             s.csrf);
    a = request("POST", "/form", extra,
                "--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nhalf");
    ck_assert_int_eq(a.status, 400);
    answer_free(&a);
    ck_assert_uint_eq(handled, 0);
    still_serving();
}
END_TEST

START_TEST(static_paths_stay_in_the_table)
{
    answer a = request("GET", "/static/app.css", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert_str_eq(a.body, "body{color:red}");
    char v[200];
    ck_assert(header(&a, "Content-Type", v, sizeof v));
    ck_assert_str_eq(v, "text/css; charset=utf-8");
    assert_security_headers(&a);
    answer_free(&a);
    static const char *const bad[] = {
        "/static/../etc/passwd",     "/static/%2e%2e/%2e%2e/etc/passwd",
        "/static//etc/passwd",       "/static/%2Fetc%2Fpasswd",
        "/static/app.css/../app.css", "/static/./app.css",
        "/static/APP.CSS",           "/static/",
        "/static/app.css%00.txt",    "/static/..%5c..%5cwindows%5cwin.ini",
        "/../../etc/passwd",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = request("GET", bad[i], NULL, NULL);
        ck_assert_msg(a.status == 404 || a.status == 400, "%s: %d", bad[i], a.status);
        ck_assert_ptr_null(strstr(a.body, "root:"));
        answer_free(&a);
    }
    still_serving();
}
END_TEST

START_TEST(csrf_and_origin)
{
    session s = new_session(NULL);
    char extra[500], body[200];
    /* no token */
    snprintf(extra, sizeof extra, "%sContent-Type: application/x-www-form-urlencoded\r\n",
             s.cookie);
    answer a = request("POST", "/form", extra, "title=x");
    ck_assert_int_eq(a.status, 403);
    assert_security_headers(&a);
    answer_free(&a);
    /* a wrong one */
    a = request("POST", "/form", extra,
                "title=x&_csrf=0000000000000000000000000000000000000000000000000000000000000000");
    ck_assert_int_eq(a.status, 403);
    answer_free(&a);
    /* another session's token */
    session other = new_session(NULL);
    snprintf(body, sizeof body, "title=x&_csrf=%s", other.csrf);
    a = request("POST", "/form", extra, body);
    ck_assert_int_eq(a.status, 403);
    answer_free(&a);
    /* no session at all (a page elsewhere posting to the desk) */
    snprintf(body, sizeof body, "title=x&_csrf=%s", s.csrf);
    a = request("POST", "/form", "Content-Type: application/x-www-form-urlencoded\r\n", body);
    ck_assert_int_eq(a.status, 403);
    answer_free(&a);
    /* the right token from a foreign Origin */
    snprintf(extra, sizeof extra,
             "%sOrigin: http://evil.example\r\nContent-Type: application/x-www-form-urlencoded\r\n",
             s.cookie);
    a = request("POST", "/form", extra, body);
    ck_assert_int_eq(a.status, 403);
    answer_free(&a);
    ck_assert_uint_eq(handled, 0);
    /* the right token from this server's own page */
    snprintf(extra, sizeof extra,
             "%sOrigin: http://127.0.0.1:%u\r\nContent-Type: application/x-www-form-urlencoded\r\n",
             s.cookie, gs_http_port(srv));
    a = request("POST", "/form", extra, body);
    ck_assert_int_eq(a.status, 200);
    answer_free(&a);
    ck_assert_uint_eq(handled, 1);
    still_serving();
}
END_TEST

START_TEST(host_header)
{
    answer a = request("GET", "/page", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    answer_free(&a);
    static const char *const bad[] = {
        "GET /page HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
        "GET /page HTTP/1.1\r\nHost: evil.example:8080\r\nConnection: close\r\n\r\n",
        "GET /page HTTP/1.1\r\nHost: 127.0.0.1.evil.example\r\nConnection: close\r\n\r\n",
        "GET /page HTTP/1.0\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        a = raw(bad[i], strlen(bad[i]));
        ck_assert_msg(a.status == 400, "%s: %d", bad[i], a.status);
        assert_security_headers(&a);
        answer_free(&a);
    }
    static const char *const good[] = {
        "GET /page HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        "GET /page HTTP/1.1\r\nHost: LOCALHOST:1234\r\nConnection: close\r\n\r\n",
        "GET /page HTTP/1.1\r\nHost: [::1]:8080\r\nConnection: close\r\n\r\n",
        "GET /page HTTP/1.1\r\nHost: 192.168.1.20:8080\r\nConnection: close\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        a = raw(good[i], strlen(good[i]));
        ck_assert_msg(a.status == 200, "%s: %d", good[i], a.status);
        answer_free(&a);
    }
    still_serving();
}
END_TEST

/* ---- login ---------------------------------------------------------------------- */

static answer try_login(const session *s, const char *user, const char *pw)
{
    char extra[400], body[300];
    snprintf(extra, sizeof extra, "%sContent-Type: application/x-www-form-urlencoded\r\n",
             s->cookie);
    snprintf(body, sizeof body, "_csrf=%s&user=%s&password=%s", s->csrf, user, pw);
    return request("POST", "/login", extra, body);
}

START_TEST(login_required_and_rotates_the_session)
{
    /* no session: a page redirects to the login, the API answers 401 */
    answer a = request("GET", "/page", NULL, NULL);
    ck_assert_int_eq(a.status, 303);
    char v[300];
    ck_assert(header(&a, "Location", v, sizeof v));
    ck_assert_str_eq(v, "/login");
    assert_security_headers(&a);
    answer_free(&a);
    a = request("GET", "/api/records", NULL, NULL);
    ck_assert_int_eq(a.status, 401);
    ck_assert_ptr_nonnull(strstr(a.body, "\"error\":"));
    answer_free(&a);

    /* the login page is public and gives a session with a CSRF token */
    a = request("GET", "/login", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert(header(&a, "Set-Cookie", v, sizeof v));
    session s = {{0}};
    snprintf(s.cookie, sizeof s.cookie, "Cookie: %.*s\r\n", (int)strcspn(v, ";"), v);
    const char *c = strstr(a.body, "csrf=");
    snprintf(s.csrf, sizeof s.csrf, "%.*s", (int)strcspn(c + 5, ";"), c + 5);
    answer_free(&a);

    a = try_login(&s, "wang", "wrong");
    ck_assert_int_eq(a.status, 401);
    ck_assert_ptr_nonnull(strstr(a.body, "用户名或密码不对"));
    answer_free(&a);

    a = try_login(&s, "wang", "right+horse");
    ck_assert_int_eq(a.status, 303);
    ck_assert(header(&a, "Set-Cookie", v, sizeof v));
    session in = {{0}};
    snprintf(in.cookie, sizeof in.cookie, "Cookie: %.*s\r\n", (int)strcspn(v, ";"), v);
    ck_assert_str_ne(in.cookie, s.cookie); /* rotated */
    answer_free(&a);
    a = request("GET", "/page", in.cookie, NULL);
    ck_assert_int_eq(a.status, 200);
    ck_assert_ptr_nonnull(strstr(a.body, "user=wang;"));
    answer_free(&a);
    /* the cookie from before the login is worth nothing now */
    a = request("GET", "/page", s.cookie, NULL);
    ck_assert_int_eq(a.status, 303);
    answer_free(&a);
    /* a disabled user: every session of the user ends at once */
    gs_http_end_sessions(srv, "wang");
    a = request("GET", "/page", in.cookie, NULL);
    ck_assert_int_eq(a.status, 303);
    answer_free(&a);
}
END_TEST

START_TEST(login_throttling)
{
    session s = {{0}};
    answer a = request("GET", "/login", NULL, NULL);
    char v[300];
    ck_assert(header(&a, "Set-Cookie", v, sizeof v));
    snprintf(s.cookie, sizeof s.cookie, "Cookie: %.*s\r\n", (int)strcspn(v, ";"), v);
    const char *c = strstr(a.body, "csrf=");
    snprintf(s.csrf, sizeof s.csrf, "%.*s", (int)strcspn(c + 5, ";"), c + 5);
    answer_free(&a);
    for (int i = 0; i < 5; i++) {
        a = try_login(&s, "wang", "guess");
        ck_assert_int_eq(a.status, 401);
        answer_free(&a);
    }
    /* the sixth attempt is refused even with the right password */
    a = try_login(&s, "wang", "right+horse");
    ck_assert_int_eq(a.status, 429);
    ck_assert_ptr_nonnull(strstr(a.body, "秒后再试"));
    assert_security_headers(&a);
    answer_free(&a);
    a = request("GET", "/login", NULL, NULL);
    ck_assert_int_eq(a.status, 200);
    answer_free(&a);
}
END_TEST

static void setup_login_short(void) { start(false, 2, 1); }

START_TEST(session_idle_expiry)
{
    session s = new_session(NULL);
    gst_sleep_ms(2100);
    answer a = request("GET", "/page", s.cookie, NULL);
    char v[300];
    ck_assert_int_eq(a.status, 200);
    ck_assert(header(&a, "Set-Cookie", v, sizeof v)); /* a new session */
    ck_assert_ptr_null(strstr(a.body, s.csrf));
    answer_free(&a);
}
END_TEST

START_TEST(start_refuses_bad_addresses)
{
    /* bind to a name that is not an address: refused with a message */
    gs_http_config cfg = {.bind = "example.org", .routes = routes, .nroutes = 1};
    gs_http_server *x = NULL;
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_http_start(&x, &cfg, &eb), GS_EINVAL);
    ck_assert_ptr_nonnull(strstr(eb.msg, "example.org"));
    /* a port in use */
    cfg.bind = "127.0.0.1";
    cfg.port = gs_http_port(srv);
    ck_assert_int_eq(gs_http_start(&x, &cfg, &eb), GS_EIO);
    ck_assert_ptr_nonnull(strstr(eb.msg, "127.0.0.1"));
    ck_assert_ptr_null(x);
}
END_TEST

/* HTTPS through MHD's GnuTLS: a self-signed certificate made with the
 * openssl command, asked with curl; the session cookie is Secure then. */
START_TEST(tls_serves_https)
{
    if (access("/usr/bin/openssl", X_OK) || access("/usr/bin/curl", X_OK)) {
        fprintf(stderr, "tls_serves_https: skipped (no openssl or curl command)\n");
        return;
    }
    char *dir = gst_tmpdir(), key[600], crt[600];
    snprintf(key, sizeof key, "%s/key.pem", dir);
    snprintf(crt, sizeof crt, "%s/cert.pem", dir);
    gst_result r = {0};
    gst_runv(&r, NULL, "/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", crt, "-days", "2",
             "-subj", "/CN=127.0.0.1", (const char *)NULL);
    ck_assert_msg(r.status == 0, "openssl: %s", r.err);
    gst_result_free(&r);
    char *kp = gst_read_file(key, NULL), *cp = gst_read_file(crt, NULL);
    gs_http_config cfg = {.bind = "127.0.0.1", .routes = routes, .nroutes = 1,
                          .tls_cert_pem = cp, .tls_key_pem = kp};
    gs_errbuf eb = {{0}};
    gs_http_server *tls = NULL;
    ck_assert_msg(gs_http_start(&tls, &cfg, &eb) == GS_OK, "%s", eb.msg);
    char url[100];
    snprintf(url, sizeof url, "https://127.0.0.1:%u/page?q=tls", gs_http_port(tls));
    gst_runv(&r, NULL, "/usr/bin/curl", "-sk", "-i", "--max-time", "20", url, (const char *)NULL);
    ck_assert_msg(r.status == 0, "curl: %d %s", r.status, r.err);
    ck_assert_msg(strstr(r.out, "HTTP/1.1 200"), "%s", r.out);
    ck_assert_ptr_nonnull(strstr(r.out, "q=tls"));
    ck_assert_ptr_nonnull(strstr(r.out, "HttpOnly; SameSite=Strict; Secure"));
    gst_result_free(&r);
    /* plain HTTP on the TLS port gets no page */
    snprintf(url, sizeof url, "http://127.0.0.1:%u/page", gs_http_port(tls));
    gst_runv(&r, NULL, "/usr/bin/curl", "-s", "--max-time", "5", url, (const char *)NULL);
    ck_assert_ptr_null(strstr(r.out, "q="));
    gst_result_free(&r);
    gs_http_stop(&tls);
    free(kp);
    free(cp);
    gst_rmrf(dir);
    free(dir);
}
END_TEST

static Suite *http_suite(void)
{
    Suite *s = suite_create("http");
    TCase *tc = gst_tcase(s, "text", NULL, NULL, 60);
    tcase_add_test(tc, html_escape_and_printf);
    tcase_add_test(tc, password_hash_and_check);
    tc = gst_tcase(s, "serve", setup_open, teardown, 60);
    tcase_add_test(tc, serves_pages_with_headers_and_session);
    tcase_add_test(tc, forms_json_and_uploads);
    tcase_add_test(tc, start_refuses_bad_addresses);
    tcase_add_test(tc, tls_serves_https);
    tc = gst_tcase(s, "hostile", setup_open, teardown, 60);
    tcase_add_test(tc, oversized_headers);
    tcase_add_test(tc, oversized_body);
    tcase_add_test(tc, slow_sender);
    tcase_add_test(tc, malformed_json);
    tcase_add_test(tc, malformed_forms);
    tcase_add_test(tc, static_paths_stay_in_the_table);
    tcase_add_test(tc, csrf_and_origin);
    tcase_add_test(tc, host_header);
    tc = gst_tcase(s, "login", setup_login, teardown, 60);
    tcase_add_test(tc, login_required_and_rotates_the_session);
    tcase_add_test(tc, login_throttling);
    tc = gst_tcase(s, "expiry", setup_login_short, teardown, 60);
    tcase_add_test(tc, session_idle_expiry);
    return s;
}

int main(void)
{
    char *top = gst_tmp_top();
    int rc = gst_run_suite(http_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
