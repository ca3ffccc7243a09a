/*
 * gstest_http.c: the raw-socket HTTP client of the web tests (gstest_http.h),
 * their login and their slow senders.
 */
#include <arpa/inet.h>
#include <check.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gstest.h"

#include "gridsync/buf.h"
#include "gridsync/http.h"
#include "gstest_http.h"

void gst_http_answer_free(gst_http_answer *a)
{
    free(a->text);
    memset(a, 0, sizeof *a);
}

int gst_http_dial(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_msg(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0,
                  "cannot connect to 127.0.0.1:%u", (unsigned)port);
    return fd;
}

void gst_http_send(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

void gst_http_read(int fd, gst_http_answer *a, int timeout_ms)
{
    gs_buf b = GS_BUF_INIT;
    char chunk[8192];
    for (;;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) <= 0)
            break;
        ssize_t r = recv(fd, chunk, sizeof chunk, 0);
        if (r <= 0)
            break;
        gs_buf_append(&b, chunk, (size_t)r);
    }
    gs_buf_puts(&b, "");
    a->text = gs_buf_steal(&b);
    ck_assert_ptr_nonnull(a->text);
    a->len = strlen(a->text);
    a->status = 0;
    sscanf(a->text, "HTTP/1.%*d %d", &a->status);
    char *end = strstr(a->text, "\r\n\r\n");
    a->body = end ? end + 4 : a->text + a->len;
}

gst_http_answer gst_http_raw(uint16_t port, const char *req, size_t len)
{
    int fd = gst_http_dial(port);
    gst_http_send(fd, req, len);
    gst_http_answer a;
    /* a page of the city's whole list of villages takes seconds in a
     * sanitized Debug build on a busy machine: wait for it, a page that
     * never comes still fails (status 0) */
    gst_http_read(fd, &a, 30000);
    close(fd);
    return a;
}

gst_http_answer gst_http_request(uint16_t port, const char *method, const char *path,
                                 const char *extra, const char *body)
{
    gs_buf b = GS_BUF_INIT;
    gs_buf_printf(&b, "%s %s HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nConnection: close\r\n%s", method,
                  path, (unsigned)port, extra ? extra : "");
    if (body)
        gs_buf_printf(&b, "Content-Length: %zu\r\n", strlen(body));
    gs_buf_printf(&b, "\r\n%s", body ? body : "");
    ck_assert_int_eq(b.err, 0);
    gst_http_answer a = gst_http_raw(port, b.data, b.len);
    gs_buf_free(&b);
    return a;
}

bool gst_http_header(const gst_http_answer *a, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);
    for (const char *p = strstr(a->text, "\r\n"); p && p < a->body; p = strstr(p + 2, "\r\n")) {
        if (!strncasecmp(p + 2, name, n) && p[2 + n] == ':') {
            const char *v = p + 3 + n;
            while (*v == ' ')
                v++;
            size_t len = strcspn(v, "\r\n");
            snprintf(out, cap, "%.*s", (int)(len < cap ? len : cap - 1), v);
            return true;
        }
    }
    return false;
}

bool gst_http_take_session(const gst_http_answer *a, const char *marker, gst_http_session *s)
{
    const char *p = strstr(a->text, "\r\nSet-Cookie: gs_session=");
    if (!p || p > a->body)
        return false;
    p += 14;
    snprintf(s->cookie, sizeof s->cookie, "Cookie: %.*s\r\n", (int)strcspn(p, ";\r\n"), p);
    const char *c = marker ? strstr(a->body, marker) : NULL;
    if (c) {
        c += strlen(marker);
        snprintf(s->csrf, sizeof s->csrf, "%.*s", (int)strcspn(c, "\";"), c);
    }
    return true;
}

gst_http_answer gst_http_post_form(uint16_t port, const char *path, const gst_http_session *s,
                                   const char *body)
{
    char extra[400];
    snprintf(extra, sizeof extra, "%sContent-Type: application/x-www-form-urlencoded\r\n",
             s->cookie);
    return gst_http_request(port, "POST", path, extra, body);
}

gst_http_session gst_http_login(uint16_t port, const char *user, const char *password,
                                const char *csrf_page)
{
    gst_http_session s = {{0}};
    gst_http_answer a = gst_http_request(port, "GET", "/login", NULL, NULL);
    ck_assert_msg(a.status == 200, "GET /login: %d\n%.2000s", a.status, a.text);
    ck_assert(gst_http_take_session(&a, GST_HTTP_CSRF_FIELD, &s));
    gst_http_answer_free(&a);
    gs_buf body = GS_BUF_INIT;
    gs_buf_printf(&body, "_csrf=%s&user=", s.csrf);
    gs_url_escape(&body, user);
    gs_buf_puts(&body, "&password=");
    gs_url_escape(&body, password);
    ck_assert_int_eq(body.err, 0);
    a = gst_http_post_form(port, "/login", &s, body.data);
    gs_buf_free(&body);
    ck_assert_msg(a.status == 303, "login %s: %d\n%.3000s", user, a.status, a.text);
    ck_assert(gst_http_take_session(&a, NULL, &s));
    gst_http_answer_free(&a);
    s.csrf[0] = '\0';
    if (csrf_page) {
        a = gst_http_request(port, "GET", csrf_page, s.cookie, NULL);
        ck_assert_msg(a.status == 200, "%s: %d\n%.3000s", csrf_page, a.status, a.text);
        ck_assert_msg(gst_http_token(a.body, GST_HTTP_CSRF_META, s.csrf, sizeof s.csrf),
                      "no csrf-token on %s", csrf_page);
        gst_http_answer_free(&a);
    }
    return s;
}

bool gst_http_token(const char *body, const char *marker, char *out, size_t cap)
{
    const char *c = body ? strstr(body, marker) : NULL;
    if (!c)
        return false;
    c += strlen(marker);
    snprintf(out, cap, "%.*s", (int)strcspn(c, "\""), c);
    return true;
}

pid_t gst_http_slow_start(uint16_t port, const char *out, int give_up_s)
{
    int fds[2] = {gst_http_dial(port), gst_http_dial(port)};
    int64_t t0 = gst_now_ms();
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid) {
        close(fds[0]);
        close(fds[1]);
        return pid;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    char drip[300];
    int n = snprintf(drip, sizeof drip,
                     "GET / HTTP/1.1\r\nHost: 127.0.0.1:%u\r\nX-Slow: ", (unsigned)port);
    memset(drip + n, 'a', sizeof drip - 1 - (size_t)n);
    drip[sizeof drip - 1] = '\0';
    gst_http_send(fds[0], "GET / HTTP/1.1\r\n", 16);
    long long closed[2] = {-1, -1};
    size_t sent = 0, back = 0;
    while ((closed[0] < 0 || closed[1] < 0) && gst_now_ms() - t0 < give_up_s * 1000LL) {
        for (int i = 0; i < 2; i++) {
            struct pollfd p = {fds[i], POLLIN, 0};
            char buf[512];
            ssize_t r;
            if (closed[i] < 0 && poll(&p, 1, 0) > 0 && (r = recv(fds[i], buf, sizeof buf, 0)) > 0)
                back += (size_t)r;
            else if (closed[i] < 0 && p.revents)
                closed[i] = gst_now_ms() - t0; /* the end of the stream, or a reset */
        }
        if (closed[1] < 0 && sent < strlen(drip)) {
            if (send(fds[1], drip + sent, 1, MSG_NOSIGNAL) == 1)
                sent++;
            else
                closed[1] = gst_now_ms() - t0;
        }
        gst_sleep_ms(500);
    }
    char line[200], part[PATH_MAX + 8];
    n = snprintf(line, sizeof line, "silent %lld dripping %lld sent %zu back %zu\n", closed[0],
                 closed[1], sent, back);
    snprintf(part, sizeof part, "%s.part", out);
    if (gst_write_file(part, line, (size_t)n) == 0)
        rename(part, out);
    _exit(0); /* nothing of the test's: no Check, no atexit */
}

gst_http_slow gst_http_slow_result(const char *out, int wait_ms)
{
    char *text = NULL;
    int64_t end = gst_now_ms() + wait_ms;
    while (!(text = gst_read_file(out, NULL)) && gst_now_ms() < end)
        gst_sleep_ms(200);
    ck_assert_msg(text != NULL, "the slow senders told nothing in %d ms", wait_ms);
    gst_http_slow r = {0};
    int got = sscanf(text, "silent %lld dripping %lld sent %zu back %zu", &r.silent_ms,
                     &r.dripping_ms, &r.sent, &r.back);
    ck_assert_msg(got == 4, "the slow senders' report: %s", text);
    free(text);
    return r;
}

uint16_t gst_http_serve(struct gst_procs *procs, const char *const argv[], const char *log,
                        pid_t *pid)
{
    unlink(log); /* the port read below is this start's */
    pid_t web = gst_procs_spawn(procs, argv, log);
    *pid = web;
    int64_t end = gst_now_ms() + 20000;
    for (;;) {
        char *text = gst_read_file(log, NULL);
        const char *p = text ? strstr(text, "web: serving ") : NULL;
        const char *eol = p ? strchr(p, '\n') : NULL;
        if (eol) {
            const char *slash = eol;
            while (slash > p && *slash != '/') /* the URL's last slash, after the port */
                slash--;
            const char *colon = slash;
            while (colon > p && *colon != ':')
                colon--;
            uint16_t port = (uint16_t)atoi(colon + 1);
            free(text);
            ck_assert_msg(port > 0, "no port in the serving line of %s", log);
            return port;
        }
        free(text);
        ck_assert_msg(gst_procs_reap(procs, web, false) == -1, "%s web exited at start", argv[0]);
        ck_assert_msg(gst_now_ms() < end, "%s web did not start within 20 s", argv[0]);
        gst_sleep_ms(50);
    }
}
