/*
 * http_int.h: what the files of the HTTP layer (http.c: the server, requests
 * and answers; http_session.c: sessions, CSRF tokens, login throttling)
 * share. Not part of the API (gridsync/http.h is).
 */
#ifndef GS_HTTP_INT_H
#define GS_HTTP_INT_H

#include <pthread.h>

#include <microhttpd.h>

#include "gridsync/http.h"

#define HTTP_TOKEN_HEX 64     /* 32 random bytes as hex */
#define HTTP_MAX_SESSIONS 1024 /* the least recently used goes when full */
#define HTTP_MAX_PEERS 256     /* login throttling: addresses remembered */
#define HTTP_USER_MAX 64
#define HTTP_WHO_MAX 100

/* One session: its cookie token, its CSRF token, the user ("" before login). */
typedef struct http_session {
    char token[HTTP_TOKEN_HEX + 1]; /* "" for a free slot */
    char csrf[HTTP_TOKEN_HEX + 1];
    char user[HTTP_USER_MAX + 1];
    char who[HTTP_WHO_MAX + 1];
    int64_t last_ms;
} http_session;

/* Failed logins from one address. */
typedef struct http_peer {
    char addr[64];
    unsigned fails;
    int64_t until_ms; /* refused before this */
    int64_t last_ms;
} http_peer;

/* A connection open, for the header deadline (http_watch.c). */
typedef struct http_conn {
    struct MHD_Connection *c;
    int fd;
    int64_t since_ms; /* opened, or its last answer sent */
    bool in_request;  /* its headers are complete */
} http_conn;

struct gs_http_server {
    struct MHD_Daemon *d;
    gs_http_config cfg;
    gs_http_limits lim;
    uint16_t port;
    bool tls;
    char *cert, *key; /* copies: MHD keeps pointers to them */
    char log[256];    /* MHD's last message, for the error of a failed start */
    bool started;
    pthread_mutex_t lock; /* guards sessions and peers (end_sessions may come from any thread) */
    http_session sessions[HTTP_MAX_SESSIONS];
    http_peer peers[HTTP_MAX_PEERS];
    /* the header deadline (http_watch.c), under lock */
    http_conn *conns;
    size_t nconns, capconns;
    pthread_t watch;
    pthread_cond_t wake;
    bool watching, stopping;
};

/* One form field (or uploaded file) of a request body. */
typedef struct http_field {
    char *key;
    gs_buf val;
    gs_http_upload up; /* filename set for a file */
    bool file;
} http_field;

struct gs_http_req {
    gs_http_server *srv;
    struct MHD_Connection *conn; /* NULL until the first call of the handler */
    bool nul_in_uri;
    char method[16];
    char *path;
    const char *tail;
    char peer[64];
    char lang[3];
    bool lang_set; /* ?lang= given: answer with its cookie */
    /* the body: raw (JSON and the rest) or fed to the form parser */
    gs_buf body;
    size_t body_bytes;
    bool too_big, answered;
    struct MHD_PostProcessor *pp;
    bool multipart, form_bad;
    http_field *fields;
    size_t nfields, capfields;
    json_t *json;
    /* the session, copied at the start of the request */
    bool has_session, new_session;
    char token[HTTP_TOKEN_HEX + 1], csrf[HTTP_TOKEN_HEX + 1];
    char user[HTTP_USER_MAX + 1], who[HTTP_WHO_MAX + 1];
};

struct gs_http_resp {
    int status;
    char *type;
    gs_buf out;
    struct http_hdr {
        char *name, *value;
    } hdrs[16];
    int nhdrs;
};

/* Milliseconds of the monotonic clock. */
int64_t http_now_ms(void);
/* Finds the session of the request's cookie (not expired) and copies it
 * into rq; else makes a new one (user "local" when the server has no
 * login, else ""). */
void http_session_attach(gs_http_req *rq);
/* The header deadline (http_watch.c): MHD's connection notifications; a
 * request's headers complete (in_request) or its answer done; the watchdog
 * thread. */
void http_watch_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code);
void http_watch_request(gs_http_server *srv, struct MHD_Connection *c, bool in_request);
void http_watch_init(gs_http_server *srv); /* before the server starts */
int http_watch_start(gs_http_server *srv);
void http_watch_stop(gs_http_server *srv);
/* True when given is the request's session's CSRF token (constant time). */
bool http_csrf_ok(const gs_http_req *rq, const char *given);

#endif
