/*
 * hub/cli.h: what the gridhub commands share: the parsed command line
 * (gridsync/cli.h, the same as gridnode's), error reporting, opening the
 * store, the hub's key file, and the commands of the table in main.c.
 */
#ifndef HUB_CLI_H
#define HUB_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "gridsync/cli.h"
#include "store.h"

/* The parsed command line: --db, --json, the command's own arguments. */
typedef gs_cli hub_cli;

/* "gridhub: message" on stderr; GS_CLI_ERROR. */
#define hub_fail(...) gs_cli_fail("gridhub", __VA_ARGS__)
/* "gridhub: message (see gridhub --help)"; GS_CLI_USAGE. */
#define hub_usage(...) gs_cli_usage("gridhub", __VA_ARGS__)

/* Opens the store named by cli->db, printing the error on failure. */
hub_store *hub_open(const hub_cli *cli);
/* The store as the core's commands reach it (`TYPE list`, gs_cli_list_run;
 * export): hub_open, hub_store_close and hub_store_list. */
extern const gs_cli_store hub_cli_store;

/* The hub's secret key file beside the database: DB.key. */
void hub_key_path(const char *db, char *out, size_t cap);

/* Writes text to path with mode 0600 (fsynced), refusing to replace an
 * existing file unless force; 0, or the exit code of the error printed. */
int hub_write_secret_file(const char *path, const char *text, bool force);

/* The commands (cmd_*.c); each returns an exit code. */
int hub_cmd_init(hub_cli *cli);    /* cmd_init.c */
int hub_cmd_node(hub_cli *cli);    /* cmd_node.c: the registry and bundles */
int hub_cmd_refdata(hub_cli *cli); /* cmd_refdata.c */
int hub_cmd_record(hub_cli *cli);  /* cmd_record.c: TYPE update|show|list */
int hub_cmd_serve(hub_cli *cli);   /* cmd_serve.c */
int hub_cmd_report(hub_cli *cli);  /* cmd_report.c */

#endif
