/*
 * report.c: placeholder until the reports land (issue 7).
 */
#include <stdio.h>

#include "report.h"

int hub_report_main(sqlite3 *db, int argc, char **argv, bool json)
{
    (void)db;
    (void)argc;
    (void)argv;
    (void)json;
    fputs("gridhub: report: not built yet\n", stderr);
    return 1;
}
