/*
 * hub/report.h: `gridhub report`: the city's figures from the synced data,
 * per county, township and village, in table, CSV or JSON form.
 * Read-only over the hub database.
 */
#ifndef HUB_REPORT_H
#define HUB_REPORT_H

#include <sqlite3.h>
#include <stdbool.h>

/* Runs `gridhub report ARGS...` (argv[0] is the report kind) against db, which
 * is NULL when only --help is asked for. Prints to stdout; returns the exit code. */
int hub_report_main(sqlite3 *db, int argc, char **argv, bool json);

#endif
