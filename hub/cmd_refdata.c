/*
 * cmd_refdata.c: `gridhub refdata load divisions|categories FILE.csv`: the
 * reference data the city gives every node (division codes with the village
 * list, incident categories), read by the CSV loop gridnode's import uses
 * (gs_csv_load_rows), all rows or none.
 */
#include <stdio.h>
#include <string.h>

#include "city.h"
#include "cli.h"
#include "gridsync/csv.h"
#include "report.h"

/*
 * The rules of a village-level division row beyond its fields' own: the
 * village list (data/luohe_villages.csv) is what the reports divide by, so a
 * row that would put a village under the wrong township or committee kind
 * is refused, naming the field (*bad_field) that is wrong:
 *   - committee (村民委员会/居民委员会) belongs to village rows only;
 *   - a village has a 12-digit code, and its parent_code, when given, is the
 *     township of its first 9 digits;
 *   - the committee agrees with the code's village segment (NBS: 001-199
 *     residents', 200-399 villagers'; hub_village_kind_of_code).
 */
static int village_row_check(const gs_record *rec, int *bad_field, gs_errbuf *eb)
{
    const gs_rectype *rt = rec->rt;
    int f_level = GS_DIVISION_LEVEL, f_parent = GS_DIVISION_PARENT_CODE,
        f_committee = GS_DIVISION_COMMITTEE;
    const char *code = gs_record_key(rec), *level = gs_record_str(rec, f_level);
    const char *parent = gs_record_str(rec, f_parent), *kind = gs_record_str(rec, f_committee);
    bool village = level && !strcmp(level, "village");
    if (!village) {
        *bad_field = f_committee;
        return kind ? gs_errf(eb, GS_EINVAL,
                              "委员会类型 (%s) 只用于村级行，本行级别为 %s (a committee kind "
                              "is for village rows only)",
                              kind, level ? level : "空")
                    : GS_OK;
    }
    *bad_field = rt->key;
    if (!code || strlen(code) != 12)
        return gs_errf(eb, GS_EINVAL,
                       "村级行需要12位代码，不是 %s (a village row needs a "
                       "12-digit code)",
                       code ? code : "空");
    *bad_field = f_parent;
    if (parent && strncmp(parent, code, 9))
        return gs_errf(eb, GS_EINVAL,
                       "村社区 %s 属乡镇 %.9s，不在 %s 之下 (village %s lies in "
                       "township %.9s)",
                       code, code, parent, code, code);
    *bad_field = f_committee;
    int by_code = hub_village_kind_of_code(code);
    int given = kind ? gs_enum_find(&rt->fields[f_committee], kind) : -1;
    if (given >= 0 && by_code >= 0 && given != by_code)
        return gs_errf(eb, GS_EINVAL,
                       "%s (%s) 与代码 %s 不符：村级编号 %s 是%s的编号 (NBS: 001-199 "
                       "居民委员会, 200-399 村民委员会; the committee contradicts the code)",
                       rt->fields[f_committee].enums_zh[given], kind, code, code + 9,
                       rt->fields[f_committee].enums_zh[by_code]);
    return GS_OK;
}

/* What the rows of one load share. */
typedef struct load_ctx {
    hub_store *s;
    size_t written; /* rows new or changed */
} load_ctx;

/* Checks and stores one row that parsed (gs_csv_load.row): complete (codes
 * above the city, the province 410000, may appear as parents only), a
 * village row's own rules, then only what differs from the hub's copy. */
static int load_one(gs_record *rec, int *bad_field, void *arg, gs_errbuf *eb)
{
    load_ctx *c = arg;
    bool changed = false;
    int rc = gs_record_check(rec, GS_CHECK_COMPLETE, eb);
    if (!rc && rec->rt->id == GS_RT_DIVISION)
        rc = village_row_check(rec, bad_field, eb);
    if (!rc) {
        *bad_field = -1;
        rc = hub_city_put_diff(c->s, rec, &changed, eb);
    }
    c->written += changed;
    return rc;
}

int hub_cmd_refdata(hub_cli *cli)
{
    if (gs_cli_wants_help(cli->argc, cli->argv)) {
        puts("usage: gridhub refdata load divisions|categories FILE.csv\n\ndivisions: "
             "code,name,level,parent_code[,synthetic][,committee]   (NBS division codes;\n"
             "           committee: villagers|residents (村民委员会|居民委员会), village rows "
             "only,\n           e.g. data/luohe_villages.csv, the villages the city expects)\n"
             "categories: code,name_zh,name_en,parent_code (incident categories)\nAll rows or "
             "none; a bad row is named by its line and column. Rows equal to\nwhat the hub holds "
             "are skipped. The data reaches every node at its next sync\n(a village's own row "
             "reaches that village only).");
        return 0;
    }
    gs_cli_args a;
    int rc = gs_cli_parse(cli, "refdata", cli->argc, cli->argv, NULL, NULL, NULL, &a);
    if (rc)
        return rc;
    if (a.npos != 3 || strcmp(a.pos[0], "load"))
        return hub_usage("refdata load divisions|categories FILE.csv");
    const gs_rectype *rt = gs_rectype_find(a.pos[1]);
    if (!rt || !rt->reference)
        return hub_usage("refdata load: \"%s\" is not divisions or categories", a.pos[1]);
    const char *file = a.pos[2];
    gs_csv *csv = NULL;
    gs_errbuf eb = {{0}};
    if (gs_csv_open(&csv, file, &eb))
        return hub_fail("refdata: %s", eb.msg);
    size_t ncols = gs_csv_ncols(csv);
    int cols[GS_CSV_MAX_COLS];
    int errors = 0;
    for (size_t c = 0; c < ncols && c < GS_CSV_MAX_COLS; c++)
        if ((cols[c] = gs_field_find(rt, gs_csv_header(csv, c))) < 0) {
            fprintf(stderr, "gridhub: %s: row 1, column %zu \"%s\": not a %s column\n", file, c + 1,
                    gs_csv_header(csv, c), rt->name);
            errors++;
        }
    hub_store *s = errors ? NULL : hub_open(cli);
    if (!errors && !s) {
        gs_csv_destroy(&csv);
        return 1;
    }
    size_t nrows = gs_csv_nrows(csv);
    if (s && hub_store_begin(s, &eb)) {
        rc = hub_fail("refdata: %s: %s; nothing was loaded", file, eb.msg);
        hub_store_close(&s);
        gs_csv_destroy(&csv);
        return rc;
    }
    load_ctx ctx = {s, 0};
    /* a row is the whole reference record: an empty cell clears the field
     * (a required one is then refused) */
    gs_csv_load how = {"gridhub", file, rt, cols, true, false, 200, load_one, &ctx};
    if (s)
        errors += gs_csv_load_rows(csv, &how);
    if (errors) {
        if (s)
            hub_store_rollback(s);
        rc = hub_fail("refdata: %s: %d error(s); nothing was loaded", file, errors);
    } else if (hub_store_commit(s, &eb)) {
        rc = hub_fail("refdata: %s", eb.msg);
    } else {
        printf("loaded %zu %s from %s: %zu new or changed, %zu unchanged\n", nrows, rt->plural,
               file, ctx.written, nrows - ctx.written);
    }
    hub_store_close(&s);
    gs_csv_destroy(&csv);
    return rc;
}
