/*
 * http_watch.c: the header deadline of the HTTP layer. libmicrohttpd 0.9.75
 * closes a connection that stays silent for timeout_s, but a sender that
 * trickles one byte a second is never silent: it would hold its connection
 * (and, sixteen at a time, every slot of its address) for ever. So every
 * connection is tracked from the moment it opens (and again after each
 * answer, waiting for the next request on a kept-alive connection) until its
 * request line and headers are complete; one that has not sent them within
 * timeout_s is shut down by a watchdog thread. shutdown(2), not close: the
 * descriptor stays libmicrohttpd's, which sees the end of the stream and
 * closes the connection on its own thread, so nothing is freed under it.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "http_int.h"

#define WATCH_TICK_MS 250

/* With the lock held: the entry of c, or NULL. */
static http_conn *find(gs_http_server *srv, const struct MHD_Connection *c)
{
    for (size_t i = 0; i < srv->nconns; i++)
        if (srv->conns[i].c == c)
            return &srv->conns[i];
    return NULL;
}

void http_watch_notify(void *cls, struct MHD_Connection *c, void **socket_context,
                       enum MHD_ConnectionNotificationCode code)
{
    (void)socket_context;
    gs_http_server *srv = cls;
    pthread_mutex_lock(&srv->lock);
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (ci && srv->nconns == srv->capconns) {
            size_t cap = srv->capconns ? srv->capconns * 2 : 32;
            http_conn *n = realloc(srv->conns, cap * sizeof *n);
            if (n) {
                srv->conns = n;
                srv->capconns = cap;
            }
        }
        if (ci && srv->nconns < srv->capconns)
            srv->conns[srv->nconns++] = (http_conn){c, ci->connect_fd, http_now_ms(), false};
    } else {
        http_conn *e = find(srv, c);
        if (e)
            *e = srv->conns[--srv->nconns];
    }
    pthread_mutex_unlock(&srv->lock);
}

void http_watch_request(gs_http_server *srv, struct MHD_Connection *c, bool in_request)
{
    pthread_mutex_lock(&srv->lock);
    http_conn *e = find(srv, c);
    if (e) {
        e->in_request = in_request;
        e->since_ms = http_now_ms();
    }
    pthread_mutex_unlock(&srv->lock);
}

static void *watch(void *arg)
{
    gs_http_server *srv = arg;
    int64_t limit = (int64_t)srv->lim.timeout_s * 1000;
    pthread_mutex_lock(&srv->lock);
    while (!srv->stopping) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += WATCH_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&srv->wake, &srv->lock, &ts);
        int64_t now = http_now_ms();
        for (size_t i = 0; i < srv->nconns; i++) {
            http_conn *e = &srv->conns[i];
            if (!e->in_request && now - e->since_ms > limit) {
                shutdown(e->fd, SHUT_RDWR);
                e->since_ms = INT64_MAX / 2; /* once */
            }
        }
    }
    pthread_mutex_unlock(&srv->lock);
    return NULL;
}

void http_watch_init(gs_http_server *srv)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->wake, &ca);
    pthread_condattr_destroy(&ca);
}

int http_watch_start(gs_http_server *srv)
{
    if (pthread_create(&srv->watch, NULL, watch, srv) != 0)
        return GS_ENOMEM;
    srv->watching = true;
    return GS_OK;
}

void http_watch_stop(gs_http_server *srv)
{
    if (!srv->watching)
        return;
    pthread_mutex_lock(&srv->lock);
    srv->stopping = true;
    pthread_cond_signal(&srv->wake);
    pthread_mutex_unlock(&srv->lock);
    pthread_join(srv->watch, NULL);
    srv->watching = false;
}
