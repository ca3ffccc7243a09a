/*
 * node/cli.h: what the gridnode commands share: the parsed command line,
 * error reporting (one line on stderr, non-zero exit) and opening the store.
 */
#ifndef NODE_CLI_H
#define NODE_CLI_H

#include <stdbool.h>

#include "gridsync/cli.h"
#include "gridsync/err.h"
#include "store.h"

/* Exit codes. */
enum { NODE_EXIT_OK = GS_CLI_OK, NODE_EXIT_ERROR = GS_CLI_ERROR, NODE_EXIT_USAGE = GS_CLI_USAGE };

/* The parsed command line (gridsync/cli.h): --db, --json, the command's own
 * arguments, the record type of `gridnode TYPE ...`. */
typedef gs_cli node_cli;

/* "gridnode: message" on stderr; NODE_EXIT_ERROR. */
#define node_fail(...) gs_cli_fail("gridnode", __VA_ARGS__)
/* "gridnode: message (see gridnode --help)"; NODE_EXIT_USAGE. */
#define node_usage(...) gs_cli_usage("gridnode", __VA_ARGS__)
/* True if argv holds --help or -h. */
#define node_wants_help gs_cli_wants_help
/* Opens the store named by cli->db, printing the error on failure. */
node_store *node_open(const node_cli *cli);
/* The store as the core's commands reach it (`TYPE list`, gs_cli_list_run;
 * export): node_open, node_store_close and node_store_list. */
extern const gs_cli_store node_cli_store;

/* The commands; each returns an exit code. */
int node_cmd_init(node_cli *cli);
int node_cmd_record(node_cli *cli); /* TYPE add|update|list|show|delete; cli->rt */
int node_cmd_import(node_cli *cli);
int node_cmd_export(node_cli *cli);
int node_cmd_template(node_cli *cli);
int node_cmd_status(node_cli *cli);
int node_cmd_sync(node_cli *cli);
int node_cmd_verify(node_cli *cli);
int node_cmd_keygen(node_cli *cli);
int node_cmd_rekey(node_cli *cli);
int node_cmd_web(node_cli *cli); /* web/web.c: the village desk, and `web passwd` */

/* Prints a record's fields (Chinese label, value) and its change history. */
void node_print_record(node_store *s, const gs_record *rec, bool history);

#endif
