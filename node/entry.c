/*
 * entry.c: data entry rules of the village node (see entry.h).
 *
 * The shared rules (proto/rules.c) decide; this file gathers their inputs
 * from the store, writes their results into the computed fields, and keeps
 * derived state consistent: adding a candidate re-evaluates the whole
 * election and appends changes for every candidate whose outcome moved.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "entry.h"
#include "gridsync/rules.h"

#define F(rec, name) gs_field_find((rec)->rt, name)

static const char *str_of(const gs_record *r, const char *field)
{
    int f = gs_field_find(r->rt, field);
    return f >= 0 ? gs_record_str(r, f) : NULL;
}

static int64_t int_of(const gs_record *r, const char *field, int64_t def)
{
    int f = gs_field_find(r->rt, field);
    return f >= 0 ? gs_record_int(r, f, def) : def;
}

static int enum_of(const gs_record *r, const char *field)
{
    int f = gs_field_find(r->rt, field);
    const char *v = f >= 0 ? gs_record_str(r, f) : NULL;
    return v ? gs_enum_find(&r->rt->fields[f], v) : -1;
}

/* Sets a computed text field to value, recording whether it changed. */
static void set_computed_str(gs_record *r, const char *field, const char *value, bool *changed)
{
    int f = gs_field_find(r->rt, field);
    const char *old = gs_record_str(r, f);
    if (old && !strcmp(old, value))
        return;
    gs_record_set_str(r, f, value);
    *changed = true;
}

static void set_computed_int(gs_record *r, const char *field, int64_t value, bool *changed)
{
    int f = gs_field_find(r->rt, field);
    if (gs_record_has(r, f) && gs_record_int(r, f, 0) == value)
        return;
    gs_record_set_int(r, f, value);
    *changed = true;
}

void node_describe_findings(const char *findings, gs_buf *b)
{
    gs_findset set;
    if (!findings || gs_findset_parse(findings, &set) != 0)
        return;
    for (int f = 1; f < GS_FIND__COUNT; f++) {
        if (!(set & GS_FINDBIT(f)))
            continue;
        const gs_finding_info *fi = gs_finding_get((gs_finding)f);
        gs_buf_printf(b, "  ! %s [%s", fi->zh, fi->name);
        if (fi->law[0])
            gs_buf_printf(b, "; %s%s%s%s%s", fi->law, fi->version[0] ? "(" : "", fi->version,
                          fi->version[0] ? ")" : "", fi->article);
        gs_buf_puts(b, "]\n");
    }
}

/* ---- scope and references -------------------------------------------------- */

static int check_scope(node_store *s, gs_record *rec, gs_errbuf *eb)
{
    const char *mine = node_store_identity(s)->village;
    if (rec->rt->reference)
        return gs_errf(eb, GS_EAUTH, "%s is reference data; only the city (hub) may change it",
                       rec->rt->label_zh);
    const char *v = gs_record_scope(rec);
    if (!v)
        return gs_record_set_str(rec, rec->rt->scope, mine);
    if (strcmp(v, mine))
        return gs_errf(eb, GS_ESCOPE,
                       "村社区代码 (village_code) %s is not this node's village %s; a node records "
                       "only its own village",
                       v, mine);
    return GS_OK;
}

/* The current record the field refers to, which must exist in this village. */
static int load_ref(node_store *s, const gs_record *rec, const char *field, const char *type,
                    gs_record **out, gs_errbuf *eb)
{
    const char *key = str_of(rec, field);
    const gs_rectype *rt = gs_rectype_find(type);
    int f = gs_field_find(rec->rt, field);
    if (!key)
        return gs_errf(eb, GS_EREQUIRED, "%s (%s) is required", rec->rt->fields[f].label_zh,
                       field);
    int rc = node_store_get(s, rt, key, out, NULL);
    if (rc == GS_ENOTFOUND)
        return gs_errf(eb, GS_ENOTFOUND, "%s (%s): no %s with id %s in this node",
                       rec->rt->fields[f].label_zh, field, rt->label_zh, key);
    if (rc)
        return gs_errf(eb, rc, "%s (%s): %s", rec->rt->fields[f].label_zh, field,
                       gs_strerror(rc));
    return GS_OK;
}

/* True if reference table rt has any rows (categories arrive from the hub). */
static bool table_has_rows(node_store *s, const gs_rectype *rt)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT 1 FROM %s WHERE _deleted = 0 LIMIT 1", rt->plural);
    sqlite3_stmt *st;
    bool any = false;
    if (sqlite3_prepare_v2(node_store_db(s), sql, -1, &st, NULL) == SQLITE_OK) {
        any = sqlite3_step(st) == SQLITE_ROW;
        sqlite3_finalize(st);
    }
    return any;
}

/* ---- incidents --------------------------------------------------------------- */

static void now_datetime(gs_record *r, int f)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char text[32];
    strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    gs_record_parse(r, f, text, NULL);
}

static int check_incident(node_store *s, gs_record *full, gs_errbuf *eb)
{
    const char *grid = str_of(full, "grid_code");
    const char *village = gs_record_scope(full);
    if (grid && village && strncmp(grid, village, 12))
        return gs_errf(eb, GS_ESCOPE,
                       "网格编码 (grid) %s does not belong to village %s (a grid code is the "
                       "12-digit village code plus 3 digits)",
                       grid, village);
    const gs_rectype *cat = gs_rectype_get(GS_RT_CATEGORY);
    const char *code = str_of(full, "category");
    if (code && table_has_rows(s, cat)) {
        gs_record *c = NULL;
        if (node_store_get(s, cat, code, &c, NULL) != GS_OK)
            return gs_errf(eb, GS_ENOTFOUND,
                           "事件类别 (category) %s is not a known incident category", code);
        gs_record_destroy(&c);
    }
    return GS_OK;
}

/* Closing stamps closed_at; leaving the closed states clears it. */
static void stamp_closed(gs_record *full, gs_record *edit)
{
    int st = enum_of(full, "status");
    int fc = F(full, "closed_at");
    bool closed = st >= 0 && gs_status_is_closed((gs_status)st) && st != GS_ST_REJECTED;
    if (closed && !gs_record_has(full, fc)) {
        now_datetime(edit, fc);
        gs_record_set_str(full, fc, gs_record_str(edit, fc));
    } else if (!closed && gs_record_has(full, fc)) {
        gs_record_set_str(edit, fc, NULL);
        gs_record_unset(full, fc);
    }
}

/* ---- elections --------------------------------------------------------------- */

static gs_election_in election_in(const gs_record *e)
{
    gs_election_in in = {0};
    in.committee = (gs_committee)(enum_of(e, "committee") < 0 ? 0 : enum_of(e, "committee"));
    in.registered = int_of(e, "registered", 0);
    in.cast = int_of(e, "voted", 0);
    in.valid = int_of(e, "valid", 0);
    in.invalid = int_of(e, "invalid", 0);
    in.supp_cast = int_of(e, "supp_voted", -1);
    in.seats[GS_POST_CHAIR] = int_of(e, "seats_chair", 1);
    in.seats[GS_POST_VICE_CHAIR] = int_of(e, "seats_vice", 0);
    in.seats[GS_POST_MEMBER] = int_of(e, "seats_member", 0);
    in.list_days_before = -1;
    const char *pub = str_of(e, "list_published"), *day = str_of(e, "election_date");
    if (pub && day) {
        struct tm a = {0}, b = {0};
        if (strptime(pub, "%Y-%m-%d", &a) && strptime(day, "%Y-%m-%d", &b))
            in.list_days_before = (int64_t)((timegm(&b) - timegm(&a)) / 86400);
    }
    return in;
}

static gs_candidate_in candidate_in(const gs_record *c)
{
    gs_candidate_in in = {0};
    in.votes = int_of(c, "votes", 0);
    in.post = (gs_post)(enum_of(c, "post") < 0 ? GS_POST_MEMBER : enum_of(c, "post"));
    in.round = enum_of(c, "round") == 1 ? GS_ROUND_SUPPLEMENTARY : GS_ROUND_FIRST;
    const char *g = str_of(c, "gender");
    in.female = g && !strcmp(g, "female");
    in.party_secretary = int_of(c, "party_secretary", 0) != 0;
    return in;
}

static int finding_error(gs_finding f, gs_errbuf *eb)
{
    const gs_finding_info *fi = gs_finding_get(f);
    return gs_errf(eb, GS_ERULE, "%s [%s]; the entry was not saved", fi->zh, fi->name);
}

/* The candidates of an election, in id order; *n set. Caller frees. */
static int load_candidates(node_store *s, const char *election_id, gs_record ***out, size_t *n,
                           gs_errbuf *eb)
{
    const gs_rectype *rt = gs_rectype_get(GS_RT_CANDIDATE);
    gs_buf sql = GS_BUF_INIT;
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(rt, &sql);
    gs_buf_puts(&sql, " FROM candidates WHERE election_id = ?1 AND _deleted = 0 ORDER BY id");
    sqlite3_stmt *st;
    int rc = GS_OK;
    *out = NULL;
    *n = 0;
    if (sql.err || sqlite3_prepare_v2(node_store_db(s), sql.data, -1, &st, NULL) != SQLITE_OK) {
        gs_buf_free(&sql);
        return gs_errf(eb, GS_ESQL, "reading candidates: %s", sqlite3_errmsg(node_store_db(s)));
    }
    gs_buf_free(&sql);
    sqlite3_bind_text(st, 1, election_id, -1, SQLITE_STATIC);
    size_t cap = 0;
    while (!rc && sqlite3_step(st) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            gs_record **p = realloc(*out, cap * sizeof *p);
            if (!p) {
                rc = gs_errf(eb, GS_ENOMEM, "out of memory");
                break;
            }
            *out = p;
        }
        if (gs_replica_row(st, 0, rt, &(*out)[*n]))
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        else
            (*n)++;
    }
    sqlite3_finalize(st);
    return rc;
}

static void free_records(gs_record **r, size_t n)
{
    for (size_t i = 0; i < n; i++)
        gs_record_destroy(&r[i]);
    free(r);
}

/* True if field i has the same state and value in a and b. */
static bool same_value(const gs_record *a, const gs_record *b, int i)
{
    gs_buf x = GS_BUF_INIT, y = GS_BUF_INIT;
    gs_record_format(a, i, &x);
    gs_record_format(b, i, &y);
    bool same = gs_record_has(a, i) == gs_record_has(b, i) &&
                !strcmp(x.data ? x.data : "", y.data ? y.data : "");
    gs_buf_free(&x);
    gs_buf_free(&y);
    return same;
}

/* Puts only the fields that differ between before and after (plus key and
 * scope), if any differ. */
static int put_diff(node_store *s, const gs_record *before, const gs_record *after, gs_errbuf *eb)
{
    gs_record *d = gs_record_new(after->rt);
    if (!d)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    bool any = false;
    for (int i = 0; i < after->rt->nfields; i++) {
        if (!same_value(before, after, i)) {
            any = true;
            gs_ftype ty = after->rt->fields[i].type;
            if (!gs_record_has(after, i))
                gs_record_set_null(d, i);
            else if (ty == GS_FT_INT || ty == GS_FT_BOOL)
                gs_record_set_int(d, i, gs_record_int(after, i, 0));
            else
                gs_record_set_str(d, i, gs_record_str(after, i)); /* "" stays "" */
        }
    }
    int rc = GS_OK;
    if (any) {
        gs_record_set_str(d, d->rt->key, gs_record_key(after));
        gs_record_set_str(d, d->rt->scope, gs_record_scope(after));
        rc = node_store_put(s, d, GS_OP_UPSERT, eb);
    }
    gs_record_destroy(&d);
    return rc;
}

/* Evaluates election e (full state) with its stored candidates plus, when not
 * NULL, cand (the candidate being entered, full state, not yet stored).
 * Writes the computed fields into e and cand and puts changes for the other
 * candidates whose outcome changed. Hard errors refuse the entry. */
static int evaluate_election(node_store *s, gs_record *e, gs_record *cand, gs_errbuf *eb)
{
    gs_record **cs = NULL;
    size_t n = 0;
    int rc = load_candidates(s, gs_record_key(e), &cs, &n, eb);
    if (rc)
        return rc;
    /* the entered candidate replaces its stored self, or is appended */
    size_t self = n;
    for (size_t i = 0; cand && i < n; i++)
        if (!strcmp(gs_record_key(cs[i]), gs_record_key(cand)))
            self = i;
    size_t total = n + (cand && self == n);
    gs_candidate_in *in = calloc(total ? total : 1, sizeof *in);
    gs_record **before = calloc(total ? total : 1, sizeof *before);
    if (!in || !before) {
        rc = gs_errf(eb, GS_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < total; i++) {
        const gs_record *c = (cand && i == self) ? cand : cs[i];
        in[i] = candidate_in(c);
    }
    gs_election_in ein = election_in(e);
    gs_finding err = gs_election_errors(&ein, in, total);
    if (err != GS_FIND_NONE) {
        rc = finding_error(err, eb);
        goto out;
    }
    gs_election_out eo;
    gs_election_evaluate(&ein, in, total, &eo);

    bool changed = false;
    gs_buf text = GS_BUF_INIT;
    gs_findset_format(eo.findings, &text);
    set_computed_str(e, "findings", text.data ? text.data : "", &changed);
    set_computed_int(e, "elected", eo.elected, &changed);
    set_computed_int(e, "women_elected", eo.women_elected, &changed);
    set_computed_int(e, "unfilled", eo.unfilled, &changed);
    set_computed_int(e, "yijiantiao", eo.yijiantiao, &changed);
    for (size_t i = 0; i < total && !rc; i++) {
        gs_record *c = (cand && i == self) ? cand : cs[i];
        if (c != cand && !(before[i] = gs_record_dup(c))) {
            rc = gs_errf(eb, GS_ENOMEM, "out of memory");
            break;
        }
        bool cchanged = false;
        gs_buf_reset(&text);
        gs_findset_format(in[i].findings, &text);
        set_computed_str(c, "outcome", gs_outcome_names[in[i].outcome], &cchanged);
        set_computed_str(c, "findings", text.data ? text.data : "", &cchanged);
        if (c != cand && cchanged)
            rc = put_diff(s, before[i], c, eb);
    }
    gs_buf_free(&text);
out:
    for (size_t i = 0; before && i < total; i++)
        gs_record_destroy(&before[i]);
    free(before);
    free(in);
    free_records(cs, n);
    return rc;
}

/* Re-evaluates the stored election of a candidate and stores the result. */
static int refresh_election_of(node_store *s, gs_record *cand, gs_buf *notes, gs_errbuf *eb)
{
    gs_record *e = NULL;
    int rc = load_ref(s, cand, "election_id", "election", &e, eb);
    if (rc)
        return rc;
    if (strcmp(gs_record_scope(e), gs_record_scope(cand))) {
        rc = gs_errf(eb, GS_ESCOPE, "选举编号 (election_id): the election belongs to village %s",
                     gs_record_scope(e));
        gs_record_destroy(&e);
        return rc;
    }
    gs_record *before = gs_record_dup(e);
    rc = before ? evaluate_election(s, e, cand, eb) : GS_ENOMEM;
    if (!rc)
        rc = put_diff(s, before, e, eb);
    if (!rc && notes) {
        const char *out = str_of(cand, "outcome");
        int fo = F(cand, "outcome");
        gs_buf_printf(notes, "候选人 %s: %s\n", str_of(cand, "name"),
                      out ? gs_enum_zh(&cand->rt->fields[fo], out) : "");
        node_describe_findings(str_of(cand, "findings"), notes);
        gs_buf_printf(notes, "选举 %s: 当选 %lld 人, 空缺 %lld 名\n", gs_record_key(e),
                      (long long)int_of(e, "elected", 0), (long long)int_of(e, "unfilled", 0));
        node_describe_findings(str_of(e, "findings"), notes);
    }
    gs_record_destroy(&before);
    gs_record_destroy(&e);
    return rc;
}

static int check_election(node_store *s, gs_record *full, gs_buf *notes, gs_errbuf *eb)
{
    gs_finding f = gs_rule_ballots(int_of(full, "registered", 0), int_of(full, "voted", 0),
                                   int_of(full, "valid", 0), int_of(full, "invalid", 0));
    if (f != GS_FIND_NONE)
        return finding_error(f, eb);
    int rc = evaluate_election(s, full, NULL, eb);
    if (!rc && notes) {
        gs_buf_printf(notes, "选举 %s: 当选 %lld 人, 空缺 %lld 名\n", gs_record_key(full),
                      (long long)int_of(full, "elected", 0), (long long)int_of(full, "unfilled", 0));
        node_describe_findings(str_of(full, "findings"), notes);
    }
    return rc;
}

/* ---- councils and affairs -------------------------------------------------- */

/* The village's council (the oldest one), or GS_ENOTFOUND. */
static int village_council(node_store *s, const char *village, gs_record **out)
{
    const gs_rectype *rt = gs_rectype_get(GS_RT_COUNCIL);
    gs_buf sql = GS_BUF_INIT;
    gs_buf_puts(&sql, "SELECT ");
    gs_replica_columns(rt, &sql);
    gs_buf_puts(&sql, " FROM councils WHERE village_code = ?1 AND _deleted = 0 ORDER BY id LIMIT 1");
    sqlite3_stmt *st;
    int rc = GS_ENOTFOUND;
    if (!sql.err && sqlite3_prepare_v2(node_store_db(s), sql.data, -1, &st, NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, village, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW)
            rc = gs_replica_row(st, 0, rt, out);
        sqlite3_finalize(st);
    }
    gs_buf_free(&sql);
    return rc;
}

static int check_affair(node_store *s, gs_record *full, gs_buf *notes, gs_errbuf *eb)
{
    if (enum_of(full, "cremation") == GS_CREMATION_EXEMPT && !str_of(full, "exemption"))
        return gs_errf(eb, GS_EREQUIRED,
                       "豁免理由 (exemption) is required when 火化 (cremation) is 豁免 (exempt), "
                       "e.g. 回族");
    gs_record *council = NULL;
    gs_findset v = 0;
    if (village_council(s, gs_record_scope(full), &council) == GS_OK) {
        gs_council_std std = {
            int_of(council, "max_tables", -1),       int_of(council, "max_cost_per_table", -1),
            int_of(council, "max_gift", -1),         int_of(council, "max_cars", -1),
            int_of(council, "max_funeral_days", -1), int_of(council, "max_bride_price", -1),
            int_of(council, "cremation_required", 0) != 0};
        gs_affair_in a = {(gs_affair_kind)enum_of(full, "kind"),
                          int_of(full, "tables", -1),
                          int_of(full, "cost_per_table", -1),
                          int_of(full, "gift", -1),
                          int_of(full, "cars", -1),
                          int_of(full, "days", -1),
                          int_of(full, "bride_price", -1),
                          enum_of(full, "cremation")};
        v = gs_affair_check(&std, &a);
        gs_record_destroy(&council);
    } else if (notes) {
        gs_buf_puts(notes, "  (本村尚未登记红白理事会, 未对照标准检查)\n");
    }
    gs_buf text = GS_BUF_INIT;
    gs_findset_format(v, &text);
    bool changed = false;
    set_computed_str(full, "violations", text.data ? text.data : "", &changed);
    gs_buf_free(&text);
    if (notes && v)
        node_describe_findings(str_of(full, "violations"), notes);
    return GS_OK;
}

/* ---- dispatch ------------------------------------------------------------------ */

/* Type-specific checks and derivations over the full new state of a record. */
static int derive(node_store *s, gs_record *full, gs_record *edit, gs_buf *notes, gs_errbuf *eb)
{
    switch (full->rt->id) {
    case GS_RT_INCIDENT:
        stamp_closed(full, edit);
        return check_incident(s, full, eb);
    case GS_RT_GRID: {
        const char *code = gs_record_key(full), *village = gs_record_scope(full);
        if (strncmp(code, village, 12))
            return gs_errf(eb, GS_ESCOPE,
                           "网格编码 (code) %s must start with the village code %s", code,
                           village);
        return GS_OK;
    }
    case GS_RT_ELECTION: return check_election(s, full, notes, eb);
    case GS_RT_MEMBER: {
        gs_record *c = NULL;
        int rc = load_ref(s, full, "council_id", "council", &c, eb);
        gs_record_destroy(&c);
        return rc;
    }
    case GS_RT_AFFAIR: return check_affair(s, full, notes, eb);
    default: return GS_OK;
    }
}

int node_entry_create(node_store *s, gs_record *rec, gs_buf *notes, gs_errbuf *eb)
{
    int rc = check_scope(s, rec, eb);
    if (rc)
        return rc;
    for (int i = 0; i < rec->rt->nfields; i++)
        if ((rec->rt->fields[i].flags & GS_F_COMPUTED) && rec->v[i].state != GS_V_UNSET)
            gs_record_unset(rec, i); /* computed here, never taken from input */
    if (!gs_record_key(rec)) {
        if (!(rec->rt->fields[rec->rt->key].flags & GS_F_GENERATED))
            return gs_errf(eb, GS_EREQUIRED, "%s (%s) is required",
                           rec->rt->fields[rec->rt->key].label_zh,
                           rec->rt->fields[rec->rt->key].name);
        char id[37];
        node_store_new_id(s, id);
        gs_record_set_str(rec, rec->rt->key, id);
    } else {
        gs_record *old = NULL;
        if (node_store_get(s, rec->rt, gs_record_key(rec), &old, NULL) == GS_OK) {
            gs_record_destroy(&old);
            return gs_errf(eb, GS_EEXIST, "%s %s already exists; use update", rec->rt->label_zh,
                           gs_record_key(rec));
        }
    }
    if (rec->rt->id == GS_RT_INCIDENT && !gs_record_has(rec, F(rec, "reported_at")))
        now_datetime(rec, F(rec, "reported_at"));
    gs_record_apply_defaults(rec);
    if ((rc = gs_record_check(rec, GS_CHECK_COMPLETE, eb)))
        return rc;
    if (rec->rt->id == GS_RT_CANDIDATE) {
        if ((rc = refresh_election_of(s, rec, notes, eb)))
            return rc;
    } else if ((rc = derive(s, rec, rec, notes, eb))) {
        return rc;
    }
    return node_store_put(s, rec, GS_OP_UPSERT, eb);
}

int node_entry_update(node_store *s, gs_record *edit, gs_buf *notes, gs_errbuf *eb)
{
    const char *key = gs_record_key(edit);
    if (!key)
        return gs_errf(eb, GS_EREQUIRED, "which record? the id is required");
    gs_record *full = NULL;
    int rc = node_store_get(s, edit->rt, key, &full, eb);
    if (rc)
        return rc;
    const char *scope = gs_record_scope(edit);
    if (scope && strcmp(scope, gs_record_scope(full))) {
        gs_record_destroy(&full);
        return gs_errf(eb, GS_ESCOPE, "a record cannot move to another village");
    }
    for (int i = 0; i < edit->rt->nfields; i++)
        if ((edit->rt->fields[i].flags & GS_F_COMPUTED) && edit->v[i].state != GS_V_UNSET)
            gs_record_unset(edit, i);
    if (edit->rt->id == GS_RT_INCIDENT && gs_record_has(edit, F(edit, "status"))) {
        int from = enum_of(full, "status"), to = enum_of(edit, "status");
        /* the same status again is no transition (a re-imported export, a note) */
        if (from >= 0 && to >= 0 && from != to &&
            gs_rule_transition((gs_status)from, (gs_status)to)) {
            gs_buf next = GS_BUF_INIT;
            gs_status_next((gs_status)from, &next);
            const gs_field *fs = &edit->rt->fields[F(edit, "status")];
            rc = gs_errf(eb, GS_ETRANSITION,
                         "status %s(%s) cannot go to %s(%s); allowed next: %s",
                         gs_enum_zh(fs, gs_status_names[from]), gs_status_names[from],
                         gs_enum_zh(fs, gs_status_names[to]), gs_status_names[to],
                         next.data ? next.data : "");
            gs_buf_free(&next);
            gs_record_destroy(&full);
            return rc;
        }
    }
    gs_record *before = gs_record_dup(full);
    if (!before) {
        gs_record_destroy(&full);
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    }
    /* A record that came here incomplete: another PC's later edit, and not
     * yet its creation (which a hub restored from a backup can send in that
     * order). The next sync brings the rest. */
    bool partial = gs_record_check(full, GS_CHECK_COMPLETE, NULL) != GS_OK;
    gs_record_merge(full, edit);
    gs_record_set_str(edit, edit->rt->scope, gs_record_scope(full));
    if ((rc = gs_record_check(full, GS_CHECK_COMPLETE, eb))) {
        if (partial)
            gs_errprefix(eb, rc,
                         "%s %s 在本机还不完整：只收到了其他电脑后来的修改，还没收到它的登记；"
                         "请先同步 (gridnode sync)，再修改 (this PC has only later edits of the "
                         "record, not its creation yet; sync first)",
                         edit->rt->label_zh, key);
        goto out;
    }
    if (edit->rt->id == GS_RT_CANDIDATE)
        rc = refresh_election_of(s, full, notes, eb);
    else
        rc = derive(s, full, edit, notes, eb);
    if (rc)
        goto out;
    /* the change records what the user set (even a value it already had: an
     * edit is a fact of the history) and every computed field that moved */
    for (int i = 0; i < full->rt->nfields; i++)
        if ((full->rt->fields[i].flags & GS_F_COMPUTED) && edit->v[i].state == GS_V_UNSET &&
            !same_value(before, full, i)) {
            if (!gs_record_has(full, i))
                gs_record_set_null(edit, i);
            else if (full->rt->fields[i].type == GS_FT_INT || full->rt->fields[i].type == GS_FT_BOOL)
                gs_record_set_int(edit, i, gs_record_int(full, i, 0));
            else
                gs_record_set_str(edit, i, gs_record_str(full, i));
        }
    if (!(rc = node_store_put(s, edit, GS_OP_UPSERT, eb)))
        gs_record_merge(edit, full);
out:
    gs_record_destroy(&before);
    gs_record_destroy(&full);
    return rc;
}
