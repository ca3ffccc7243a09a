/*
 * http_session.c: sessions of the HTTP layer (gridsync/http.h): a random
 * 32-byte token in the cookie gs_session, a CSRF token per session, idle
 * expiry, login with throttling per peer address, logout, and ending every
 * session of a user at once.
 *
 * The table is a fixed array (HTTP_MAX_SESSIONS): a flood of visitors
 * without cookies evicts the least recently used session rather than
 * growing memory. Tokens are compared in constant time. A login rotates the
 * session (new cookie and CSRF token), so a token planted before the login
 * is worth nothing after it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "http_int.h"

/* After this many failed logins from one address, each further attempt is
 * refused for a delay that starts here and doubles, up to the cap. */
#define THROTTLE_FREE_FAILS 5
#define THROTTLE_FIRST_MS (30 * 1000)
#define THROTTLE_CAP_MS (15 * 60 * 1000)

int64_t http_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void random_hex(char out[HTTP_TOKEN_HEX + 1])
{
    unsigned char r[HTTP_TOKEN_HEX / 2];
    randombytes_buf(r, sizeof r);
    sodium_bin2hex(out, HTTP_TOKEN_HEX + 1, r, sizeof r);
}

static bool token_eq(const char *a, const char *b)
{
    return strlen(a) == HTTP_TOKEN_HEX && strlen(b) == HTTP_TOKEN_HEX &&
           sodium_memcmp(a, b, HTTP_TOKEN_HEX) == 0;
}

/* With the lock held: the live session of token, or NULL. */
static http_session *find_session(gs_http_server *srv, const char *token, int64_t now)
{
    if (!token || strlen(token) != HTTP_TOKEN_HEX)
        return NULL;
    int64_t idle = (int64_t)srv->lim.session_idle_s * 1000;
    for (size_t i = 0; i < HTTP_MAX_SESSIONS; i++) {
        http_session *s = &srv->sessions[i];
        if (!s->token[0] || !token_eq(s->token, token))
            continue;
        if (now - s->last_ms > idle) {
            memset(s, 0, sizeof *s);
            return NULL;
        }
        return s;
    }
    return NULL;
}

/* With the lock held: a new session in a free slot, else in the least
 * recently used one. */
static http_session *new_session(gs_http_server *srv, int64_t now)
{
    http_session *pick = &srv->sessions[0];
    for (size_t i = 0; i < HTTP_MAX_SESSIONS; i++) {
        http_session *s = &srv->sessions[i];
        if (!s->token[0]) {
            pick = s;
            break;
        }
        if (s->last_ms < pick->last_ms)
            pick = s;
    }
    memset(pick, 0, sizeof *pick);
    random_hex(pick->token);
    random_hex(pick->csrf);
    if (!srv->cfg.login)
        snprintf(pick->user, sizeof pick->user, "local");
    pick->last_ms = now;
    return pick;
}

static void copy_out(gs_http_req *rq, const http_session *s)
{
    memcpy(rq->token, s->token, sizeof rq->token);
    memcpy(rq->csrf, s->csrf, sizeof rq->csrf);
    memcpy(rq->user, s->user, sizeof rq->user);
    memcpy(rq->who, s->who, sizeof rq->who);
    rq->has_session = true;
}

void http_session_attach(gs_http_req *rq)
{
    gs_http_server *srv = rq->srv;
    int64_t now = http_now_ms();
    const char *cookie = gs_http_cookie(rq, "gs_session");
    pthread_mutex_lock(&srv->lock);
    http_session *s = find_session(srv, cookie, now);
    if (!s) {
        s = new_session(srv, now);
        rq->new_session = true;
    }
    s->last_ms = now;
    copy_out(rq, s);
    pthread_mutex_unlock(&srv->lock);
    /* a disabled user's session ends at once (checked outside the lock:
     * the callback may take its own) */
    if (srv->cfg.login && rq->user[0] && srv->cfg.user_ok &&
        !srv->cfg.user_ok(srv->cfg.app, rq->user))
        gs_http_logout(rq);
}

/* With the lock held: the throttle entry of addr, made if absent (evicting
 * the entry unused longest). */
static http_peer *peer_entry(gs_http_server *srv, const char *addr, int64_t now)
{
    http_peer *pick = &srv->peers[0];
    for (size_t i = 0; i < HTTP_MAX_PEERS; i++) {
        http_peer *p = &srv->peers[i];
        if (p->addr[0] && !strcmp(p->addr, addr))
            return p;
        if (!p->addr[0] || p->last_ms < pick->last_ms)
            pick = p;
        if (!p->addr[0])
            break;
    }
    memset(pick, 0, sizeof *pick);
    snprintf(pick->addr, sizeof pick->addr, "%s", addr);
    pick->last_ms = now;
    return pick;
}

int gs_http_login(gs_http_req *rq, const char *user, const char *password, gs_errbuf *eb)
{
    gs_http_server *srv = rq->srv;
    if (!srv->cfg.login)
        return gs_errf(eb, GS_EINVAL, "这里不需要登录 (no login on this server)");
    if (!user || !*user || !password || strlen(user) > HTTP_USER_MAX)
        return gs_errf(eb, GS_EAUTH, "用户名或密码不对 (wrong user name or password)");
    int64_t now = http_now_ms();
    pthread_mutex_lock(&srv->lock);
    http_peer *p = peer_entry(srv, rq->peer, now);
    int64_t wait = p->until_ms - now;
    pthread_mutex_unlock(&srv->lock);
    if (wait > 0) {
        long s = (long)((wait + 999) / 1000);
        return gs_errf(eb, GS_ETIMEOUT,
                       "登录失败次数过多，请 %ld 秒后再试 (too many failed logins: try again in "
                       "%ld s)",
                       s, s);
    }
    char who[HTTP_WHO_MAX + 1] = "";
    int rc = srv->cfg.login(srv->cfg.app, user, password, who, sizeof who);
    pthread_mutex_lock(&srv->lock);
    p = peer_entry(srv, rq->peer, now);
    p->last_ms = now;
    if (rc) {
        p->fails++;
        if (p->fails >= THROTTLE_FREE_FAILS) {
            unsigned extra = p->fails - THROTTLE_FREE_FAILS;
            int64_t d = extra >= 5 ? THROTTLE_CAP_MS : (int64_t)THROTTLE_FIRST_MS << extra;
            p->until_ms = now + (d < THROTTLE_CAP_MS ? d : THROTTLE_CAP_MS);
        }
        pthread_mutex_unlock(&srv->lock);
        return gs_errf(eb, GS_EAUTH, "用户名或密码不对 (wrong user name or password)");
    }
    p->fails = 0;
    p->until_ms = 0;
    /* rotate: the old token ends, a new one carries the user */
    http_session *old = find_session(srv, rq->token, now);
    if (old)
        memset(old, 0, sizeof *old);
    http_session *s = new_session(srv, now);
    snprintf(s->user, sizeof s->user, "%s", user);
    snprintf(s->who, sizeof s->who, "%s", who[0] ? who : user);
    copy_out(rq, s);
    rq->new_session = true;
    pthread_mutex_unlock(&srv->lock);
    return GS_OK;
}

void gs_http_logout(gs_http_req *rq)
{
    gs_http_server *srv = rq->srv;
    int64_t now = http_now_ms();
    pthread_mutex_lock(&srv->lock);
    http_session *old = find_session(srv, rq->token, now);
    if (old)
        memset(old, 0, sizeof *old);
    http_session *s = new_session(srv, now);
    copy_out(rq, s);
    rq->new_session = true;
    pthread_mutex_unlock(&srv->lock);
}

void gs_http_end_sessions(gs_http_server *srv, const char *user)
{
    if (!srv || !user)
        return;
    pthread_mutex_lock(&srv->lock);
    for (size_t i = 0; i < HTTP_MAX_SESSIONS; i++)
        if (srv->sessions[i].token[0] && !strcmp(srv->sessions[i].user, user))
            memset(&srv->sessions[i], 0, sizeof srv->sessions[i]);
    pthread_mutex_unlock(&srv->lock);
}

bool http_csrf_ok(const gs_http_req *rq, const char *given)
{
    return given && rq->has_session && token_eq(rq->csrf, given);
}
