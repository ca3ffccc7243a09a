/*
 * hub/web/web.h: what the city's pages share (`gridhub web`: the city,
 * county and township offices in a browser, each in its own scope).
 *
 * A thin door over the same functions the gridhub command line calls: the
 * hub store (store.h: reads, and every write through the store's functions
 * in its transactions), city decisions (city.h), the reports (report.h, the
 * sheet model), the registry. It reads the hub's database beside a running
 * `gridhub serve` (WAL: a reader never blocks the sync server).
 *
 * People are users with a role and a division. Every page, list, count,
 * download and action asks hweb_scope for the request's user and filters by
 * it in one place (the division's subtree: a county's or a township's code
 * prefix), never by hand in a handler.
 *
 * One file per page group, each exporting its route table:
 *   web.c        the command, the server, the layout, login, scope, audit
 *   dashboard.c  全市概览: the figures as cards, charts (SVG), drill-down
 *   queue.c      事件工单: the incident queue, decisions, 上级交办
 *   queue_copy.c the queue's copy of the incidents, kept current on a thread
 *   health.c     同步状况: every expected village with its nodes
 *   registry.c   节点: register, bundle download, revoke, rekey (city only)
 *   reports.c    报表: every report as XLSX and CSV for the user's area
 *   users.c      用户 and the audit log (city only)
 */
#ifndef HUB_WEB_H
#define HUB_WEB_H

#include <stdbool.h>
#include <stdint.h>

#include "gridsync/http.h"
#include "gridsync/sheet.h"
#include "report.h"
#include "store.h"

typedef enum { HWEB_CITY, HWEB_COUNTY, HWEB_TOWNSHIP } hweb_role;

/* How long a write waits for serve's transaction (and a read for a checkpoint). */
#define WEB_BUSY_MS 5000

typedef struct hweb_figs hweb_figs;
typedef struct hweb_qcopy hweb_qcopy;

/* The running pages: one store connection, used only on the server's thread;
 * the figures thread (figures.c) has its own. */
typedef struct hweb {
    hub_store *store;
    hweb_figs *figs; /* NULL: every report made at once, on the page's thread */
    hweb_qcopy *qcopy; /* the queue's copy (queue_copy.c); NULL: the hub's table */
    uint64_t epoch;  /* one more after each change made through the pages (hweb_audit) */
    const char *db_path;
    gs_http_server *srv;
    const char *endpoint; /* --endpoint: the sync address bundles carry, or NULL */
} hweb;

/* What the request's user may see: the city sees everything; a county or a
 * township the villages whose codes start with its code's significant
 * digits (6 for a county, 9 for a township). */
typedef struct hweb_scope {
    char user[64];
    char display[64]; /* the name shown: 王芳 */
    hweb_role role;
    char division[13]; /* the user's division code ("" for the city) */
    char prefix[13];   /* the code prefix every village in scope starts with */
    char division_name[128];
} hweb_scope;

/* The scope of the request's user; GS_EAUTH when there is none (the
 * session's user no longer exists or is disabled). */
int hweb_scope_of(gs_http_req *rq, hweb *w, hweb_scope *out);
/* True when a division code (county, township or village) is inside the
 * scope (or, for a county or township code, when the scope lies inside it:
 * never for a sibling). */
bool hweb_scope_has(const hweb_scope *sc, const char *code);
/* Answers 403 with a message that names nothing outside the scope. */
int hweb_forbidden(gs_http_req *rq, gs_http_resp *rs);
/* A page handler's first step: the scope into sc and GS_OK; else the answer
 * is written (the user is gone: the session ends, to the login page; a
 * city-only page asked by a county or township: 403) and non-zero, and the
 * handler returns 0. */
int hweb_page_scope(gs_http_req *rq, gs_http_resp *rs, hweb_scope *sc, bool city_only);

/* Writes one line to the audit log: the request's user, time, address and
 * what changed ("incident 0193… status registered → dispatched"). Called
 * after every change made through the pages; one that may change a figure
 * (all but logins, passwords, users and downloads) makes the kept figures
 * out of date (w->epoch). */
int hweb_audit(hweb *w, gs_http_req *rq, const char *action, const char *detail);

/* True when code (a county, township or village code) lies inside the
 * scope: the scope's own division or below it (never an ancestor). */
bool hweb_scope_within(const hweb_scope *sc, const char *code);

/* The area of a report asked for by a page: code (6, 9 or 12 digits; NULL
 * or "" for the user's whole area) into req's county/township/village. The
 * user's scope is forced: GS_ESCOPE for a code outside it, GS_EINVAL for
 * what is not a code. */
int hweb_report_area(const hweb_scope *sc, const char *code, hub_report_req *req);
/* The period of a page from ?since= and ?until= (YYYY-MM-DD; each defaults
 * to the current year's first and last day, China time; rq NULL: those). GS_EINVAL with the
 * argument named in eb. */
int hweb_period(gs_http_req *rq, char since[11], char until[11], gs_errbuf *eb);
/* A report's sheet by its key, or NULL; a cell of row r by column key
 * (NULL when missing or no such column). */
const gs_sheet *hweb_sheet(const gs_doc *d, const char *key);
const char *hweb_cell(const gs_sheet *s, size_t r, const char *col);
bool hweb_sheet_has_col(const gs_sheet *s, const char *col);

/* A report document for a page (figures.c): kept between requests, so that
 * the city's dashboard, polled by many browsers, reads the whole city once a
 * minute at most rather than once a page. */
typedef struct hweb_fig {
    const gs_doc *doc;
    int64_t made_ms; /* when its figures were read */
    bool current;    /* nothing was committed since: exactly what the report prints now */
    bool own;        /* made for this page alone (no figures thread) */
    void *ref;
} hweb_fig;

/* Starts the figures thread with its own read-only connection to
 * w->db_path; a kept document older than max_age_s is not shown when the
 * database changed since it was read. */
int hweb_figs_start(hweb *w, int64_t max_age_s, gs_errbuf *eb);
void hweb_figs_stop(hweb *w);
/* The report req asks for, as a kept document when it may be shown (see
 * figures.c), else made now; fresh: one that includes everything committed
 * before this call. GS_OK (give it back with hweb_figs_put) or the
 * report's error, with eb. */
int hweb_figs_get(hweb *w, const hub_report_req *req, bool fresh, hweb_fig *out, gs_errbuf *eb);
void hweb_figs_put(hweb *w, hweb_fig *fig);
/* Asks for the report req asks for to be made now, not waiting for it (the
 * city's dashboard when gridhub web starts). */
void hweb_figs_warm(hweb *w, const hub_report_req *req);

/* The incident queue's copy (queue_copy.c): made on a thread of its own
 * from w->db_path when gridhub web starts, kept current from the hub's
 * change log. */
int hweb_qcopy_start(hweb *w, gs_errbuf *eb);
void hweb_qcopy_stop(hweb *w);
/* hub_store_list of the incidents for a queue page: from the copy brought
 * up to the hub's log now, or from the hub's table while the copy is not
 * made (or cannot be brought up to date). */
int hweb_queue_list(hweb *w, const gs_find_filter *f, gs_find_each each, void *arg,
                    gs_errbuf *eb);

/* The nav entries, for hweb_begin's active tab. */
typedef enum {
    HWEB_DASHBOARD,
    HWEB_QUEUE,
    HWEB_HEALTH,
    HWEB_REGISTRY,
    HWEB_REPORTS,
    HWEB_USERS,
    HWEB__COUNT
} hweb_tab;

/* Starts a page: head, the top bar (市民政局 / the user's division, the
 * user's name, logout), the nav (the city-only tabs only for the city),
 * the language switch, then an open <main>. */
void hweb_begin(gs_http_req *rq, gs_http_resp *rs, hweb_tab tab, const char *title);
void hweb_end(gs_http_req *rq, gs_http_resp *rs);
void hweb_csrf_field(gs_http_req *rq, gs_buf *b);
const char *hweb_t(const gs_http_req *rq, const char *zh, const char *en);

/* Route tables of the page groups (each ends with {NULL}); web.c's own
 * (login, logout) is hweb_login_routes. */
extern const gs_http_route hweb_login_routes[];
extern const gs_http_route hweb_dashboard_routes[];
extern const gs_http_route hweb_queue_routes[];
extern const gs_http_route hweb_health_routes[];
extern const gs_http_route hweb_registry_routes[];
extern const gs_http_route hweb_report_routes[];
extern const gs_http_route hweb_user_routes[];

#endif
