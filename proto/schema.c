/*
 * schema.c: the field tables of every record type (see schema.h).
 *
 * This file is the one place a record's shape is written down. The DDL, the
 * codec, validation, CSV headers, JSON names and the `add` options all read
 * these tables. Invariants: each type has exactly one GS_F_KEY field; every
 * non-reference type has exactly one GS_F_SCOPE field (a 12-digit village
 * code); fields are only appended (per-field clocks are stored by index).
 * Each table is written with designated initializers indexed by the field
 * constants of schema.h, so a row sits at the index its constant says; a
 * table of the wrong length does not compile, and test_record fails on a gap.
 */
#include <stdio.h>
#include <string.h>

#include "gridsync/rules.h"
#include "gridsync/schema.h"

#define ARRAY_LEN(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Enum values local to the schema; the ones the rules compute with live in rules.c. */
static const char *const level_en[] = {"province", "city", "county", "township", "village", NULL};
static const char *const level_zh[] = {"省", "市", "县区", "乡镇街道", "村社区", NULL};
/* A village-level unit's committee (村民委员会组织法 / 城市居民委员会组织法). */
static const char *const committee_kind_en[] = {"villagers", "residents", NULL};
static const char *const committee_kind_zh[] = {"村民委员会", "居民委员会", NULL};
static const char *const gender_en[] = {"male", "female", NULL};
static const char *const gender_zh[] = {"男", "女", NULL};
static const char *const gridkind_en[] = {"comprehensive", "dedicated", NULL};
static const char *const gridkind_zh[] = {"综合网格", "专属网格", NULL};
static const char *const source_en[] = {"patrol", "resident", "hotline", "video", "higher", NULL};
static const char *const source_zh[] = {"网格员巡查", "群众反映", "12345热线", "视频物联", "上级交办",
                                        NULL};
static const char *const round_en[] = {"first", "supplementary", NULL};
static const char *const round_zh[] = {"第一轮", "另行选举", NULL};
static const char *const role_en[] = {"president", "vice_president", "director", NULL};
static const char *const role_zh[] = {"会长", "副会长", "理事", NULL};

/* Shorthands for the table rows. */
#define MAXI INT64_MAX
#define REQ GS_F_REQUIRED
#define KEYGEN (GS_F_KEY | GS_F_REQUIRED | GS_F_GENERATED)
#define SCOPE (GS_F_SCOPE | GS_F_REQUIRED)
#define COMP GS_F_COMPUTED
#define TEXT(n, zh, lo, hi, fl) {n, zh, GS_FT_TEXT, lo, hi, fl, NULL, NULL, NULL, NULL}
#define INT(n, zh, lo, hi, fl) {n, zh, GS_FT_INT, lo, hi, fl, NULL, NULL, NULL, NULL}
#define INTD(n, zh, lo, hi, fl, d) {n, zh, GS_FT_INT, lo, hi, fl, NULL, NULL, d, NULL}
#define BOOL(n, zh, fl) {n, zh, GS_FT_BOOL, 0, 1, fl, NULL, NULL, NULL, NULL}
#define DATE(n, zh, fl) {n, zh, GS_FT_DATE, 0, 0, fl, NULL, NULL, NULL, NULL}
#define DATETIME(n, zh, fl) {n, zh, GS_FT_DATETIME, 0, 0, fl, NULL, NULL, NULL, NULL}
#define ENUM(n, zh, en, enzh, fl, d) {n, zh, GS_FT_ENUM, 0, 0, fl, en, enzh, d, NULL}
#define CODE(n, zh, lo, hi, fl, ref) {n, zh, GS_FT_CODE, lo, hi, fl, NULL, NULL, NULL, ref}
#define ID(n, zh, fl, ref) {n, zh, GS_FT_ID, 1, 64, fl, NULL, NULL, NULL, ref}
#define SLUG(n, zh, fl, ref) {n, zh, GS_FT_SLUG, 1, 64, fl, NULL, NULL, NULL, ref}
#define VILLAGE CODE("village_code", "村社区代码", 12, 12, SCOPE, "division")

static const gs_field division_fields[] = {
    [GS_DIVISION_CODE] = CODE("code", "区划代码", 6, 12, GS_F_KEY | REQ, NULL),
    [GS_DIVISION_NAME] = TEXT("name", "名称", 1, 100, REQ),
    [GS_DIVISION_LEVEL] = ENUM("level", "级别", level_en, level_zh, REQ, NULL),
    [GS_DIVISION_PARENT_CODE] = CODE("parent_code", "上级代码", 6, 12, 0, "division"),
    [GS_DIVISION_SYNTHETIC] = BOOL("synthetic", "合成数据", 0),
    [GS_DIVISION_COMMITTEE] =
        ENUM("committee", "委员会类型", committee_kind_en, committee_kind_zh, 0, NULL),
};
_Static_assert(ARRAY_LEN(division_fields) == GS_DIVISION__NFIELDS, "a row per constant");

static const gs_field category_fields[] = {
    [GS_CATEGORY_CODE] = SLUG("code", "类别代码", GS_F_KEY | REQ, NULL),
    [GS_CATEGORY_NAME_ZH] = TEXT("name_zh", "中文名称", 1, 100, REQ),
    [GS_CATEGORY_NAME_EN] = TEXT("name_en", "英文名称", 0, 200, 0),
    [GS_CATEGORY_PARENT_CODE] = SLUG("parent_code", "上级类别", 0, "category"),
};
_Static_assert(ARRAY_LEN(category_fields) == GS_CATEGORY__NFIELDS, "a row per constant");

static const gs_field grid_fields[] = {
    [GS_GRID_CODE] = CODE("code", "网格编码", 15, 15, GS_F_KEY | REQ, NULL),
    [GS_GRID_VILLAGE_CODE] = VILLAGE,
    [GS_GRID_NAME] = TEXT("name", "网格名称", 1, 100, REQ),
    [GS_GRID_KIND] = ENUM("kind", "网格类型", gridkind_en, gridkind_zh, 0, "comprehensive"),
    [GS_GRID_HOUSEHOLDS] = INT("households", "户数", 0, 100000, 0),
    [GS_GRID_POPULATION] = INT("population", "人口", 0, 1000000, 0),
    [GS_GRID_WORKER] = TEXT("worker", "网格员", 0, 50, 0),
    [GS_GRID_WORKER_PHONE] = TEXT("worker_phone", "联系电话", 0, 30, 0),
};
_Static_assert(ARRAY_LEN(grid_fields) == GS_GRID__NFIELDS, "a row per constant");

static const gs_field incident_fields[] = {
    [GS_INCIDENT_ID] = ID("id", "事件编号", KEYGEN, NULL),
    [GS_INCIDENT_VILLAGE_CODE] = VILLAGE,
    [GS_INCIDENT_GRID_CODE] = CODE("grid_code", "网格编码", 15, 15, 0, "grid"),
    [GS_INCIDENT_CATEGORY] = SLUG("category", "事件类别", REQ, "category"),
    [GS_INCIDENT_TITLE] = TEXT("title", "标题", 1, 200, REQ),
    [GS_INCIDENT_DESCRIPTION] = TEXT("description", "描述", 0, 4000, 0),
    [GS_INCIDENT_SOURCE] = ENUM("source", "来源", source_en, source_zh, 0, "patrol"),
    [GS_INCIDENT_REPORTER] = TEXT("reporter", "上报人", 0, 50, 0),
    [GS_INCIDENT_REPORTED_AT] = DATETIME("reported_at", "上报时间", REQ),
    [GS_INCIDENT_SEVERITY] = INTD("severity", "紧急程度", 1, 4, 0, "2"),
    [GS_INCIDENT_STATUS] =
        ENUM("status", "状态", gs_status_names, gs_status_names_zh, REQ, "reported"),
    [GS_INCIDENT_ASSIGNEE] = TEXT("assignee", "处置人", 0, 100, 0),
    [GS_INCIDENT_DEADLINE] = DATE("deadline", "处置期限", 0),
    [GS_INCIDENT_NOTE] = TEXT("note", "处置说明", 0, 4000, 0),
    [GS_INCIDENT_CLOSED_AT] = DATETIME("closed_at", "结案时间", COMP),
};
_Static_assert(ARRAY_LEN(incident_fields) == GS_INCIDENT__NFIELDS, "a row per constant");

static const gs_field election_fields[] = {
    [GS_ELECTION_ID] = ID("id", "选举编号", KEYGEN, NULL),
    [GS_ELECTION_VILLAGE_CODE] = VILLAGE,
    [GS_ELECTION_COMMITTEE] =
        ENUM("committee", "委员会类型", gs_committee_names, gs_committee_names_zh, REQ, NULL),
    [GS_ELECTION_ELECTION_DATE] = DATE("election_date", "选举日", REQ),
    [GS_ELECTION_LIST_PUBLISHED] = DATE("list_published", "选民名单公布日", 0),
    [GS_ELECTION_REGISTERED] = INT("registered", "登记选民数", 0, 10000000, REQ),
    [GS_ELECTION_VOTED] = INT("voted", "投票人数", 0, 10000000, REQ),
    [GS_ELECTION_VALID] = INT("valid", "有效票数", 0, 10000000, REQ),
    [GS_ELECTION_INVALID] = INT("invalid", "无效票数", 0, 10000000, REQ),
    [GS_ELECTION_SUPP_VOTED] = INT("supp_voted", "另行选举投票人数", 0, 10000000, 0),
    [GS_ELECTION_SEATS_CHAIR] = INTD("seats_chair", "主任名额", 0, 1, 0, "1"),
    [GS_ELECTION_SEATS_VICE] = INTD("seats_vice", "副主任名额", 0, 5, 0, "0"),
    [GS_ELECTION_SEATS_MEMBER] = INT("seats_member", "委员名额", 0, 20, REQ),
    [GS_ELECTION_NOTE] = TEXT("note", "备注", 0, 1000, 0),
    [GS_ELECTION_FINDINGS] = TEXT("findings", "审查结果", 0, 1000, COMP),
    [GS_ELECTION_ELECTED] = INT("elected", "当选人数", 0, 100, COMP),
    [GS_ELECTION_WOMEN_ELECTED] = INT("women_elected", "当选女性人数", 0, 100, COMP),
    [GS_ELECTION_UNFILLED] = INT("unfilled", "空缺名额", 0, 100, COMP),
    [GS_ELECTION_YIJIANTIAO] = BOOL("yijiantiao", "一肩挑", COMP),
};
_Static_assert(ARRAY_LEN(election_fields) == GS_ELECTION__NFIELDS, "a row per constant");

static const gs_field candidate_fields[] = {
    [GS_CANDIDATE_ID] = ID("id", "候选人编号", KEYGEN, NULL),
    [GS_CANDIDATE_VILLAGE_CODE] = VILLAGE,
    [GS_CANDIDATE_ELECTION_ID] = ID("election_id", "选举编号", REQ, "election"),
    [GS_CANDIDATE_NAME] = TEXT("name", "姓名", 1, 50, REQ),
    [GS_CANDIDATE_GENDER] = ENUM("gender", "性别", gender_en, gender_zh, REQ, NULL),
    [GS_CANDIDATE_POST] = ENUM("post", "职务", gs_post_names, gs_post_names_zh, REQ, NULL),
    [GS_CANDIDATE_ROUND] = ENUM("round", "轮次", round_en, round_zh, 0, "first"),
    [GS_CANDIDATE_VOTES] = INT("votes", "得票数", 0, 10000000, REQ),
    [GS_CANDIDATE_PARTY_SECRETARY] = BOOL("party_secretary", "党组织书记", 0),
    [GS_CANDIDATE_OUTCOME] =
        ENUM("outcome", "结果", gs_outcome_names, gs_outcome_names_zh, COMP, NULL),
    [GS_CANDIDATE_FINDINGS] = TEXT("findings", "审查结果", 0, 1000, COMP),
};
_Static_assert(ARRAY_LEN(candidate_fields) == GS_CANDIDATE__NFIELDS, "a row per constant");

static const gs_field council_fields[] = {
    [GS_COUNCIL_ID] = ID("id", "理事会编号", KEYGEN, NULL),
    [GS_COUNCIL_VILLAGE_CODE] = VILLAGE,
    [GS_COUNCIL_NAME] = TEXT("name", "名称", 1, 100, REQ),
    [GS_COUNCIL_ESTABLISHED_ON] = DATE("established_on", "成立日期", 0),
    [GS_COUNCIL_CHARTER_VERSION] = TEXT("charter_version", "章程版本", 0, 50, 0),
    [GS_COUNCIL_MAX_TABLES] = INT("max_tables", "桌数上限", 0, 1000, 0),
    [GS_COUNCIL_MAX_COST_PER_TABLE] = INT("max_cost_per_table", "每桌费用上限", 0, 100000, 0),
    [GS_COUNCIL_MAX_GIFT] = INT("max_gift", "礼金上限", 0, 1000000, 0),
    [GS_COUNCIL_MAX_CARS] = INT("max_cars", "车辆上限", 0, 1000, 0),
    [GS_COUNCIL_MAX_FUNERAL_DAYS] = INT("max_funeral_days", "丧事天数上限", 0, 30, 0),
    [GS_COUNCIL_MAX_BRIDE_PRICE] = INT("max_bride_price", "彩礼上限", 0, 10000000, 0),
    [GS_COUNCIL_CREMATION_REQUIRED] = BOOL("cremation_required", "要求火化", 0),
};
_Static_assert(ARRAY_LEN(council_fields) == GS_COUNCIL__NFIELDS, "a row per constant");

static const gs_field member_fields[] = {
    [GS_MEMBER_ID] = ID("id", "成员编号", KEYGEN, NULL),
    [GS_MEMBER_VILLAGE_CODE] = VILLAGE,
    [GS_MEMBER_COUNCIL_ID] = ID("council_id", "理事会编号", REQ, "council"),
    [GS_MEMBER_NAME] = TEXT("name", "姓名", 1, 50, REQ),
    [GS_MEMBER_GENDER] = ENUM("gender", "性别", gender_en, gender_zh, 0, NULL),
    [GS_MEMBER_ROLE] = ENUM("role", "职务", role_en, role_zh, REQ, NULL),
    [GS_MEMBER_PARTY_MEMBER] = BOOL("party_member", "党员", 0),
    [GS_MEMBER_TERM_START] = DATE("term_start", "任期开始", 0),
    [GS_MEMBER_TERM_END] = DATE("term_end", "任期结束", 0),
    [GS_MEMBER_PHONE] = TEXT("phone", "联系电话", 0, 30, 0),
};
_Static_assert(ARRAY_LEN(member_fields) == GS_MEMBER__NFIELDS, "a row per constant");

static const gs_field affair_fields[] = {
    [GS_AFFAIR_ID] = ID("id", "事项编号", KEYGEN, NULL),
    [GS_AFFAIR_VILLAGE_CODE] = VILLAGE,
    [GS_AFFAIR_KIND] = ENUM("kind", "类型", gs_affair_kind_names, gs_affair_kind_names_zh, REQ, NULL),
    [GS_AFFAIR_HOST] = TEXT("host", "事主", 1, 50, REQ),
    [GS_AFFAIR_DECLARED_ON] = DATE("declared_on", "申报日期", 0),
    [GS_AFFAIR_EVENT_DATE] = DATE("event_date", "举办日期", REQ),
    [GS_AFFAIR_TABLES] = INT("tables", "桌数", 0, 10000, 0),
    [GS_AFFAIR_COST_PER_TABLE] = INT("cost_per_table", "每桌费用", 0, 1000000, 0),
    [GS_AFFAIR_GIFT] = INT("gift", "礼金", 0, 10000000, 0),
    [GS_AFFAIR_GUESTS] = INT("guests", "宾客人数", 0, 100000, 0),
    [GS_AFFAIR_CARS] = INT("cars", "车辆数", 0, 1000, 0),
    [GS_AFFAIR_DAYS] = INT("days", "天数", 0, 365, 0),
    [GS_AFFAIR_BRIDE_PRICE] = INT("bride_price", "彩礼", 0, 100000000, 0),
    [GS_AFFAIR_CREMATION] =
        ENUM("cremation", "火化", gs_cremation_names, gs_cremation_names_zh, 0, NULL),
    [GS_AFFAIR_EXEMPTION] = TEXT("exemption", "豁免理由", 0, 200, 0),
    [GS_AFFAIR_HOST_IS_CADRE] = BOOL("host_is_cadre", "党员干部", 0),
    [GS_AFFAIR_SAVINGS] = INT("savings", "节约金额", 0, 100000000, 0),
    [GS_AFFAIR_SUPERVISOR] = TEXT("supervisor", "监督人", 0, 100, 0),
    [GS_AFFAIR_VIOLATIONS] = TEXT("violations", "违规项", 0, 1000, COMP),
};
_Static_assert(ARRAY_LEN(affair_fields) == GS_AFFAIR__NFIELDS, "a row per constant");

#define RT(id, name, plural, zh, ref, fields, scope)                                               \
    {id, name, plural, zh, ref, fields, ARRAY_LEN(fields), 0, scope}

/* Key is always field 0; scope is field 1 (the village code) for village data. */
_Static_assert(GS_INCIDENT_ID == 0 && GS_GRID_VILLAGE_CODE == 1 && GS_INCIDENT_VILLAGE_CODE == 1 &&
                   GS_ELECTION_VILLAGE_CODE == 1 && GS_CANDIDATE_VILLAGE_CODE == 1 &&
                   GS_COUNCIL_VILLAGE_CODE == 1 && GS_MEMBER_VILLAGE_CODE == 1 &&
                   GS_AFFAIR_VILLAGE_CODE == 1,
               "the key is field 0 and the village code field 1");
static const gs_rectype rectypes[GS_RT__COUNT] = {
    RT(GS_RT_DIVISION, "division", "divisions", "行政区划", true, division_fields, -1),
    RT(GS_RT_CATEGORY, "category", "categories", "事件类别", true, category_fields, -1),
    RT(GS_RT_GRID, "grid", "grids", "网格", false, grid_fields, 1),
    RT(GS_RT_INCIDENT, "incident", "incidents", "网格事件", false, incident_fields, 1),
    RT(GS_RT_ELECTION, "election", "elections", "换届选举", false, election_fields, 1),
    RT(GS_RT_CANDIDATE, "candidate", "candidates", "候选人", false, candidate_fields, 1),
    RT(GS_RT_COUNCIL, "council", "councils", "红白理事会", false, council_fields, 1),
    RT(GS_RT_MEMBER, "member", "members", "理事会成员", false, member_fields, 1),
    RT(GS_RT_AFFAIR, "affair", "affairs", "红白事", false, affair_fields, 1),
};

const gs_rectype *gs_rectype_get(int id)
{
    if (id < 0 || id >= GS_RT__COUNT)
        return NULL;
    return &rectypes[id];
}

const gs_rectype *gs_rectype_find(const char *name)
{
    for (int i = 0; i < GS_RT__COUNT; i++)
        if (!strcmp(rectypes[i].name, name) || !strcmp(rectypes[i].plural, name) ||
            !strcmp(rectypes[i].label_zh, name))
            return &rectypes[i];
    return NULL;
}

int gs_field_find(const gs_rectype *rt, const char *name)
{
    for (int i = 0; i < rt->nfields; i++)
        if (!strcmp(rt->fields[i].name, name) || !strcmp(rt->fields[i].label_zh, name))
            return i;
    return -1;
}

int gs_field_find_header(const gs_rectype *rt, const char *h)
{
    int f = gs_field_find(rt, h);
    const char *sp = strrchr(h, ' ');
    if (f >= 0 || !sp || sp == h || strlen(h) > 200)
        return f;
    char label[208];
    snprintf(label, sizeof label, "%.*s", (int)(sp - h), h);
    int a = gs_field_find(rt, label), b = gs_field_find(rt, sp + 1);
    return a >= 0 && a == b ? a : -1;
}

int gs_field_option(const gs_rectype *rt, const char *opt)
{
    if (strncmp(opt, "--", 2) || strlen(opt) > 60)
        return -1;
    char name[80];
    size_t n = 0;
    for (const char *p = opt + 2; *p; p++)
        name[n++] = *p == '-' ? '_' : *p;
    name[n] = '\0';
    int f = gs_field_find(rt, name);
    static const char *const suffixes[] = {"_code", "_id"};
    for (size_t i = 0; f < 0 && i < 2; i++) {
        char longer[96];
        snprintf(longer, sizeof longer, "%s%s", name, suffixes[i]);
        f = gs_field_find(rt, longer);
    }
    return f;
}

int gs_enum_find(const gs_field *f, const char *text)
{
    if (f->type != GS_FT_ENUM)
        return -1;
    for (int i = 0; f->enums[i]; i++)
        if (!strcmp(f->enums[i], text) || (f->enums_zh && !strcmp(f->enums_zh[i], text)))
            return i;
    return -1;
}

const char *gs_enum_zh(const gs_field *f, const char *value)
{
    int i = gs_enum_find(f, value);
    return i >= 0 && f->enums_zh ? f->enums_zh[i] : value;
}

static bool is_integer(gs_ftype t)
{
    return t == GS_FT_INT || t == GS_FT_BOOL;
}

void gs_schema_ddl(const gs_rectype *rt, gs_buf *b)
{
    gs_buf_printf(b, "CREATE TABLE IF NOT EXISTS %s (\n", rt->plural);
    for (int i = 0; i < rt->nfields; i++) {
        const gs_field *f = &rt->fields[i];
        gs_buf_printf(b, "  %s %s%s,\n", f->name, is_integer(f->type) ? "INTEGER" : "TEXT",
                      (f->flags & GS_F_KEY) ? " PRIMARY KEY NOT NULL" : "");
    }
    /* Replica columns: per-field clocks (msgpack array, see replica.c), the
     * tombstone, and the clock and origin of the last change applied. */
    gs_buf_puts(b, "  _clock BLOB,\n  _deleted INTEGER NOT NULL DEFAULT 0,\n"
                   "  _hlc INTEGER NOT NULL DEFAULT 0,\n  _origin TEXT\n) WITHOUT ROWID;\n");
    for (int i = 0; i < rt->nfields; i++) {
        const gs_field *f = &rt->fields[i];
        if ((f->flags & GS_F_SCOPE) || (f->ref && !(f->flags & GS_F_KEY)))
            gs_buf_printf(b, "CREATE INDEX IF NOT EXISTS %s_%s ON %s(%s);\n", rt->plural, f->name,
                          rt->plural, f->name);
    }
}

void gs_schema_csv_header(const gs_rectype *rt, bool zh, gs_buf *b)
{
    bool first = true;
    for (int i = 0; i < rt->nfields; i++) {
        const gs_field *f = &rt->fields[i];
        if (f->flags & GS_F_COMPUTED)
            continue;
        if (!first)
            gs_buf_putc(b, ',');
        gs_buf_csv_field(b, zh ? f->label_zh : f->name);
        first = false;
    }
    gs_buf_puts(b, "\r\n");
}
