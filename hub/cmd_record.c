/*
 * cmd_record.c: `gridhub TYPE update|show|list` for the records the
 * villages send: a city decision on a record (a change with the hub as
 * origin, synced down), a record with its whole history, and the same
 * list with filters as gridnode's (gs_cli_list_parse).
 */
#include <stdio.h>
#include <string.h>

#include "city.h"
#include "cli.h"
#include "gridsync/find.h"
#include "gridsync/rules.h"

/* A city edit of an incident follows the workflow table of the core, as a
 * village's does; closed_at is derived where the change is applied. Returns
 * an exit code. */
static int incident_rules(const gs_record *cur, const gs_record *edit)
{
    int fs = GS_INCIDENT_STATUS;
    gs_errbuf eb = {{0}};
    if (gs_record_has(edit, fs) &&
        gs_incident_transition(gs_record_str(cur, fs), gs_record_str(edit, fs), GS_ACTOR_CITY, &eb))
        return hub_fail("incident update: %s", eb.msg);
    return 0;
}

/* The options of update: the type's fields (--grid for grid_code). */
static int field_option(const char *name, void *rt)
{
    return gs_field_option(rt, name);
}

/* The store as the core's commands reach it (cli.h). */
static void *open_store(const gs_cli *cli)
{
    return hub_open(cli);
}

static void close_store(void *s)
{
    hub_store *store = s;
    hub_store_close(&store);
}

static int list_records(void *s, const gs_rectype *rt, const gs_find_filter *f, gs_find_each each,
                        void *arg, gs_errbuf *eb)
{
    return hub_store_list(s, rt, f, each, arg, eb);
}

const gs_cli_store hub_cli_store = {open_store, close_store, list_records};

/* Prints a record and its whole history from every origin. */
static void print_history(hub_store *s, const gs_record *rec)
{
    gs_find_print_record(rec, stdout);
    printf("历史 history (every change, in clock order, with origin; losing values kept):\n");
    hub_store_history(s, rec->rt, gs_record_key(rec), gs_find_print_change, stdout, NULL);
}

/* `gridhub TYPE update ID --FIELD VALUE ...`, `TYPE show ID` and `TYPE list`. */
int hub_cmd_record(hub_cli *cli)
{
    const gs_rectype *rt = cli->rt;
    if (cli->argc > 0 && !strcmp(cli->argv[0], "list"))
        return gs_cli_list_run(cli, &hub_cli_store);
    if (cli->argc == 0 || gs_cli_wants_help(cli->argc, cli->argv)) {
        printf("usage: gridhub %s update ID --FIELD VALUE ... [--db PATH]\n"
               "       gridhub %s show ID [--json] [--db PATH]\n"
               "       gridhub %s list [--status S] [--village CODE] ... (see %s list --help)\n\n"
               "update records a city decision on a village's %s (a change with the hub as\n"
               "origin, delivered to the village at its next sync)%s; show prints the record\n"
               "and its whole history from every origin. ID may be a unique prefix of the id\n"
               "(4 characters or more). Fields:",
               rt->name, rt->name, rt->name, rt->name, rt->label_zh,
               rt->id == GS_RT_INCIDENT ? "; status follows the workflow" : "");
        for (int i = 0; i < rt->nfields; i++)
            if (!(rt->fields[i].flags & (GS_F_KEY | GS_F_SCOPE | GS_F_COMPUTED))) {
                /* spelled as gridnode spells them: --grid-code, not --grid_code */
                char name[80];
                snprintf(name, sizeof name, "%s", rt->fields[i].name);
                for (char *p = name; *p; p++)
                    *p = *p == '_' ? '-' : *p;
                printf("%s --%s (%s)", i > 2 ? "," : "", name, rt->fields[i].label_zh);
            }
        putchar('\n');
        return cli->argc == 0 ? 2 : 0;
    }
    const char *verb = cli->argv[0];
    bool update = !strcmp(verb, "update");
    if (!update && strcmp(verb, "show"))
        return hub_usage("%s: unknown action \"%s\" (update, show, list)", rt->name, verb);
    if (cli->argc < 2 || !strncmp(cli->argv[1], "--", 2))
        return hub_usage("%s %s needs the ID first", rt->name, verb);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "%s %s", rt->name, verb);
    gs_cli_args a;
    int rc = gs_cli_parse(cli, cmd, cli->argc - 1, cli->argv + 1, NULL,
                          update ? field_option : NULL, (void *)rt, &a);
    if (rc)
        return rc;
    if (a.npos != 1)
        return hub_usage("%s: unexpected argument %s", cmd, a.pos[1]);
    const char *id = a.pos[0];
    gs_record *edit = gs_record_new(rt);
    if (!edit)
        return hub_fail("out of memory");
    bool any = a.n > 0;
    gs_errbuf eb = {{0}};
    for (int i = 0; i < a.n && !rc; i++) {
        int f = a.item[i].id;
        if (rt->fields[f].flags & (GS_F_KEY | GS_F_SCOPE))
            rc = hub_usage("%s: unknown option --%s", cmd, rt->fields[f].name);
        else if (rt->fields[f].flags & GS_F_COMPUTED)
            rc = hub_fail("%s update: %s (%s) is computed by the rules", rt->name,
                          rt->fields[f].label_zh, rt->fields[f].name);
        else if (gs_record_parse(edit, f, a.item[i].value, &eb))
            rc = hub_fail("%s update: %s", rt->name, eb.msg);
    }
    if (!rc && update && !any)
        rc = hub_usage("%s update: nothing to change; give --FIELD VALUE", rt->name);
    hub_store *s = rc ? NULL : hub_open(cli);
    gs_record *cur = NULL;
    if (!rc && !s)
        rc = 1;
    if (!rc && hub_store_find(s, rt, id, &cur, &eb)) /* the id, or a unique prefix */
        rc = hub_fail("%s %s: %s", rt->name, verb, eb.msg);
    if (!rc && !update) {
        if (cli->json) {
            gs_buf b = GS_BUF_INIT;
            gs_record_json(cur, &b);
            printf("%s\n", b.data);
            gs_buf_free(&b);
        } else {
            print_history(s, cur);
        }
    } else if (!rc) {
        gs_record_set_str(edit, rt->key, gs_record_key(cur));
        gs_record_set_str(edit, rt->scope, gs_record_scope(cur));
        if (rt->id == GS_RT_INCIDENT)
            rc = incident_rules(cur, edit);
        gs_record *full = rc ? NULL : gs_record_dup(cur);
        if (full && (gs_record_merge(full, edit) || gs_record_check(full, GS_CHECK_COMPLETE, &eb)))
            rc = hub_fail("%s update: %s", rt->name, eb.msg);
        gs_record_destroy(&full);
        if (!rc && (hub_store_begin(s, &eb) || hub_city_put(s, edit, GS_OP_UPSERT, &eb) ||
                    hub_store_commit(s, &eb))) {
            hub_store_rollback(s);
            rc = hub_fail("%s update: %s", rt->name, eb.msg);
        }
        if (!rc)
            printf("%s\n", gs_record_key(cur));
    }
    gs_record_destroy(&edit);
    gs_record_destroy(&cur);
    hub_store_close(&s);
    return rc;
}
