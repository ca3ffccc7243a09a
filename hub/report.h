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

/* The committee kind a village-level code's village segment (its last three
 * digits) stands for in NBS practice: 0 villagers' committee (村民委员会,
 * 200-399 and 500-599), 1 residents' committee (居民委员会, 001-199 and
 * 400-499), -1 for a code that is not 12 digits or whose segment is neither.
 * The order is that of the division record's `committee` values. */
int hub_village_kind_of_code(const char *code);

#endif
