/*
 * derive.c: derived values and the hard checks of entry (see derive.h).
 *
 * Role: turn stored rows into the inputs of the domain rules (rules.c), run
 * the rules, and write their answers into the rows' computed fields; and say,
 * in the words a clerk reads, why an entry cannot be true. The rules decide;
 * this file only gathers and words.
 *
 * Invariants: pure over its arguments (records in, records out); a record
 * whose fields are missing or of an unexpected value is read with the same
 * defaults everywhere (an unknown committee is a villagers' committee, an
 * unknown post a member), so every replica derives the same from the same row.
 */
#include <stdlib.h>
#include <string.h>

#include "gridsync/derive.h"

void gs_field_label_opt(const gs_rectype *rt, int f, gs_buf *b)
{
    gs_buf_printf(b, "%s --", rt->fields[f].label_zh);
    for (const char *p = rt->fields[f].name; *p; p++)
        gs_buf_putc(b, *p == '_' ? '-' : *p);
}

/* "登记选民数 --registered 1000" for integer field f. */
static void label_num(const gs_record *r, int f, gs_buf *b)
{
    gs_field_label_opt(r->rt, f, b);
    gs_buf_printf(b, " %lld", (long long)gs_record_int(r, f, 0));
}

bool gs_derived_field(const gs_rectype *rt, int f)
{
    return f >= 0 && f < rt->nfields && (rt->fields[f].flags & GS_F_COMPUTED);
}

/* ---- elections ------------------------------------------------------------- */

static gs_election_in election_in(const gs_record *e)
{
    gs_election_in in = {0};
    int k = gs_record_enum(e, GS_ELECTION_COMMITTEE);
    in.committee = k < 0 ? GS_COMMITTEE_VILLAGE : (gs_committee)k;
    in.registered = gs_record_int(e, GS_ELECTION_REGISTERED, 0);
    in.cast = gs_record_int(e, GS_ELECTION_VOTED, 0);
    in.valid = gs_record_int(e, GS_ELECTION_VALID, 0);
    in.invalid = gs_record_int(e, GS_ELECTION_INVALID, 0);
    in.supp_cast = gs_record_int(e, GS_ELECTION_SUPP_VOTED, -1);
    in.seats[GS_POST_CHAIR] = gs_record_int(e, GS_ELECTION_SEATS_CHAIR, 1);
    in.seats[GS_POST_VICE_CHAIR] = gs_record_int(e, GS_ELECTION_SEATS_VICE, 0);
    in.seats[GS_POST_MEMBER] = gs_record_int(e, GS_ELECTION_SEATS_MEMBER, 0);
    in.list_days_before = -1;
    int64_t pub, day;
    if (gs_date_days(gs_record_str(e, GS_ELECTION_LIST_PUBLISHED), &pub) &&
        gs_date_days(gs_record_str(e, GS_ELECTION_ELECTION_DATE), &day))
        in.list_days_before = day - pub;
    return in;
}

static gs_candidate_in candidate_in(const gs_record *c)
{
    gs_candidate_in in = {0};
    int post = gs_record_enum(c, GS_CANDIDATE_POST);
    in.votes = gs_record_int(c, GS_CANDIDATE_VOTES, 0);
    in.post = post < 0 ? GS_POST_MEMBER : (gs_post)post;
    in.round =
        gs_record_enum(c, GS_CANDIDATE_ROUND) == 1 ? GS_ROUND_SUPPLEMENTARY : GS_ROUND_FIRST;
    const char *g = gs_record_str(c, GS_CANDIDATE_GENDER);
    in.female = g && !strcmp(g, "female");
    in.party_secretary = gs_record_int(c, GS_CANDIDATE_PARTY_SECRETARY, 0) != 0;
    return in;
}

static void set_findings(gs_record *r, int f, gs_findset s)
{
    gs_buf text = GS_BUF_INIT;
    gs_findset_format(s, &text);
    gs_record_set_str(r, f, text.data ? text.data : "");
    gs_buf_free(&text);
}

/* The rules' view of the candidates, in a new array the caller frees. */
static gs_candidate_in *candidates_in(gs_record *const *cands, size_t n)
{
    gs_candidate_in *in = calloc(n ? n : 1, sizeof *in);
    for (size_t i = 0; in && i < n; i++)
        in[i] = candidate_in(cands[i]);
    return in;
}

int gs_derive_election(gs_record *e, gs_record *const *cands, size_t n)
{
    gs_candidate_in *in = candidates_in(cands, n);
    if (!in)
        return GS_ENOMEM;
    gs_election_in ein = election_in(e);
    gs_election_out eo = {0};
    gs_finding err = gs_election_errors(&ein, in, n);
    if (err != GS_FIND_NONE) {
        eo.findings = GS_FINDBIT(err);
        eo.unfilled = gs_election_seats(&ein);
        for (size_t i = 0; i < n; i++)
            in[i].outcome = GS_OUT_NOT_ELECTED, in[i].findings = 0;
    } else {
        gs_election_evaluate(&ein, in, n, &eo);
    }
    set_findings(e, GS_ELECTION_FINDINGS, eo.findings);
    gs_record_set_int(e, GS_ELECTION_ELECTED, eo.elected);
    gs_record_set_int(e, GS_ELECTION_WOMEN_ELECTED, eo.women_elected);
    gs_record_set_int(e, GS_ELECTION_UNFILLED, eo.unfilled);
    gs_record_set_int(e, GS_ELECTION_YIJIANTIAO, eo.yijiantiao);
    for (size_t i = 0; i < n; i++) {
        gs_record_set_str(cands[i], GS_CANDIDATE_OUTCOME, gs_outcome_names[in[i].outcome]);
        set_findings(cands[i], GS_CANDIDATE_FINDINGS, in[i].findings);
    }
    free(in);
    return GS_OK;
}

static int rule_error(gs_finding f, gs_buf *what, gs_errbuf *eb)
{
    const gs_finding_info *fi = gs_finding_get(f);
    int rc = gs_errf(eb, GS_ERULE, "%s%s%s [%s]", what->data ? what->data : fi->zh,
                     what->data ? "：" : "", what->data ? fi->zh : "", fi->name);
    gs_buf_free(what);
    return rc;
}

/* The election's own figures (they need no candidate). */
static int judge_ballots(const gs_record *e, gs_errbuf *eb)
{
    gs_buf b = GS_BUF_INIT;
    gs_election_in in = election_in(e);
    gs_finding f = gs_rule_ballots(in.registered, in.cast, in.valid, in.invalid);
    if (f == GS_FIND_BALLOTS_SUM) {
        label_num(e, GS_ELECTION_VALID, &b);
        gs_buf_puts(&b, " 加 ");
        label_num(e, GS_ELECTION_INVALID, &b);
        gs_buf_puts(&b, " 不等于 ");
        label_num(e, GS_ELECTION_VOTED, &b);
        return rule_error(f, &b, eb);
    }
    if (f == GS_FIND_CAST_OVER_REGISTERED) {
        label_num(e, GS_ELECTION_VOTED, &b);
        gs_buf_puts(&b, " 超过 ");
        label_num(e, GS_ELECTION_REGISTERED, &b);
        return rule_error(f, &b, eb);
    }
    if (in.supp_cast > in.registered) {
        label_num(e, GS_ELECTION_SUPP_VOTED, &b);
        gs_buf_puts(&b, " 超过 ");
        label_num(e, GS_ELECTION_REGISTERED, &b);
        return rule_error(GS_FIND_CAST_OVER_REGISTERED, &b, eb);
    }
    return GS_OK;
}

int gs_judge_election(const gs_record *e, gs_record *const *cands, size_t n, gs_errbuf *eb)
{
    int rc = judge_ballots(e, eb);
    if (rc)
        return rc;
    gs_election_in ein = election_in(e);
    int64_t supp = ein.supp_cast == -1 ? ein.cast : ein.supp_cast;
    int64_t total[3] = {0, 0, 0}, seats = gs_election_seats(&ein);
    for (size_t i = 0; i < n; i++) {
        gs_candidate_in c = candidate_in(cands[i]);
        bool first = c.round == GS_ROUND_FIRST;
        int64_t cap = first ? ein.valid : supp;
        if (c.votes > cap) {
            gs_buf b = GS_BUF_INIT;
            const char *name = gs_record_str(cands[i], GS_CANDIDATE_NAME);
            gs_buf_printf(&b, "候选人 %s 的", name ? name : "?");
            label_num(cands[i], GS_CANDIDATE_VOTES, &b);
            gs_buf_puts(&b, " 超过");
            if (first) {
                gs_buf_puts(&b, " ");
                label_num(e, GS_ELECTION_VALID, &b);
            } else {
                gs_buf_printf(&b, "另行选举投票人数 %lld", (long long)supp);
            }
            return rule_error(GS_FIND_VOTES_OVER_VALID, &b, eb);
        }
        if (c.votes > 0 && total[c.round] <= INT64_MAX - c.votes)
            total[c.round] += c.votes;
    }
    for (int r = GS_ROUND_FIRST; r <= GS_ROUND_SUPPLEMENTARY; r++) {
        int64_t cap = r == GS_ROUND_FIRST ? ein.valid : supp, limit;
        if (__builtin_mul_overflow(seats, cap, &limit) || total[r] <= limit)
            continue;
        gs_buf b = GS_BUF_INIT;
        gs_buf_printf(&b, "%s候选人得票总数 %lld 超过应选名额 %lld × %s %lld = %lld",
                      r == GS_ROUND_FIRST ? "第一轮" : "另行选举", (long long)total[r],
                      (long long)seats, r == GS_ROUND_FIRST ? "有效票数 --valid" : "投票人数",
                      (long long)cap, (long long)limit);
        return rule_error(GS_FIND_VOTES_OVER_TOTAL, &b, eb);
    }
    /* whatever the wording above missed, the rules have the last word */
    gs_candidate_in *in = candidates_in(cands, n);
    if (!in)
        return gs_errf(eb, GS_ENOMEM, "out of memory");
    gs_finding f = gs_election_errors(&ein, in, n);
    free(in);
    if (f != GS_FIND_NONE) {
        gs_buf none = GS_BUF_INIT;
        return rule_error(f, &none, eb);
    }
    return GS_OK;
}

/* ---- affairs ----------------------------------------------------------------- */

/* The cremation as the rules read it: a funeral that records an exemption
 * reason is the exemption it records (rows stored before entry refused
 * "no" with a reason). */
static int cremation_of(const gs_record *a)
{
    int c = gs_record_enum(a, GS_AFFAIR_CREMATION);
    const char *why = gs_record_str(a, GS_AFFAIR_EXEMPTION);
    if (c == GS_CREMATION_NO && why && *why)
        return GS_CREMATION_EXEMPT;
    return c;
}

void gs_derive_affair(gs_record *a, const gs_record *council)
{
    gs_findset v = 0;
    if (council) {
        gs_council_std std = {gs_record_int(council, GS_COUNCIL_MAX_TABLES, -1),
                              gs_record_int(council, GS_COUNCIL_MAX_COST_PER_TABLE, -1),
                              gs_record_int(council, GS_COUNCIL_MAX_GIFT, -1),
                              gs_record_int(council, GS_COUNCIL_MAX_CARS, -1),
                              gs_record_int(council, GS_COUNCIL_MAX_FUNERAL_DAYS, -1),
                              gs_record_int(council, GS_COUNCIL_MAX_BRIDE_PRICE, -1),
                              gs_record_int(council, GS_COUNCIL_CREMATION_REQUIRED, 0) != 0};
        int kind = gs_record_enum(a, GS_AFFAIR_KIND);
        gs_affair_in in = {kind < 0 ? GS_AFFAIR_OTHER : (gs_affair_kind)kind,
                           gs_record_int(a, GS_AFFAIR_TABLES, -1),
                           gs_record_int(a, GS_AFFAIR_COST_PER_TABLE, -1),
                           gs_record_int(a, GS_AFFAIR_GIFT, -1),
                           gs_record_int(a, GS_AFFAIR_CARS, -1),
                           gs_record_int(a, GS_AFFAIR_DAYS, -1),
                           gs_record_int(a, GS_AFFAIR_BRIDE_PRICE, -1),
                           cremation_of(a)};
        v = gs_affair_check(&std, &in);
    }
    set_findings(a, GS_AFFAIR_VIOLATIONS, v);
}

/* ---- incidents --------------------------------------------------------------- */

int gs_derive_closed_slot(const gs_rectype *rt)
{
    return rt->id == GS_RT_INCIDENT ? GS_INCIDENT_CLOSED_AT : -1;
}

int gs_derive_findings_field(const gs_rectype *rt)
{
    switch (rt->id) {
    case GS_RT_ELECTION: return GS_ELECTION_FINDINGS;
    case GS_RT_CANDIDATE: return GS_CANDIDATE_FINDINGS;
    case GS_RT_AFFAIR: return GS_AFFAIR_VIOLATIONS;
    default: return -1;
    }
}

bool gs_derive_closes(const gs_record *rec)
{
    if (rec->rt->id != GS_RT_INCIDENT)
        return false;
    const char *st = gs_record_str(rec, GS_INCIDENT_STATUS);
    return st && !strcmp(st, gs_status_names[GS_ST_CLOSED]);
}

void gs_derive_incident(gs_record *inc, gs_hlc status_hlc, gs_hlc closed_hlc)
{
    int st = gs_record_enum(inc, GS_INCIDENT_STATUS), fc = GS_INCIDENT_CLOSED_AT;
    if (st != GS_ST_CLOSED && st != GS_ST_EVALUATED) {
        gs_record_unset(inc, fc);
        return;
    }
    gs_hlc h = closed_hlc ? closed_hlc : status_hlc;
    gs_buf t = GS_BUF_INIT;
    gs_datetime_from_ms((int64_t)GS_HLC_MS(h), &t);
    gs_record_set_str(inc, fc, t.data ? t.data : "");
    gs_buf_free(&t);
}

/* ---- one record's own checks ------------------------------------------------- */

/* A 15-digit grid code must begin with its 12-digit village code. */
static int judge_grid_code(const gs_record *r, int f, gs_errbuf *eb)
{
    const char *grid = gs_record_str(r, f), *village = gs_record_scope(r);
    if (!grid || !village || !strncmp(grid, village, 12))
        return GS_OK;
    gs_buf b = GS_BUF_INIT;
    gs_field_label_opt(r->rt, f, &b);
    int rc = gs_errf(eb, GS_ESCOPE,
                     "%s %s does not belong to village %s: it must start with the village code "
                     "(a grid code is the 12-digit village code plus 3 digits)",
                     b.data ? b.data : r->rt->fields[f].name, grid, village);
    gs_buf_free(&b);
    return rc;
}

int gs_judge_record(const gs_record *r, gs_errbuf *eb)
{
    switch (r->rt->id) {
    case GS_RT_GRID: return judge_grid_code(r, GS_GRID_CODE, eb);
    case GS_RT_INCIDENT: return judge_grid_code(r, GS_INCIDENT_GRID_CODE, eb);
    case GS_RT_ELECTION: return judge_ballots(r, eb);
    case GS_RT_AFFAIR: {
        const char *why = gs_record_str(r, GS_AFFAIR_EXEMPTION);
        gs_finding f = gs_affair_entry_error(gs_record_enum(r, GS_AFFAIR_CREMATION), why && *why);
        if (f == GS_FIND_NONE)
            return GS_OK;
        gs_buf b = GS_BUF_INIT;
        gs_field_label_opt(r->rt, GS_AFFAIR_CREMATION, &b);
        gs_buf_printf(&b, " %s", gs_enum_zh(&r->rt->fields[GS_AFFAIR_CREMATION],
                                            gs_record_str(r, GS_AFFAIR_CREMATION)));
        gs_buf_puts(&b, "，");
        gs_field_label_opt(r->rt, GS_AFFAIR_EXEMPTION, &b);
        gs_buf_printf(&b, " %s", why && *why ? why : "(空)");
        if (f == GS_FIND_EXEMPTION_CONTRADICTS)
            gs_buf_puts(&b, "（属豁免请把火化填为 豁免，否则清空豁免理由）");
        else
            gs_buf_puts(&b, "（请填写豁免理由，例如 回族）");
        return rule_error(f, &b, eb);
    }
    default: return GS_OK;
    }
}
