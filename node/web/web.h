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
 */
#ifndef NODE_WEB_H
#define NODE_WEB_H

#include <pthread.h>
#include <stdbool.h>

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

/* Route tables of the page groups (each ends with {NULL}). */
extern const gs_http_route nweb_home_routes[];
extern const gs_http_route nweb_incident_routes[];
extern const gs_http_route nweb_election_routes[];
extern const gs_http_route nweb_council_routes[];
extern const gs_http_route nweb_transfer_routes[];
extern const gs_http_route nweb_sync_routes[];
extern const gs_http_route nweb_api_routes[];

#endif
