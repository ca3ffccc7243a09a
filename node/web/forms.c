/*
 * forms.c: what the village desk's pages share about records: forms of the
 * core (gridsync/form.h) with the node's pickers (a grid by its name, a
 * category under its parent, an election by its day and committee, a
 * council by its name), the names shown for references in lists and record
 * pages, the filters of a list read from a request (the command line's
 * names), and saving a submitted form through the entry
 * (node_entry_save), the same as `gridnode TYPE add|update`.
 *
 * Runs on the server's one thread (web.h): the store is used without locks.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entry.h"
#include "gridsync/find.h"
#include "gridsync/form.h"
#include "gridsync/web_page.h"
#include "web.h"

/* ---- reference pickers ------------------------------------------------------- */

typedef struct collect {
    gs_record **v;
    int n, cap;
} collect;

static int collect_one(const gs_record *rec, void *arg)
{
    collect *c = arg;
    if (c->n == c->cap) {
        int cap = c->cap ? c->cap * 2 : 32;
        gs_record **v = realloc(c->v, (size_t)cap * sizeof *v);
        if (!v)
            return GS_ENOMEM;
        c->v = v;
        c->cap = cap;
    }
    if (!(c->v[c->n] = gs_record_dup(rec)))
        return GS_ENOMEM;
    c->n++;
    return GS_OK;
}

static void collect_free(collect *c)
{
    for (int i = 0; i < c->n; i++)
        gs_record_destroy(&c->v[i]);
    free(c->v);
}

/* The name a person reads for one record of a referenced type. */
static void name_of(node_store *s, const gs_record *r, gs_buf *b)
{
    const char *name = NULL;
    switch (r->rt->id) {
    case GS_RT_CATEGORY: {
        const char *parent = gs_record_str(r, GS_CATEGORY_PARENT_CODE);
        gs_record *p = NULL;
        if (parent && node_store_get(s, r->rt, parent, &p, NULL) == GS_OK &&
            gs_record_str(p, GS_CATEGORY_NAME_ZH))
            gs_buf_printf(b, "%s › ", gs_record_str(p, GS_CATEGORY_NAME_ZH));
        gs_record_destroy(&p);
        name = gs_record_str(r, GS_CATEGORY_NAME_ZH);
        break;
    }
    case GS_RT_ELECTION: {
        const char *day = gs_record_str(r, GS_ELECTION_ELECTION_DATE);
        const char *k = gs_record_str(r, GS_ELECTION_COMMITTEE);
        gs_buf_printf(b, "%s %s", day ? day : "",
                      k ? gs_enum_zh(&r->rt->fields[GS_ELECTION_COMMITTEE], k) : "");
        return;
    }
    case GS_RT_GRID: name = gs_record_str(r, GS_GRID_NAME); break;
    case GS_RT_COUNCIL: name = gs_record_str(r, GS_COUNCIL_NAME); break;
    default: break;
    }
    gs_buf_puts(b, name ? name : gs_record_key(r));
}

/* The types a picker lists: every village's own and the categories; the
 * divisions (thousands) stay a text input. */
static bool pickable(const gs_rectype *rt)
{
    return rt && rt->id != GS_RT_DIVISION;
}

void nweb_form_refs(void *app, const gs_rectype *rt, int f, gs_form_choices *out)
{
    nweb *w = app;
    const gs_rectype *ref = gs_rectype_find(rt->fields[f].ref);
    if (!pickable(ref))
        return;
    collect c = {0};
    gs_find_filter all = {0};
    gs_buf name = GS_BUF_INIT;
    node_store_list(w->store, ref, &all, collect_one, &c, NULL);
    for (int i = 0; i < c.n; i++) {
        gs_buf_reset(&name);
        name_of(w->store, c.v[i], &name);
        gs_form_choice_add(out, gs_record_key(c.v[i]), name.data ? name.data : "");
    }
    gs_buf_free(&name);
    collect_free(&c);
}

void nweb_ref_name(nweb *w, const gs_field *fd, const char *value, gs_buf *b)
{
    const gs_rectype *ref = fd->ref ? gs_rectype_find(fd->ref) : NULL;
    gs_record *r = NULL;
    if (value && pickable(ref) && node_store_get(w->store, ref, value, &r, NULL) == GS_OK) {
        name_of(w->store, r, b);
        gs_record_destroy(&r);
        return;
    }
    gs_buf_puts(b, value ? value : "");
}

void nweb_form_entry_presets(gs_form *fm, const gs_rectype *rt)
{
    if (rt->id != GS_RT_INCIDENT)
        return;
    gs_buf now = GS_BUF_INIT;
    gs_datetime_from_ms((int64_t)time(NULL) * 1000, &now);
    if (now.data)
        gs_form_preset(fm, GS_INCIDENT_REPORTED_AT, now.data);
    gs_buf_free(&now);
}

gs_form *nweb_form(gs_http_req *rq, nweb *w, const gs_rectype *rt, gs_form_mode mode)
{
    gs_form *fm = gs_form_new(rt, mode);
    if (!fm)
        return NULL;
    gs_form_set_en(fm, gs_http_en(rq));
    gs_form_set_refs(fm, nweb_form_refs, w);
    if (mode == GS_FORM_CREATE)
        nweb_form_entry_presets(fm, rt);
    return fm;
}

/* ---- taking a submitted form ------------------------------------------------- */

static int take_one(const char *k, const char *v, void *arg)
{
    if (k[0] != '_') /* _csrf and the page's own fields */
        gs_form_take(arg, k, v);
    return 0;
}

void nweb_form_take(gs_http_req *rq, gs_form *fm)
{
    gs_http_form_each(rq, take_one, fm);
}

int nweb_form_save(nweb *w, gs_form *fm, gs_record *rec, bool create, const gs_record *cur,
                   gs_buf *notes)
{
    if (gs_form_parse(fm, rec))
        return GS_EINVAL;
    if (cur)
        gs_form_drop_unchanged(rec, cur);
    gs_errbuf eb = {{0}};
    int rc = node_entry_save(w->store, rec, create, notes, &eb);
    if (rc)
        gs_form_error_msg(fm, eb.msg);
    return rc;
}

int nweb_status_of(int rc)
{
    return gs_web_status_of(rc);
}

/* ---- the filters of a list ------------------------------------------------------ */

int nweb_filter(gs_http_req *rq, const gs_rectype *rt, gs_find_filter *f, char since[11],
                char until[11], gs_errbuf *eb)
{
    (void)rt;
    /* an empty value (a form's "any") is no filter */
#define ARG(name) (gs_http_query(rq, name) && *gs_http_query(rq, name) ? gs_http_query(rq, name) : NULL)
    memset(f, 0, sizeof *f);
    f->status = ARG("status");
    f->category = ARG("category");
    f->grid = ARG("grid");
    f->village = ARG("village");
    f->text = ARG("text");
    f->reporter = ARG("reporter");
    const char *o = ARG("overdue");
    f->overdue = o && strcmp(o, "0") && strcmp(o, "false");
    int rc = GS_OK;
    if (ARG("since") && !(rc = gs_find_day("since", ARG("since"), since, eb)))
        f->since = since;
    if (!rc && ARG("until") && !(rc = gs_find_day("until", ARG("until"), until, eb)))
        f->until = until;
#undef ARG
    return rc;
}
