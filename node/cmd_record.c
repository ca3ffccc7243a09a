/*
 * cmd_record.c: `gridnode TYPE add|update|list|show|delete` for every record
 * type, driven by the field tables: the options of add/update are the field
 * names (--reported-at for reported_at), and --help lists them with their
 * Chinese labels and accepted values.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "entry.h"
#include "gridsync/derive.h"
#include "gridsync/find.h"

/* The default an entry fills in for field f when it is omitted, or NULL:
 * the field table's, or "now" for the time an incident was reported
 * (node_entry_create stamps it). Such a field is not required of the user. */
static const char *entry_default(const gs_rectype *rt, const gs_field *f)
{
    if (f->def)
        return f->def;
    if (rt->id == GS_RT_INCIDENT && f == &rt->fields[GS_INCIDENT_REPORTED_AT])
        return "now 当前时间";
    return NULL;
}

static void print_field_help(const gs_rectype *rt, bool update)
{
    printf("usage: gridnode %s %s%s [--FIELD VALUE ...] [--db PATH]\n\n", rt->name,
           update ? "update" : "add", update ? " ID" : "");
    printf("%s (%s) fields:\n", rt->label_zh, rt->name);
    for (int i = 0; i < rt->nfields; i++) {
        const gs_field *f = &rt->fields[i];
        if (f->flags & GS_F_COMPUTED)
            continue;
        char opt[80];
        snprintf(opt, sizeof opt, "--%s", f->name);
        for (char *p = opt + 2; *p; p++)
            if (*p == '_')
                *p = '-';
        printf("  %-22s %s", opt, f->label_zh);
        if (f->flags & GS_F_KEY)
            printf(update                          ? " (the ID argument)"
                   : (f->flags & GS_F_GENERATED) ? " (generated when omitted)"
                                                 : " (required)");
        else if (f->flags & GS_F_SCOPE)
            printf(" (defaults to this node's village)");
        else if (f->flags & GS_F_REQUIRED && !update && !entry_default(rt, f))
            printf(" (required)");
        if (f->type == GS_FT_ENUM) {
            printf(": ");
            for (int k = 0; f->enums[k]; k++)
                printf("%s%s/%s", k ? ", " : "", f->enums_zh[k], f->enums[k]);
        } else if (f->type == GS_FT_DATE) {
            printf(": 2026-11-28");
        } else if (f->type == GS_FT_DATETIME) {
            printf(": 2026-11-28 09:30");
        } else if (f->type == GS_FT_BOOL) {
            printf(": 是/否");
        } else if (f->type == GS_FT_INT) {
            printf(": %lld-%lld", (long long)f->min, (long long)f->max);
        }
        if (entry_default(rt, f) && !update)
            printf(" [default %s]", entry_default(rt, f));
        putchar('\n');
    }
    if (rt->id == GS_RT_INCIDENT && update)
        printf("\nStatus follows the workflow 上报→受理→立案→派遣→处置中→处置反馈→核查通过→结案→综合评价;\n"
               "an illegal step is refused with the allowed next states.\n");
}

/* The options of add and update: the type's fields (--grid for grid_code). */
static int field_option(const char *name, void *rt)
{
    return gs_field_option(rt, name);
}

/* Parses --field value pairs (after `TYPE VERB`) into rec; the first error
 * is printed. The other words are left in a->pos. */
static int parse_fields(node_cli *cli, const char *verb, gs_record *rec, gs_cli_args *a)
{
    const gs_rectype *rt = rec->rt;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "%s %s", rt->name, verb);
    int rc = gs_cli_parse(cli, cmd, cli->argc - 1, cli->argv + 1, NULL, field_option,
                          (void *)rt, a);
    for (int i = 0; !rc && i < a->n; i++) {
        int f = a->item[i].id;
        if (rt->fields[f].flags & GS_F_COMPUTED)
            return node_fail("%s: %s (%s) is computed by the rules and cannot be set", rt->name,
                             rt->fields[f].label_zh, rt->fields[f].name);
        gs_errbuf eb = {{0}};
        if (gs_record_parse(rec, f, a->item[i].value, &eb))
            return node_fail("%s: %s", rt->name, eb.msg);
    }
    return rc;
}

/* Runs one entry (create or update) in its own transaction (node_entry_save). */
static int save(node_store *s, gs_record *rec, bool create)
{
    gs_errbuf eb = {{0}};
    gs_buf notes = GS_BUF_INIT;
    int rc = node_entry_save(s, rec, create, &notes, &eb);
    if (rc) {
        gs_buf_free(&notes);
        return node_fail("%s %s: %s", rec->rt->name, create ? "add" : "update", eb.msg);
    }
    printf("%s\n", gs_record_key(rec));
    if (notes.len)
        fputs(notes.data, stderr);
    gs_buf_free(&notes);
    return NODE_EXIT_OK;
}

/* ---- list ------------------------------------------------------------------ */

/* The store as the core's commands reach it (cli.h). */
static void *open_store(const gs_cli *cli)
{
    return node_open(cli);
}

static void close_store(void *s)
{
    node_store *store = s;
    node_store_close(&store);
}

static int list_records(void *s, const gs_rectype *rt, const gs_find_filter *f, gs_find_each each,
                        void *arg, gs_errbuf *eb)
{
    return node_store_list(s, rt, f, each, arg, eb);
}

const gs_cli_store node_cli_store = {open_store, close_store, list_records};

/* ---- show and delete ---------------------------------------------------------- */

void node_print_record(node_store *s, const gs_record *rec, bool history)
{
    const gs_rectype *rt = rec->rt;
    gs_find_print_record(rec, stdout);
    int ff = gs_derive_findings_field(rt);
    const char *fnd = ff >= 0 ? gs_record_str(rec, ff) : NULL;
    if (fnd && *fnd) {
        gs_buf b = GS_BUF_INIT;
        node_describe_findings(fnd, node_committee_of(s, rec), &b);
        printf("审查结果 findings:\n%s", b.data ? b.data : "");
        gs_buf_free(&b);
    }
    if (!history)
        return;
    printf("历史 history (every change, in clock order; the values that lost are kept):\n");
    node_store_history(s, rt, gs_record_key(rec), gs_find_print_change, stdout, NULL);
}

/* Parses `TYPE VERB ID` (no options) and finds the record by its id or a
 * unique prefix of it; *s and *rec are the caller's on NODE_EXIT_OK. */
static int find_one(node_cli *cli, const char *verb, node_store **s, gs_record **rec)
{
    const gs_rectype *rt = cli->rt;
    char cmd[64];
    snprintf(cmd, sizeof cmd, "%s %s", rt->name, verb);
    gs_cli_args a;
    int rc = gs_cli_parse(cli, cmd, cli->argc - 1, cli->argv + 1, NULL, NULL, NULL, &a);
    if (rc)
        return rc;
    if (a.npos != 1)
        return node_usage("%s needs exactly one ID", cmd);
    if (!(*s = node_open(cli)))
        return NODE_EXIT_ERROR;
    gs_errbuf eb = {{0}};
    if (node_store_find(*s, rt, a.pos[0], rec, &eb)) {
        node_store_close(s);
        return node_fail("%s: %s", cmd, eb.msg);
    }
    return NODE_EXIT_OK;
}

static int cmd_show(node_cli *cli, const gs_rectype *rt)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        printf("usage: gridnode %s show ID [--json] [--db PATH]\n\nPrints the %s, its findings "
               "and its whole history. ID may be a unique prefix\nof the id (4 characters or "
               "more).\n",
               rt->name, rt->label_zh);
        return NODE_EXIT_OK;
    }
    node_store *s = NULL;
    gs_record *r = NULL;
    int rc = find_one(cli, "show", &s, &r);
    if (rc)
        return rc;
    if (cli->json) {
        gs_buf b = GS_BUF_INIT;
        gs_record_json(r, &b);
        printf("%s\n", b.data);
        gs_buf_free(&b);
    } else {
        node_print_record(s, r, true);
    }
    gs_record_destroy(&r);
    node_store_close(&s);
    return NODE_EXIT_OK;
}

static int cmd_delete(node_cli *cli, const gs_rectype *rt)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        printf("usage: gridnode %s delete ID [--db PATH]\n\nDeletes the record; the deletion is "
               "a change like any other and is synced; the history is kept.\n",
               rt->name);
        return NODE_EXIT_OK;
    }
    node_store *s = NULL;
    gs_record *r = NULL;
    int rc = find_one(cli, "delete", &s, &r);
    if (rc)
        return rc;
    gs_errbuf eb = {{0}};
    gs_record *del = gs_record_new(rt);
    if (!del)
        rc = gs_errf(&eb, GS_ENOMEM, "out of memory");
    else {
        gs_record_set_str(del, rt->key, gs_record_key(r));
        gs_record_set_str(del, rt->scope, gs_record_scope(r));
        if (!(rc = node_store_begin(s, &eb)) && !(rc = node_store_put(s, del, GS_OP_DELETE, &eb)))
            rc = node_store_commit(s, &eb);
        else
            node_store_rollback(s);
    }
    if (rc)
        rc = node_fail("%s delete: %s", rt->name, eb.msg);
    else
        printf("%s\n", gs_record_key(r));
    gs_record_destroy(&r);
    gs_record_destroy(&del);
    node_store_close(&s);
    return rc;
}

/* ---- add and update ------------------------------------------------------------ */

int node_cmd_record(node_cli *cli)
{
    const gs_rectype *rt = cli->rt;
    if (cli->argc == 0 || !strcmp(cli->argv[0], "--help") || !strcmp(cli->argv[0], "-h")) {
        printf("usage: gridnode %s add|update|list|show|delete ... (--help after each for "
               "details)\n",
               rt->name);
        return cli->argc == 0 ? NODE_EXIT_USAGE : NODE_EXIT_OK;
    }
    const char *verb = cli->argv[0];
    if (!strcmp(verb, "list"))
        return gs_cli_list_run(cli, &node_cli_store);
    if (!strcmp(verb, "show"))
        return cmd_show(cli, rt);
    if (!strcmp(verb, "delete"))
        return cmd_delete(cli, rt);
    bool create = !strcmp(verb, "add");
    if (!create && strcmp(verb, "update"))
        return node_usage("%s: unknown action \"%s\" (add, update, list, show, delete)", rt->name,
                          verb);
    if (node_wants_help(cli->argc, cli->argv)) {
        print_field_help(rt, !create);
        return NODE_EXIT_OK;
    }
    gs_record *rec = gs_record_new(rt);
    if (!rec)
        return node_fail("out of memory");
    gs_cli_args a;
    int rc = parse_fields(cli, verb, rec, &a);
    if (!rc && create && a.npos)
        rc = node_usage("%s add: unexpected argument %s", rt->name, a.pos[0]);
    if (!rc && !create && (a.npos != 1 || strncmp(cli->argv[1], a.pos[0], strlen(a.pos[0]))))
        rc = node_usage("%s update needs the ID first", rt->name);
    if (!rc && !create) {
        bool any = false;
        for (int i = 0; i < rt->nfields; i++)
            any |= i != rt->key && rec->v[i].state != GS_V_UNSET;
        if (!any)
            rc = node_usage("%s update: nothing to change; give at least one --FIELD VALUE",
                            rt->name);
    }
    node_store *s = rc ? NULL : node_open(cli);
    if (!rc && !s)
        rc = NODE_EXIT_ERROR;
    if (!rc && !create) { /* the ID, or a unique prefix of it */
        gs_record *cur = NULL;
        gs_errbuf eb = {{0}};
        if (node_store_find(s, rt, a.pos[0], &cur, &eb))
            rc = node_fail("%s update: %s", rt->name, eb.msg);
        else
            gs_record_set_str(rec, rt->key, gs_record_key(cur));
        gs_record_destroy(&cur);
    }
    if (!rc)
        rc = save(s, rec, create);
    node_store_close(&s);
    gs_record_destroy(&rec);
    return rc;
}
