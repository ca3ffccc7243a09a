/*
 * node/web/web.h: what the pages of `gridnode web` (the village desk) share.
 *
 * The pages are a thin door over the same code the command line runs: the
 * store (store.h), entry (entry.h: node_entry_create/update, the rules and
 * their messages), finding records (gridsync/find.h), the sheet model and
 * imports; forms come from the record tables through the core's
 * gridsync/form.h, which the city's pages use too. Every page is written on the server as HTML (readable with
 * JavaScript off); a little script (assets, compiled in) adds live findings
 * and sync progress through the JSON API under /api/ (docs/web.md).
 *
 * One file per page group, each exporting its route table:
 *   web.c        the command, the server, the layout, 首页 (home), login
 *   incidents.c  网格事件: list, record page, workflow buttons, forms
 *   elections.c  换届选举: the results sheet, live findings, the A4 report
 *   councils.c   红白理事会: council, members, standards, affairs
 *   transfer.c   导入导出: upload, dry run, confirm; templates and exports
 *   sync.c       同步: the button, progress, the result, --watch state
 *   api.c        the JSON API of records
 *   forms.c      what the pages share about records: forms, pickers, filters
 */
#ifndef NODE_WEB_H
#define NODE_WEB_H

#include <pthread.h>
#include <stdbool.h>

#include "gridsync/find.h"
#include "gridsync/form.h"
#include "gridsync/http.h"
#include "gridsync/record.h"
#include "store.h"

/* The running desk: one store connection, used only on the server's thread. */
typedef struct nweb {
    node_store *store;
    const char *db_path; /* for the sync thread's own connection */
    gs_http_server *srv;
    bool login; /* a password is set: every page but /login needs a session */
    pthread_mutex_t sync_lock; /* guards the sync state below (sync.c) */
    struct nweb_sync *sync;
    struct nweb_transfer *transfer; /* uploads between dry run and confirm (transfer.c) */
} nweb;

/* The nav entries, for nweb_begin's active tab. */
typedef enum {
    NWEB_HOME,
    NWEB_INCIDENTS,
    NWEB_ELECTIONS,
    NWEB_COUNCILS,
    NWEB_TRANSFER,
    NWEB_SYNC,
    NWEB__COUNT
} nweb_tab;

/* Starts a page: doctype, head (title, /static/app.css, /static/app.js),
 * the top bar with the village's name and the nav (active tab marked), the
 * language switch, then an open <main>. Titles are text (escaped here). */
void nweb_begin(gs_http_req *rq, gs_http_resp *rs, nweb_tab tab, const char *title);
/* Closes <main> and the page. */
void nweb_end(gs_http_req *rq, gs_http_resp *rs);
/* A hidden _csrf input for a form. */
void nweb_csrf_field(gs_http_req *rq, gs_buf *b);
/* zh or en text for the request's language. */
const char *nweb_t(const gs_http_req *rq, const char *zh, const char *en);

/* Stops a sync the 同步 page started (asks it to stop, waits for its
 * thread) and frees its state; for the desk's shutdown, before the store
 * closes. Safe when none ever ran. (sync.c) */
void nweb_sync_stop(nweb *w);
/* Frees the uploads kept between a dry run and its confirmation, for the
 * desk's shutdown. (transfer.c) */
void nweb_transfer_free(nweb *w);

/* ---- records in pages (forms.c) ---------------------------------------- */

/* A form of the core (gridsync/form.h) in the request's language, with the
 * node's pickers: a grid by its name, a category as "纠纷调解 › 邻里纠纷",
 * an election as "2026-11-28 村民委员会", a council by its name. The caller
 * owns it (gs_form_destroy). */
gs_form *nweb_form(gs_http_req *rq, nweb *w, const gs_rectype *rt, gs_form_mode mode);
/* Presets what node_entry_create fills in when it is left empty (an
 * incident's reported_at: now), so that a form shows it and does not ask
 * for it. nweb_form does this for a create form. */
void nweb_form_entry_presets(gs_form *fm, const gs_rectype *rt);
/* The pickers' source (a gs_form_refs_fn; app is the nweb). */
void nweb_form_refs(void *app, const gs_rectype *rt, int f, gs_form_choices *out);
/* Takes every submitted form field of rq into fm, except those whose name
 * starts with '_' (_csrf, a page's own). */
void nweb_form_take(gs_http_req *rq, gs_form *fm);
/* Parses fm into rec and saves it through the entry in its own transaction
 * (node_entry_save), as the command line does; on update (create false)
 * rec holds the key and cur the current record, whose unchanged values are
 * not written again. GS_OK; else the errors are in fm, beside their fields
 * (GS_EINVAL when the form itself was wrong, else the entry's code) and
 * nothing is stored. */
int nweb_form_save(nweb *w, gs_form *fm, gs_record *rec, bool create, const gs_record *cur,
                   gs_buf *notes);
/* The HTTP status of an entry's error: 400, 403, 404, 409, 500. */
int nweb_status_of(int rc);
/* Appends the name of the record field fd refers to by value (a grid code's
 * grid name); the value itself when there is none. */
void nweb_ref_name(nweb *w, const gs_field *fd, const char *value, gs_buf *b);
/* Reads a list's filters from rq's query, named as the command line's list
 * options: status, category, grid, village, since, until, text, reporter,
 * overdue (1). since/until are f's buffers. GS_OK or GS_EINVAL naming the
 * argument. */
int nweb_filter(gs_http_req *rq, const gs_rectype *rt, gs_find_filter *f, char since[11],
                char until[11], gs_errbuf *eb);

/* Route tables of the page groups (each ends with {NULL}). */
extern const gs_http_route nweb_home_routes[];
extern const gs_http_route nweb_incident_routes[];
extern const gs_http_route nweb_grid_routes[];
extern const gs_http_route nweb_election_routes[];
extern const gs_http_route nweb_council_routes[];
extern const gs_http_route nweb_transfer_routes[];
extern const gs_http_route nweb_sync_routes[];
extern const gs_http_route nweb_api_routes[];

#endif
