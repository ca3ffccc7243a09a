/*
 * report_map.c: the small containers of `gridhub report`: a string-keyed
 * hash map (a code -> its row), growable arrays, and day-count histograms
 * for exact medians (report_int.h).
 *
 * Invariants: a map's capacity is a power of two, at least twice its size
 * (open addressing, linear probing); a histogram's err is sticky.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "report_int.h"

/* ---- a string-keyed hash map (code -> index) ------------------------------------------------- */


uint64_t rpt_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

long rpt_map_get(const strmap *m, const char *k)
{
    if (!m->cap)
        return -1;
    for (size_t i = rpt_hash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->keys[i])
            return -1;
        if (!strcmp(m->keys[i], k))
            return m->vals[i];
    }
}

int rpt_map_put(strmap *m, const char *k, long v)
{
    if (2 * (m->n + 1) > m->cap) {
        strmap g = {NULL, NULL, m->cap ? m->cap * 2 : 64, 0};
        g.keys = calloc(g.cap, sizeof *g.keys);
        g.vals = calloc(g.cap, sizeof *g.vals);
        if (!g.keys || !g.vals) {
            free(g.keys);
            free(g.vals);
            return -1;
        }
        for (size_t i = 0; i < m->cap; i++)
            if (m->keys[i]) {
                size_t j = rpt_hash(m->keys[i]) & (g.cap - 1);
                while (g.keys[j])
                    j = (j + 1) & (g.cap - 1);
                g.keys[j] = m->keys[i];
                g.vals[j] = m->vals[i];
                g.n++;
            }
        free(m->keys);
        free(m->vals);
        *m = g;
    }
    size_t i = rpt_hash(k) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], k))
        i = (i + 1) & (m->cap - 1);
    if (!m->keys[i]) {
        if (!(m->keys[i] = strdup(k)))
            return -1;
        m->n++;
    }
    m->vals[i] = v;
    return 0;
}

void rpt_map_free(strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

/* Makes room for one more element in a growable array *p of *cap elements
 * of size bytes holding n (doubling, from first); false when out of memory,
 * *p then unchanged. */
bool rpt_vec_room(void *p, size_t *cap, size_t n, size_t size, size_t first)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? *cap * 2 : first;
    void *q = realloc(*(void **)p, c * size);
    if (!q)
        return false;
    *(void **)p = q;
    *cap = c;
    return true;
}

/* ---- histograms and medians ------------------------------------------------------------------ */


/* Longest span a day count may have: spans beyond a century (a mistyped
 * year) count as a century, so that the array stays small. */
#define HIST_MAX_DAYS 36525

/* Adds n times v; negative v count as 0, v over HIST_MAX_DAYS as that. */
void rpt_hist_add(hist *h, int64_t v, int64_t n)
{
    if (h->err || n <= 0)
        return;
    if (v < 0)
        v = 0;
    if (v > HIST_MAX_DAYS)
        v = HIST_MAX_DAYS;
    if ((size_t)v >= h->len) {
        size_t len = h->len ? h->len : 64;
        while (len <= (size_t)v)
            len *= 2;
        int64_t *p = realloc(h->count, len * sizeof *p);
        if (!p) {
            h->err = 1;
            return;
        }
        memset(p + h->len, 0, (len - h->len) * sizeof *p);
        h->count = p;
        h->len = len;
    }
    h->count[v] += n;
}

void rpt_hist_free(hist *h)
{
    free(h->count);
    memset(h, 0, sizeof *h);
}

/* Twice the median (the sum of the two middle values; the middle value
 * twice for an odd count), so that it stays an integer. False when empty. */
static bool hist_median2(const hist *h, int64_t *m2)
{
    int64_t total = 0;
    for (size_t v = 0; v < h->len; v++)
        total += h->count[v];
    if (total == 0)
        return false;
    int64_t lo_at = (total - 1) / 2, hi_at = total / 2, seen = 0, lo = 0;
    bool have_lo = false;
    for (size_t v = 0; v < h->len; v++) {
        if (!h->count[v])
            continue;
        if (!have_lo && lo_at < seen + h->count[v]) {
            lo = (int64_t)v;
            have_lo = true;
        }
        if (hi_at < seen + h->count[v]) {
            *m2 = lo + (int64_t)v;
            return true;
        }
        seen += h->count[v];
    }
    return false; /* not reached */
}


/* The median of h with one decimal (exact: x.0 or x.5); missing when h is empty. */
void rpt_put_median(gs_row *r, const hist *h)
{
    int64_t m2;
    if (h->err) {
        gs_sheet_fail(r->s);
        gs_row_null(r);
    } else if (!hist_median2(h, &m2))
        gs_row_null(r);
    else
        gs_row_fmt(r, "%" PRId64 ".%d", m2 / 2, (int)(m2 % 2) * 5);
}
