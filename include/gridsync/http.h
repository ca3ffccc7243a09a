/*
 * gridsync/http.h: the HTTP layer both web doors share (`gridnode web`, the
 * village desk, and `gridhub web`, the city's pages), over libmicrohttpd.
 *
 * Written once here: request limits (body, headers, connections, time), a
 * route table, URL query and form arguments (urlencoded and multipart, with
 * uploads), JSON bodies (jansson), sessions in HttpOnly SameSite=Strict
 * cookies, a CSRF token checked on every request that changes something,
 * login throttling per peer address, argon2id passwords (libsodium), HTML
 * escaping, security headers, and static assets compiled into the binary.
 * Each program keeps its own pages and routes.
 *
 * Threading: the server runs one internal polling thread; every handler runs
 * on it, one at a time, so a handler may use the program's one SQLite
 * connection without locks. gs_http_start returns once the socket listens.
 */
#ifndef GRIDSYNC_HTTP_H
#define GRIDSYNC_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "gridsync/buf.h"
#include "gridsync/err.h"

typedef struct gs_http_server gs_http_server;
typedef struct gs_http_req gs_http_req;
typedef struct gs_http_resp gs_http_resp;

/* Limits against hostile or broken clients; zero fields take the defaults. */
typedef struct gs_http_limits {
    size_t max_body;      /* bytes of one request body (uploads): 20 MiB */
    size_t max_header;    /* bytes of the request line and headers: 16 KiB */
    unsigned timeout_s;   /* a connection idle this long, or whose headers are not
                           * complete this long after it opened, is closed: 30 */
    unsigned max_conns;   /* connections at once: 64 */
    unsigned per_ip;      /* connections at once from one address: 16 */
    unsigned session_idle_s; /* a session unused this long ends: 8 hours */
} gs_http_limits;

/* A handler fills rs and returns 0; a non-zero return (a gs_err) with
 * nothing written makes a 500 page. */
typedef int (*gs_http_handler)(gs_http_req *rq, gs_http_resp *rs, void *app);

/* Route flags. */
enum {
    GS_ROUTE_PUBLIC = 1u << 0, /* no login needed (the login page, static files) */
    GS_ROUTE_PREFIX = 1u << 1, /* path matches every path that starts with it */
};

typedef struct gs_http_route {
    const char *method; /* "GET" (also answers HEAD), "POST", "PUT", "DELETE" */
    const char *path;   /* "/incidents"; with GS_ROUTE_PREFIX "/incident/" */
    gs_http_handler fn;
    unsigned flags;
} gs_http_route;

/* A file compiled into the binary (cmake: gs_embed_assets), served at
 * /static/NAME with its type and a long cache lifetime. Only names in the
 * table exist: no path of a request reaches the file system. */
typedef struct gs_http_asset {
    const char *name; /* "app.css" */
    const char *type; /* "text/css; charset=utf-8" */
    const unsigned char *data;
    size_t len;
} gs_http_asset;

/* Checks a login; returns 0 and writes the user's display name into who,
 * else GS_EAUTH. */
typedef int (*gs_http_login_fn)(void *app, const char *user, const char *password, char *who,
                                 size_t who_cap);
/* Whether a logged-in user may still act (not disabled); checked on every request. */
typedef bool (*gs_http_user_ok_fn)(void *app, const char *user);

typedef struct gs_http_config {
    const char *name;  /* the program, for log lines: "gridnode web" */
    const char *bind;  /* address to listen on: "127.0.0.1" */
    uint16_t port;     /* 0: a free port (gs_http_port tells which) */
    const char *tls_cert_pem, *tls_key_pem; /* HTTPS when both set (the PEM text) */
    gs_http_limits limits;
    const gs_http_route *routes;
    size_t nroutes;
    const gs_http_asset *assets;
    size_t nassets;
    void *app; /* passed to every handler and callback */
    /* NULL: no login (the village PC on loopback): every visitor gets a
     * session of user "local" at once. Else a route not PUBLIC answers a
     * visitor without a session with a redirect to login_path (HTML) or
     * 401 (paths under /api/). */
    gs_http_login_fn login;
    gs_http_user_ok_fn user_ok;
    const char *login_path; /* "/login" */
    /* Host names the Host header may carry besides the bind address,
     * "localhost" and "127.0.0.1" (a defence against DNS rebinding);
     * NULL-terminated, or NULL. */
    const char *const *hosts;
} gs_http_config;

/* Starts serving; 0, or an error naming the address (in use, refused), or
 * GS_EMALFORMED when TLS is asked and GnuTLS refuses the certificate or the
 * key (not PEM inside, not a pair). */
int gs_http_start(gs_http_server **out, const gs_http_config *cfg, gs_errbuf *eb);
/* The port listened on. */
uint16_t gs_http_port(const gs_http_server *srv);
/* Stops serving and frees everything; NULL-safe. */
void gs_http_stop(gs_http_server **srv);

/* ---- around the server: what both web commands do (http_run.c) ---------- */

/* One route table of the page groups' tables (each ends with {NULL}), in
 * their order, with a {NULL} end; *n routes. NULL when out of memory; free
 * it after gs_http_stop. */
gs_http_route *gs_http_routes_join(const gs_http_route *const *groups, size_t ngroups, size_t *n);
/* The address to open: "http://127.0.0.1:8080/", "https://[::1]:8443/";
 * with any_as_local, 0.0.0.0 and :: print as 127.0.0.1. */
void gs_http_url(char *out, size_t cap, bool tls, const char *bind, bool any_as_local,
                 unsigned port);
/* Blocks SIGINT and SIGTERM (for gs_http_signals_wait; call it before
 * gs_http_start so that the server's thread inherits the mask) and ignores
 * SIGPIPE. */
void gs_http_signals_block(void);
/* Waits for SIGINT or SIGTERM; returns which. */
int gs_http_signals_wait(void);
/* Ends every session of user at once (a disabled user, a changed password). */
void gs_http_end_sessions(gs_http_server *srv, const char *user);

/* ---- the request ---------------------------------------------------------- */

const char *gs_http_method(const gs_http_req *rq);
/* The path, percent-decoded, without the query: "/incident/0193". */
const char *gs_http_path(const gs_http_req *rq);
/* The rest of the path after a GS_ROUTE_PREFIX route's path ("0193"). */
const char *gs_http_tail(const gs_http_req *rq);
/* A URL query argument, or NULL. */
const char *gs_http_query(const gs_http_req *rq, const char *key);
/* A form field of the body (application/x-www-form-urlencoded or
 * multipart/form-data), or NULL. */
const char *gs_http_form(const gs_http_req *rq, const char *key);
/* Calls fn for every form field (name, value) in the order sent; stops at a
 * non-zero return and returns it. */
int gs_http_form_each(const gs_http_req *rq, int (*fn)(const char *k, const char *v, void *arg),
                      void *arg);
/* An uploaded file of a multipart form: its file name and bytes. */
typedef struct gs_http_upload {
    const char *filename;
    const unsigned char *data;
    size_t len;
} gs_http_upload;
const gs_http_upload *gs_http_file(const gs_http_req *rq, const char *key);
/* The raw body. */
const char *gs_http_body(const gs_http_req *rq, size_t *len);
/* The body parsed as JSON (an object or array); NULL with a message in eb
 * (line and column) when it is not. The request owns the result. */
json_t *gs_http_json(gs_http_req *rq, gs_errbuf *eb);
/* A request header or cookie, or NULL. */
const char *gs_http_header(const gs_http_req *rq, const char *name);
const char *gs_http_cookie(const gs_http_req *rq, const char *name);
/* cfg->app of the server answering. */
void *gs_http_app(const gs_http_req *rq);
/* The peer's address as text ("127.0.0.1"). */
const char *gs_http_peer(const gs_http_req *rq);
/* The session's user ("local" without login; NULL on a public page before a
 * login) and its CSRF token, which every form must send back as field
 * "_csrf" (or header X-CSRF-Token). */
const char *gs_http_user(const gs_http_req *rq);
const char *gs_http_csrf(const gs_http_req *rq);
/* The display name the login callback gave for the session's user. */
const char *gs_http_who(const gs_http_req *rq);
/* "zh" (default) or "en": from ?lang=, kept in a cookie. */
const char *gs_http_lang(const gs_http_req *rq);
/* True when the page asks for English. */
static inline bool gs_http_en(const gs_http_req *rq)
{
    return gs_http_lang(rq)[0] == 'e';
}
/* True for paths under /api/ (errors answer in JSON there). */
bool gs_http_is_api(const gs_http_req *rq);

/* Logs in on this request's session: refused at once (GS_ETIMEOUT, "请 N 秒
 *后再试") while the peer address is throttled (after 5 failed logins each
 * further attempt waits 30 s, doubling up to 15 min); else cfg->login
 * decides (GS_EAUTH, "用户名或密码不对"). On success the session is
 * rotated: a new cookie and CSRF token carry the user, sent with this
 * answer. eb gets a message for the page in Chinese and English. */
int gs_http_login(gs_http_req *rq, const char *user, const char *password, gs_errbuf *eb);
/* Ends this request's session and starts a fresh one without a user. */
void gs_http_logout(gs_http_req *rq);

/* ---- the response --------------------------------------------------------- */

/* The body being written (text/html by default). */
gs_buf *gs_http_out(gs_http_resp *rs);
void gs_http_set_status(gs_http_resp *rs, int status);
void gs_http_set_type(gs_http_resp *rs, const char *content_type);
void gs_http_set_header(gs_http_resp *rs, const char *name, const char *value);
/* A 303 redirect to a path of this server. */
int gs_http_redirect(gs_http_resp *rs, const char *path);
/* Sends j (stolen) as application/json with status. */
int gs_http_json_reply(gs_http_resp *rs, int status, json_t *j);
/* An error answer: {"error": msg, "field": field} under /api/, else a small
 * HTML page with the message; status 400, 403, 404, 409, 413 ... */
int gs_http_error(gs_http_req *rq, gs_http_resp *rs, int status, const char *field,
                  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* A download: the bytes (copied) with their type and a file name that may be
 * Chinese (Content-Disposition with filename*=UTF-8''). */
int gs_http_download(gs_http_resp *rs, const char *filename, const char *type, const void *data,
                     size_t len);

/* ---- text ----------------------------------------------------------------- */

/* Appends s with & < > " ' escaped for HTML text and attribute values. */
void gs_html_escape(gs_buf *b, const char *s);
/* Appends printf output, each %s argument escaped as by gs_html_escape
 * (numbers as they are). */
void gs_html_printf(gs_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends s percent-encoded for a URL query value. */
void gs_url_escape(gs_buf *b, const char *s);

/* ---- passwords ------------------------------------------------------------ */

/* An argon2id hash string (libsodium crypto_pwhash_str, interactive limits)
 * of password into out (at least 128 bytes). */
int gs_password_hash(const char *password, char *out, size_t cap, gs_errbuf *eb);
/* True when password matches hash. */
bool gs_password_check(const char *hash, const char *password);
/* The fewest characters a password may have (both doors, both commands). */
#define GS_PASSWORD_MIN_CHARS 8
/* True when password is UTF-8 of at least GS_PASSWORD_MIN_CHARS characters. */
bool gs_password_long_enough(const char *password);

#endif
