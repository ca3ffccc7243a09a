/*
 * node/cli.h: what the gridnode commands share: the parsed command line,
 * error reporting (one line on stderr, non-zero exit) and opening the store.
 */
#ifndef NODE_CLI_H
#define NODE_CLI_H

#include <stdbool.h>

#include "gridsync/err.h"
#include "store.h"

/* Exit codes. */
enum { NODE_EXIT_OK = 0, NODE_EXIT_ERROR = 1, NODE_EXIT_USAGE = 2 };

typedef struct node_cli {
    const char *db; /* --db, default ./gridnode.db */
    bool json;      /* --json */
    int argc;       /* the command's own arguments, --db and --json removed */
    char **argv;
} node_cli;

/* Prints "gridnode: message" on stderr; returns NODE_EXIT_ERROR. */
int node_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "gridnode: usage: ..." and the hint to use --help; returns NODE_EXIT_USAGE. */
int node_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* True if argv holds --help or -h. */
bool node_wants_help(int argc, char **argv);
/* Opens the store named by cli->db, printing the error on failure. */
node_store *node_open(const node_cli *cli);

/* The commands; each returns an exit code. */
int node_cmd_init(node_cli *cli);
int node_cmd_record(node_cli *cli, const gs_rectype *rt); /* TYPE add|update|list|show|delete */
int node_cmd_import(node_cli *cli);
int node_cmd_export(node_cli *cli);
int node_cmd_template(node_cli *cli);
int node_cmd_status(node_cli *cli);
int node_cmd_sync(node_cli *cli);
int node_cmd_verify(node_cli *cli);
int node_cmd_keygen(node_cli *cli);
int node_cmd_rekey(node_cli *cli);

/* Prints a record's fields (Chinese label, value) and its change history. */
void node_print_record(node_store *s, const gs_record *rec, bool history);

#endif
