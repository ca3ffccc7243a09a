/*
 * gstest_http.h: a small HTTP client over raw sockets for tests of the web
 * doors: it sends exactly the bytes a test gives (a hostile request as
 * easily as a normal one) and reads the answer until the server closes.
 * For Check tests only: a connection that cannot be made fails the test.
 */
#ifndef GRIDSYNC_GSTEST_HTTP_H
#define GRIDSYNC_GSTEST_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* An answer as read. */
typedef struct gst_http_answer {
    int status; /* 0: the connection closed (or went quiet) without an answer */
    char *text; /* the head and the body, NUL-terminated (malloc'd) */
    char *body; /* inside text */
    size_t len;
} gst_http_answer;

void gst_http_answer_free(gst_http_answer *a);

/* A connection to 127.0.0.1:port. */
int gst_http_dial(uint16_t port);
/* Sends every byte it can (stops quietly when the server has closed). */
void gst_http_send(int fd, const void *p, size_t n);
/* Reads until the server closes or timeout_ms pass without a byte. */
void gst_http_read(int fd, gst_http_answer *a, int timeout_ms);
/* Sends raw bytes on a new connection and reads the answer (5 s quiet ends it). */
gst_http_answer gst_http_raw(uint16_t port, const char *req, size_t len);
/* method path HTTP/1.1 with Host: 127.0.0.1:port and Connection: close,
 * the header lines of extra ("Name: value\r\n" each, may be NULL), and body
 * with its Content-Length when not NULL. */
gst_http_answer gst_http_request(uint16_t port, const char *method, const char *path,
                                 const char *extra, const char *body);
/* The value of the first header name (case-insensitive) into out, or false. */
bool gst_http_header(const gst_http_answer *a, const char *name, char *out, size_t cap);

/* A session as a browser holds it: the "Cookie: gs_session=...\r\n" line
 * (from the answer's Set-Cookie) and a CSRF token. */
typedef struct gst_http_session {
    char cookie[200];
    char csrf[80];
} gst_http_session;
/* Takes the session cookie of a's Set-Cookie into s->cookie (false when it
 * sets none) and the CSRF token that follows marker in a's body (e.g.
 * "name=\"_csrf\" value=\""), up to a quote or ';', into s->csrf. */
bool gst_http_take_session(const gst_http_answer *a, const char *marker, gst_http_session *s);

/* A POST of body (application/x-www-form-urlencoded, its fields already
 * encoded) with the session's cookie. */
gst_http_answer gst_http_post_form(uint16_t port, const char *path, const gst_http_session *s,
                                   const char *body);
/* Logs in through /login as a browser does (the login page's session and
 * form token, then user and password posted, a 303 required) and returns
 * the session that carries the user; its CSRF token is that of the page at
 * csrf_page (its meta tag), or empty when csrf_page is NULL (the login
 * rotated the one before). */
gst_http_session gst_http_login(uint16_t port, const char *user, const char *password,
                                const char *csrf_page);

/* The value after marker in body up to the next '"' into out (a page's
 * CSRF token: marker "name=\"_csrf\" value=\"" or GST_HTTP_CSRF_META);
 * false, out untouched, when body lacks marker. */
#define GST_HTTP_CSRF_FIELD "name=\"_csrf\" value=\""
#define GST_HTTP_CSRF_META "<meta name=\"csrf-token\" content=\""
bool gst_http_token(const char *body, const char *marker, char *out, size_t cap);

/* Slow senders against the header deadline of a web door on port
 * (proto/http_watch.c): two connections to it, then a child process that
 * keeps them, one having sent a request line and nothing more, the other
 * dribbling header bytes, one every 500 ms, without ever ending them. When
 * the server has closed both, or give_up_s after the start, the child writes
 * what it saw to out (whole, by rename) and ends. Returns its pid: it dies
 * with the caller, who kills and reaps it to stop it sooner. */
pid_t gst_http_slow_start(uint16_t port, const char *out, int give_up_s);
/* What the slow senders saw: when the server closed each (ms from the
 * start, -1: never), the bytes dribbled, the bytes that came back. */
typedef struct gst_http_slow {
    long long silent_ms, dripping_ms;
    size_t sent, back;
} gst_http_slow;
/* Waits up to wait_ms for the report of gst_http_slow_start at out; fails
 * the test when none comes. */
gst_http_slow gst_http_slow_result(const char *out, int wait_ms);

/* Starts a web door (argv: gridnode ... web, gridhub ... web) among procs
 * with its output in log (emptied first), waits up to 20 s for its line
 * "...web: serving URL" and returns the port the URL names; *pid gets the
 * process. Fails the test when it exits or does not start. */
struct gst_procs;
uint16_t gst_http_serve(struct gst_procs *procs, const char *const argv[], const char *log,
                        pid_t *pid);

#endif
