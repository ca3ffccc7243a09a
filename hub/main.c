/*
 * main.c: the gridhub command line: its command table (the usage text is
 * made from it, gridsync/cli.h) and main. The commands live in cmd_*.c,
 * one file per group, as gridnode's do.
 */
#include "cli.h"

/* The commands, in the order the usage text lists them. */
static const gs_cli_cmd commands[] = {
    {"init", hub_cmd_init, "建库 create the hub database and its CURVE key pair", "[--force]", 0},
    {"node", hub_cmd_node, "节点登记 register, list, revoke, enable and re-key village nodes",
     "add|list|revoke|enable|rekey ...  (`gridhub node add --help` ...)", 0},
    {"refdata", hub_cmd_refdata,
     "参考数据 load the division codes (village list) or incident categories, all rows or none",
     "load divisions|categories FILE.csv", 0},
    {"TYPE", hub_cmd_record,
     "记录 find, show and decide on the villages' records: grid, incident, election, candidate, "
     "council, member, affair",
     "list [FILTERS] | show ID | update ID --FIELD VALUE ...", GS_CLI_RECORD_TYPES},
    {"serve", hub_cmd_serve, "同步服务 serve the nodes' syncs until SIGINT/SIGTERM",
     "--bind tcp://*:PORT [--inflight-mib N] [--insecure] [-v|-vv]", 0},
    {"report", hub_cmd_report,
     "报表 the city's figures: summary, incidents, elections, councils, nodes (docs/reports.md)",
     "summary|incidents|elections|councils|nodes [--county C|--township C|--village C] "
     "[--since DATE] [--until DATE] [--as-of DATE] [--format table|csv|json] [--bom] "
     "[--findings-only]",
     GS_CLI_SPLIT_EQUALS},
    {NULL, NULL, NULL, NULL, 0},
};

static const gs_cli_prog program = {
    "gridhub",
    "gridhub — 市民政局网格治理数据中心 (city hub of gridsync)",
    "GRIDHUB_DB",
    "./gridhub.db",
    commands,
    "The hub's secret key is kept beside the database in DB.key (mode 0600). DATE: 2026-11-28,\n"
    "2026/11/28 or 2026年11月28日, as at entry. An ID may be given by a unique prefix of at\n"
    "least 4 characters.\n",
};

int main(int argc, char **argv)
{
    return gs_cli_main(&program, argc, argv);
}
