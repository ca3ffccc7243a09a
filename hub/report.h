/*
 * hub/report.h: `gridhub report`: the city's figures from the synced data,
 * per county, township and village, in table, CSV or JSON form.
 * Read-only over the hub database.
 */
#ifndef HUB_REPORT_H
#define HUB_REPORT_H

#include <sqlite3.h>
#include <stdbool.h>

#include "gridsync/err.h"
#include "gridsync/sheet.h"

/* Runs `gridhub report ARGS...` (argv[0] is the report kind) against db, which
 * is NULL when only --help is asked for. Prints to stdout; returns the exit code. */
int hub_report_main(sqlite3 *db, int argc, char **argv, bool json);

/* What one report is asked for: the same options as the command line's. */
typedef struct hub_report_req {
    const char *kind; /* summary, elections, incidents, councils, nodes */
    const char *county, *township, *village; /* at most one; none: the whole city */
    const char *since, *until; /* YYYY-MM-DD, inclusive, or NULL */
    const char *as_of;         /* YYYY-MM-DD, or NULL: now */
    bool findings_only;        /* elections only */
    bool no_stages;            /* incidents: without the `stages` sheet, which reads the
                                  whole change log (a page that does not show it) */
    int cache_kib;              /* the connection's page cache and sort memory while the
                                   report runs, KiB (0: 16 MiB; a long-running process
                                   that keeps its memory low gives less) */
} hub_report_req;

/* Runs one report into a new document *out (the caller destroys it): the
 * very sheets `gridhub report` renders as a table, CSV, JSON or XLSX, so a
 * figure read from them is the one the command prints. Prints nothing
 * (save a database error's line on stderr). GS_OK; GS_EINVAL with a message
 * naming the option; GS_ESQL or GS_ENOMEM. */
int hub_report_doc(sqlite3 *db, const hub_report_req *rq, gs_doc **out, gs_errbuf *eb);

/* The committee kind a village-level code's village segment (its last three
 * digits) stands for in NBS practice: 0 villagers' committee (村民委员会,
 * 200-399 and 500-599), 1 residents' committee (居民委员会, 001-199 and
 * 400-499), -1 for a code that is not 12 digits or whose segment is neither.
 * The order is that of the division record's `committee` values. */
int hub_village_kind_of_code(const char *code);

#endif
