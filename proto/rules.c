/*
 * rules.c: the domain rules of gridsync (see rules.h and DOMAIN.md §2.5, §3, §4).
 *
 * Role: decide, from the figures a village enters, what the law and the
 * village's own standards say about them: whether an election is valid and who
 * is elected, whether a wedding or funeral broke the red-white council's
 * standards, and whether an incident may move from one status to another.
 * Every answer is a finding code (or a set of them), so it can be stored,
 * synced and counted.
 *
 * Invariants:
 *   - Integer arithmetic only. Every threshold is written as a product
 *     ("2*B > R", "3*v >= B"), never as a division, so the boundary is exact;
 *     the products are computed without signed overflow (cmp_mul below), so a
 *     figure near INT64_MAX from the network gives the right answer, not UB.
 *   - Nothing here allocates and nothing holds state: every function is pure
 *     over its arguments (gs_election_evaluate writes only to c[] and *out).
 *   - The finding table, the enum name arrays and the transition table are
 *     data; the functions only read them.
 */
#include <assert.h>
#include <string.h>

#include "gridsync/buf.h"
#include "gridsync/rules.h"

/* ---- findings ------------------------------------------------------------ */

_Static_assert(GS_FIND__COUNT <= 64, "a gs_findset holds at most 64 findings");

static const gs_finding_info finding_info[GS_FIND__COUNT] = {
#define GS_FIND_INFO(code, sev, zh, law, ver, art) {GS_FIND_##code, #code, sev, zh, law, ver, art},
    GS_FINDING_LIST(GS_FIND_INFO)
#undef GS_FIND_INFO
};

/* The table entry of f, or NULL when f is not a finding code (a number taken
 * from a stored record or a message may be anything). */
const gs_finding_info *gs_finding_get(gs_finding f)
{
    if ((int)f < 0 || f >= GS_FIND__COUNT)
        return NULL;
    return &finding_info[f];
}

/* Where a residents' committee's election findings rest (DOMAIN.md §3.2):
 * 城市居民委员会组织法, 2018 text. Its art. 8 sets how the committee is
 * elected and leaves turnout and majority thresholds to the provincial
 * 实施办法, which in Henan follow the villagers' rules (过半数, ⅓ in the
 * 另行选举); its art. 7 sizes the committee at 5-9 members. It has no
 * voter-list or women-member article of its own: those findings rest on the
 * provincial rules. Findings not listed keep the table's citation. */
#define RESIDENTS_LAW "城市居民委员会组织法"
#define RESIDENTS_RULES "城市居民委员会组织法实施办法(省级)"
static const gs_finding_info residents_info[] = {
    {GS_FIND_NO_VOTERS, "NO_VOTERS", GS_SEV_FINDING, "登记选民数为零", RESIDENTS_LAW, "2018-12-29",
     "第八条"},
    {GS_FIND_TURNOUT_INVALID, "TURNOUT_INVALID", GS_SEV_FINDING,
     "投票人数未过登记选民半数，选举无效", RESIDENTS_LAW, "2018-12-29", "第八条"},
    {GS_FIND_BELOW_HALF, "BELOW_HALF", GS_SEV_FINDING, "得票未过投票人数半数，不能当选",
     RESIDENTS_LAW, "2018-12-29", "第八条"},
    {GS_FIND_TIE_REVOTE, "TIE_REVOTE", GS_SEV_FINDING,
     "当选线上得票相等，须就票数相等的候选人重新投票", RESIDENTS_RULES, "", ""},
    {GS_FIND_SUPP_BELOW_THIRD, "SUPP_BELOW_THIRD", GS_SEV_FINDING,
     "另行选举得票少于投票人数三分之一，不能当选", RESIDENTS_LAW, "2018-12-29", "第八条"},
    {GS_FIND_SEATS_UNFILLED, "SEATS_UNFILLED", GS_SEV_FINDING, "应选名额未选满", RESIDENTS_LAW,
     "2018-12-29", "第八条"},
    {GS_FIND_NOT_CONTESTED, "NOT_CONTESTED", GS_SEV_FINDING, "候选人数未多于应选名额(非差额选举)",
     RESIDENTS_LAW, "2018-12-29", "第八条"},
    {GS_FIND_SIZE_SMALL, "SIZE_SMALL", GS_SEV_FINDING, "委员会职数少于法定下限(五人)",
     RESIDENTS_LAW, "2018-12-29", "第七条"},
    {GS_FIND_SIZE_LARGE, "SIZE_LARGE", GS_SEV_FINDING, "委员会职数多于法定上限(九人)",
     RESIDENTS_LAW, "2018-12-29", "第七条"},
    {GS_FIND_NO_WOMAN, "NO_WOMAN", GS_SEV_FINDING, "当选成员中没有妇女", RESIDENTS_RULES, "", ""},
    {GS_FIND_LIST_LATE, "LIST_LATE", GS_SEV_FINDING, "选民名单公布不足二十日", RESIDENTS_RULES,
     "", ""},
};

const gs_finding_info *gs_finding_cite(gs_finding f, gs_committee c)
{
    if (c == GS_COMMITTEE_RESIDENTS)
        for (size_t i = 0; i < sizeof residents_info / sizeof residents_info[0]; i++)
            if (residents_info[i].code == f)
                return &residents_info[i];
    return gs_finding_get(f);
}

gs_finding gs_finding_find(const char *name)
{
    if (!name)
        return GS_FIND__COUNT;
    for (int i = 0; i < GS_FIND__COUNT; i++)
        if (strcmp(finding_info[i].name, name) == 0)
            return (gs_finding)i;
    return GS_FIND__COUNT;
}

/* NONE is bit 0 but stands for "nothing found", so it is never written. */
void gs_findset_format(gs_findset s, gs_buf *b)
{
    bool first = true;
    for (int i = GS_FIND_NONE + 1; i < GS_FIND__COUNT; i++) {
        if (!(s & GS_FINDBIT(i)))
            continue;
        if (!first)
            gs_buf_putc(b, ';');
        gs_buf_puts(b, finding_info[i].name);
        first = false;
    }
    if (first)
        gs_buf_puts(b, ""); /* an empty set still leaves b a valid C string */
}

/* Parses "A;B;C". Names are case-sensitive. The empty string is the empty
 * set; "NONE" is accepted and adds nothing (it is a finding name, just not a
 * member of any set). An empty name ("A;;B", "A;") or an unknown one is an
 * error: -1, and *out is left untouched. */
int gs_findset_parse(const char *text, gs_findset *out)
{
    assert(text && out);
    gs_findset s = 0;
    if (*text == '\0') {
        *out = 0;
        return 0;
    }
    const char *p = text;
    for (;;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int found = -1;
        for (int i = 0; i < GS_FIND__COUNT && len > 0; i++) {
            if (strlen(finding_info[i].name) == len && memcmp(finding_info[i].name, p, len) == 0) {
                found = i;
                break;
            }
        }
        if (found < 0)
            return -1;
        if (found != GS_FIND_NONE)
            s |= GS_FINDBIT(found);
        if (!end)
            break;
        p = end + 1;
    }
    *out = s;
    return 0;
}

/* ---- enum names ------------------------------------------------------------ */

const char *const gs_committee_names[] = {"village", "residents", "party", NULL};
const char *const gs_committee_names_zh[] = {"村民委员会", "居民委员会", "党组织委员会", NULL};

const char *const gs_post_names[] = {"chair", "vice_chair", "member", NULL};
const char *const gs_post_names_zh[] = {"主任", "副主任", "委员", NULL};

const char *const gs_outcome_names[] = {"not_elected", "elected", "tie_revote", NULL};
const char *const gs_outcome_names_zh[] = {"未当选", "当选", "票数相等须重新投票", NULL};

const char *const gs_affair_kind_names[] = {"wedding", "funeral", "other", NULL};
const char *const gs_affair_kind_names_zh[] = {"红事", "白事", "其他", NULL};

const char *const gs_cremation_names[] = {"yes", "no", "exempt", NULL};
const char *const gs_cremation_names_zh[] = {"是", "否", "豁免", NULL};

const char *const gs_status_names[] = {"reported",   "accepted",    "rejected",  "registered",
                                       "dispatched", "in_progress", "suspended", "feedback",
                                       "verified",   "closed",      "evaluated", NULL};
const char *const gs_status_names_zh[] = {"上报",     "受理",   "不予受理", "立案",
                                          "派遣",     "处置中", "延期挂账", "处置反馈",
                                          "核查通过", "结案",   "综合评价", NULL};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))
_Static_assert(COUNT_OF(gs_committee_names) == GS_COMMITTEE__COUNT + 1, "committee names");
_Static_assert(COUNT_OF(gs_committee_names_zh) == GS_COMMITTEE__COUNT + 1, "committee names");
_Static_assert(COUNT_OF(gs_post_names) == GS_POST__COUNT + 1, "post names");
_Static_assert(COUNT_OF(gs_post_names_zh) == GS_POST__COUNT + 1, "post names");
_Static_assert(COUNT_OF(gs_outcome_names) == GS_OUT_TIE_REVOTE + 2, "outcome names");
_Static_assert(COUNT_OF(gs_outcome_names_zh) == GS_OUT_TIE_REVOTE + 2, "outcome names");
_Static_assert(COUNT_OF(gs_affair_kind_names) == GS_AFFAIR__COUNT + 1, "affair kind names");
_Static_assert(COUNT_OF(gs_affair_kind_names_zh) == GS_AFFAIR__COUNT + 1, "affair kind names");
_Static_assert(COUNT_OF(gs_cremation_names) == GS_CREMATION__COUNT + 1, "cremation names");
_Static_assert(COUNT_OF(gs_cremation_names_zh) == GS_CREMATION__COUNT + 1, "cremation names");
_Static_assert(COUNT_OF(gs_status_names) == GS_ST__COUNT + 1, "status names");
_Static_assert(COUNT_OF(gs_status_names_zh) == GS_ST__COUNT + 1, "status names");

/* ---- integer helpers ------------------------------------------------------- */

/* Compares k*a with b exactly: <0, 0, >0. When k*a does not fit in int64 its
 * true value lies beyond every int64, so the sign of the product decides. */
static int cmp_mul(int64_t k, int64_t a, int64_t b)
{
    int64_t p;
    if (__builtin_mul_overflow(k, a, &p))
        return ((k < 0) != (a < 0)) ? -1 : 1;
    return (p > b) - (p < b);
}

/* a + b, saturated at INT64_MAX (both are >= 0 where it is used). */
static int64_t add_sat(int64_t a, int64_t b)
{
    int64_t s;
    if (__builtin_add_overflow(a, b, &s))
        return INT64_MAX;
    return s;
}

/* ---- single election rules --------------------------------------------------- */

/* "过半数" is strictly more than half: 2*B > R. No registered voter (or a
 * negative count, which gs_rule_ballots refuses anyway) is its own finding. */
gs_finding gs_rule_turnout(int64_t registered, int64_t cast)
{
    if (registered <= 0)
        return GS_FIND_NO_VOTERS;
    return cmp_mul(2, cast, registered) > 0 ? GS_FIND_NONE : GS_FIND_TURNOUT_INVALID;
}

gs_finding gs_rule_first_round(int64_t votes, int64_t cast)
{
    return cmp_mul(2, votes, cast) > 0 ? GS_FIND_NONE : GS_FIND_BELOW_HALF;
}

/* "不得少于三分之一" includes the boundary: 3*v >= B. */
gs_finding gs_rule_supplementary(int64_t votes, int64_t cast)
{
    return cmp_mul(3, votes, cast) >= 0 ? GS_FIND_NONE : GS_FIND_SUPP_BELOW_THIRD;
}

/* A post with no seat is not checked: there is nothing to contest. */
gs_finding gs_rule_contested(int64_t candidates, int64_t seats)
{
    if (seats <= 0)
        return GS_FIND_NONE;
    return candidates > seats ? GS_FIND_NONE : GS_FIND_NOT_CONTESTED;
}

/* Sizes from the 2018 texts: 村民委员会组织法 art. 6 (3..7), 城市居民委员会
 * 组织法 art. 7 (5..9). The Party committee is elected under Party rules and
 * is not checked here. */
bool gs_committee_size_limits(gs_committee c, int64_t *lo, int64_t *hi)
{
    switch (c) {
    case GS_COMMITTEE_VILLAGE: *lo = 3, *hi = 7; return true;
    case GS_COMMITTEE_RESIDENTS: *lo = 5, *hi = 9; return true;
    default: return false;
    }
}

gs_finding gs_rule_committee_size(gs_committee c, int64_t seats)
{
    int64_t lo, hi;
    if (!gs_committee_size_limits(c, &lo, &hi))
        return GS_FIND_NONE;
    if (seats < lo)
        return GS_FIND_SIZE_SMALL;
    if (seats > hi)
        return GS_FIND_SIZE_LARGE;
    return GS_FIND_NONE;
}

gs_finding gs_rule_women(int64_t women_elected)
{
    return women_elected >= 1 ? GS_FIND_NONE : GS_FIND_NO_WOMAN;
}

/* At least 20 days (art. 14); -1 means the date was not recorded, which is
 * not held against the election. Any other negative (published after the
 * election) is late. */
gs_finding gs_rule_voter_list(int64_t days_before)
{
    if (days_before == -1 || days_before >= 20)
        return GS_FIND_NONE;
    return GS_FIND_LIST_LATE;
}

/* Negative figures: a negative count of voters or ballots cannot be entered
 * correctly, so it is refused as BALLOTS_SUM (the figures do not add up)
 * rather than with a new finding code. The same choice is made for negative
 * votes, seats and supp_cast (other than -1) in gs_election_errors. */
gs_finding gs_rule_ballots(int64_t registered, int64_t cast, int64_t valid, int64_t invalid)
{
    if (registered < 0 || cast < 0 || valid < 0 || invalid < 0)
        return GS_FIND_BALLOTS_SUM;
    /* valid + invalid == cast, written so that nothing can overflow */
    if (valid > cast || cast - valid != invalid)
        return GS_FIND_BALLOTS_SUM;
    if (cast > registered)
        return GS_FIND_CAST_OVER_REGISTERED;
    return GS_FIND_NONE;
}

/* ---- whole elections ---------------------------------------------------------- */

/* Ballots cast in the supplementary round: its own count, or the first round's. */
static int64_t supp_ballots(const gs_election_in *e)
{
    return e->supp_cast == -1 ? e->cast : e->supp_cast;
}

/* Post and round come from the decoder, which maps names through the enum
 * name arrays; anything else is a programmer error, asserted. (A macro, so
 * that an NDEBUG build has no unused function.) Without asserts, a candidate
 * with a bad post or round matches no post and round and is never elected. */
#define VALID_CANDIDATE(x)                                                                         \
    ((int)(x).post >= 0 && (int)(x).post < GS_POST__COUNT &&                                       \
     ((x).round == GS_ROUND_FIRST || (x).round == GS_ROUND_SUPPLEMENTARY))

int64_t gs_election_seats(const gs_election_in *e)
{
    int64_t t = 0;
    for (int p = 0; p < GS_POST__COUNT; p++)
        t = add_sat(t, e->seats[p] > 0 ? e->seats[p] : 0);
    return t;
}

/* True when the votes of the candidates of round r sum to at most seats*cap.
 * Every vote is already known to lie in [0, cap], so the sum is kept as
 * full*cap + rem with 0 <= rem < cap: no product or sum can overflow, and the
 * comparison is exact for any int64 figures. */
static bool votes_within(const gs_candidate_in *c, size_t n, gs_round r, int64_t seats, int64_t cap)
{
    if (cap == 0)
        return true; /* every vote is 0 */
    int64_t full = 0, rem = 0;
    for (size_t i = 0; i < n; i++) {
        if (c[i].round != r)
            continue;
        if (c[i].votes >= cap - rem) {
            rem -= cap - c[i].votes;
            full++;
        } else {
            rem += c[i].votes;
        }
        if (full > seats || (full == seats && rem > 0))
            return false;
    }
    return true;
}

gs_finding gs_election_errors(const gs_election_in *e, const gs_candidate_in *c, size_t n)
{
    assert(e && (c || n == 0));
    gs_finding f = gs_rule_ballots(e->registered, e->cast, e->valid, e->invalid);
    if (f != GS_FIND_NONE)
        return f;
    if (e->supp_cast < -1)
        return GS_FIND_BALLOTS_SUM;
    if (e->supp_cast > e->registered)
        return GS_FIND_CAST_OVER_REGISTERED;
    for (int p = 0; p < GS_POST__COUNT; p++)
        if (e->seats[p] < 0)
            return GS_FIND_BALLOTS_SUM;

    int64_t b2 = supp_ballots(e);
    for (size_t i = 0; i < n; i++) {
        assert(VALID_CANDIDATE(c[i]));
        if (c[i].votes < 0)
            return GS_FIND_BALLOTS_SUM;
        if (c[i].votes > (c[i].round == GS_ROUND_FIRST ? e->valid : b2))
            return GS_FIND_VOTES_OVER_VALID;
    }
    int64_t seats = gs_election_seats(e);
    if (!votes_within(c, n, GS_ROUND_FIRST, seats, e->valid) ||
        !votes_within(c, n, GS_ROUND_SUPPLEMENTARY, seats, b2))
        return GS_FIND_VOTES_OVER_TOTAL;
    return GS_FIND_NONE;
}

/* The result of filling the seats of one post in one round. */
typedef struct fill {
    int64_t elected; /* candidates elected */
    bool tie;        /* a tie straddles the cut-off: the remaining seats await a revote */
} fill;

/*
 * Fills up to `seats` seats of post p from the candidates of round r who pass
 * the round's threshold, highest votes first. Candidates are ranked without
 * sorting (and without allocating): a candidate with `above` qualifiers
 * strictly ahead and `level` qualifiers at its own vote count (itself
 * included) holds places above+1 .. above+level. It is elected when that whole
 * range fits in the seats, gets TIE_REVOTE when the range straddles the last
 * seat, and is not elected when it starts past the last seat. Those who fail
 * the threshold get `below` (BELOW_HALF or SUPP_BELOW_THIRD).
 */
static fill fill_post(gs_candidate_in *c, size_t n, gs_post p, gs_round r, int64_t seats,
                      int64_t cast, gs_finding below)
{
    fill out = {0, false};
    gs_finding (*rule)(int64_t, int64_t) =
        r == GS_ROUND_FIRST ? gs_rule_first_round : gs_rule_supplementary;
    for (size_t i = 0; i < n; i++) {
        if (c[i].post != p || c[i].round != r)
            continue;
        if (rule(c[i].votes, cast) != GS_FIND_NONE) {
            c[i].findings |= GS_FINDBIT(below);
            continue;
        }
        int64_t above = 0, level = 0;
        for (size_t j = 0; j < n; j++) {
            if (c[j].post != p || c[j].round != r || rule(c[j].votes, cast) != GS_FIND_NONE)
                continue;
            if (c[j].votes > c[i].votes)
                above++;
            else if (c[j].votes == c[i].votes)
                level++;
        }
        if (above + level <= seats) {
            c[i].outcome = GS_OUT_ELECTED;
            out.elected++;
        } else if (above < seats) {
            c[i].outcome = GS_OUT_TIE_REVOTE;
            c[i].findings |= GS_FINDBIT(GS_FIND_TIE_REVOTE);
            out.tie = true;
        }
    }
    return out;
}

/*
 * Decides the election in the order of 村民委员会组织法 art. 15: turnout, then
 * the first round per post, then the 另行选举 for the seats the first round
 * left open.
 *
 * Seats held by a pending revote (a tie at the cut-off, in either round) are
 * neither open for the supplementary round nor counted as unfilled: the
 * revote among the tied candidates will fill them. They are reported through
 * TIE_REVOTE instead.
 *
 * When the turnout fails (or no voter is registered) nobody is elected, every
 * seat is unfilled (so SEATS_UNFILLED is set too), and candidates get no
 * finding: their votes decide nothing. NO_WOMAN is only judged on a valid
 * election; size, list and contest findings do not depend on the vote and are
 * reported either way.
 *
 * A Party committee (党组织委员会) is elected under the Party's own rules,
 * not the organic laws: its outcomes and counts are decided with the same
 * arithmetic, but no organic-law finding is set, on it or its candidates.
 */
void gs_election_evaluate(const gs_election_in *e, gs_candidate_in *c, size_t n,
                          gs_election_out *out)
{
    assert(e && out && (c || n == 0));
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < n; i++) {
        assert(VALID_CANDIDATE(c[i]));
        c[i].outcome = GS_OUT_NOT_ELECTED;
        c[i].findings = 0;
    }

    int64_t seats = gs_election_seats(e);
    gs_findset fs = 0;

    for (int p = 0; p < GS_POST__COUNT; p++) {
        int64_t first = 0;
        for (size_t i = 0; i < n; i++)
            if (c[i].post == (gs_post)p && c[i].round == GS_ROUND_FIRST)
                first++;
        fs |= GS_FINDBIT(gs_rule_contested(first, e->seats[p]));
    }
    fs |= GS_FINDBIT(gs_rule_committee_size(e->committee, seats));
    fs |= GS_FINDBIT(gs_rule_voter_list(e->list_days_before));

    gs_finding turnout = gs_rule_turnout(e->registered, e->cast);
    if (turnout != GS_FIND_NONE) {
        fs |= GS_FINDBIT(turnout);
        out->unfilled = seats;
    } else {
        int64_t b2 = supp_ballots(e);
        for (int p = 0; p < GS_POST__COUNT; p++) {
            int64_t s = e->seats[p] > 0 ? e->seats[p] : 0;
            fill f1 = fill_post(c, n, (gs_post)p, GS_ROUND_FIRST, s, e->cast, GS_FIND_BELOW_HALF);
            int64_t open = f1.tie ? 0 : s - f1.elected;
            fill f2 = {0, false};
            if (open > 0)
                f2 = fill_post(c, n, (gs_post)p, GS_ROUND_SUPPLEMENTARY, open, b2,
                               GS_FIND_SUPP_BELOW_THIRD);
            if (!f2.tie)
                out->unfilled += open - f2.elected;
        }
        for (size_t i = 0; i < n; i++) {
            fs |= c[i].findings &
                  (GS_FINDBIT(GS_FIND_TIE_REVOTE) | GS_FINDBIT(GS_FIND_SUPP_BELOW_THIRD));
            if (c[i].outcome != GS_OUT_ELECTED)
                continue;
            out->elected++;
            if (c[i].female)
                out->women_elected++;
            if (c[i].post == GS_POST_CHAIR && c[i].party_secretary)
                out->yijiantiao = true;
        }
        if (e->committee == GS_COMMITTEE_VILLAGE || e->committee == GS_COMMITTEE_RESIDENTS)
            fs |= GS_FINDBIT(gs_rule_women(out->women_elected));
    }
    if (out->unfilled > 0)
        fs |= GS_FINDBIT(GS_FIND_SEATS_UNFILLED);
    out->findings = fs & ~GS_FINDBIT(GS_FIND_NONE);
    if (e->committee == GS_COMMITTEE_PARTY) {
        out->findings = 0;
        for (size_t i = 0; i < n; i++)
            c[i].findings = 0;
    }
}

/* ---- red-white council affairs -------------------------------------------- */

/* -1 means "not recorded" or "no limit"; any other negative is treated the
 * same way, since a negative count can neither break nor set a limit. */
gs_finding gs_rule_limit(int64_t actual, int64_t limit, gs_finding if_over)
{
    if (actual < 0 || limit < 0)
        return GS_FIND_NONE;
    return actual > limit ? if_over : GS_FIND_NONE;
}

/* Cremation: a violation only when the council requires it and the affair
 * records that the body was not cremated. EXEMPT (minority customs, 殡葬管理
 * 条例 art. 6), YES and "not recorded" never are. */
gs_findset gs_affair_check(const gs_council_std *s, const gs_affair_in *a)
{
    assert(s && a);
    gs_findset fs = 0;
    fs |= GS_FINDBIT(gs_rule_limit(a->tables, s->max_tables, GS_FIND_AFFAIR_TABLES));
    fs |= GS_FINDBIT(gs_rule_limit(a->cost_per_table, s->max_cost_per_table, GS_FIND_AFFAIR_COST));
    fs |= GS_FINDBIT(gs_rule_limit(a->gift, s->max_gift, GS_FIND_AFFAIR_GIFT));
    if (a->kind == GS_AFFAIR_WEDDING) {
        fs |= GS_FINDBIT(gs_rule_limit(a->cars, s->max_cars, GS_FIND_AFFAIR_CARS));
        fs |= GS_FINDBIT(
            gs_rule_limit(a->bride_price, s->max_bride_price, GS_FIND_AFFAIR_BRIDE_PRICE));
    }
    if (a->kind == GS_AFFAIR_FUNERAL) {
        fs |= GS_FINDBIT(gs_rule_limit(a->days, s->max_funeral_days, GS_FIND_AFFAIR_DAYS));
        if (s->cremation_required && a->cremation == GS_CREMATION_NO)
            fs |= GS_FINDBIT(GS_FIND_AFFAIR_CREMATION);
    }
    return fs & ~GS_FINDBIT(GS_FIND_NONE);
}

gs_finding gs_affair_entry_error(int cremation, bool has_exemption)
{
    if (cremation == GS_CREMATION_EXEMPT && !has_exemption)
        return GS_FIND_EXEMPTION_MISSING;
    if (cremation == GS_CREMATION_NO && has_exemption)
        return GS_FIND_EXEMPTION_CONTRADICTS;
    return GS_FIND_NONE;
}

/* ---- incident status workflow ------------------------------------------------ */

/* The workflow as one table: each allowed transition, main path first within
 * a state, and who may make it. Villages (their PCs) and the city (its
 * hub, and later its county and township users) may make every step today:
 * a village office accepts, registers and closes its own cases, and the city
 * takes any case over. The column is here so that a transition reserved to
 * one side is one edit. Closing stamps closed_at (derive.c). */
static const struct transition {
    gs_status from, to;
    unsigned who; /* GS_ACTOR_* bits */
} transitions[] = {
#define ANY (GS_ACTOR_VILLAGE | GS_ACTOR_CITY)
    {GS_ST_REPORTED, GS_ST_ACCEPTED, ANY},
    {GS_ST_REPORTED, GS_ST_REJECTED, ANY},
    {GS_ST_ACCEPTED, GS_ST_REGISTERED, ANY},
    /* the grid worker resolved it on the spot (自处置) */
    {GS_ST_ACCEPTED, GS_ST_CLOSED, ANY},
    {GS_ST_ACCEPTED, GS_ST_REJECTED, ANY},
    {GS_ST_REGISTERED, GS_ST_DISPATCHED, ANY},
    {GS_ST_DISPATCHED, GS_ST_IN_PROGRESS, ANY},
    /* returned or reassigned (退单/改派) */
    {GS_ST_DISPATCHED, GS_ST_DISPATCHED, ANY},
    {GS_ST_IN_PROGRESS, GS_ST_FEEDBACK, ANY},
    {GS_ST_IN_PROGRESS, GS_ST_SUSPENDED, ANY},
    {GS_ST_SUSPENDED, GS_ST_IN_PROGRESS, ANY},
    {GS_ST_FEEDBACK, GS_ST_VERIFIED, ANY},
    /* verification failed, rework (返工) */
    {GS_ST_FEEDBACK, GS_ST_DISPATCHED, ANY},
    {GS_ST_VERIFIED, GS_ST_CLOSED, ANY},
    {GS_ST_VERIFIED, GS_ST_DISPATCHED, ANY},
    {GS_ST_CLOSED, GS_ST_EVALUATED, ANY},
#undef ANY
};
#define NTRANSITIONS (sizeof transitions / sizeof transitions[0])

static bool valid_status(gs_status s)
{
    return (int)s >= 0 && s < GS_ST__COUNT;
}

static bool allowed(gs_status from, gs_status to, unsigned who)
{
    for (size_t i = 0; i < NTRANSITIONS; i++)
        if (transitions[i].from == from && transitions[i].to == to && (transitions[i].who & who))
            return true;
    return false;
}

gs_finding gs_rule_transition(gs_status from, gs_status to)
{
    if (!valid_status(from) || !valid_status(to))
        return GS_FIND_BAD_TRANSITION;
    return allowed(from, to, GS_ACTOR_VILLAGE | GS_ACTOR_CITY) ? GS_FIND_NONE
                                                               : GS_FIND_BAD_TRANSITION;
}

/* A state outside the enum has no next state and reads as final. */
void gs_status_next(gs_status from, gs_buf *b)
{
    bool any = false;
    for (size_t i = 0; valid_status(from) && i < NTRANSITIONS; i++) {
        if (transitions[i].from != from)
            continue;
        gs_buf_printf(b, "%s%s(%s)", any ? "、" : "", gs_status_names_zh[transitions[i].to],
                      gs_status_names[transitions[i].to]);
        any = true;
    }
    if (!any)
        gs_buf_puts(b, "无(终态)");
}

static int status_index(const char *name)
{
    for (int i = 0; name && i < GS_ST__COUNT; i++)
        if (!strcmp(gs_status_names[i], name))
            return i;
    return -1;
}

int gs_incident_transition(const char *from, const char *to, unsigned who, gs_errbuf *eb)
{
    int f = status_index(from), t = status_index(to);
    if (t < 0)
        return gs_errf(eb, GS_EINVAL, "状态 (--status) %s is not a status", to ? to : "(none)");
    if (f < 0 || f == t)
        return GS_OK; /* a new record, or the same status again: no transition */
    if (allowed((gs_status)f, (gs_status)t, who))
        return GS_OK;
    gs_buf next = GS_BUF_INIT;
    gs_status_next((gs_status)f, &next);
    int rc = gs_errf(eb, GS_ETRANSITION, "状态 (--status) %s(%s) cannot go to %s(%s); allowed next: %s",
                     gs_status_names_zh[f], gs_status_names[f], gs_status_names_zh[t],
                     gs_status_names[t], next.data ? next.data : "");
    gs_buf_free(&next);
    return rc;
}

bool gs_incident_can(const char *from, const char *to, unsigned who)
{
    int f = status_index(from), t = status_index(to);
    return f >= 0 && t >= 0 && allowed((gs_status)f, (gs_status)t, who);
}

bool gs_status_is_closed(gs_status s)
{
    return s == GS_ST_CLOSED || s == GS_ST_EVALUATED || s == GS_ST_REJECTED;
}
