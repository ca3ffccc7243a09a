/*
 * gstest_http.c: the raw-socket HTTP client of the web tests (gstest_http.h).
 */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gstest.h"

#include "gridsync/buf.h"
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

bool gst_http_token(const char *body, const char *marker, char *out, size_t cap)
{
    const char *c = body ? strstr(body, marker) : NULL;
    if (!c)
        return false;
    c += strlen(marker);
    snprintf(out, cap, "%.*s", (int)strcspn(c, "\""), c);
    return true;
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
