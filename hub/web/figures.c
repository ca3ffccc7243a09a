/*
 * figures.c: the dashboard's reports, kept between requests.
 *
 * The city's dashboard is two reports over every incident of the city
 * (about a second of CPU at 300,000 incidents), and every city user's
 * browser shows the same two, often, beside a `gridhub serve` that must not
 * be slowed. So a report document, once made, is kept, keyed by what was
 * asked (kind, area, period, the China date it is as of), with the
 * database's generation it was read at, and a page is given:
 *
 *   - the kept document while nothing was committed to the database since
 *     it was read (figures exactly those `gridhub report` prints now);
 *   - else the kept document while it is younger than the page's max age
 *     (--figures-max-age, 60 s by default: the page says when its figures
 *     were read);
 *   - else, while it is younger than twice that, the kept document again,
 *     a new one being made meanwhile;
 *   - else, or when the page asks for current figures (?fresh=1), a new one
 *     made now, the page waiting for it.
 * So however many browsers poll while syncs arrive, a report is made again
 * at most once per max age (one made per request had the figures thread
 * read the whole city back to back, taking a CPU from serve).
 *
 * Documents are made on a thread of their own with a read-only connection
 * of its own (WAL: it never blocks `serve` nor the pages' connection), so a
 * page that may show a kept document never waits for a new one. That thread
 * also makes again, unasked, a document shown in the last ten minutes once
 * it is older than the max age and the database has changed, and makes the
 * city's dashboard for this year when gridhub web starts: a dashboard is
 * seldom made while its page waits.
 *
 * The generation is what the pages' connection sees: PRAGMA data_version
 * (changes by other connections: serve, the command line) and the changes
 * made through the pages (decisions, 上级交办, registry edits: hweb_audit).
 * A document is handed out counted, and freed when it is neither kept nor
 * held by a page.
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gridsync/find.h"
#include "gridsync/hlc.h"
#include "web.h"

#define FIG_KEEP 48       /* documents kept at most (the least recently shown go) */
#define FIG_KEY_MAX 160
/* The figures connection's page cache and sort memory: a whole-city report
 * with the reports' 16 MiB reads no faster (it scans; the kernel caches the
 * file) and grows its sort buffer by doubling to 16 MiB, which leaves some
 * 50 MiB of the thread's heap touched. */
#define FIG_CACHE_KIB 4096
#define FIG_POLL_S 5                 /* the figures thread looks for what is due this often */
#define FIG_WATCH_MS (10 * 60 * 1000) /* kept fresh while shown in the last ten minutes */

/* A made document and how many hold it (the entry keeping it, pages). */
typedef struct fdoc {
    gs_doc *doc;
    int refs;
    int64_t made_ms; /* when its snapshot was read */
    uint64_t gen;    /* the generation the pages had seen when it was asked for */
} fdoc;

typedef struct fentry {
    char key[FIG_KEY_MAX];
    /* what to ask hub_report_doc (strings of the entry's own) */
    char kind[16], county[8], township[12], village[16], since[11], until[11];
    bool no_stages;
    fdoc *cur;          /* the latest made, or NULL */
    uint64_t want;      /* a document at least this generation is asked for (0: none) */
    bool busy;          /* being made now */
    int err;            /* the last making's failure (GS_*), 0 */
    char msg[GS_ERRBUF_MAX];
    uint64_t last_used; /* a counter: the least recently shown goes first */
    int64_t shown_ms;   /* when a page last asked for it */
    int64_t version;    /* the figures connection's data_version when cur was made */
} fentry;

struct hweb_figs {
    pthread_mutex_t mu;
    pthread_cond_t work, done;
    pthread_t thread;
    bool started, stop;
    sqlite3 *db; /* the thread's own, read-only */
    fentry e[FIG_KEEP];
    int n;
    uint64_t tick;
    /* the generation, as the pages' thread sees it */
    uint64_t gen;
    int64_t last_version;
    uint64_t last_epoch;
    int64_t max_age_ms;
};

static void fdoc_drop(fdoc *d)
{
    if (d && --d->refs == 0) {
        gs_doc_destroy(&d->doc);
        free(d);
    }
}

/* The entry's request for hub_report_doc. */
static hub_report_req req_of(const fentry *e)
{
    hub_report_req r = {.kind = e->kind, .no_stages = e->no_stages, .cache_kib = FIG_CACHE_KIB};
    r.county = e->county[0] ? e->county : NULL;
    r.township = e->township[0] ? e->township : NULL;
    r.village = e->village[0] ? e->village : NULL;
    r.since = e->since[0] ? e->since : NULL;
    r.until = e->until[0] ? e->until : NULL;
    return r;
}

/* A connection's PRAGMA data_version: another number once anything was
 * committed by another connection (-1 when it cannot tell). */
static int64_t data_version(sqlite3 *db)
{
    int64_t v = -1;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &st, NULL) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_ROW)
            v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
    }
    return v;
}

/* A kept document to make again without being asked: shown in the last
 * FIG_WATCH_MS, older than the max age, and the database changed since it
 * was read. So a dashboard looked at now and then is not old when looked at
 * again, and its page need not wait. */
static fentry *due(hweb_figs *f, int64_t now, int64_t version)
{
    for (int i = 0; i < f->n; i++) {
        fentry *e = &f->e[i];
        if (!e->busy && e->cur && now - e->shown_ms < FIG_WATCH_MS &&
            now - e->cur->made_ms >= f->max_age_ms && (version < 0 || version != e->version))
            return e;
    }
    return NULL;
}

static void *maker(void *arg)
{
    hweb_figs *f = arg;
    pthread_mutex_lock(&f->mu);
    while (!f->stop) {
        fentry *e = NULL; /* of those asked for, the one asked last: a page may wait for it */
        for (int i = 0; i < f->n; i++)
            if (!f->e[i].busy && f->e[i].want &&
                (!f->e[i].cur || f->e[i].cur->gen < f->e[i].want) &&
                (!e || f->e[i].last_used > e->last_used))
                e = &f->e[i];
        uint64_t gen = e ? e->want : 0;
        if (!e) {
            /* nothing asked for: what is due by age (f->gen: the pages'
             * generation now, which everything committed before the read
             * below has reached or will pass; a safe label) */
            int64_t now = (int64_t)gs_wall_ms();
            if ((e = due(f, now, data_version(f->db))))
                gen = f->gen;
        }
        if (!e) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_sec += FIG_POLL_S;
            pthread_cond_timedwait(&f->work, &f->mu, &until);
            continue;
        }
        e->busy = true;
        hub_report_req rq = req_of(e);
        pthread_mutex_unlock(&f->mu);

        int64_t version = data_version(f->db);
        int64_t t0 = (int64_t)gs_wall_ms();
        gs_doc *doc = NULL;
        gs_errbuf eb = {{0}};
        int rc = hub_report_doc(f->db, &rq, &doc, &eb);
        fdoc *d = rc ? NULL : calloc(1, sizeof *d);
        if (!rc && !d) {
            gs_doc_destroy(&doc);
            rc = gs_errf(&eb, GS_ENOMEM, "out of memory");
        }

        pthread_mutex_lock(&f->mu);
        e->busy = false;
        e->err = rc;
        snprintf(e->msg, sizeof e->msg, "%s", eb.msg);
        if (d) {
            *d = (fdoc){doc, 1, t0, gen};
            fdoc_drop(e->cur);
            e->cur = d;
            e->version = version;
        }
        if (e->want <= gen || rc)
            e->want = 0; /* nothing newer asked for meanwhile (or it failed: the page says so) */
        pthread_cond_broadcast(&f->done);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

static uint64_t generation(hweb *w, hweb_figs *f);

int hweb_figs_start(hweb *w, int64_t max_age_s, gs_errbuf *eb)
{
    hweb_figs *f = calloc(1, sizeof *f);
    if (!f)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    f->max_age_ms = max_age_s * 1000;
    f->last_version = -1;
    f->gen = 1;
    if (sqlite3_open_v2(w->db_path, &f->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        int rc = gs_errf(eb, GS_EIO, "%s: %s", w->db_path,
                         f->db ? sqlite3_errmsg(f->db) : "out of memory");
        sqlite3_close(f->db);
        free(f);
        return rc;
    }
    sqlite3_busy_timeout(f->db, WEB_BUSY_MS);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->work, NULL);
    pthread_cond_init(&f->done, NULL);
    if (pthread_create(&f->thread, NULL, maker, f)) {
        sqlite3_close(f->db);
        free(f);
        return gs_errf(eb, GS_ENOMEM, "cannot start the figures thread");
    }
    f->started = true;
    w->figs = f;
    generation(w, f); /* what the database is now: generation 1 */
    f->gen = 1;
    return GS_OK;
}

void hweb_figs_stop(hweb *w)
{
    hweb_figs *f = w->figs;
    if (!f)
        return;
    pthread_mutex_lock(&f->mu);
    f->stop = true;
    pthread_cond_broadcast(&f->work);
    pthread_mutex_unlock(&f->mu);
    if (f->started)
        pthread_join(f->thread, NULL);
    for (int i = 0; i < f->n; i++)
        fdoc_drop(f->e[i].cur);
    sqlite3_close(f->db);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->work);
    pthread_cond_destroy(&f->done);
    free(f);
    w->figs = NULL;
}

/* The database's generation as the pages' connection sees it: a new number
 * after anything was committed since the last call, by another connection
 * (PRAGMA data_version: serve, the command line) or through the pages
 * (w->epoch: hweb_audit). */
static uint64_t generation(hweb *w, hweb_figs *f)
{
    int64_t version = data_version(hub_store_db(w->store));
    if (version < 0 || version != f->last_version || w->epoch != f->last_epoch)
        f->gen++; /* a failed read counts as a change: never a stale answer for it */
    f->last_version = version;
    f->last_epoch = w->epoch;
    return f->gen;
}

/* The entry for req, new (the least recently shown one not being made
 * replaced) when none is; NULL when every one is being made. */
static fentry *entry_for(hweb_figs *f, const hub_report_req *rq, const char *day)
{
    char key[FIG_KEY_MAX];
    snprintf(key, sizeof key, "%s|%s|%s|%s|%s|%s|%d|%s", rq->kind, rq->county ? rq->county : "",
             rq->township ? rq->township : "", rq->village ? rq->village : "",
             rq->since ? rq->since : "", rq->until ? rq->until : "", rq->no_stages, day);
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->e[i].key, key))
            return &f->e[i];
    fentry *e = NULL;
    if (f->n < FIG_KEEP)
        e = &f->e[f->n++];
    else
        for (int i = 0; i < f->n; i++)
            if (!f->e[i].busy && !f->e[i].want && (!e || f->e[i].last_used < e->last_used))
                e = &f->e[i];
    if (!e)
        return NULL;
    fdoc_drop(e->cur);
    memset(e, 0, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
    snprintf(e->kind, sizeof e->kind, "%s", rq->kind);
    snprintf(e->county, sizeof e->county, "%s", rq->county ? rq->county : "");
    snprintf(e->township, sizeof e->township, "%s", rq->township ? rq->township : "");
    snprintf(e->village, sizeof e->village, "%s", rq->village ? rq->village : "");
    snprintf(e->since, sizeof e->since, "%s", rq->since ? rq->since : "");
    snprintf(e->until, sizeof e->until, "%s", rq->until ? rq->until : "");
    e->no_stages = rq->no_stages;
    return e;
}

int hweb_figs_get(hweb *w, const hub_report_req *rq, bool fresh, hweb_fig *out, gs_errbuf *eb)
{
    hweb_figs *f = w->figs;
    memset(out, 0, sizeof *out);
    if (!f) { /* not started (a test's hweb): made here, now */
        int64_t t0 = (int64_t)gs_wall_ms();
        int rc = hub_report_doc(hub_store_db(w->store), rq, (gs_doc **)&out->doc, eb);
        out->made_ms = t0;
        out->own = true;
        return rc;
    }
    /* the China date: a document is as of the day it was made */
    char day[11];
    gs_find_today(day);
    pthread_mutex_lock(&f->mu);
    uint64_t gen = generation(w, f);
    fentry *e = entry_for(f, rq, day);
    if (!e) {
        pthread_mutex_unlock(&f->mu);
        return gs_errf(eb, GS_ENOMEM, "too many figures being made at once");
    }
    e->last_used = ++f->tick;
    int64_t now = (int64_t)gs_wall_ms();
    e->shown_ms = now;
    fdoc *d = e->cur;
    bool current = d && d->gen >= gen;
    int64_t age = d ? now - d->made_ms : 0;
    /* young: shown as it is; ageing (up to twice the max age): shown as it
     * is while a new one is made; else the page waits for the new one */
    bool young = d && !fresh && age < f->max_age_ms;
    bool ageing = d && !fresh && !young && age < 2 * f->max_age_ms;
    if (!current && !young && e->want < gen) {
        e->want = gen; /* a new one: made on the figures thread */
        pthread_cond_signal(&f->work);
    }
    if (!current && !young && !ageing) {
        /* wait for one at least as new as what this page has seen */
        while (!f->stop && e->want && !(e->cur && e->cur->gen >= gen))
            pthread_cond_wait(&f->done, &f->mu);
        d = e->cur;
        if (!d || d->gen < gen) {
            int rc = e->err ? e->err : GS_EIO;
            gs_errf(eb, rc, "%s", e->msg[0] ? e->msg : "the figures could not be read");
            pthread_mutex_unlock(&f->mu);
            return rc;
        }
    }
    d->refs++;
    out->doc = d->doc;
    out->made_ms = d->made_ms;
    out->current = d->gen >= gen;
    out->ref = d;
    pthread_mutex_unlock(&f->mu);
    return GS_OK;
}

void hweb_figs_warm(hweb *w, const hub_report_req *rq)
{
    hweb_figs *f = w->figs;
    if (!f)
        return;
    char day[11];
    gs_find_today(day);
    pthread_mutex_lock(&f->mu);
    fentry *e = entry_for(f, rq, day);
    if (e && !e->cur && !e->want) {
        e->want = f->gen;
        e->shown_ms = (int64_t)gs_wall_ms(); /* kept fresh as if shown now */
        pthread_cond_signal(&f->work);
    }
    pthread_mutex_unlock(&f->mu);
}

void hweb_figs_put(hweb *w, hweb_fig *fig)
{
    if (fig->own) {
        gs_doc *d = (gs_doc *)fig->doc;
        gs_doc_destroy(&d);
    } else if (fig->ref) {
        pthread_mutex_lock(&w->figs->mu);
        fdoc_drop(fig->ref);
        pthread_mutex_unlock(&w->figs->mu);
    }
    memset(fig, 0, sizeof *fig);
}
