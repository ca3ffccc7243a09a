/*
 * gridsync/rules.h: the domain rules, in integer arithmetic only.
 *
 * Every rule returns a finding code (GS_FIND_NONE when the rule is met), not a
 * bool, so that what was found can be stored with the record, sent to the hub
 * and counted in reports. Each finding has a stable name, a Chinese text, a
 * severity and the rule it comes from as (law, version date, article), never
 * a bare article number (DOMAIN.md §0).
 *
 * Thresholds (DOMAIN.md §3.3; "过半数" is strictly more than half):
 *   election valid          2*B > R
 *   elected, first round    2*v > B, top S per post, a tie at the cut-off -> revote
 *   elected, supplementary  highest, and 3*v >= B
 *   contested               candidates > seats, per post, first round
 *   committee size          village 3..7, residents 5..9 (2018 texts)
 *   women                   at least one woman elected
 *   ballots                 valid + invalid == cast <= registered;
 *                           a candidate's votes <= valid; sum of votes <= seats * valid
 */
#ifndef GRIDSYNC_RULES_H
#define GRIDSYNC_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gridsync/buf.h"
#include "gridsync/err.h"

/* ---- findings ---------------------------------------------------------- */

#define GS_FINDING_LIST(X)                                                                         \
    /* code, severity, Chinese text, law, version date, article */                                 \
    X(NONE, GS_SEV_INFO, "无", "", "", "")                                                         \
    /* hard errors: the entry is refused */                                                        \
    X(BALLOTS_SUM, GS_SEV_ERROR, "有效票与无效票之和不等于投票人数", "", "", "")                   \
    X(CAST_OVER_REGISTERED, GS_SEV_ERROR, "投票人数超过登记选民数", "", "", "")                    \
    X(VOTES_OVER_VALID, GS_SEV_ERROR, "候选人得票数超过有效票数", "", "", "")                      \
    X(VOTES_OVER_TOTAL, GS_SEV_ERROR, "得票总数超过应选名额乘以有效票数", "", "", "")              \
    /* legal findings of an election */                                                            \
    X(NO_VOTERS, GS_SEV_FINDING, "登记选民数为零", "村民委员会组织法", "2018-12-29", "第十五条") \
    X(TURNOUT_INVALID, GS_SEV_FINDING, "投票人数未过登记选民半数，选举无效", "村民委员会组织法",   \
      "2018-12-29", "第十五条")                                                                    \
    X(BELOW_HALF, GS_SEV_FINDING, "得票未过投票人数半数，不能当选", "村民委员会组织法",            \
      "2018-12-29", "第十五条")                                                                    \
    X(TIE_REVOTE, GS_SEV_FINDING, "当选线上得票相等，须就票数相等的候选人重新投票",                \
      "村民委员会组织法实施办法(省级)", "", "")                                                    \
    X(SUPP_BELOW_THIRD, GS_SEV_FINDING, "另行选举得票少于投票人数三分之一，不能当选",             \
      "村民委员会组织法", "2018-12-29", "第十五条")                                                \
    X(SEATS_UNFILLED, GS_SEV_FINDING, "应选名额未选满", "村民委员会组织法", "2018-12-29",          \
      "第十五条")                                                                                  \
    X(NOT_CONTESTED, GS_SEV_FINDING, "候选人数未多于应选名额(非差额选举)", "村民委员会组织法",     \
      "2018-12-29", "第十五条")                                                                    \
    X(SIZE_SMALL, GS_SEV_FINDING, "委员会职数少于法定下限", "村民委员会组织法", "2018-12-29",      \
      "第六条")                                                                                    \
    X(SIZE_LARGE, GS_SEV_FINDING, "委员会职数多于法定上限", "村民委员会组织法", "2018-12-29",      \
      "第六条")                                                                                    \
    X(NO_WOMAN, GS_SEV_FINDING, "当选成员中没有妇女", "村民委员会组织法", "2018-12-29", "第六条") \
    X(LIST_LATE, GS_SEV_FINDING, "选民名单公布不足二十日", "村民委员会组织法", "2018-12-29",       \
      "第十四条")                                                                                  \
    /* red-white council affairs: violations of the village's standards */                        \
    X(AFFAIR_TABLES, GS_SEV_VIOLATION, "桌数超过标准", "村规民约·红白理事会章程", "", "")          \
    X(AFFAIR_COST, GS_SEV_VIOLATION, "每桌费用超过标准", "村规民约·红白理事会章程", "", "")        \
    X(AFFAIR_GIFT, GS_SEV_VIOLATION, "礼金超过标准", "村规民约·红白理事会章程", "", "")            \
    X(AFFAIR_CARS, GS_SEV_VIOLATION, "车辆数超过标准", "村规民约·红白理事会章程", "", "")          \
    X(AFFAIR_DAYS, GS_SEV_VIOLATION, "丧事天数超过标准", "村规民约·红白理事会章程", "", "")        \
    X(AFFAIR_BRIDE_PRICE, GS_SEV_VIOLATION, "彩礼超过标准", "村规民约·红白理事会章程", "", "")     \
    X(AFFAIR_CREMATION, GS_SEV_VIOLATION, "未按要求火化(且无豁免)", "殡葬管理条例", "2012-11-09", \
      "第二条/第六条")                                                                             \
    /* incidents */                                                                                \
    X(BAD_TRANSITION, GS_SEV_ERROR, "事件状态不能这样流转", "", "", "")                           \
    /* affairs: hard errors of entry (appended: codes are stored by name) */                       \
    X(EXEMPTION_MISSING, GS_SEV_ERROR, "火化为豁免时须填写豁免理由", "殡葬管理条例", "2012-11-09", \
      "第六条")                                                                                    \
    X(EXEMPTION_CONTRADICTS, GS_SEV_ERROR, "火化为否却填写了豁免理由，二者矛盾", "", "", "")

typedef enum { GS_SEV_INFO, GS_SEV_ERROR, GS_SEV_FINDING, GS_SEV_VIOLATION } gs_severity;

typedef enum {
#define GS_FIND_ENUM(code, sev, zh, law, ver, art) GS_FIND_##code,
    GS_FINDING_LIST(GS_FIND_ENUM)
#undef GS_FIND_ENUM
        GS_FIND__COUNT
} gs_finding;

/* A set of findings, one bit per gs_finding. */
typedef uint64_t gs_findset;
#define GS_FINDBIT(f) ((gs_findset)1 << (f))

typedef struct gs_finding_info {
    gs_finding code;
    const char *name; /* stable: "TURNOUT_INVALID" */
    gs_severity severity;
    const char *zh;
    const char *law, *version, *article; /* "" when not a legal rule */
} gs_finding_info;

const gs_finding_info *gs_finding_get(gs_finding f);
/* The finding named name; GS_FIND__COUNT if unknown. */
gs_finding gs_finding_find(const char *name);
/* Appends the names of the set as "A;B;C" (empty for none), in code order. */
void gs_findset_format(gs_findset s, gs_buf *b);
/* Parses "A;B;C"; unknown names are an error (-1), else 0. */
int gs_findset_parse(const char *text, gs_findset *out);

/* ---- elections ----------------------------------------------------------- */

typedef enum { GS_COMMITTEE_VILLAGE, GS_COMMITTEE_RESIDENTS, GS_COMMITTEE_PARTY, GS_COMMITTEE__COUNT } gs_committee;

/* The finding as it applies to an election of committee kind c: the law and
 * article it rests on differ by committee. A villagers' committee (村民委员会)
 * is judged under 村民委员会组织法 (the table above); a residents' committee
 * (居民委员会) under 城市居民委员会组织法 (2018 text: 5-9 members, art. 7;
 * elections art. 8, with the thresholds of the provincial 实施办法). A Party
 * committee gets no organic-law finding at all (gs_election_evaluate finds
 * none). An out-of-range c reads as a villagers' committee. NULL when f is
 * not a finding code. */
const gs_finding_info *gs_finding_cite(gs_finding f, gs_committee c);
/* Committee size limits of kind c (2018 texts); false for a Party committee,
 * which the organic laws do not size. */
bool gs_committee_size_limits(gs_committee c, int64_t *lo, int64_t *hi);
typedef enum { GS_POST_CHAIR, GS_POST_VICE_CHAIR, GS_POST_MEMBER, GS_POST__COUNT } gs_post;
typedef enum { GS_ROUND_FIRST = 1, GS_ROUND_SUPPLEMENTARY = 2 } gs_round;
typedef enum { GS_OUT_NOT_ELECTED, GS_OUT_ELECTED, GS_OUT_TIE_REVOTE } gs_outcome;

/* The enum names as stored (canonical) and shown (Chinese); used by the schema. */
extern const char *const gs_committee_names[], *const gs_committee_names_zh[];
extern const char *const gs_post_names[], *const gs_post_names_zh[];
extern const char *const gs_outcome_names[], *const gs_outcome_names_zh[];

/* One election's figures. Unknown optional figures are -1. */
typedef struct gs_election_in {
    gs_committee committee;
    int64_t registered;             /* R */
    int64_t cast;                   /* B, first round */
    int64_t valid, invalid;
    int64_t supp_cast;              /* ballots cast in the 另行选举, -1 = same as cast */
    int64_t seats[GS_POST__COUNT];  /* S per post */
    int64_t list_days_before;       /* days between voter-list publication and election day */
} gs_election_in;

typedef struct gs_candidate_in {
    int64_t votes;
    gs_post post;
    gs_round round;
    bool female;
    bool party_secretary;
    gs_outcome outcome; /* output of gs_election_evaluate */
    gs_findset findings; /* output: BELOW_HALF, SUPP_BELOW_THIRD, TIE_REVOTE */
} gs_candidate_in;

typedef struct gs_election_out {
    gs_findset findings;  /* election-level findings */
    int64_t elected;       /* candidates elected */
    int64_t women_elected;
    int64_t unfilled;      /* seats left unfilled */
    bool yijiantiao;       /* the elected chair is the Party secretary (一肩挑) */
} gs_election_out;

/* Seats to fill: chair + vice-chairs + members (a negative count as 0),
 * saturated at INT64_MAX. */
int64_t gs_election_seats(const gs_election_in *e);

/* Single rules, each GS_FIND_NONE when met. */
gs_finding gs_rule_turnout(int64_t registered, int64_t cast);
gs_finding gs_rule_first_round(int64_t votes, int64_t cast);
gs_finding gs_rule_supplementary(int64_t votes, int64_t cast);
gs_finding gs_rule_contested(int64_t candidates, int64_t seats);
gs_finding gs_rule_committee_size(gs_committee c, int64_t seats);
gs_finding gs_rule_women(int64_t women_elected);
gs_finding gs_rule_voter_list(int64_t days_before);
/* Ballot arithmetic of the election alone (the first error found). */
gs_finding gs_rule_ballots(int64_t registered, int64_t cast, int64_t valid, int64_t invalid);

/* Hard errors over the election and its candidates: the first one found, or
 * GS_FIND_NONE. An entry with a hard error is refused. */
gs_finding gs_election_errors(const gs_election_in *e, const gs_candidate_in *c, size_t n);

/* Decides every candidate's outcome and the election's legal findings.
 * Assumes gs_election_errors() found nothing. */
void gs_election_evaluate(const gs_election_in *e, gs_candidate_in *c, size_t n,
                          gs_election_out *out);

/* ---- red-white council affairs ------------------------------------------ */

typedef enum { GS_AFFAIR_WEDDING, GS_AFFAIR_FUNERAL, GS_AFFAIR_OTHER, GS_AFFAIR__COUNT } gs_affair_kind;
typedef enum { GS_CREMATION_YES, GS_CREMATION_NO, GS_CREMATION_EXEMPT, GS_CREMATION__COUNT } gs_cremation;

extern const char *const gs_affair_kind_names[], *const gs_affair_kind_names_zh[];
extern const char *const gs_cremation_names[], *const gs_cremation_names_zh[];

/* A council's standards; -1 means no limit set. */
typedef struct gs_council_std {
    int64_t max_tables, max_cost_per_table, max_gift, max_cars, max_funeral_days, max_bride_price;
    bool cremation_required;
} gs_council_std;

/* An affair's actual figures; -1 means not recorded. cremation is -1 when
 * not recorded. */
typedef struct gs_affair_in {
    gs_affair_kind kind;
    int64_t tables, cost_per_table, gift, cars, days, bride_price;
    int cremation; /* gs_cremation or -1 */
} gs_affair_in;

/* One limit: GS_FIND_NONE if actual or limit is unknown (-1) or actual <= limit. */
gs_finding gs_rule_limit(int64_t actual, int64_t limit, gs_finding if_over);
/* All violations of an affair against its council's standards. Days and
 * cremation apply to funerals, cars and bride price to weddings; tables,
 * cost and gift to all kinds. An exempt funeral (e.g. a Hui household) is
 * never a cremation violation. The caller passes GS_CREMATION_EXEMPT for a
 * funeral that records an exemption reason (gs_affair_entry_error refuses
 * "no" with a reason at entry; a row stored before that rule is read as the
 * exemption it records). */
gs_findset gs_affair_check(const gs_council_std *s, const gs_affair_in *a);

/* Hard errors of an affair's entry: EXEMPTION_MISSING (cremation exempt and
 * no reason), EXEMPTION_CONTRADICTS (cremation "no" and a reason given);
 * GS_FIND_NONE otherwise. cremation -1 when not recorded. */
gs_finding gs_affair_entry_error(int cremation, bool has_exemption);

/* ---- incident status workflow (DOMAIN.md §2.5) ---------------------------- */

typedef enum {
    GS_ST_REPORTED,
    GS_ST_ACCEPTED,
    GS_ST_REJECTED,
    GS_ST_REGISTERED,
    GS_ST_DISPATCHED,
    GS_ST_IN_PROGRESS,
    GS_ST_SUSPENDED,
    GS_ST_FEEDBACK,
    GS_ST_VERIFIED,
    GS_ST_CLOSED,
    GS_ST_EVALUATED,
    GS_ST__COUNT
} gs_status;

extern const char *const gs_status_names[], *const gs_status_names_zh[];

/* GS_FIND_NONE if from -> to is an allowed transition, else GS_FIND_BAD_TRANSITION. */
gs_finding gs_rule_transition(gs_status from, gs_status to);
/* Appends the allowed next states of from, "受理(accepted)、不予受理(rejected)";
 * "无(终态)" for a final state. */
void gs_status_next(gs_status from, gs_buf *b);
/* Who makes a change: a village PC, or the city (the hub and its users). */
enum { GS_ACTOR_VILLAGE = 1u, GS_ACTOR_CITY = 2u };
/* Checks an incident's move from status from to status to (canonical names)
 * by actor who (GS_ACTOR_* bits): GS_OK when allowed, when from is NULL (a
 * new record) or when the status stays the same (a note, a re-imported
 * export); else GS_ETRANSITION with "状态 (--status) 上报(reported) cannot go
 * to 结案(closed); allowed next: ..." in eb. The workflow is one table in
 * rules.c, used by gridnode and gridhub alike. */
int gs_incident_transition(const char *from, const char *to, unsigned who, gs_errbuf *eb);
/* True when the workflow table lists the step from -> to for who: the
 * buttons a page offers. Unlike gs_incident_transition the same state again
 * is a step only where the table has it (退单: dispatched -> dispatched). */
bool gs_incident_can(const char *from, const char *to, unsigned who);
/* True for states in which an incident counts as closed in reports. */
bool gs_status_is_closed(gs_status s);

#endif
