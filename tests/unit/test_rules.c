/*
 * test_rules.c: the domain rules (rules.h) at their boundaries.
 *
 * One TCase per feature; most are loop tests over a table of named vectors,
 * so a failure names the case ("tie at the cut-off") and a new case is one
 * line. Thresholds are checked at the exact boundary and one past it, since
 * "过半数" (strictly more than half) and "不少于三分之一" (at least a third)
 * differ exactly there.
 */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/buf.h"
#include "gridsync/rules.h"
#include "gstest.h"

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Formats a finding set into out as "A;B", the way it is stored and shown. */
static void set_str(gs_findset s, char *out, size_t cap)
{
    gs_buf b = GS_BUF_INIT;
    gs_findset_format(s, &b);
    ck_assert_int_eq(b.err, 0);
    snprintf(out, cap, "%s", b.data ? b.data : "");
    gs_buf_free(&b);
}

static const char *finding_name(gs_finding f)
{
    const gs_finding_info *fi = gs_finding_get(f);
    return fi ? fi->name : "(not a finding)";
}

/* ---- findings ---------------------------------------------------------------- */

START_TEST(test_finding_table)
{
    for (int i = 0; i < GS_FIND__COUNT; i++) {
        const gs_finding_info *fi = gs_finding_get((gs_finding)i);
        ck_assert_ptr_nonnull(fi);
        ck_assert_int_eq(fi->code, i);
        ck_assert_str_ne(fi->name, "");
        ck_assert_str_ne(fi->zh, "");
        ck_assert_int_eq(gs_finding_find(fi->name), i);
    }
    const gs_finding_info *t = gs_finding_get(GS_FIND_TURNOUT_INVALID);
    ck_assert_str_eq(t->name, "TURNOUT_INVALID");
    ck_assert_str_eq(t->zh, "投票人数未过登记选民半数，选举无效");
    ck_assert_int_eq(t->severity, GS_SEV_FINDING);
    ck_assert_str_eq(t->law, "村民委员会组织法");
    ck_assert_str_eq(t->version, "2018-12-29");
    ck_assert_str_eq(t->article, "第十五条");
    ck_assert_str_eq(gs_finding_get(GS_FIND_NONE)->name, "NONE");
    ck_assert_str_eq(gs_finding_get(GS_FIND_BAD_TRANSITION)->name, "BAD_TRANSITION");
    ck_assert_int_eq(gs_finding_get(GS_FIND_BALLOTS_SUM)->severity, GS_SEV_ERROR);
    ck_assert_int_eq(gs_finding_get(GS_FIND_AFFAIR_CREMATION)->severity, GS_SEV_VIOLATION);
    ck_assert_str_eq(gs_finding_get(GS_FIND_BALLOTS_SUM)->law, "");
    ck_assert_ptr_null(gs_finding_get(GS_FIND__COUNT));
    ck_assert_ptr_null(gs_finding_get((gs_finding)-1));
}
END_TEST

START_TEST(test_finding_find_unknown)
{
    ck_assert_int_eq(gs_finding_find("LIST_LATE"), GS_FIND_LIST_LATE);
    ck_assert_int_eq(gs_finding_find("list_late"), GS_FIND__COUNT);
    ck_assert_int_eq(gs_finding_find("GS_FIND_LIST_LATE"), GS_FIND__COUNT);
    ck_assert_int_eq(gs_finding_find("LIST_LATE "), GS_FIND__COUNT);
    ck_assert_int_eq(gs_finding_find(""), GS_FIND__COUNT);
    ck_assert_int_eq(gs_finding_find(NULL), GS_FIND__COUNT);
}
END_TEST

START_TEST(test_findset_format)
{
    char s[2048];
    set_str(0, s, sizeof s);
    ck_assert_str_eq(s, "");
    set_str(GS_FINDBIT(GS_FIND_NONE), s, sizeof s);
    ck_assert_str_eq(s, "");
    /* code order, not insertion order; NONE never written */
    set_str(GS_FINDBIT(GS_FIND_LIST_LATE) | GS_FINDBIT(GS_FIND_NONE) |
                GS_FINDBIT(GS_FIND_BALLOTS_SUM),
            s, sizeof s);
    ck_assert_str_eq(s, "BALLOTS_SUM;LIST_LATE");

    /* appends to what the buffer already holds */
    gs_buf b = GS_BUF_INIT;
    gs_buf_puts(&b, "findings=");
    gs_findset_format(GS_FINDBIT(GS_FIND_NO_WOMAN), &b);
    ck_assert_str_eq(b.data, "findings=NO_WOMAN");
    gs_buf_free(&b);

    /* every finding: one name per code but NONE */
    set_str(~(gs_findset)0 >> (64 - GS_FIND__COUNT), s, sizeof s);
    int semis = 0;
    for (const char *p = s; *p; p++)
        semis += *p == ';';
    ck_assert_int_eq(semis, GS_FIND__COUNT - 2);
    ck_assert(strncmp(s, "BALLOTS_SUM;", 12) == 0);
    ck_assert(strstr(s, "NONE") == NULL);
}
END_TEST

typedef struct parse_vec {
    const char *text;
    int rc;
    const char *formatted; /* the set parsed, formatted again; unused on error */
} parse_vec;

static const parse_vec parse_vecs[] = {
    {"", 0, ""},
    {"BALLOTS_SUM", 0, "BALLOTS_SUM"},
    {"LIST_LATE;BALLOTS_SUM", 0, "BALLOTS_SUM;LIST_LATE"},
    {"TIE_REVOTE;TIE_REVOTE", 0, "TIE_REVOTE"},
    {"NONE", 0, ""},
    {"NONE;NO_WOMAN", 0, "NO_WOMAN"},
    {"BOGUS", -1, NULL},
    {"BALLOTS_SUM;BOGUS", -1, NULL},
    {"ballots_sum", -1, NULL},
    {"BALLOTS_SUM;", -1, NULL},
    {";BALLOTS_SUM", -1, NULL},
    {"BALLOTS_SUM;;LIST_LATE", -1, NULL},
    {";", -1, NULL},
    {" BALLOTS_SUM", -1, NULL},
    {"BALLOTS_SUM,LIST_LATE", -1, NULL},
    {"BALLOTS", -1, NULL},
    {"BALLOTS_SUMX", -1, NULL},
};

START_TEST(test_findset_parse)
{
    const parse_vec *v = &parse_vecs[_i];
    const gs_findset sentinel = GS_FINDBIT(GS_FIND_AFFAIR_DAYS);
    gs_findset got = sentinel;
    int rc = gs_findset_parse(v->text, &got);
    ck_assert_msg(rc == v->rc, "\"%s\": rc %d, expected %d", v->text, rc, v->rc);
    if (rc == 0) {
        char s[512];
        set_str(got, s, sizeof s);
        ck_assert_str_eq(s, v->formatted);
        ck_assert_msg(!(got & GS_FINDBIT(GS_FIND_NONE)), "\"%s\": NONE is never a member", v->text);
    } else {
        ck_assert_msg(got == sentinel, "\"%s\": output changed on error", v->text);
    }
}
END_TEST

/* Every single finding, and every finding at once, survives format -> parse. */
START_TEST(test_findset_round_trip)
{
    gs_findset all = 0;
    for (int i = 0; i <= GS_FIND__COUNT; i++) {
        gs_findset in = i < GS_FIND__COUNT ? GS_FINDBIT(i) : all;
        if (i < GS_FIND__COUNT && i != GS_FIND_NONE)
            all |= in;
        char s[2048];
        set_str(in, s, sizeof s);
        gs_findset out = 0;
        ck_assert_int_eq(gs_findset_parse(s, &out), 0);
        ck_assert_msg(out == (in & ~GS_FINDBIT(GS_FIND_NONE)), "round trip of \"%s\"", s);
    }
}
END_TEST

/* ---- enum names ---------------------------------------------------------------- */

typedef struct names_vec {
    const char *what;
    const char *const *names;
    size_t count;
    const char *joined; /* the names, joined with ',' */
} names_vec;

static const names_vec names_vecs[] = {
    {"committee", gs_committee_names, GS_COMMITTEE__COUNT, "village,residents,party"},
    {"committee zh", gs_committee_names_zh, GS_COMMITTEE__COUNT,
     "村民委员会,居民委员会,党组织委员会"},
    {"post", gs_post_names, GS_POST__COUNT, "chair,vice_chair,member"},
    {"post zh", gs_post_names_zh, GS_POST__COUNT, "主任,副主任,委员"},
    {"outcome", gs_outcome_names, 3, "not_elected,elected,tie_revote"},
    {"outcome zh", gs_outcome_names_zh, 3, "未当选,当选,票数相等须重新投票"},
    {"affair kind", gs_affair_kind_names, GS_AFFAIR__COUNT, "wedding,funeral,other"},
    {"affair kind zh", gs_affair_kind_names_zh, GS_AFFAIR__COUNT, "红事,白事,其他"},
    {"cremation", gs_cremation_names, GS_CREMATION__COUNT, "yes,no,exempt"},
    {"cremation zh", gs_cremation_names_zh, GS_CREMATION__COUNT, "是,否,豁免"},
    {"status", gs_status_names, GS_ST__COUNT,
     "reported,accepted,rejected,registered,dispatched,in_progress,suspended,feedback,verified,"
     "closed,evaluated"},
    {"status zh", gs_status_names_zh, GS_ST__COUNT,
     "上报,受理,不予受理,立案,派遣,处置中,延期挂账,处置反馈,核查通过,结案,综合评价"},
};

START_TEST(test_enum_names)
{
    const names_vec *v = &names_vecs[_i];
    gs_buf b = GS_BUF_INIT;
    for (size_t i = 0; i < v->count; i++) {
        ck_assert_msg(v->names[i] != NULL, "%s: name %zu missing", v->what, i);
        if (i)
            gs_buf_putc(&b, ',');
        gs_buf_puts(&b, v->names[i]);
    }
    ck_assert_msg(v->names[v->count] == NULL, "%s: not NULL-terminated", v->what);
    ck_assert_str_eq(b.data, v->joined);
    gs_buf_free(&b);
}
END_TEST

/* ---- single election rules ------------------------------------------------------ */

typedef struct rule2_vec {
    const char *name;
    int64_t a, b;
    gs_finding expect;
} rule2_vec;

static void check_rule2(const rule2_vec *v, gs_finding got)
{
    ck_assert_msg(got == v->expect, "%s (%lld, %lld): got %s, expected %s", v->name,
                  (long long)v->a, (long long)v->b, finding_name(got), finding_name(v->expect));
}

/* a = registered R, b = cast B */
static const rule2_vec turnout_vecs[] = {
    {"zero registered", 0, 0, GS_FIND_NO_VOTERS},
    {"zero registered, ballots anyway", 0, 5, GS_FIND_NO_VOTERS},
    {"exactly half (2B == R)", 1000, 500, GS_FIND_TURNOUT_INVALID},
    {"half plus one", 1000, 501, GS_FIND_NONE},
    {"odd R, 2B == R + 1", 1001, 501, GS_FIND_NONE},
    {"odd R, 2B == R - 1", 1001, 500, GS_FIND_TURNOUT_INVALID},
    {"one voter who voted", 1, 1, GS_FIND_NONE},
    {"one voter who did not", 1, 0, GS_FIND_TURNOUT_INVALID},
    {"nobody voted", 500, 0, GS_FIND_TURNOUT_INVALID},
    {"everybody voted", 500, 500, GS_FIND_NONE},
    {"huge, just over half", INT64_MAX, INT64_MAX / 2 + 1, GS_FIND_NONE},
    {"huge, just under half", INT64_MAX, INT64_MAX / 2, GS_FIND_TURNOUT_INVALID},
};

START_TEST(test_rule_turnout)
{
    const rule2_vec *v = &turnout_vecs[_i];
    check_rule2(v, gs_rule_turnout(v->a, v->b));
}
END_TEST

/* a = votes v, b = cast B */
static const rule2_vec first_round_vecs[] = {
    {"exactly half (2v == B)", 300, 600, GS_FIND_BELOW_HALF},
    {"half plus one", 301, 600, GS_FIND_NONE},
    {"odd B, 2v == B + 1", 301, 601, GS_FIND_NONE},
    {"odd B, 2v == B - 1", 300, 601, GS_FIND_BELOW_HALF},
    {"all ballots", 600, 600, GS_FIND_NONE},
    {"no vote", 0, 600, GS_FIND_BELOW_HALF},
    {"nothing cast", 0, 0, GS_FIND_BELOW_HALF},
    {"huge", INT64_MAX / 2 + 1, INT64_MAX, GS_FIND_NONE},
};

START_TEST(test_rule_first_round)
{
    const rule2_vec *v = &first_round_vecs[_i];
    check_rule2(v, gs_rule_first_round(v->a, v->b));
}
END_TEST

/* a = votes v, b = supplementary-round ballots B */
static const rule2_vec supp_vecs[] = {
    {"exactly a third (3v == B)", 200, 600, GS_FIND_NONE},
    {"3v == B - 1", 200, 601, GS_FIND_SUPP_BELOW_THIRD},
    {"3v == B + 1", 200, 599, GS_FIND_NONE},
    {"one vote short", 199, 600, GS_FIND_SUPP_BELOW_THIRD},
    {"odd third, 3v == B - 2", 33, 101, GS_FIND_SUPP_BELOW_THIRD},
    {"no vote", 0, 600, GS_FIND_SUPP_BELOW_THIRD},
    {"huge", INT64_MAX / 3 + 1, INT64_MAX, GS_FIND_NONE},
};

START_TEST(test_rule_supplementary)
{
    const rule2_vec *v = &supp_vecs[_i];
    check_rule2(v, gs_rule_supplementary(v->a, v->b));
}
END_TEST

/* a = candidates, b = seats */
static const rule2_vec contested_vecs[] = {
    {"one more than seats", 2, 1, GS_FIND_NONE},
    {"as many as seats (等额)", 1, 1, GS_FIND_NOT_CONTESTED},
    {"three for three", 3, 3, GS_FIND_NOT_CONTESTED},
    {"four for three", 4, 3, GS_FIND_NONE},
    {"none for one", 0, 1, GS_FIND_NOT_CONTESTED},
    {"post without seats", 0, 0, GS_FIND_NONE},
    {"candidates, no seat", 2, 0, GS_FIND_NONE},
};

START_TEST(test_rule_contested)
{
    const rule2_vec *v = &contested_vecs[_i];
    check_rule2(v, gs_rule_contested(v->a, v->b));
}
END_TEST

/* a = committee, b = total seats */
static const rule2_vec size_vecs[] = {
    {"village 2", GS_COMMITTEE_VILLAGE, 2, GS_FIND_SIZE_SMALL},
    {"village 3", GS_COMMITTEE_VILLAGE, 3, GS_FIND_NONE},
    {"village 7", GS_COMMITTEE_VILLAGE, 7, GS_FIND_NONE},
    {"village 8", GS_COMMITTEE_VILLAGE, 8, GS_FIND_SIZE_LARGE},
    {"residents 4", GS_COMMITTEE_RESIDENTS, 4, GS_FIND_SIZE_SMALL},
    {"residents 5", GS_COMMITTEE_RESIDENTS, 5, GS_FIND_NONE},
    {"residents 9", GS_COMMITTEE_RESIDENTS, 9, GS_FIND_NONE},
    {"residents 10", GS_COMMITTEE_RESIDENTS, 10, GS_FIND_SIZE_LARGE},
    {"party 1 (not checked)", GS_COMMITTEE_PARTY, 1, GS_FIND_NONE},
    {"party 15 (not checked)", GS_COMMITTEE_PARTY, 15, GS_FIND_NONE},
};

START_TEST(test_rule_committee_size)
{
    const rule2_vec *v = &size_vecs[_i];
    check_rule2(v, gs_rule_committee_size((gs_committee)v->a, v->b));
}
END_TEST

/* a = days between voter-list publication and election day */
static const rule2_vec list_vecs[] = {
    {"20 days", 20, 0, GS_FIND_NONE},      {"19 days", 19, 0, GS_FIND_LIST_LATE},
    {"30 days", 30, 0, GS_FIND_NONE},      {"on election day", 0, 0, GS_FIND_LIST_LATE},
    {"unknown (-1)", -1, 0, GS_FIND_NONE}, {"after election day", -2, 0, GS_FIND_LIST_LATE},
};

START_TEST(test_rule_voter_list)
{
    const rule2_vec *v = &list_vecs[_i];
    check_rule2(v, gs_rule_voter_list(v->a));
}
END_TEST

START_TEST(test_rule_women)
{
    ck_assert_int_eq(gs_rule_women(0), GS_FIND_NO_WOMAN);
    ck_assert_int_eq(gs_rule_women(1), GS_FIND_NONE);
    ck_assert_int_eq(gs_rule_women(3), GS_FIND_NONE);
}
END_TEST

typedef struct ballots_vec {
    const char *name;
    int64_t registered, cast, valid, invalid;
    gs_finding expect;
} ballots_vec;

static const ballots_vec ballots_vecs[] = {
    {"adds up", 1000, 600, 590, 10, GS_FIND_NONE},
    {"everyone voted", 1000, 1000, 1000, 0, GS_FIND_NONE},
    {"all zero", 0, 0, 0, 0, GS_FIND_NONE},
    {"valid + invalid < cast", 1000, 600, 590, 9, GS_FIND_BALLOTS_SUM},
    {"valid + invalid > cast", 1000, 600, 590, 11, GS_FIND_BALLOTS_SUM},
    {"valid > cast", 1000, 600, 601, 0, GS_FIND_BALLOTS_SUM},
    {"cast == registered + 1", 1000, 1001, 1001, 0, GS_FIND_CAST_OVER_REGISTERED},
    {"sum checked before cast", 1000, 1001, 1000, 0, GS_FIND_BALLOTS_SUM},
    {"negative registered", -1, 0, 0, 0, GS_FIND_BALLOTS_SUM},
    {"negative cast", 1000, -1, 0, -1, GS_FIND_BALLOTS_SUM},
    {"negative valid", 1000, 10, -1, 11, GS_FIND_BALLOTS_SUM},
    {"negative invalid", 1000, 10, 11, -1, GS_FIND_BALLOTS_SUM},
    {"sum overflows", INT64_MAX, INT64_MAX, INT64_MAX, 1, GS_FIND_BALLOTS_SUM},
};

START_TEST(test_rule_ballots)
{
    const ballots_vec *v = &ballots_vecs[_i];
    gs_finding got = gs_rule_ballots(v->registered, v->cast, v->valid, v->invalid);
    ck_assert_msg(got == v->expect, "%s: got %s, expected %s", v->name, finding_name(got),
                  finding_name(v->expect));
}
END_TEST

/* ---- whole elections ---------------------------------------------------------------- */

/* The election tables are laid out by hand, one candidate list per row. */
/* clang-format off */
#define MAXC 10
#define FIRST(p, v, ...) {.votes = (v), .post = GS_POST_##p, .round = GS_ROUND_FIRST, __VA_ARGS__}
#define SUPP(p, v, ...)                                                                            \
    {.votes = (v), .post = GS_POST_##p, .round = GS_ROUND_SUPPLEMENTARY, __VA_ARGS__}
#define WOMAN .female = true
#define SECRETARY .party_secretary = true

typedef struct errors_vec {
    const char *name;
    gs_election_in e;
    size_t n;
    gs_candidate_in c[MAXC];
    gs_finding expect;
} errors_vec;

/* R = 1000, B = 600 (590 valid), 1 chair + 1 vice + 3 members, unless said. */
#define E_STD(supp)                                                                                \
    {GS_COMMITTEE_VILLAGE, 1000, 600, 590, 10, (supp), {1, 1, 3}, 30}

static const errors_vec errors_vecs[] = {
    {"clean", E_STD(-1), 3,
     {FIRST(CHAIR, 400), FIRST(CHAIR, 190), FIRST(MEMBER, 590)}, GS_FIND_NONE},
    {"no candidates", E_STD(-1), 0, {{0}}, GS_FIND_NONE},
    {"ballots do not add up",
     {GS_COMMITTEE_VILLAGE, 1000, 600, 590, 11, -1, {1, 1, 3}, 30},
     0,
     {{0}},
     GS_FIND_BALLOTS_SUM},
    {"cast over registered",
     {GS_COMMITTEE_VILLAGE, 500, 600, 590, 10, -1, {1, 1, 3}, 30},
     0,
     {{0}},
     GS_FIND_CAST_OVER_REGISTERED},
    {"votes == valid", E_STD(-1), 1, {FIRST(CHAIR, 590)}, GS_FIND_NONE},
    {"votes == valid + 1", E_STD(-1), 1, {FIRST(CHAIR, 591)}, GS_FIND_VOTES_OVER_VALID},
    {"votes between valid and cast", E_STD(-1), 1, {FIRST(MEMBER, 595)}, GS_FIND_VOTES_OVER_VALID},
    {"sum == seats * valid",
     E_STD(-1),
     5,
     {FIRST(CHAIR, 590), FIRST(VICE_CHAIR, 590), FIRST(MEMBER, 590), FIRST(MEMBER, 590),
      FIRST(MEMBER, 590)},
     GS_FIND_NONE},
    {"sum == seats * valid + 1",
     E_STD(-1),
     6,
     {FIRST(CHAIR, 590), FIRST(VICE_CHAIR, 590), FIRST(MEMBER, 590), FIRST(MEMBER, 590),
      FIRST(MEMBER, 589), FIRST(MEMBER, 2)},
     GS_FIND_VOTES_OVER_TOTAL},
    {"supp votes up to cast when supp_cast unknown", E_STD(-1), 1,
     {SUPP(MEMBER, 600)}, GS_FIND_NONE},
    {"supp votes over cast", E_STD(-1), 1, {SUPP(MEMBER, 601)}, GS_FIND_VOTES_OVER_VALID},
    {"supp votes == supp_cast", E_STD(400), 1, {SUPP(MEMBER, 400)}, GS_FIND_NONE},
    {"supp votes over supp_cast", E_STD(400), 1, {SUPP(MEMBER, 401)}, GS_FIND_VOTES_OVER_VALID},
    {"supp sum over seats * supp_cast",
     E_STD(400),
     6,
     {SUPP(MEMBER, 400), SUPP(MEMBER, 400), SUPP(MEMBER, 400), SUPP(MEMBER, 400),
      SUPP(MEMBER, 400), SUPP(MEMBER, 1)},
     GS_FIND_VOTES_OVER_TOTAL},
    {"supp_cast over registered", E_STD(1001), 0, {{0}}, GS_FIND_CAST_OVER_REGISTERED},
    {"supp_cast negative", E_STD(-2), 0, {{0}}, GS_FIND_BALLOTS_SUM},
    {"negative votes", E_STD(-1), 1, {FIRST(CHAIR, -1)}, GS_FIND_BALLOTS_SUM},
    {"negative seats",
     {GS_COMMITTEE_VILLAGE, 1000, 600, 590, 10, -1, {1, -1, 3}, 30},
     0,
     {{0}},
     GS_FIND_BALLOTS_SUM},
};

START_TEST(test_election_errors)
{
    const errors_vec *v = &errors_vecs[_i];
    gs_finding got = gs_election_errors(&v->e, v->c, v->n);
    ck_assert_msg(got == v->expect, "%s: got %s, expected %s", v->name, finding_name(got),
                  finding_name(v->expect));
}
END_TEST

typedef struct eval_vec {
    const char *name;
    gs_election_in e;
    size_t n;
    gs_candidate_in c[MAXC];
    const char *outcomes;        /* per candidate: E elected, N not elected, T tie revote */
    const char *cfindings[MAXC]; /* per candidate, formatted; NULL = none */
    const char *findings;        /* the election's, formatted */
    int64_t elected, women, unfilled;
    bool yijiantiao;
} eval_vec;

/* A village with R registered, B cast (all valid), seats 1 + 1 + 3 and the
 * list published 30 days before, unless said. */
#define EV(r, b, supp) {GS_COMMITTEE_VILLAGE, (r), (b), (b), 0, (supp), {1, 1, 3}, 30}
/* A first round for the 1 + 1 + 3 seats with 600 cast: a woman chair who is
 * also Party secretary; each post's runner-up below half; three members over
 * half. Outcomes "ENENEEE". Add a member candidate to make it contested. */
#define BASE7                                                                                      \
    FIRST(CHAIR, 400, WOMAN, SECRETARY), FIRST(CHAIR, 150), FIRST(VICE_CHAIR, 350),                \
        FIRST(VICE_CHAIR, 100), FIRST(MEMBER, 500), FIRST(MEMBER, 450), FIRST(MEMBER, 400)
#define BH "BELOW_HALF"
#define SBT "SUPP_BELOW_THIRD"
#define TIE "TIE_REVOTE"

static const eval_vec eval_vecs[] = {
    {"everything in order", EV(1000, 600, -1), 8,
     {BASE7, FIRST(MEMBER, 300)},
     "ENENEEEN",
     {NULL, BH, NULL, BH, NULL, NULL, NULL, BH},
     "", 5, 1, 0, true},
    {"turnout exactly half (2B == R)", EV(1000, 500, -1), 8,
     {BASE7, FIRST(MEMBER, 100)},
     "NNNNNNNN",
     {NULL},
     "TURNOUT_INVALID;SEATS_UNFILLED", 0, 0, 5, false},
    {"turnout half plus one", EV(1000, 501, -1), 6,
     {FIRST(CHAIR, 251, WOMAN), FIRST(CHAIR, 250), FIRST(VICE_CHAIR, 251), FIRST(VICE_CHAIR, 1),
      FIRST(MEMBER, 501), FIRST(MEMBER, 250)},
     "ENENEN",
     {NULL, BH, NULL, BH, NULL, BH},
     "SEATS_UNFILLED;NOT_CONTESTED", 3, 1, 2, false},
    {"no registered voters", EV(0, 0, -1), 2,
     {FIRST(CHAIR, 0), FIRST(CHAIR, 0)},
     "NN",
     {NULL},
     "NO_VOTERS;SEATS_UNFILLED;NOT_CONTESTED", 0, 0, 5, false},
    {"two tied for the last seat", EV(1000, 600, -1), 8,
     {BASE7, FIRST(MEMBER, 400)},
     "ENENEETT",
     {NULL, BH, NULL, BH, NULL, NULL, TIE, TIE},
     "TIE_REVOTE", 4, 1, 0, true},
    {"three tied for the last two seats", EV(1000, 800, -1), 9,
     {FIRST(CHAIR, 500, WOMAN, SECRETARY), FIRST(CHAIR, 300), FIRST(VICE_CHAIR, 450),
      FIRST(VICE_CHAIR, 350), FIRST(MEMBER, 600), FIRST(MEMBER, 450), FIRST(MEMBER, 450),
      FIRST(MEMBER, 450), FIRST(MEMBER, 410)},
     "ENENETTTN",
     {NULL, BH, NULL, BH, NULL, TIE, TIE, TIE, NULL},
     "TIE_REVOTE", 3, 1, 0, true},
    {"tie above the cut-off", EV(1000, 600, -1), 8,
     {BASE7, FIRST(MEMBER, 500)},
     "ENENEENE",
     {NULL, BH, NULL, BH},
     "", 5, 1, 0, true},
    {"tie below the cut-off, both over half", EV(1000, 600, -1), 9,
     {BASE7, FIRST(MEMBER, 310), FIRST(MEMBER, 310)},
     "ENENEEENN",
     {NULL, BH, NULL, BH},
     "", 5, 1, 0, true},
    {"tie for the only chair seat", EV(1000, 600, -1), 2,
     {FIRST(CHAIR, 301), FIRST(CHAIR, 301)},
     "TT",
     {TIE, TIE},
     "TIE_REVOTE;SEATS_UNFILLED;NOT_CONTESTED;NO_WOMAN", 0, 0, 4, false},
    {"supplementary: exactly a third (3v == B)", EV(1000, 600, 600), 10,
     {FIRST(CHAIR, 400, WOMAN, SECRETARY), FIRST(CHAIR, 150), FIRST(VICE_CHAIR, 350),
      FIRST(VICE_CHAIR, 100), FIRST(MEMBER, 500), FIRST(MEMBER, 450), FIRST(MEMBER, 250),
      FIRST(MEMBER, 100), SUPP(MEMBER, 200), SUPP(MEMBER, 100)},
     "ENENEENNEN",
     {NULL, BH, NULL, BH, NULL, NULL, BH, BH, NULL, SBT},
     "SUPP_BELOW_THIRD", 5, 1, 0, true},
    {"supplementary: 3v == B - 1", EV(1000, 600, 601), 10,
     {FIRST(CHAIR, 400, WOMAN), FIRST(CHAIR, 200), FIRST(VICE_CHAIR, 350), FIRST(VICE_CHAIR, 250),
      FIRST(MEMBER, 500), FIRST(MEMBER, 450), FIRST(MEMBER, 300), FIRST(MEMBER, 100),
      SUPP(MEMBER, 200), SUPP(MEMBER, 150)},
     "ENENEENNNN",
     {NULL, BH, NULL, BH, NULL, NULL, BH, BH, SBT, SBT},
     "SUPP_BELOW_THIRD;SEATS_UNFILLED", 4, 1, 1, false},
    {"supplementary ballots default to the first round's", EV(1000, 600, -1), 4,
     {FIRST(CHAIR, 300, WOMAN), FIRST(CHAIR, 290), SUPP(CHAIR, 200, WOMAN), SUPP(VICE_CHAIR, 199)},
     "NNEN",
     {BH, BH, NULL, SBT},
     "SUPP_BELOW_THIRD;SEATS_UNFILLED;NOT_CONTESTED", 1, 1, 4, false},
    {"supplementary: the highest wins the one open seat", EV(1000, 600, 500), 4,
     {FIRST(CHAIR, 300), FIRST(CHAIR, 290), SUPP(CHAIR, 260), SUPP(CHAIR, 240, WOMAN)},
     "NNEN",
     {BH, BH, NULL, NULL},
     "SEATS_UNFILLED;NOT_CONTESTED;NO_WOMAN", 1, 0, 4, false},
    {"supplementary: tie for the open seat", EV(1000, 600, 600), 10,
     {FIRST(CHAIR, 400, WOMAN, SECRETARY), FIRST(CHAIR, 150), FIRST(VICE_CHAIR, 350),
      FIRST(VICE_CHAIR, 100), FIRST(MEMBER, 500), FIRST(MEMBER, 450), FIRST(MEMBER, 250),
      FIRST(MEMBER, 100), SUPP(MEMBER, 250), SUPP(MEMBER, 250)},
     "ENENEENNTT",
     {NULL, BH, NULL, BH, NULL, NULL, BH, BH, TIE, TIE},
     "TIE_REVOTE", 4, 1, 0, true},
    {"supplementary: two open seats", EV(1000, 600, 600), 9,
     {FIRST(CHAIR, 400, WOMAN), FIRST(CHAIR, 200), FIRST(VICE_CHAIR, 350), FIRST(VICE_CHAIR, 250),
      FIRST(MEMBER, 500), SUPP(MEMBER, 300), SUPP(MEMBER, 250), SUPP(MEMBER, 210),
      SUPP(MEMBER, 150)},
     "ENENEEENN",
     {NULL, BH, NULL, BH, NULL, NULL, NULL, NULL, SBT},
     "SUPP_BELOW_THIRD;NOT_CONTESTED", 5, 1, 0, false},
    {"supplementary not held for a post already full", EV(1000, 600, 600), 9,
     {BASE7, FIRST(MEMBER, 100), SUPP(CHAIR, 100)},
     "ENENEEENN",
     {NULL, BH, NULL, BH, NULL, NULL, NULL, BH, NULL},
     "", 5, 1, 0, true},
    {"no woman elected", EV(1000, 600, -1), 8,
     {FIRST(CHAIR, 400), FIRST(CHAIR, 200, WOMAN), FIRST(VICE_CHAIR, 350), FIRST(VICE_CHAIR, 250),
      FIRST(MEMBER, 500), FIRST(MEMBER, 450), FIRST(MEMBER, 400), FIRST(MEMBER, 100)},
     "ENENEEEN",
     {NULL, BH, NULL, BH, NULL, NULL, NULL, BH},
     "NO_WOMAN", 5, 0, 0, false},
    /* elected under the Party's rules: outcomes, but no organic-law finding */
    {"party committee: no organic-law finding",
     {GS_COMMITTEE_PARTY, 100, 90, 90, 0, -1, {1, 0, 0}, -1}, 2,
     {FIRST(CHAIR, 80, SECRETARY), FIRST(CHAIR, 10)},
     "EN",
     {NULL, NULL},
     "", 1, 0, 0, true},
    {"residents committee of 10 with no candidate",
     {GS_COMMITTEE_RESIDENTS, 100, 90, 90, 0, -1, {1, 2, 7}, 20}, 0,
     {{0}},
     "",
     {NULL},
     "SEATS_UNFILLED;NOT_CONTESTED;SIZE_LARGE;NO_WOMAN", 0, 0, 10, false},
    {"village committee of 2",
     {GS_COMMITTEE_VILLAGE, 100, 90, 90, 0, -1, {1, 0, 1}, 20}, 4,
     {FIRST(CHAIR, 60, WOMAN), FIRST(CHAIR, 30), FIRST(MEMBER, 70), FIRST(MEMBER, 20)},
     "ENEN",
     {NULL, BH, NULL, BH},
     "SIZE_SMALL", 2, 1, 0, false},
    {"list published 19 days before",
     {GS_COMMITTEE_VILLAGE, 1000, 600, 600, 0, -1, {1, 1, 3}, 19}, 8,
     {BASE7, FIRST(MEMBER, 300)},
     "ENENEEEN",
     {NULL, BH, NULL, BH, NULL, NULL, NULL, BH},
     "LIST_LATE", 5, 1, 0, true},
    {"secretary chair candidate not elected: no 一肩挑", EV(1000, 600, -1), 8,
     {FIRST(CHAIR, 250, WOMAN, SECRETARY), FIRST(CHAIR, 400), FIRST(VICE_CHAIR, 350),
      FIRST(VICE_CHAIR, 250), FIRST(MEMBER, 500), FIRST(MEMBER, 450), FIRST(MEMBER, 400),
      FIRST(MEMBER, 300)},
     "NEENEEEN",
     {BH, NULL, NULL, BH, NULL, NULL, NULL, BH},
     "NO_WOMAN", 5, 0, 0, false},
    {"secretary elected as member: no 一肩挑", EV(1000, 600, -1), 8,
     {FIRST(CHAIR, 400), FIRST(CHAIR, 200), FIRST(VICE_CHAIR, 350), FIRST(VICE_CHAIR, 250),
      FIRST(MEMBER, 500, SECRETARY), FIRST(MEMBER, 450, WOMAN), FIRST(MEMBER, 400),
      FIRST(MEMBER, 300)},
     "ENENEEEN",
     {NULL, BH, NULL, BH, NULL, NULL, NULL, BH},
     "", 5, 1, 0, false},
};
/* clang-format on */

static char outcome_char(gs_outcome o)
{
    switch (o) {
    case GS_OUT_ELECTED:
        return 'E';
    case GS_OUT_NOT_ELECTED:
        return 'N';
    case GS_OUT_TIE_REVOTE:
        return 'T';
    }
    return '?';
}

START_TEST(test_election_evaluate)
{
    const eval_vec *v = &eval_vecs[_i];
    gs_candidate_in c[MAXC];
    memcpy(c, v->c, sizeof c);
    /* stale outputs must be overwritten */
    for (size_t i = 0; i < v->n; i++) {
        c[i].outcome = GS_OUT_TIE_REVOTE;
        c[i].findings = GS_FINDBIT(GS_FIND_LIST_LATE);
    }
    ck_assert_int_eq(gs_election_errors(&v->e, c, v->n), GS_FIND_NONE);
    gs_election_out out;
    memset(&out, 0xa5, sizeof out);
    gs_election_evaluate(&v->e, c, v->n, &out);

    char got[MAXC + 1] = {0};
    for (size_t i = 0; i < v->n; i++)
        got[i] = outcome_char(c[i].outcome);
    ck_assert_msg(strcmp(got, v->outcomes) == 0, "%s: outcomes %s, expected %s", v->name, got,
                  v->outcomes);
    for (size_t i = 0; i < v->n; i++) {
        char s[512];
        set_str(c[i].findings, s, sizeof s);
        const char *want = v->cfindings[i] ? v->cfindings[i] : "";
        ck_assert_msg(strcmp(s, want) == 0, "%s: candidate %zu findings \"%s\", expected \"%s\"",
                      v->name, i, s, want);
    }
    char s[512];
    set_str(out.findings, s, sizeof s);
    ck_assert_msg(strcmp(s, v->findings) == 0, "%s: findings \"%s\", expected \"%s\"", v->name, s,
                  v->findings);
    ck_assert_msg(out.elected == v->elected, "%s: elected %lld, expected %lld", v->name,
                  (long long)out.elected, (long long)v->elected);
    ck_assert_msg(out.women_elected == v->women, "%s: women %lld, expected %lld", v->name,
                  (long long)out.women_elected, (long long)v->women);
    ck_assert_msg(out.unfilled == v->unfilled, "%s: unfilled %lld, expected %lld", v->name,
                  (long long)out.unfilled, (long long)v->unfilled);
    ck_assert_msg(out.yijiantiao == v->yijiantiao, "%s: 一肩挑 %d, expected %d", v->name,
                  out.yijiantiao, v->yijiantiao);
}
END_TEST

/* ---- red-white council affairs ----------------------------------------------------- */

typedef struct limit_vec {
    const char *name;
    int64_t actual, limit;
    gs_finding expect;
} limit_vec;

static const limit_vec limit_vecs[] = {
    {"equal", 10, 10, GS_FIND_NONE},
    {"one over", 11, 10, GS_FIND_AFFAIR_TABLES},
    {"under", 9, 10, GS_FIND_NONE},
    {"zero allowed, none", 0, 0, GS_FIND_NONE},
    {"zero allowed, one", 1, 0, GS_FIND_AFFAIR_TABLES},
    {"actual not recorded", -1, 0, GS_FIND_NONE},
    {"no limit set", 1000000, -1, GS_FIND_NONE},
};

START_TEST(test_rule_limit)
{
    const limit_vec *v = &limit_vecs[_i];
    gs_finding got = gs_rule_limit(v->actual, v->limit, GS_FIND_AFFAIR_TABLES);
    ck_assert_msg(got == v->expect, "%s: got %s", v->name, finding_name(got));
}
END_TEST

/* One figure of an affair against one standard; everything else unknown. */
typedef struct affair_vec {
    const char *name;
    gs_affair_kind kind;
    size_t actual_at, limit_at; /* offsetof the figure in gs_affair_in / gs_council_std */
    int64_t actual, limit;
    const char *expect; /* formatted findings */
} affair_vec;

#define A_(f) offsetof(gs_affair_in, f)
#define S_(f) offsetof(gs_council_std, f)

static const affair_vec affair_vecs[] = {
    {"wedding tables equal", GS_AFFAIR_WEDDING, A_(tables), S_(max_tables), 10, 10, ""},
    {"wedding tables one over", GS_AFFAIR_WEDDING, A_(tables), S_(max_tables), 11, 10,
     "AFFAIR_TABLES"},
    {"funeral tables one over", GS_AFFAIR_FUNERAL, A_(tables), S_(max_tables), 11, 10,
     "AFFAIR_TABLES"},
    {"other tables one over", GS_AFFAIR_OTHER, A_(tables), S_(max_tables), 21, 20, "AFFAIR_TABLES"},
    {"cost equal", GS_AFFAIR_WEDDING, A_(cost_per_table), S_(max_cost_per_table), 300, 300, ""},
    {"cost one over", GS_AFFAIR_WEDDING, A_(cost_per_table), S_(max_cost_per_table), 301, 300,
     "AFFAIR_COST"},
    {"funeral cost one over", GS_AFFAIR_FUNERAL, A_(cost_per_table), S_(max_cost_per_table), 301,
     300, "AFFAIR_COST"},
    {"gift equal", GS_AFFAIR_OTHER, A_(gift), S_(max_gift), 100, 100, ""},
    {"gift one over", GS_AFFAIR_OTHER, A_(gift), S_(max_gift), 101, 100, "AFFAIR_GIFT"},
    {"funeral gift one over", GS_AFFAIR_FUNERAL, A_(gift), S_(max_gift), 51, 50, "AFFAIR_GIFT"},
    {"wedding cars equal", GS_AFFAIR_WEDDING, A_(cars), S_(max_cars), 10, 10, ""},
    {"wedding cars one over", GS_AFFAIR_WEDDING, A_(cars), S_(max_cars), 11, 10, "AFFAIR_CARS"},
    {"funeral cars not counted", GS_AFFAIR_FUNERAL, A_(cars), S_(max_cars), 30, 10, ""},
    {"other cars not counted", GS_AFFAIR_OTHER, A_(cars), S_(max_cars), 30, 10, ""},
    {"bride price equal", GS_AFFAIR_WEDDING, A_(bride_price), S_(max_bride_price), 30000, 30000,
     ""},
    {"bride price one over", GS_AFFAIR_WEDDING, A_(bride_price), S_(max_bride_price), 30001, 30000,
     "AFFAIR_BRIDE_PRICE"},
    {"bride price of a funeral", GS_AFFAIR_FUNERAL, A_(bride_price), S_(max_bride_price), 30001,
     30000, ""},
    {"funeral days equal", GS_AFFAIR_FUNERAL, A_(days), S_(max_funeral_days), 5, 5, ""},
    {"funeral days one over", GS_AFFAIR_FUNERAL, A_(days), S_(max_funeral_days), 6, 5,
     "AFFAIR_DAYS"},
    {"wedding days not counted", GS_AFFAIR_WEDDING, A_(days), S_(max_funeral_days), 6, 5, ""},
    {"tables not recorded", GS_AFFAIR_WEDDING, A_(tables), S_(max_tables), -1, 0, ""},
    {"no tables limit", GS_AFFAIR_WEDDING, A_(tables), S_(max_tables), 500, -1, ""},
};

START_TEST(test_affair_limits)
{
    const affair_vec *v = &affair_vecs[_i];
    gs_council_std s = {-1, -1, -1, -1, -1, -1, false};
    gs_affair_in a = {v->kind, -1, -1, -1, -1, -1, -1, -1};
    *(int64_t *)((char *)&a + v->actual_at) = v->actual;
    *(int64_t *)((char *)&s + v->limit_at) = v->limit;
    char got[512];
    set_str(gs_affair_check(&s, &a), got, sizeof got);
    ck_assert_msg(strcmp(got, v->expect) == 0, "%s: \"%s\", expected \"%s\"", v->name, got,
                  v->expect);
}
END_TEST

typedef struct cremation_vec {
    const char *name;
    bool required;
    gs_affair_kind kind;
    int cremation;
    bool violation;
} cremation_vec;

static const cremation_vec cremation_vecs[] = {
    {"required, not cremated", true, GS_AFFAIR_FUNERAL, GS_CREMATION_NO, true},
    {"required, exempt (Hui household)", true, GS_AFFAIR_FUNERAL, GS_CREMATION_EXEMPT, false},
    {"required, cremated", true, GS_AFFAIR_FUNERAL, GS_CREMATION_YES, false},
    {"required, not recorded", true, GS_AFFAIR_FUNERAL, -1, false},
    {"not required, not cremated", false, GS_AFFAIR_FUNERAL, GS_CREMATION_NO, false},
    {"not required, exempt", false, GS_AFFAIR_FUNERAL, GS_CREMATION_EXEMPT, false},
    {"wedding", true, GS_AFFAIR_WEDDING, GS_CREMATION_NO, false},
    {"other affair", true, GS_AFFAIR_OTHER, GS_CREMATION_NO, false},
};

START_TEST(test_affair_cremation)
{
    const cremation_vec *v = &cremation_vecs[_i];
    gs_council_std s = {10, 300, 100, 6, 3, 30000, v->required};
    gs_affair_in a = {v->kind, 10, 300, 100, 6, 3, 30000, v->cremation};
    gs_findset got = gs_affair_check(&s, &a);
    gs_findset want = v->violation ? GS_FINDBIT(GS_FIND_AFFAIR_CREMATION) : 0;
    ck_assert_msg(got == want, "%s: got %llx", v->name, (unsigned long long)got);
}
END_TEST

/* Several violations at once are all reported, in code order. */
START_TEST(test_affair_several)
{
    char got[512];
    gs_council_std s = {10, 300, 200, 6, 1, 30000, true};
    gs_affair_in w = {GS_AFFAIR_WEDDING, 12, 300, 201, 8, 2, 50000, GS_CREMATION_NO};
    set_str(gs_affair_check(&s, &w), got, sizeof got);
    ck_assert_str_eq(got, "AFFAIR_TABLES;AFFAIR_GIFT;AFFAIR_CARS;AFFAIR_BRIDE_PRICE");
    gs_affair_in f = {GS_AFFAIR_FUNERAL, 11, 301, 200, 8, 2, 50000, GS_CREMATION_NO};
    set_str(gs_affair_check(&s, &f), got, sizeof got);
    ck_assert_str_eq(got, "AFFAIR_TABLES;AFFAIR_COST;AFFAIR_DAYS;AFFAIR_CREMATION");
    gs_affair_in ok = {GS_AFFAIR_FUNERAL, 10, 300, 200, 8, 1, 50000, GS_CREMATION_EXEMPT};
    ck_assert_uint_eq(gs_affair_check(&s, &ok), 0);
}
END_TEST

/* ---- incident status workflow ----------------------------------------------------- */

typedef struct transition_vec {
    gs_status from, to;
} transition_vec;

/* Every allowed transition (DOMAIN.md §2.5). */
static const transition_vec allowed_vecs[] = {
    {GS_ST_REPORTED, GS_ST_ACCEPTED},     {GS_ST_REPORTED, GS_ST_REJECTED},
    {GS_ST_ACCEPTED, GS_ST_REGISTERED},   {GS_ST_ACCEPTED, GS_ST_CLOSED},
    {GS_ST_ACCEPTED, GS_ST_REJECTED},     {GS_ST_REGISTERED, GS_ST_DISPATCHED},
    {GS_ST_DISPATCHED, GS_ST_DISPATCHED}, {GS_ST_DISPATCHED, GS_ST_IN_PROGRESS},
    {GS_ST_IN_PROGRESS, GS_ST_FEEDBACK},  {GS_ST_IN_PROGRESS, GS_ST_SUSPENDED},
    {GS_ST_SUSPENDED, GS_ST_IN_PROGRESS}, {GS_ST_FEEDBACK, GS_ST_VERIFIED},
    {GS_ST_FEEDBACK, GS_ST_DISPATCHED},   {GS_ST_VERIFIED, GS_ST_CLOSED},
    {GS_ST_VERIFIED, GS_ST_DISPATCHED},   {GS_ST_CLOSED, GS_ST_EVALUATED},
};

static const transition_vec forbidden_vecs[] = {
    {GS_ST_REPORTED, GS_ST_REGISTERED},  {GS_ST_REPORTED, GS_ST_CLOSED},
    {GS_ST_REPORTED, GS_ST_REPORTED},    {GS_ST_ACCEPTED, GS_ST_DISPATCHED},
    {GS_ST_REGISTERED, GS_ST_CLOSED},    {GS_ST_REGISTERED, GS_ST_REJECTED},
    {GS_ST_DISPATCHED, GS_ST_CLOSED},    {GS_ST_IN_PROGRESS, GS_ST_CLOSED},
    {GS_ST_IN_PROGRESS, GS_ST_VERIFIED}, {GS_ST_SUSPENDED, GS_ST_FEEDBACK},
    {GS_ST_FEEDBACK, GS_ST_CLOSED},      {GS_ST_VERIFIED, GS_ST_EVALUATED},
    {GS_ST_CLOSED, GS_ST_DISPATCHED},    {GS_ST_CLOSED, GS_ST_REPORTED},
    {GS_ST_REJECTED, GS_ST_ACCEPTED},    {GS_ST_REJECTED, GS_ST_REPORTED},
    {GS_ST_EVALUATED, GS_ST_CLOSED},     {GS_ST_EVALUATED, GS_ST_EVALUATED},
    {GS_ST_REPORTED, GS_ST__COUNT},      {GS_ST__COUNT, GS_ST_REPORTED},
};

START_TEST(test_transition_allowed)
{
    const transition_vec *v = &allowed_vecs[_i];
    ck_assert_msg(gs_rule_transition(v->from, v->to) == GS_FIND_NONE, "%s -> %s refused",
                  gs_status_names[v->from], gs_status_names[v->to]);
}
END_TEST

START_TEST(test_transition_forbidden)
{
    const transition_vec *v = &forbidden_vecs[_i];
    ck_assert_msg(gs_rule_transition(v->from, v->to) == GS_FIND_BAD_TRANSITION, "%d -> %d allowed",
                  v->from, v->to);
}
END_TEST

/* The buttons of the city's queue (gs_incident_can): exactly the listed
 * steps, the same state again only for 退单 (dispatched → dispatched), and
 * nothing for a name that is no status. */
START_TEST(test_incident_can)
{
    for (int f = 0; f < GS_ST__COUNT; f++)
        for (int t = 0; t < GS_ST__COUNT; t++) {
            bool listed = false;
            for (size_t i = 0; i < COUNT_OF(allowed_vecs); i++)
                listed |=
                    allowed_vecs[i].from == (gs_status)f && allowed_vecs[i].to == (gs_status)t;
            ck_assert_msg(gs_incident_can(gs_status_names[f], gs_status_names[t], GS_ACTOR_CITY) ==
                              listed,
                          "%s -> %s", gs_status_names[f], gs_status_names[t]);
        }
    ck_assert(gs_incident_can("dispatched", "dispatched", GS_ACTOR_CITY));
    ck_assert(!gs_incident_can("accepted", "accepted", GS_ACTOR_CITY));
    ck_assert(!gs_incident_can("reported", "closed", GS_ACTOR_CITY));
    ck_assert(!gs_incident_can("reported", "accepted", 0));
    ck_assert(!gs_incident_can("reported' OR 1=1", "accepted", GS_ACTOR_CITY));
    ck_assert(!gs_incident_can(NULL, "accepted", GS_ACTOR_CITY));
}
END_TEST

/* Nothing is allowed beyond the list above. */
START_TEST(test_transition_matrix)
{
    int allowed = 0;
    for (int f = 0; f < GS_ST__COUNT; f++)
        for (int t = 0; t < GS_ST__COUNT; t++) {
            bool listed = false;
            for (size_t i = 0; i < COUNT_OF(allowed_vecs); i++)
                listed |=
                    allowed_vecs[i].from == (gs_status)f && allowed_vecs[i].to == (gs_status)t;
            gs_finding got = gs_rule_transition((gs_status)f, (gs_status)t);
            ck_assert_msg(got == (listed ? GS_FIND_NONE : GS_FIND_BAD_TRANSITION), "%s -> %s",
                          gs_status_names[f], gs_status_names[t]);
            allowed += got == GS_FIND_NONE;
        }
    ck_assert_int_eq(allowed, (int)COUNT_OF(allowed_vecs));
}
END_TEST

typedef struct next_vec {
    gs_status from;
    const char *text;
    bool closed;
} next_vec;

static const next_vec next_vecs[] = {
    {GS_ST_REPORTED, "受理(accepted)、不予受理(rejected)", false},
    {GS_ST_ACCEPTED, "立案(registered)、结案(closed)、不予受理(rejected)", false},
    {GS_ST_REJECTED, "无(终态)", true},
    {GS_ST_REGISTERED, "派遣(dispatched)", false},
    {GS_ST_DISPATCHED, "处置中(in_progress)、派遣(dispatched)", false},
    {GS_ST_IN_PROGRESS, "处置反馈(feedback)、延期挂账(suspended)", false},
    {GS_ST_SUSPENDED, "处置中(in_progress)", false},
    {GS_ST_FEEDBACK, "核查通过(verified)、派遣(dispatched)", false},
    {GS_ST_VERIFIED, "结案(closed)、派遣(dispatched)", false},
    {GS_ST_CLOSED, "综合评价(evaluated)", true},
    {GS_ST_EVALUATED, "无(终态)", true},
};

START_TEST(test_status_next)
{
    const next_vec *v = &next_vecs[_i];
    gs_buf b = GS_BUF_INIT;
    gs_buf_puts(&b, "下一步: ");
    gs_status_next(v->from, &b);
    ck_assert_int_eq(b.err, 0);
    ck_assert_str_eq(b.data + strlen("下一步: "), v->text);
    gs_buf_free(&b);
    ck_assert_msg(gs_status_is_closed(v->from) == v->closed, "%s closed?",
                  gs_status_names[v->from]);
}
END_TEST

/* ---- the suite ---------------------------------------------------------------------- */

#define LOOP(tc, fn, table) tcase_add_loop_test(tc, fn, 0, (int)COUNT_OF(table))

static Suite *rules_suite(void)
{
    Suite *s = suite_create("rules");
    TCase *tc;

    tc = tcase_create("findings");
    tcase_add_test(tc, test_finding_table);
    tcase_add_test(tc, test_finding_find_unknown);
    tcase_add_test(tc, test_findset_format);
    LOOP(tc, test_findset_parse, parse_vecs);
    tcase_add_test(tc, test_findset_round_trip);
    suite_add_tcase(s, tc);

    tc = tcase_create("enum_names");
    LOOP(tc, test_enum_names, names_vecs);
    suite_add_tcase(s, tc);

    tc = tcase_create("election_rules");
    LOOP(tc, test_rule_turnout, turnout_vecs);
    LOOP(tc, test_rule_first_round, first_round_vecs);
    LOOP(tc, test_rule_supplementary, supp_vecs);
    LOOP(tc, test_rule_contested, contested_vecs);
    LOOP(tc, test_rule_committee_size, size_vecs);
    LOOP(tc, test_rule_voter_list, list_vecs);
    tcase_add_test(tc, test_rule_women);
    LOOP(tc, test_rule_ballots, ballots_vecs);
    suite_add_tcase(s, tc);

    tc = tcase_create("election_errors");
    LOOP(tc, test_election_errors, errors_vecs);
    suite_add_tcase(s, tc);

    tc = tcase_create("election_evaluate");
    LOOP(tc, test_election_evaluate, eval_vecs);
    suite_add_tcase(s, tc);

    tc = tcase_create("affairs");
    LOOP(tc, test_rule_limit, limit_vecs);
    LOOP(tc, test_affair_limits, affair_vecs);
    LOOP(tc, test_affair_cremation, cremation_vecs);
    tcase_add_test(tc, test_affair_several);
    suite_add_tcase(s, tc);

    tc = tcase_create("incident_status");
    LOOP(tc, test_transition_allowed, allowed_vecs);
    LOOP(tc, test_transition_forbidden, forbidden_vecs);
    tcase_add_test(tc, test_incident_can);
    tcase_add_test(tc, test_transition_matrix);
    LOOP(tc, test_status_next, next_vecs);
    suite_add_tcase(s, tc);

    return s;
}

int main(void)
{
    return gst_run_suite(rules_suite());
}
