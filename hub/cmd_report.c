/*
 * cmd_report.c: `gridhub report ...`: only the dispatch to the reports
 * (report.c reads its own options): the date options are read the way
 * entry reads dates and handed on as YYYY-MM-DD, and the store is opened.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "report.h"

/* The date options of the command line: their values are read by the
 * record date parser (gs_record_parse), the one that reads dates at entry,
 * so they take the same forms: 2026-11-28, 2026/11/28, 2026年11月28日. */
static const char *const date_options[] = {"--since", "--until", "--as-of", NULL};

/* Rewrites the value after each date option in argv (the strings stay the
 * caller's; rewritten ones go to days[], one per argument) to YYYY-MM-DD.
 * 0, or the exit status of a usage error already printed. */
static int canonical_dates(const hub_cli *cli, int argc, char **argv, char (*days)[11])
{
    int rc = 0;
    for (int i = 0; i + 1 < argc && !rc; i++) {
        bool is_date = false;
        for (int k = 0; date_options[k]; k++)
            is_date |= !strcmp(argv[i], date_options[k]);
        if (!is_date)
            continue;
        i++;
        if (!(rc = gs_cli_date(cli, "report", argv[i - 1], argv[i], days[i])))
            argv[i] = days[i];
    }
    return rc;
}

int hub_cmd_report(hub_cli *cli)
{
    hub_store *s = NULL;
    bool help = gs_cli_wants_help(cli->argc, cli->argv);
    char(*days)[11] = calloc((size_t)cli->argc + 1, sizeof *days);
    int rc = days ? 0 : hub_fail("out of memory");
    if (!rc && !help)
        rc = canonical_dates(cli, cli->argc, cli->argv, days);
    if (!rc && !help && !(s = hub_open(cli)))
        rc = 1;
    if (!rc)
        rc = hub_report_main(s ? hub_store_db(s) : NULL, cli->argc, cli->argv, cli->json);
    hub_store_close(&s);
    free(days);
    return rc;
}
