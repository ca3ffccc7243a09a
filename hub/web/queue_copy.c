/*
 * queue_copy.c: the incident queue read from its own copy (store_queue.c),
 * kept current on a thread of its own.
 *
 * The copy is made when gridhub web starts (about a second for the city's
 * 260,000 incidents, on this thread: pages are served meanwhile, the queue
 * from the hub's table as before). From then on a queue page first brings
 * the copy up to the hub's change log (nothing to do, or the few changes
 * since the last page: a decision made a moment ago is in the list that
 * follows it) and then reads it. While a queue page was shown in the last
 * ten minutes the thread also brings it up every second (when the log has
 * not moved, one indexed read), so while a big sync arrives its changes
 * are copied as they come and the next page finds a second's worth left.
 *
 * Whatever fails with the copy, the page reads the hub's table (the same
 * filters, the same order: gs_find_list either way) and the web log says
 * why once; a new copy is tried a minute later.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "web.h"

#define QC_POLL_S 1
#define QC_WATCH_MS (10 * 60 * 1000) /* kept current while shown in the last ten minutes */
#define QC_RETRY_MS (60 * 1000)      /* a failed copy is tried again after a minute */

struct hweb_qcopy {
    pthread_t thread;
    bool started;
    pthread_mutex_t mu; /* the copy and what follows */
    pthread_cond_t wake;
    hub_queue *q;
    bool stop;
    atomic_llong shown_ms; /* when a queue page was last asked for (mono_ms) */
    bool failing;     /* the last update failed (said once in the log) ... */
    int64_t retry_ms; /* ... and is not tried again before this (a new copy costs a
                       * read of the whole table) */
    atomic_bool ready; /* made: pages read it (before that, the hub's table) */
};

/* Milliseconds of CLOCK_MONOTONIC: the hub's wall clock may be set while
 * this runs. */
static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Brings the copy up to date (mu held); says a failure once, and a new copy
 * made, in the log. */
static int update(hweb_qcopy *c)
{
    gs_errbuf eb = {{0}};
    bool rebuilt;
    int64_t t0 = mono_ms();
    if (c->failing && t0 < c->retry_ms)
        return GS_EIO; /* the hub's table meanwhile */
    int rc = hub_queue_update(c->q, &rebuilt, &eb);
    if (rc && !c->failing)
        fprintf(stderr, "gridhub web: 事件工单副本更新失败，工单暂从主库读取 (the queue's copy: %s)\n",
                eb.msg);
    else if (!rc && rebuilt) {
        long long n = (long long)hub_queue_rows(c->q);
        double s = (double)(mono_ms() - t0) / 1000.0;
        printf("gridhub web: 事件工单副本已建好：%lld 件事件，%.1f 秒 (the queue's copy: %lld "
               "incidents, made in %.1f s)\n",
               n, s, n, s);
    }
    fflush(stdout);
    c->failing = rc != 0;
    c->retry_ms = t0 + QC_RETRY_MS;
    return rc;
}

static void *keeper(void *arg)
{
    hweb_qcopy *c = arg;
    pthread_mutex_lock(&c->mu);
    if (!c->stop && update(c) == GS_OK)
        atomic_store(&c->ready, true);
    while (!c->stop) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until); /* the condition's clock */
        until.tv_sec += QC_POLL_S;
        pthread_cond_timedwait(&c->wake, &c->mu, &until);
        if (!c->stop && mono_ms() - atomic_load(&c->shown_ms) < QC_WATCH_MS &&
            update(c) == GS_OK)
            atomic_store(&c->ready, true);
    }
    pthread_mutex_unlock(&c->mu);
    return NULL;
}

int hweb_qcopy_start(hweb *w, gs_errbuf *eb)
{
    hweb_qcopy *c = calloc(1, sizeof *c);
    if (!c)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    int rc = hub_queue_open(w->db_path, &c->q, eb);
    if (rc) {
        free(c);
        return rc;
    }
    atomic_init(&c->ready, false);
    atomic_init(&c->shown_ms, mono_ms() - QC_WATCH_MS); /* none shown yet */
    pthread_mutex_init(&c->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&c->thread, NULL, keeper, c)) {
        hub_queue_close(&c->q);
        free(c);
        return gs_errf(eb, GS_ENOMEM, "cannot start the queue's thread");
    }
    c->started = true;
    w->qcopy = c;
    return GS_OK;
}

void hweb_qcopy_stop(hweb *w)
{
    hweb_qcopy *c = w->qcopy;
    if (!c)
        return;
    pthread_mutex_lock(&c->mu);
    c->stop = true;
    pthread_cond_broadcast(&c->wake);
    pthread_mutex_unlock(&c->mu);
    if (c->started)
        pthread_join(c->thread, NULL);
    hub_queue_close(&c->q);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->wake);
    free(c);
    w->qcopy = NULL;
}

int hweb_queue_list(hweb *w, const gs_find_filter *f, gs_find_each each, void *arg,
                    gs_errbuf *eb)
{
    hweb_qcopy *c = w->qcopy;
    if (c)
        atomic_store(&c->shown_ms, mono_ms()); /* watched: the thread keeps it current,
                                                * or tries again a copy that failed */
    if (c && atomic_load(&c->ready)) {
        pthread_mutex_lock(&c->mu);
        if (update(c) == GS_OK) {
            int rc = hub_queue_list(c->q, f, each, arg, eb);
            pthread_mutex_unlock(&c->mu);
            return rc;
        }
        pthread_mutex_unlock(&c->mu); /* the update failed: the hub's table */
    }
    return hub_store_list(w->store, gs_rectype_get(GS_RT_INCIDENT), f, each, arg, eb);
}
