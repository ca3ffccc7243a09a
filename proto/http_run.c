/*
 * http_run.c: what both web commands (`gridnode web`, `gridhub web`) do
 * around gs_http_start: one route table from the page groups' tables, the
 * address to print, and stopping on SIGINT or SIGTERM.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/http.h"

gs_http_route *gs_http_routes_join(const gs_http_route *const *groups, size_t ngroups, size_t *n)
{
    size_t total = 0;
    for (size_t g = 0; g < ngroups; g++)
        for (const gs_http_route *r = groups[g]; r->path; r++)
            total++;
    gs_http_route *all = calloc(total + 1, sizeof *all);
    if (!all)
        return NULL;
    *n = 0;
    for (size_t g = 0; g < ngroups; g++)
        for (const gs_http_route *r = groups[g]; r->path; r++)
            all[(*n)++] = *r;
    return all;
}

void gs_http_url(char *out, size_t cap, bool tls, const char *bind, bool any_as_local,
                 unsigned port)
{
    bool v6 = strchr(bind, ':') != NULL;
    bool any = !strcmp(bind, "0.0.0.0") || !strcmp(bind, "::");
    snprintf(out, cap, "%s://%s%s%s:%u/", tls ? "https" : "http", v6 ? "[" : "",
             any_as_local && any ? "127.0.0.1" : bind, v6 ? "]" : "", port);
}

static sigset_t stop_signals(void)
{
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    return stop;
}

void gs_http_signals_block(void)
{
    sigset_t stop = stop_signals();
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int gs_http_signals_wait(void)
{
    sigset_t stop = stop_signals();
    int sig = 0;
    sigwait(&stop, &sig);
    return sig;
}
