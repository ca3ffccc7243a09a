/*
 * elections.c: 换届选举 pages of the village desk.
 *
 *   GET  /elections               the list
 *   GET  /elections/new           an empty results sheet
 *   POST /elections/new           saves a new election and its candidates
 *   GET  /election/ID             the record: figures, findings with the law,
 *                                 the elected, unfilled seats, 一肩挑
 *   GET  /election/ID/edit        the sheet of a stored election
 *   POST /election/ID/edit        saves it
 *   GET  /election/ID/print       选举结果报告单, A4, for printing
 *   POST /api/elections/check     the findings of a sheet not stored
 *
 * The sheet is the election's figures and a grid of candidates (one row
 * each, and empty rows to add one), saved in one POST: the election and
 * every candidate in one transaction through node_entry_create/update, so
 * the rules of entry and the store's hard checks apply as on the command
 * line; any error rolls back all of it and the sheet comes back with the
 * message beside the cell (a value that does not parse) or the row (what
 * the rules refused).
 *
 * The findings come from the core (derive.h): /api/elections/check parses
 * the same sheet into records that are never stored and runs
 * gs_judge_election and gs_derive_election on them, the functions the
 * store runs on the stored rows. elections.js posts the sheet there as the
 * numbers are typed; without JavaScript the findings show after saving.
 *
 * A sheet's cells are named "e.FIELD" (the election) and "cN.FIELD" (the
 * candidate of row N, from 0), FIELD being the schema's name; "cN.id" holds
 * a stored candidate's id. The API takes the same names as a form, or JSON
 * {"election": {FIELD: value}, "candidates": [{FIELD: value}]}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry.h"
#include "gridsync/derive.h"
#include "import.h"
#include "pages.h"

#define MAX_ROWS   200 /* candidate rows of one sheet */
#define EMPTY_ROWS 3   /* empty rows offered to add candidates to a sheet */
#define NEW_ROWS   10  /* the rows of a new sheet: a committee's candidates */

/* The cells of the sheet, in order (-1 ends a list); a cell is named by its
 * field's schema name. */
const int pg_election_cells[] = {GS_ELECTION_COMMITTEE,
                                     GS_ELECTION_ELECTION_DATE,
                                     GS_ELECTION_LIST_PUBLISHED,
                                     GS_ELECTION_REGISTERED,
                                     GS_ELECTION_VOTED,
                                     GS_ELECTION_VALID,
                                     GS_ELECTION_INVALID,
                                     GS_ELECTION_SUPP_VOTED,
                                     GS_ELECTION_SEATS_CHAIR,
                                     GS_ELECTION_SEATS_VICE,
                                     GS_ELECTION_SEATS_MEMBER,
                                     GS_ELECTION_NOTE,
                                     -1};
static const int candidate_cells[] = {GS_CANDIDATE_NAME,
                                      GS_CANDIDATE_GENDER,
                                      GS_CANDIDATE_POST,
                                      GS_CANDIDATE_ROUND,
                                      GS_CANDIDATE_VOTES,
                                      GS_CANDIDATE_PARTY_SECRETARY,
                                      -1};

/* ---- the sheet as records ------------------------------------------------- */

/* Reads a cell's text by its name ("e.voted", "c2.name"); NULL when the
 * request has no such cell. */
typedef const char *(*cell_get)(const char *key, void *arg);

/* One message beside a cell ("e.voted"), a row ("c2") or the sheet (""). */
typedef struct cell_msg {
    char key[32];
    char msg[GS_ERRBUF_MAX];
} cell_msg;

typedef struct sheet {
    gs_record *e;
    gs_record **c; /* the rows that hold a candidate */
    int *row;      /* each one's row number in the sheet */
    size_t n;
    size_t rows; /* rows the sheet sent */
    char **del;  /* stored candidates whose row was emptied: to delete */
    int *del_row;
    size_t ndel;
    cell_msg *msgs;
    size_t nmsgs;
} sheet;

static void sheet_free(sheet *sh)
{
    gs_record_destroy(&sh->e);
    for (size_t i = 0; i < sh->n; i++)
        gs_record_destroy(&sh->c[i]);
    free(sh->c);
    free(sh->row);
    for (size_t i = 0; i < sh->ndel; i++)
        free(sh->del[i]);
    free(sh->del);
    free(sh->del_row);
    free(sh->msgs);
    memset(sh, 0, sizeof *sh);
}

static void sheet_msg(sheet *sh, const char *key, const char *msg)
{
    cell_msg *m = realloc(sh->msgs, (sh->nmsgs + 1) * sizeof *m);
    if (!m)
        return;
    sh->msgs = m;
    snprintf(m[sh->nmsgs].key, sizeof m->key, "%s", key);
    snprintf(m[sh->nmsgs].msg, sizeof m->msg, "%s", msg);
    sh->nmsgs++;
}

/* The message of key, or NULL. */
static const char *sheet_msg_of(const sheet *sh, const char *key)
{
    for (size_t i = 0; i < sh->nmsgs; i++)
        if (!strcmp(sh->msgs[i].key, key))
            return sh->msgs[i].msg;
    return NULL;
}

/* Parses the cells of one record: prefix "e." or "cN."; an empty cell is a
 * value not given, which is an error for a required field without a
 * default; in a stored record an emptied optional cell clears the field.
 * Returns how many cells were non-empty. */
static int parse_cells(sheet *sh, gs_record *r, const char *prefix, const int *cells, cell_get get,
                       void *arg)
{
    int given = 0;
    for (size_t i = 0; cells[i] >= 0; i++) {
        int f = cells[i];
        char key[48];
        snprintf(key, sizeof key, "%s%s", prefix, r->rt->fields[f].name);
        const char *v = get(key, arg);
        if (v && !*v && gs_record_key(r) && !(r->rt->fields[f].flags & GS_F_REQUIRED))
            gs_record_set_null(r, f); /* a stored record's cell emptied: cleared */
        if (!v || !*v)
            continue;
        given++;
        gs_errbuf eb = {{0}};
        if (gs_record_parse(r, f, v, &eb))
            sheet_msg(sh, key, eb.msg);
    }
    return given;
}

/* A required cell left empty (after defaults), beside its cell. */
static void check_required(sheet *sh, const gs_record *r, const char *prefix, const int *cells)
{
    for (size_t i = 0; cells[i] >= 0; i++) {
        int f = cells[i];
        char key[48];
        snprintf(key, sizeof key, "%s%s", prefix, r->rt->fields[f].name);
        if ((r->rt->fields[f].flags & GS_F_REQUIRED) && !gs_record_has(r, f) &&
            !sheet_msg_of(sh, key))
            sheet_msg(sh, key, "必填 (required)");
    }
}

static int sheet_add(sheet *sh, gs_record *c, int row)
{
    gs_record **v = realloc(sh->c, (sh->n + 1) * sizeof *v);
    int *rv = v ? realloc(sh->row, (sh->n + 1) * sizeof *rv) : NULL;
    if (v)
        sh->c = v;
    if (!rv)
        return GS_ENOMEM;
    sh->row = rv;
    sh->c[sh->n] = c;
    sh->row[sh->n++] = row;
    return GS_OK;
}

/* Notes that the row of stored candidate cid was emptied. */
static int sheet_del(sheet *sh, const char *cid, int row)
{
    char **d = realloc(sh->del, (sh->ndel + 1) * sizeof *d);
    if (d)
        sh->del = d;
    int *r = d ? realloc(sh->del_row, (sh->ndel + 1) * sizeof *r) : NULL;
    if (r)
        sh->del_row = r;
    if (!r || !(sh->del[sh->ndel] = strdup(cid)))
        return GS_ENOMEM;
    sh->del_row[sh->ndel++] = row;
    return GS_OK;
}

/* Reads a whole sheet into records (nothing stored): sh->e, with key eid
 * when it is a stored election's, and a candidate per row that holds
 * anything. Messages for every cell that does not parse and every required
 * cell left empty. GS_OK (messages or not) or GS_ENOMEM. */
static int sheet_read(sheet *sh, const char *eid, cell_get get, void *arg)
{
    memset(sh, 0, sizeof *sh);
    if (!(sh->e = gs_record_new(gs_rectype_get(GS_RT_ELECTION))))
        return GS_ENOMEM;
    if (eid)
        gs_record_set_str(sh->e, sh->e->rt->key, eid);
    parse_cells(sh, sh->e, "e.", pg_election_cells, get, arg);
    gs_record_apply_defaults(sh->e);
    check_required(sh, sh->e, "e.", pg_election_cells);
    const gs_rectype *crt = gs_rectype_get(GS_RT_CANDIDATE);
    for (int i = 0; i < MAX_ROWS; i++) {
        char prefix[16], key[32];
        snprintf(prefix, sizeof prefix, "c%d.", i);
        snprintf(key, sizeof key, "c%d.name", i);
        if (!get(key, arg))
            break;
        sh->rows = (size_t)i + 1;
        gs_record *c = gs_record_new(crt);
        if (!c)
            return GS_ENOMEM;
        snprintf(key, sizeof key, "c%d.id", i);
        const char *cid = get(key, arg);
        if (cid && *cid)
            gs_record_set_str(c, crt->key, cid);
        if (!parse_cells(sh, c, prefix, candidate_cells, get, arg)) {
            gs_record_destroy(&c); /* an empty row; a stored candidate's: deleted */
            if (cid && *cid && sheet_del(sh, cid, i))
                return GS_ENOMEM;
            continue;
        }
        gs_record_apply_defaults(c);
        check_required(sh, c, prefix, candidate_cells);
        if (sheet_add(sh, c, i)) {
            gs_record_destroy(&c);
            return GS_ENOMEM;
        }
    }
    return GS_OK;
}

/* The hard checks and the findings of the sheet as it stands, on records
 * that are not stored (derive.h, as the store runs them). False, with a
 * message for the sheet, when the figures cannot be true. */
static bool sheet_judge(sheet *sh)
{
    gs_errbuf eb = {{0}};
    if (gs_judge_election(sh->e, sh->c, sh->n, &eb)) {
        sheet_msg(sh, "", eb.msg);
        return false;
    }
    return gs_derive_election(sh->e, sh->c, sh->n) == GS_OK;
}

/* ---- cells from a form or from JSON ----------------------------------------- */

static const char *form_get(const char *key, void *arg)
{
    return gs_http_form(arg, key);
}

/* The JSON body, and room for a number's text. */
typedef struct json_cells {
    json_t *root;
    char num[64];
} json_cells;

static const char *json_get(const char *key, void *arg)
{
    json_cells *j = arg;
    json_t *obj = NULL;
    const char *name = NULL;
    if (!strncmp(key, "e.", 2)) {
        obj = json_object_get(j->root, "election");
        name = key + 2;
    } else if (key[0] == 'c') {
        char *dot = NULL;
        long i = strtol(key + 1, &dot, 10);
        if (!dot || *dot != '.' || i < 0)
            return NULL;
        obj = json_array_get(json_object_get(j->root, "candidates"), (size_t)i);
        name = dot + 1;
    }
    json_t *v = json_is_object(obj) ? json_object_get(obj, name) : NULL;
    if (!v) {
        /* a candidate that is there has every cell, empty when absent */
        return json_is_object(obj) && key[0] == 'c' ? "" : NULL;
    }
    if (json_is_string(v))
        return json_string_value(v);
    if (json_is_integer(v))
        snprintf(j->num, sizeof j->num, "%lld", (long long)json_integer_value(v));
    else if (json_is_boolean(v))
        snprintf(j->num, sizeof j->num, "%s", json_is_true(v) ? "1" : "0");
    else if (json_is_null(v))
        return "";
    else
        snprintf(j->num, sizeof j->num, "%s", "?"); /* a real or an object: refused by the parser */
    return j->num;
}

/* ---- storing the sheet --------------------------------------------------------- */

/* Stores one candidate of row sh->row[i]: a new one, or the cells of a
 * stored one that differ. Works on a copy: the sheet keeps what was typed,
 * to be shown again when the transaction is refused. */
static int save_candidate(node_store *s, sheet *sh, size_t i, const char *eid, gs_errbuf *eb)
{
    gs_record *c = gs_record_dup(sh->c[i]), *old = NULL;
    if (!c)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    gs_record_set_str(c, GS_CANDIDATE_ELECTION_ID, eid);
    for (int f = 0; f < c->rt->nfields; f++) /* the rules' answers are no edit */
        if (gs_derived_field(c->rt, f))
            gs_record_unset(c, f);
    int rc;
    if (!gs_record_key(c)) {
        rc = node_entry_create(s, c, NULL, eb);
    } else if (!(rc = node_store_get(s, c->rt, gs_record_key(c), &old, eb))) {
        const char *was = pg_str(old, GS_CANDIDATE_ELECTION_ID);
        if (!was || strcmp(was, eid))
            rc = gs_errf(eb, GS_EINVAL,
                         "候选人 %s 不属于这次选举 (not a candidate of this election)",
                         gs_record_key(c));
        else if (node_keep_changed(c, old))
            rc = node_entry_update(s, c, NULL, eb);
    }
    gs_record_destroy(&old);
    gs_record_destroy(&c);
    return rc;
}

/* Deletes stored candidate cid of election eid (a row emptied on the sheet). */
static int delete_candidate(node_store *s, const char *cid, const char *eid, gs_errbuf *eb)
{
    gs_record *old = NULL;
    int rc = node_store_get(s, gs_rectype_get(GS_RT_CANDIDATE), cid, &old, eb);
    if (rc)
        return rc;
    const char *was = pg_str(old, GS_CANDIDATE_ELECTION_ID);
    gs_record *del = NULL;
    if (!was || strcmp(was, eid))
        rc = gs_errf(eb, GS_EINVAL, "候选人 %s 不属于这次选举 (not a candidate of this election)",
                     cid);
    else if (!(del = gs_record_new(old->rt)))
        rc = GS_ENOMEM;
    else {
        gs_record_set_str(del, del->rt->key, cid);
        gs_record_set_str(del, del->rt->scope, gs_record_scope(old));
        rc = node_store_put(s, del, GS_OP_DELETE, eb);
    }
    gs_record_destroy(&del);
    gs_record_destroy(&old);
    return rc;
}

/* True when row i lowers (or keeps) a stored candidate's votes: it is
 * stored before the election's new figures, so that every step on the way
 * passes the store's checks (a candidate never holds more votes than the
 * figures in force allow). */
static bool lowers(node_store *s, const gs_record *c)
{
    gs_record *old = NULL;
    if (!gs_record_key(c) || node_store_get(s, c->rt, gs_record_key(c), &old, NULL))
        return false;
    bool low = pg_int(c, GS_CANDIDATE_VOTES, 0) <= pg_int(old, GS_CANDIDATE_VOTES, 0);
    gs_record_destroy(&old);
    return low;
}

/* Stores the sheet in one transaction: all or nothing. On an error the
 * message goes beside the row (or the figures) it concerns. */
static int sheet_save(node_store *s, sheet *sh, const char *eid)
{
    gs_errbuf eb = {{0}};
    int rc = node_store_begin(s, &eb);
    if (rc) {
        sheet_msg(sh, "", eb.msg);
        return rc;
    }
    char key[16];
    bool *done = calloc(sh->n ? sh->n : 1, sizeof *done);
    if (!done) {
        node_store_rollback(s);
        return GS_ENOMEM;
    }
    /* deleted rows first (every sum only goes down), then lowered votes,
     * then the figures, then the rest */
    for (size_t i = 0; eid && !rc && i < sh->ndel; i++)
        if ((rc = delete_candidate(s, sh->del[i], eid, &eb)))
            snprintf(key, sizeof key, "c%d", sh->del_row[i]);
    for (size_t i = 0; eid && !rc && i < sh->n; i++)
        if (lowers(s, sh->c[i])) {
            done[i] = true;
            if ((rc = save_candidate(s, sh, i, eid, &eb)))
                snprintf(key, sizeof key, "c%d", sh->row[i]);
        }
    if (!rc) {
        gs_record *e = gs_record_dup(sh->e);
        if (!e)
            rc = GS_ENOMEM;
        for (int f = 0; e && f < e->rt->nfields; f++)
            if (gs_derived_field(e->rt, f))
                gs_record_unset(e, f);
        if (e && eid) {
            gs_record *old = NULL;
            if (!(rc = node_store_get(s, e->rt, eid, &old, &eb)) && node_keep_changed(e, old))
                rc = node_entry_update(s, e, NULL, &eb);
            gs_record_destroy(&old);
        } else if (e) {
            rc = node_entry_create(s, e, NULL, &eb);
            if (!rc)
                gs_record_set_str(sh->e, sh->e->rt->key, gs_record_key(e));
        }
        gs_record_destroy(&e);
        snprintf(key, sizeof key, "e");
    }
    const char *id = gs_record_key(sh->e);
    for (size_t i = 0; !rc && i < sh->n; i++)
        if (!done[i] && (rc = save_candidate(s, sh, i, id, &eb)))
            snprintf(key, sizeof key, "c%d", sh->row[i]);
    free(done);
    if (!rc && !(rc = node_store_commit(s, &eb)))
        return GS_OK;
    node_store_rollback(s);
    if (!eid && gs_record_key(sh->e)) /* the id of the election that was not saved */
        gs_record_unset(sh->e, sh->e->rt->key);
    sheet_msg(sh, rc == GS_ENOMEM ? "" : key, rc == GS_ENOMEM ? "out of memory" : eb.msg);
    return rc;
}

/* ---- the HTML ------------------------------------------------------------------ */

/* An input for field f of r named key, with its value, and its message. */
static void cell_input(gs_buf *b, const sheet *sh, const gs_record *r, int f, const char *key,
                       const char *get_raw)
{
    const gs_field *fd = &r->rt->fields[f];
    gs_buf v = GS_BUF_INIT;
    if (get_raw)
        gs_buf_puts(&v, get_raw); /* what was typed, when it did not parse */
    else
        gs_record_format(r, f, &v);
    const char *val = v.data ? v.data : "";
    const char *msg = sheet_msg_of(sh, key);
    if (fd->type == GS_FT_ENUM || fd->type == GS_FT_BOOL) {
        gs_html_printf(b, "<select name=\"%s\" id=\"%s\"", key, key);
        gs_buf_puts(b, msg ? " aria-invalid=\"true\">" : ">");
        gs_buf_puts(b, "<option value=\"\"></option>");
        if (fd->type == GS_FT_BOOL) {
            gs_html_printf(b, "<option value=\"1\"%s>是</option><option value=\"0\"%s>否</option>",
                           !strcmp(val, "1") ? " selected" : "",
                           !strcmp(val, "0") ? " selected" : "");
        } else {
            for (int k = 0; fd->enums[k]; k++)
                gs_html_printf(b, "<option value=\"%s\"%s>%s</option>", fd->enums[k],
                               !strcmp(val, fd->enums[k]) ? " selected" : "", fd->enums_zh[k]);
        }
        gs_buf_puts(b, "</select>");
    } else {
        const char *type = fd->type == GS_FT_INT    ? "number"
                           : fd->type == GS_FT_DATE ? "date"
                                                    : "text";
        gs_html_printf(b, "<input type=\"%s\" name=\"%s\" id=\"%s\" value=\"%s\"", type, key, key,
                       val);
        if (fd->type == GS_FT_INT)
            gs_buf_printf(b, " min=\"%lld\" max=\"%lld\" inputmode=\"numeric\"", (long long)fd->min,
                          (long long)fd->max);
        if (msg)
            gs_buf_puts(b, " aria-invalid=\"true\"");
        gs_buf_puts(b, ">");
    }
    gs_html_printf(b, "<span class=\"cell-msg\" data-for=\"%s\">%s</span>", key, msg ? msg : "");
    gs_buf_free(&v);
}

/* The raw text of a cell that did not parse, so that the clerk sees what
 * was typed; NULL otherwise. */
static const char *raw_of(const sheet *sh, cell_get get, void *arg, const char *key)
{
    return get && sheet_msg_of(sh, key) ? get(key, arg) : NULL;
}

/* The findings of a judged sheet (or of a stored election and its
 * candidates): the election's, each candidate's, the counts. */
static void findings_box(gs_buf *b, const gs_record *e, gs_record *const *c, size_t n)
{
    gs_committee k = node_committee_of(NULL, e);
    pg_findings_html(b, pg_str(e, GS_ELECTION_FINDINGS), k);
    for (size_t i = 0; i < n; i++) {
        const char *cf = pg_str(c[i], GS_CANDIDATE_FINDINGS);
        if (!cf || !*cf)
            continue;
        gs_html_printf(b, "<p class=\"who\">候选人 %s:</p>",
                       pg_str(c[i], GS_CANDIDATE_NAME) ? pg_str(c[i], GS_CANDIDATE_NAME) : "?");
        pg_findings_html(b, cf, k);
    }
    gs_buf_printf(b,
                  "<p class=\"counts\">当选 <b>%lld</b> 人，其中女性 <b>%lld</b> 人；空缺 "
                  "<b>%lld</b> 名；一肩挑：%s</p>\n",
                  (long long)pg_int(e, GS_ELECTION_ELECTED, 0),
                  (long long)pg_int(e, GS_ELECTION_WOMEN_ELECTED, 0),
                  (long long)pg_int(e, GS_ELECTION_UNFILLED, 0),
                  pg_int(e, GS_ELECTION_YIJIANTIAO, 0) ? "是" : "否");
}

/* The whole sheet: figures, candidates, the findings beside them. get/arg
 * give the raw text of cells that did not parse (NULL for a stored one). */
static void sheet_page(gs_http_req *rq, gs_http_resp *rs, const sheet *sh, const char *action,
                       bool judged, cell_get get, void *arg)
{
    gs_buf *b = gs_http_out(rs);
    gs_buf_puts(b, "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n");
    const char *general = sheet_msg_of(sh, "");
    const char *erow = sheet_msg_of(sh, "e");
    if (sh->nmsgs)
        gs_buf_puts(b, "<div class=\"alert\" role=\"alert\">未保存：请改正标出的格子 (not saved: "
                       "correct the marked cells)</div>\n");
    if (general)
        gs_html_printf(b, "<div class=\"alert\">%s</div>\n", general);
    if (erow)
        gs_html_printf(b, "<div class=\"alert\">%s</div>\n", erow);
    gs_html_printf(b,
                   "<div class=\"sheet-wrap\"><form method=\"post\" action=\"%s\" "
                   "class=\"sheet\" id=\"election-sheet\" data-check=\"/api/elections/check\">\n",
                   action);
    nweb_csrf_field(rq, b);
    gs_buf_printf(b, "<h2>%s</h2>\n<table class=\"figures\">\n", nweb_t(rq, "选举数据", "Figures"));
    for (size_t i = 0; pg_election_cells[i] >= 0; i++) {
        const gs_field *fd = &sh->e->rt->fields[pg_election_cells[i]];
        char key[48];
        snprintf(key, sizeof key, "e.%s", fd->name);
        gs_html_printf(b, "<tr><th><label for=\"%s\">%s", key, fd->label_zh);
        gs_buf_puts(b, fd->flags & GS_F_REQUIRED ? " <span class=\"req\">*</span>" : "");
        gs_buf_puts(b, "</label></th><td>");
        cell_input(b, sh, sh->e, pg_election_cells[i], key, raw_of(sh, get, arg, key));
        gs_buf_puts(b, "</td></tr>\n");
    }
    gs_buf_printf(
        b, "</table>\n<h2>%s</h2>\n<table class=\"grid\" id=\"candidates\"><thead><tr><th>#</th>",
        nweb_t(rq, "候选人", "Candidates"));
    const gs_rectype *crt = gs_rectype_get(GS_RT_CANDIDATE);
    for (size_t i = 0; candidate_cells[i] >= 0; i++) {
        const gs_field *fd = &crt->fields[candidate_cells[i]];
        gs_html_printf(b, "<th>%s", fd->label_zh);
        gs_buf_puts(b, fd->flags & GS_F_REQUIRED ? " <span class=\"req\">*</span></th>" : "</th>");
    }
    gs_buf_puts(b, judged ? "<th>结果</th>" : "");
    gs_buf_puts(b, "<th></th></tr></thead><tbody>\n");
    gs_record *blank = gs_record_new(crt);
    size_t rows = sh->rows > sh->n ? sh->rows : sh->n;
    size_t next = 0;
    size_t empty = rows ? EMPTY_ROWS : NEW_ROWS;
    for (size_t r = 0; blank && r < rows + empty; r++) {
        const gs_record *c = blank;
        if (next < sh->n && (size_t)sh->row[next] == r)
            c = sh->c[next++];
        char prefix[16], rowkey[16];
        snprintf(prefix, sizeof prefix, "c%zu.", r);
        snprintf(rowkey, sizeof rowkey, "c%zu", r);
        gs_buf_printf(b, "<tr><td>%zu", r + 1);
        if (gs_record_key(c))
            gs_html_printf(b, "<input type=\"hidden\" name=\"c%zu.id\" value=\"%s\">", r,
                           gs_record_key(c));
        gs_buf_puts(b, "</td>");
        for (size_t i = 0; candidate_cells[i] >= 0; i++) {
            char key[48];
            snprintf(key, sizeof key, "%s%s", prefix, crt->fields[candidate_cells[i]].name);
            gs_buf_puts(b, "<td>");
            cell_input(b, sh, c, candidate_cells[i], key, raw_of(sh, get, arg, key));
            gs_buf_puts(b, "</td>");
        }
        if (judged) {
            const char *out = c != blank ? pg_str(c, GS_CANDIDATE_OUTCOME) : NULL;
            gs_buf_puts(b, "<td class=\"outcome\">");
            if (out)
                gs_html_escape(b, gs_enum_zh(&crt->fields[GS_CANDIDATE_OUTCOME], out));
            gs_buf_puts(b, "</td>");
        }
        const char *rm = sheet_msg_of(sh, rowkey);
        gs_html_printf(b, "<td class=\"cell-msg row-msg\" data-for=\"%s\">%s</td></tr>\n", rowkey,
                       rm ? rm : "");
    }
    gs_record_destroy(&blank);
    gs_buf_printf(b,
                  "</tbody></table>\n<p><button type=\"submit\" class=\"primary\">%s</button></p>\n"
                  "</form>\n<aside class=\"findings-box\" id=\"findings\" aria-live=\"polite\">\n"
                  "<h2>%s</h2>\n<div id=\"findings-body\">",
                  nweb_t(rq, "保存", "Save"), nweb_t(rq, "审查结果", "Findings"));
    if (judged)
        findings_box(b, sh->e, sh->c, sh->n);
    else
        gs_buf_printf(b, "<p class=\"hint\">%s</p>",
                      nweb_t(rq, "填写数字后在这里显示审查结果（保存后也会显示）",
                             "Findings show here as the figures are typed (and after saving)"));
    gs_buf_puts(b, "</div></aside></div>\n<script src=\"/static/elections.js\"></script>\n");
}

/* ---- handlers ---------------------------------------------------------------------- */

/* The candidates of election eid, in id order. */
static int candidates_of(node_store *s, const char *eid, pg_list *l, gs_errbuf *eb)
{
    return pg_collect(s, gs_rectype_get(GS_RT_CANDIDATE), GS_CANDIDATE_ELECTION_ID, eid, l, eb);
}

static int h_list(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    pg_list l;
    gs_errbuf eb = {{0}};
    if (pg_collect(w->store, gs_rectype_get(GS_RT_ELECTION), -1, NULL, &l, &eb))
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg);
    nweb_begin(rq, rs, NWEB_ELECTIONS, nweb_t(rq, "换届选举", "Elections"));
    gs_buf *b = gs_http_out(rs);
    gs_buf_printf(b,
                  "<link rel=\"stylesheet\" href=\"/static/pages.css\">\n"
                  "<p><a class=\"button primary\" href=\"/elections/new\">%s</a></p>\n",
                  nweb_t(rq, "录入选举结果", "Enter results"));
    if (!l.n)
        gs_buf_printf(b, "<p>%s</p>\n", nweb_t(rq, "还没有选举记录。", "No elections yet."));
    else
        gs_buf_puts(b, "<table class=\"list\"><thead><tr><th>选举日</th><th>委员会类型</th>"
                       "<th>登记选民</th><th>投票人数</th><th>当选</th><th>空缺</th>"
                       "<th>审查结果</th></tr></thead><tbody>\n");
    for (size_t i = l.n; i-- > 0;) { /* ids are time-ordered: newest first */
        const gs_record *e = l.v[i];
        gs_findset fs = 0;
        const char *f = pg_str(e, GS_ELECTION_FINDINGS);
        if (f)
            gs_findset_parse(f, &fs);
        int nf = __builtin_popcountll(fs);
        gs_html_printf(b, "<tr><td><a href=\"/election/%s\">", gs_record_key(e));
        pg_display(b, e, GS_ELECTION_ELECTION_DATE);
        gs_buf_puts(b, "</a></td><td>");
        pg_display(b, e, GS_ELECTION_COMMITTEE);
        gs_buf_printf(
            b,
            "</td><td class=\"num\">%lld</td><td class=\"num\">%lld</td>"
            "<td class=\"num\">%lld</td><td class=\"num\">%lld</td><td class=\"%s\">%s</td></tr>\n",
            (long long)pg_int(e, GS_ELECTION_REGISTERED, 0),
            (long long)pg_int(e, GS_ELECTION_VOTED, 0),
            (long long)pg_int(e, GS_ELECTION_ELECTED, 0),
            (long long)pg_int(e, GS_ELECTION_UNFILLED, 0), nf ? "flag" : "ok",
            nf ? "有问题" : "无");
    }
    if (l.n)
        gs_buf_puts(b, "</tbody></table>\n");
    pg_list_free(&l);
    nweb_end(rq, rs);
    return GS_OK;
}

/* A new, empty sheet. */
static int h_new(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    (void)app;
    sheet sh = {0};
    if (!(sh.e = gs_record_new(gs_rectype_get(GS_RT_ELECTION))))
        return GS_ENOMEM;
    gs_record_apply_defaults(sh.e);
    nweb_begin(rq, rs, NWEB_ELECTIONS, nweb_t(rq, "录入选举结果", "Enter election results"));
    sheet_page(rq, rs, &sh, "/elections/new", false, NULL, NULL);
    nweb_end(rq, rs);
    sheet_free(&sh);
    return GS_OK;
}

/* Saves a posted sheet (eid NULL: a new election); the record page on
 * success, else the sheet again with the messages and status 400. */
static int save_posted(gs_http_req *rq, gs_http_resp *rs, nweb *w, const char *eid,
                       const char *action)
{
    sheet sh;
    if (sheet_read(&sh, eid, form_get, rq)) {
        sheet_free(&sh);
        return GS_ENOMEM;
    }
    bool judged = false;
    if (!sh.nmsgs && (judged = sheet_judge(&sh)) && !sheet_save(w->store, &sh, eid)) {
        char path[128];
        snprintf(path, sizeof path, "/election/%s", gs_record_key(sh.e));
        sheet_free(&sh);
        return gs_http_redirect(rs, path);
    }
    gs_http_set_status(rs, 400);
    nweb_begin(rq, rs, NWEB_ELECTIONS, nweb_t(rq, "录入选举结果", "Enter election results"));
    sheet_page(rq, rs, &sh, action, judged, form_get, rq);
    nweb_end(rq, rs);
    sheet_free(&sh);
    return GS_OK;
}

static int h_create(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    return save_posted(rq, rs, pg_web(app), NULL, "/elections/new");
}

/* The stored election of a path tail "ID[/what]": *what points past the
 * id ("" or "/edit"). 404 answered when there is none. */
static int load_election(gs_http_req *rq, gs_http_resp *rs, nweb *w, gs_record **e, pg_list *c,
                         char *id, size_t cap, const char **what)
{
    const char *tail = gs_http_tail(rq);
    size_t n = strcspn(tail, "/");
    *what = tail + n;
    if (!n || n >= cap)
        return gs_http_error(rq, rs, 404, NULL, "没有这次选举 (no such election)"), 1;
    memcpy(id, tail, n);
    id[n] = '\0';
    gs_errbuf eb = {{0}};
    if (node_store_find(w->store, gs_rectype_get(GS_RT_ELECTION), id, e, &eb))
        return gs_http_error(rq, rs, 404, NULL, "%s", eb.msg), 1;
    snprintf(id, cap, "%s", gs_record_key(*e));
    if (candidates_of(w->store, id, c, &eb)) {
        gs_record_destroy(e);
        return gs_http_error(rq, rs, 500, NULL, "%s", eb.msg), 1;
    }
    return 0;
}

/* The stored election as a sheet to edit. */
static int show_edit(gs_http_req *rq, gs_http_resp *rs, gs_record *e, pg_list *c)
{
    sheet sh = {0};
    sh.e = e;
    sh.c = c->v;
    sh.n = c->n;
    int *rows = calloc(c->n ? c->n : 1, sizeof *rows);
    if (!rows)
        return GS_ENOMEM;
    for (size_t i = 0; i < c->n; i++)
        rows[i] = (int)i;
    sh.row = rows;
    sh.rows = c->n;
    char action[128];
    snprintf(action, sizeof action, "/election/%s/edit", gs_record_key(e));
    nweb_begin(rq, rs, NWEB_ELECTIONS, nweb_t(rq, "修改选举结果", "Edit election results"));
    sheet_page(rq, rs, &sh, action, true, NULL, NULL);
    nweb_end(rq, rs);
    free(rows);
    return GS_OK;
}

static int h_election(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    gs_record *e = NULL;
    pg_list c;
    char id[80];
    const char *what;
    if (load_election(rq, rs, w, &e, &c, id, sizeof id, &what))
        return GS_OK;
    int rc;
    if (!*what)
        rc = pg_election_page(rq, rs, e, &c);
    else if (!strcmp(what, "/print"))
        rc = pg_election_print(rs, w, e, &c);
    else if (!strcmp(what, "/edit"))
        rc = show_edit(rq, rs, e, &c);
    else
        rc = gs_http_error(rq, rs, 404, NULL, "没有这个页面 (no such page)");
    gs_record_destroy(&e);
    pg_list_free(&c);
    return rc;
}

static int h_election_post(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    nweb *w = pg_web(app);
    gs_record *e = NULL;
    pg_list c;
    char id[80];
    const char *what;
    if (load_election(rq, rs, w, &e, &c, id, sizeof id, &what))
        return GS_OK;
    gs_record_destroy(&e);
    pg_list_free(&c);
    if (strcmp(what, "/edit"))
        return gs_http_error(rq, rs, 404, NULL, "没有这个页面 (no such page)");
    char action[128];
    snprintf(action, sizeof action, "/election/%s/edit", id);
    return save_posted(rq, rs, w, id, action);
}

/* POST /api/elections/check: {"ok", "errors": [{"cell", "message"}],
 * "findings": [...], "candidates": [{"row", "outcome", "outcome_zh",
 * "findings": [...]}], "elected", "women_elected", "unfilled", "yijiantiao"}. */
static int h_check(gs_http_req *rq, gs_http_resp *rs, void *app)
{
    (void)app;
    const char *type = gs_http_header(rq, "Content-Type");
    json_cells jc = {NULL, ""};
    cell_get get = form_get;
    void *arg = rq;
    if (type && !strncmp(type, "application/json", 16)) {
        gs_errbuf eb = {{0}};
        if (!(jc.root = gs_http_json(rq, &eb)) || !json_is_object(jc.root))
            return gs_http_error(rq, rs, 400, NULL, "JSON 有误 (bad JSON): %s",
                                 jc.root ? "expected an object" : eb.msg);
        get = json_get;
        arg = &jc;
    }
    sheet sh;
    if (sheet_read(&sh, NULL, get, arg)) {
        sheet_free(&sh);
        return GS_ENOMEM;
    }
    bool judged = !sh.nmsgs && sheet_judge(&sh);
    json_t *out = json_object(), *errs = json_array(), *fs = json_array(), *cs = json_array();
    for (size_t i = 0; i < sh.nmsgs; i++)
        json_array_append_new(
            errs, json_pack("{s:s, s:s}", "cell", sh.msgs[i].key, "message", sh.msgs[i].msg));
    gs_committee k = node_committee_of(NULL, sh.e);
    if (judged) {
        gs_findset set = 0;
        gs_findset_parse(pg_str(sh.e, GS_ELECTION_FINDINGS), &set);
        for (int f = 1; f < GS_FIND__COUNT; f++)
            if (set & GS_FINDBIT(f))
                json_array_append_new(fs, pg_finding_json((gs_finding)f, k));
        const gs_rectype *crt = gs_rectype_get(GS_RT_CANDIDATE);
        for (size_t i = 0; i < sh.n; i++) {
            json_t *cf = json_array();
            gs_findset cset = 0;
            gs_findset_parse(pg_str(sh.c[i], GS_CANDIDATE_FINDINGS), &cset);
            for (int f = 1; f < GS_FIND__COUNT; f++)
                if (cset & GS_FINDBIT(f))
                    json_array_append_new(cf, pg_finding_json((gs_finding)f, k));
            const char *o = pg_str(sh.c[i], GS_CANDIDATE_OUTCOME);
            json_array_append_new(
                cs,
                json_pack(
                    "{s:i, s:s, s:s, s:s, s:o}", "row", sh.row[i], "name",
                    pg_str(sh.c[i], GS_CANDIDATE_NAME) ? pg_str(sh.c[i], GS_CANDIDATE_NAME) : "",
                    "outcome", o ? o : "", "outcome_zh",
                    o ? gs_enum_zh(&crt->fields[GS_CANDIDATE_OUTCOME], o) : "", "findings", cf));
        }
    }
    json_object_set_new(out, "ok", json_boolean(judged));
    json_object_set_new(out, "errors", errs);
    json_object_set_new(out, "findings", fs);
    json_object_set_new(out, "candidates", cs);
    json_object_set_new(out, "elected",
                        json_integer(judged ? pg_int(sh.e, GS_ELECTION_ELECTED, 0) : 0));
    json_object_set_new(out, "women_elected",
                        json_integer(judged ? pg_int(sh.e, GS_ELECTION_WOMEN_ELECTED, 0) : 0));
    json_object_set_new(out, "unfilled",
                        json_integer(judged ? pg_int(sh.e, GS_ELECTION_UNFILLED, 0) : 0));
    json_object_set_new(out, "yijiantiao",
                        json_boolean(judged && pg_int(sh.e, GS_ELECTION_YIJIANTIAO, 0)));
    sheet_free(&sh);
    return gs_http_json_reply(rs, 200, out);
}

const gs_http_route nweb_election_routes[] = {
    {"GET", "/elections", h_list, 0},
    {"GET", "/elections/new", h_new, 0},
    {"POST", "/elections/new", h_create, 0},
    {"GET", "/election/", h_election, GS_ROUTE_PREFIX},
    {"POST", "/election/", h_election_post, GS_ROUTE_PREFIX},
    {"POST", "/api/elections/check", h_check, 0},
    {NULL, NULL, NULL, 0},
};
