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
#include "gridsync/hlc.h"
#include "gridsync/table.h"

/* The default an entry fills in for field f when it is omitted, or NULL:
 * the field table's, or "now" for the time an incident was reported
 * (node_entry_create stamps it). Such a field is not required of the user. */
static const char *entry_default(const gs_rectype *rt, const gs_field *f)
{
    if (f->def)
        return f->def;
    if (rt->id == GS_RT_INCIDENT && !strcmp(f->name, "reported_at"))
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

/* Parses --field value pairs into rec; the first error is printed. */
static int parse_fields(const gs_rectype *rt, int argc, char **argv, gs_record *rec)
{
    for (int i = 0; i < argc; i++) {
        int f = gs_field_option(rt, argv[i]);
        if (f < 0)
            return node_usage("%s: unknown option %s", rt->name, argv[i]);
        if (rt->fields[f].flags & GS_F_COMPUTED)
            return node_fail("%s: %s (%s) is computed by the rules and cannot be set", rt->name,
                             rt->fields[f].label_zh, rt->fields[f].name);
        if (i + 1 >= argc)
            return node_usage("%s: %s needs a value", rt->name, argv[i]);
        gs_errbuf eb = {{0}};
        if (gs_record_parse(rec, f, argv[++i], &eb))
            return node_fail("%s: %s", rt->name, eb.msg);
    }
    return NODE_EXIT_OK;
}

/* Runs one entry (create or update) in its own transaction. */
static int save(node_store *s, gs_record *rec, bool create)
{
    gs_errbuf eb = {{0}};
    gs_buf notes = GS_BUF_INIT;
    int rc = node_store_begin(s, &eb);
    if (!rc)
        rc = create ? node_entry_create(s, rec, &notes, &eb) : node_entry_update(s, rec, &notes, &eb);
    if (!rc)
        rc = node_store_commit(s, &eb);
    else
        node_store_rollback(s);
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

/* Display text of field f: enum values in Chinese, booleans as 是/否. */
static void display(const gs_record *r, int f, gs_buf *b)
{
    const gs_field *fd = &r->rt->fields[f];
    if (!gs_record_has(r, f))
        return;
    if (fd->type == GS_FT_ENUM)
        gs_buf_puts(b, gs_enum_zh(fd, gs_record_str(r, f)));
    else if (fd->type == GS_FT_BOOL)
        gs_buf_puts(b, gs_record_int(r, f, 0) ? "是" : "否");
    else
        gs_record_format(r, f, b);
}

/* The columns of `list`: the key, the required fields, and computed findings. */
static bool list_column(const gs_field *f)
{
    if (f->flags & GS_F_SCOPE)
        return false;
    if (f->flags & (GS_F_KEY | GS_F_REQUIRED))
        return f->type != GS_FT_TEXT || f->max <= 200;
    return !strcmp(f->name, "findings") || !strcmp(f->name, "violations") ||
           !strcmp(f->name, "outcome") || !strcmp(f->name, "status");
}

static int cmd_list(node_cli *cli, const gs_rectype *rt)
{
    if (node_wants_help(cli->argc, cli->argv)) {
        printf("usage: gridnode %s list [--json] [--db PATH]\n\nLists every %s (%s) of this "
               "node, oldest first.\n",
               rt->name, rt->label_zh, rt->name);
        return NODE_EXIT_OK;
    }
    if (cli->argc > 1)
        return node_usage("%s list: unexpected argument %s", rt->name, cli->argv[1]);
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    gs_buf sql = GS_BUF_INIT;
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(rt, &sql);
    gs_buf_printf(&sql, " FROM %s WHERE _deleted = 0 ORDER BY %s", rt->plural,
                  rt->fields[rt->key].name);
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(node_store_db(s), sql.data, -1, &st, NULL) != SQLITE_OK) {
        gs_buf_free(&sql);
        int rc = node_fail("%s list: %s", rt->name, sqlite3_errmsg(node_store_db(s)));
        node_store_close(&s);
        return rc;
    }
    gs_buf_free(&sql);
    const char *headers[64];
    int cols[64], nc = 0;
    for (int i = 0; i < rt->nfields && nc < 64; i++)
        if (list_column(&rt->fields[i])) {
            cols[nc] = i;
            headers[nc++] = rt->fields[i].label_zh;
        }
    gs_table *t = gs_table_new((size_t)nc, headers);
    gs_buf out = GS_BUF_INIT, cell[64];
    for (int c = 0; c < nc; c++)
        cell[c] = (gs_buf)GS_BUF_INIT;
    if (cli->json)
        gs_buf_putc(&out, '[');
    size_t n = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        gs_record *r = NULL;
        if (gs_replica_row(st, 0, rt, &r))
            break;
        if (cli->json) {
            if (n)
                gs_buf_putc(&out, ',');
            gs_record_json(r, &out);
        } else {
            const char *cells[64];
            for (int c = 0; c < nc; c++) {
                gs_buf_reset(&cell[c]);
                display(r, cols[c], &cell[c]);
                cells[c] = cell[c].data ? cell[c].data : "";
            }
            gs_table_add(t, cells);
        }
        n++;
        gs_record_destroy(&r);
    }
    sqlite3_finalize(st);
    if (cli->json) {
        gs_buf_puts(&out, "]\n");
        fputs(out.data, stdout);
    } else {
        gs_table_print(t, stdout);
        printf("(%zu %s)\n", n, rt->label_zh);
    }
    for (int c = 0; c < nc; c++)
        gs_buf_free(&cell[c]);
    gs_buf_free(&out);
    gs_table_destroy(&t);
    node_store_close(&s);
    return NODE_EXIT_OK;
}

void node_print_record(node_store *s, const gs_record *rec, bool history)
{
    const gs_rectype *rt = rec->rt;
    printf("%s %s\n", rt->label_zh, gs_record_key(rec));
    gs_buf b = GS_BUF_INIT;
    size_t w = 0;
    for (int i = 0; i < rt->nfields; i++)
        if (gs_text_width(rt->fields[i].label_zh) > w)
            w = gs_text_width(rt->fields[i].label_zh);
    for (int i = 0; i < rt->nfields; i++) {
        if (!gs_record_has(rec, i))
            continue;
        gs_buf_reset(&b);
        display(rec, i, &b);
        const char *label = rt->fields[i].label_zh;
        printf("  %s%*s  %s\n", label, (int)(w - gs_text_width(label)), "", b.data ? b.data : "");
    }
    const char *fnd = NULL;
    for (int i = 0; i < rt->nfields; i++)
        if (!strcmp(rt->fields[i].name, "findings") || !strcmp(rt->fields[i].name, "violations"))
            fnd = gs_record_str(rec, i);
    if (fnd && *fnd) {
        gs_buf_reset(&b);
        node_describe_findings(fnd, node_committee_of(s, rec), &b);
        printf("审查结果 findings:\n%s", b.data ? b.data : "");
    }
    gs_buf_free(&b);
    if (!history)
        return;
    printf("历史 history (every change, in clock order; the values that lost are kept):\n");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(node_store_db(s),
                           "SELECT origin, seq, hlc, op, body FROM changes WHERE rtype = ?1 AND "
                           "rid = ?2 ORDER BY hlc, origin",
                           -1, &st, NULL) != SQLITE_OK)
        return;
    sqlite3_bind_text(st, 1, rt->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, gs_record_key(rec), -1, SQLITE_STATIC);
    gs_buf line = GS_BUF_INIT, v = GS_BUF_INIT;
    while (sqlite3_step(st) == SQLITE_ROW) {
        gs_change c = {0};
        gs_buf_reset(&line);
        gs_hlc_format((gs_hlc)sqlite3_column_int64(st, 2), &line);
        gs_buf_printf(&line, "  %s #%lld", (const char *)sqlite3_column_text(st, 0),
                      (long long)sqlite3_column_int64(st, 1));
        if (gs_change_decode(sqlite3_column_blob(st, 4), (size_t)sqlite3_column_bytes(st, 4), &c,
                             NULL) == GS_OK) {
            if (c.op == GS_OP_DELETE)
                gs_buf_puts(&line, " 删除 deleted");
            for (int i = 0; i < rt->nfields && c.op == GS_OP_UPSERT; i++) {
                if (i == rt->key || i == rt->scope || c.rec->v[i].state == GS_V_UNSET)
                    continue;
                gs_buf_reset(&v);
                display(c.rec, i, &v);
                gs_buf_printf(&line, " %s=%s", rt->fields[i].label_zh, v.data ? v.data : "∅");
            }
        }
        gs_change_clear(&c);
        printf("  %s\n", line.data);
    }
    sqlite3_finalize(st);
    gs_buf_free(&line);
    gs_buf_free(&v);
}

static int cmd_show(node_cli *cli, const gs_rectype *rt)
{
    if (node_wants_help(cli->argc, cli->argv) || cli->argc != 2) {
        if (cli->argc != 2 && !node_wants_help(cli->argc, cli->argv))
            return node_usage("%s show needs exactly one ID", rt->name);
        printf("usage: gridnode %s show ID [--json] [--db PATH]\n\nPrints the %s, its findings "
               "and its whole history.\n",
               rt->name, rt->label_zh);
        return NODE_EXIT_OK;
    }
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    gs_record *r = NULL;
    gs_errbuf eb = {{0}};
    int rc = node_store_get(s, rt, cli->argv[1], &r, &eb);
    if (rc) {
        node_store_close(&s);
        return node_fail("%s show: %s", rt->name, eb.msg);
    }
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
    if (node_wants_help(cli->argc, cli->argv) || cli->argc != 2) {
        if (cli->argc != 2 && !node_wants_help(cli->argc, cli->argv))
            return node_usage("%s delete needs exactly one ID", rt->name);
        printf("usage: gridnode %s delete ID [--db PATH]\n\nDeletes the record; the deletion is "
               "a change like any other and is synced; the history is kept.\n",
               rt->name);
        return NODE_EXIT_OK;
    }
    node_store *s = node_open(cli);
    if (!s)
        return NODE_EXIT_ERROR;
    gs_record *r = NULL;
    gs_errbuf eb = {{0}};
    int rc = node_store_get(s, rt, cli->argv[1], &r, &eb);
    gs_record *del = rc ? NULL : gs_record_new(rt);
    if (del) {
        gs_record_set_str(del, rt->key, gs_record_key(r));
        gs_record_set_str(del, rt->scope, gs_record_scope(r));
        if (!(rc = node_store_begin(s, &eb)) && !(rc = node_store_put(s, del, GS_OP_DELETE, &eb)))
            rc = node_store_commit(s, &eb);
        else
            node_store_rollback(s);
    }
    gs_record_destroy(&r);
    gs_record_destroy(&del);
    node_store_close(&s);
    if (rc)
        return node_fail("%s delete: %s", rt->name, eb.msg);
    printf("%s\n", cli->argv[1]);
    return NODE_EXIT_OK;
}

int node_cmd_record(node_cli *cli, const gs_rectype *rt)
{
    if (cli->argc == 0 || !strcmp(cli->argv[0], "--help") || !strcmp(cli->argv[0], "-h")) {
        printf("usage: gridnode %s add|update|list|show|delete ... (--help after each for "
               "details)\n",
               rt->name);
        return cli->argc == 0 ? NODE_EXIT_USAGE : NODE_EXIT_OK;
    }
    const char *verb = cli->argv[0];
    if (!strcmp(verb, "list"))
        return cmd_list(cli, rt);
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
    int first = 1;
    if (!create && (cli->argc < 2 || !strncmp(cli->argv[1], "--", 2)))
        return node_usage("%s update needs the ID first", rt->name);
    gs_record *rec = gs_record_new(rt);
    if (!rec)
        return node_fail("out of memory");
    int rc = NODE_EXIT_OK;
    if (!create) {
        gs_errbuf eb = {{0}};
        if (gs_record_parse(rec, rt->key, cli->argv[1], &eb))
            rc = node_fail("%s update: %s", rt->name, eb.msg);
        first = 2;
    }
    if (!rc)
        rc = parse_fields(rt, cli->argc - first, cli->argv + first, rec);
    if (!rc && !create) {
        bool any = false;
        for (int i = 0; i < rt->nfields; i++)
            any |= i != rt->key && rec->v[i].state != GS_V_UNSET;
        if (!any)
            rc = node_usage("%s update: nothing to change; give at least one --FIELD VALUE",
                            rt->name);
    }
    if (!rc) {
        node_store *s = node_open(cli);
        rc = s ? save(s, rec, create) : NODE_EXIT_ERROR;
        node_store_close(&s);
    }
    gs_record_destroy(&rec);
    return rc;
}
