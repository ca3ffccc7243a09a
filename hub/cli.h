/*
 * hub/cli.h: what the gridhub commands share: the parsed command line
 * (gridsync/cli.h, the same as gridnode's), error reporting, opening the
 * store, the hub's key file, and the commands of the table in main.c.
 */
#ifndef HUB_CLI_H
#define HUB_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "gridsync/buf.h"
#include "gridsync/cli.h"
#include "gridsync/err.h"
#include "store.h"

/* The parsed command line: --db, --json, the command's own arguments. */
typedef gs_cli hub_cli;

/* "gridhub: message" on stderr; GS_CLI_ERROR. */
#define hub_fail(...) gs_cli_fail("gridhub", __VA_ARGS__)
/* "gridhub: message (see gridhub --help)"; GS_CLI_USAGE. */
#define hub_usage(...) gs_cli_usage("gridhub", __VA_ARGS__)

/* Opens the store named by cli->db, printing the error on failure. */
hub_store *hub_open(const hub_cli *cli);

/* The hub's secret key file beside the database: DB.key. */
void hub_key_path(const char *db, char *out, size_t cap);

/* Writes text to path with mode 0600 (fsynced), refusing to replace an
 * existing file unless force; 0, or the exit code of the error printed. */
int hub_write_secret_file(const char *path, const char *text, bool force);

/* ---- shared by the command line and the web pages (hub/web) ---- */

/* cmd_node.c: a village code a node may be registered for: a known
 * division, or 12 digits under a known township. GS_OK, or an error in eb. */
int hub_village_check(hub_store *s, const char *code, gs_errbuf *eb);
/* cmd_node.c: a node's bundle as `gridnode init --bundle` reads it (its
 * identity, the hub's key and endpoint, secret when not NULL, the reference
 * rows), parsed back before it is returned. GS_OK, or an error in eb. */
int hub_bundle_text(hub_store *s, const hub_node *n, const char *endpoint, const char *secret,
                    gs_buf *text, gs_errbuf *eb);
/* cmd_user.c: checks a new user (login, name, role, and a division of the
 * role's level in the division table: a county's for a county user, a
 * township's for a township user, none for the city). GS_OK, or GS_EINVAL
 * with the message naming the option. */
int hub_user_check(hub_store *s, const hub_user *u, gs_errbuf *eb);

/* The commands (cmd_*.c); each returns an exit code. */
int hub_cmd_init(hub_cli *cli);    /* cmd_init.c */
int hub_cmd_node(hub_cli *cli);    /* cmd_node.c: the registry and bundles */
int hub_cmd_refdata(hub_cli *cli); /* cmd_refdata.c */
int hub_cmd_record(hub_cli *cli);  /* cmd_record.c: TYPE update|show|list */
int hub_cmd_serve(hub_cli *cli);   /* cmd_serve.c */
int hub_cmd_report(hub_cli *cli);  /* cmd_report.c */
int hub_cmd_user(hub_cli *cli);    /* cmd_user.c: the people of gridhub web */
int hub_cmd_web(hub_cli *cli);     /* web/web.c: gridhub web, the city's pages */

#endif
