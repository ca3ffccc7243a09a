/*
 * test_record.c: the schema tables and records driven by them: parsing of
 * what staff type (Chinese labels, date forms), validation, and the msgpack
 * round trip of every record type.
 */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gridsync/record.h"
#include "gridsync/table.h"
#include "gridsync/schema.h"
#include "gstest.h"

/* Every type: exactly one key at index 0; village data has its scope at 1. */
START_TEST(schema_invariants)
{
    for (int t = 0; t < GS_RT__COUNT; t++) {
        const gs_rectype *rt = gs_rectype_get(t);
        ck_assert_ptr_nonnull(rt);
        ck_assert_int_eq(rt->id, t);
        int keys = 0, scopes = 0;
        for (int i = 0; i < rt->nfields; i++) {
            /* a constant schema.c's designated initializers skipped is a
             * zeroed row: no name, no label */
            ck_assert_msg(rt->fields[i].name && rt->fields[i].label_zh,
                          "%s: field %d has no row in schema.c", rt->name, i);
            keys += !!(rt->fields[i].flags & GS_F_KEY);
            scopes += !!(rt->fields[i].flags & GS_F_SCOPE);
            ck_assert_int_eq(gs_field_find(rt, rt->fields[i].name), i);
            ck_assert_int_eq(gs_field_find(rt, rt->fields[i].label_zh), i);
            if (rt->fields[i].type == GS_FT_ENUM)
                ck_assert_ptr_nonnull(rt->fields[i].enums);
        }
        ck_assert_int_eq(keys, 1);
        ck_assert(rt->fields[rt->key].flags & GS_F_KEY);
        ck_assert_int_eq(scopes, rt->reference ? 0 : 1);
        ck_assert_ptr_eq(gs_rectype_find(rt->name), rt);
        ck_assert_ptr_eq(gs_rectype_find(rt->plural), rt);
    }
    ck_assert_ptr_null(gs_rectype_find("nonsense"));
    ck_assert_ptr_null(gs_rectype_get(GS_RT__COUNT));
}
END_TEST

/* Every field constant of schema.h, spelt out: GS_INCIDENT_REPORTED_AT must
 * be the field named reported_at, and every field of every type has one. */
#define K(T, N) {GS_RT_##T, GS_##T##_##N, #N}
static const struct {
    int rt, f;
    const char *upper;
} field_constants[] = {
    K(DIVISION, CODE), K(DIVISION, NAME), K(DIVISION, LEVEL), K(DIVISION, PARENT_CODE),
    K(DIVISION, SYNTHETIC), K(DIVISION, COMMITTEE),
    K(CATEGORY, CODE), K(CATEGORY, NAME_ZH), K(CATEGORY, NAME_EN), K(CATEGORY, PARENT_CODE),
    K(GRID, CODE), K(GRID, VILLAGE_CODE), K(GRID, NAME), K(GRID, KIND), K(GRID, HOUSEHOLDS),
    K(GRID, POPULATION), K(GRID, WORKER), K(GRID, WORKER_PHONE),
    K(INCIDENT, ID), K(INCIDENT, VILLAGE_CODE), K(INCIDENT, GRID_CODE), K(INCIDENT, CATEGORY),
    K(INCIDENT, TITLE), K(INCIDENT, DESCRIPTION), K(INCIDENT, SOURCE), K(INCIDENT, REPORTER),
    K(INCIDENT, REPORTED_AT), K(INCIDENT, SEVERITY), K(INCIDENT, STATUS), K(INCIDENT, ASSIGNEE),
    K(INCIDENT, DEADLINE), K(INCIDENT, NOTE), K(INCIDENT, CLOSED_AT),
    K(ELECTION, ID), K(ELECTION, VILLAGE_CODE), K(ELECTION, COMMITTEE), K(ELECTION, ELECTION_DATE),
    K(ELECTION, LIST_PUBLISHED), K(ELECTION, REGISTERED), K(ELECTION, VOTED), K(ELECTION, VALID),
    K(ELECTION, INVALID), K(ELECTION, SUPP_VOTED), K(ELECTION, SEATS_CHAIR),
    K(ELECTION, SEATS_VICE), K(ELECTION, SEATS_MEMBER), K(ELECTION, NOTE), K(ELECTION, FINDINGS),
    K(ELECTION, ELECTED), K(ELECTION, WOMEN_ELECTED), K(ELECTION, UNFILLED),
    K(ELECTION, YIJIANTIAO),
    K(CANDIDATE, ID), K(CANDIDATE, VILLAGE_CODE), K(CANDIDATE, ELECTION_ID), K(CANDIDATE, NAME),
    K(CANDIDATE, GENDER), K(CANDIDATE, POST), K(CANDIDATE, ROUND), K(CANDIDATE, VOTES),
    K(CANDIDATE, PARTY_SECRETARY), K(CANDIDATE, OUTCOME), K(CANDIDATE, FINDINGS),
    K(COUNCIL, ID), K(COUNCIL, VILLAGE_CODE), K(COUNCIL, NAME), K(COUNCIL, ESTABLISHED_ON),
    K(COUNCIL, CHARTER_VERSION), K(COUNCIL, MAX_TABLES), K(COUNCIL, MAX_COST_PER_TABLE),
    K(COUNCIL, MAX_GIFT), K(COUNCIL, MAX_CARS), K(COUNCIL, MAX_FUNERAL_DAYS),
    K(COUNCIL, MAX_BRIDE_PRICE), K(COUNCIL, CREMATION_REQUIRED),
    K(MEMBER, ID), K(MEMBER, VILLAGE_CODE), K(MEMBER, COUNCIL_ID), K(MEMBER, NAME),
    K(MEMBER, GENDER), K(MEMBER, ROLE), K(MEMBER, PARTY_MEMBER), K(MEMBER, TERM_START),
    K(MEMBER, TERM_END), K(MEMBER, PHONE),
    K(AFFAIR, ID), K(AFFAIR, VILLAGE_CODE), K(AFFAIR, KIND), K(AFFAIR, HOST),
    K(AFFAIR, DECLARED_ON), K(AFFAIR, EVENT_DATE), K(AFFAIR, TABLES), K(AFFAIR, COST_PER_TABLE),
    K(AFFAIR, GIFT), K(AFFAIR, GUESTS), K(AFFAIR, CARS), K(AFFAIR, DAYS), K(AFFAIR, BRIDE_PRICE),
    K(AFFAIR, CREMATION), K(AFFAIR, EXEMPTION), K(AFFAIR, HOST_IS_CADRE), K(AFFAIR, SAVINGS),
    K(AFFAIR, SUPERVISOR), K(AFFAIR, VIOLATIONS),
};
#undef K

START_TEST(field_constants_name_their_fields)
{
    int per_type[GS_RT__COUNT] = {0};
    for (size_t i = 0; i < sizeof field_constants / sizeof field_constants[0]; i++) {
        const gs_rectype *rt = gs_rectype_get(field_constants[i].rt);
        int f = field_constants[i].f;
        ck_assert_int_lt(f, rt->nfields);
        char lower[64];
        size_t n = 0;
        for (const char *p = field_constants[i].upper; *p && n < sizeof lower - 1; p++)
            lower[n++] = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        lower[n] = '\0';
        ck_assert_msg(rt->fields[f].name && !strcmp(rt->fields[f].name, lower),
                      "%s: the constant of %s is field %d, named %s", rt->name, lower, f,
                      rt->fields[f].name ? rt->fields[f].name : "(none)");
        per_type[rt->id]++;
    }
    for (int t = 0; t < GS_RT__COUNT; t++)
        ck_assert_int_eq(per_type[t], gs_rectype_get(t)->nfields);
}
END_TEST

/* A field index out of range is a programming error: each accessor says so
 * in one line on stderr and aborts in a debug build; in a release build it
 * answers as for an unset field. Each call runs in a child of its own, so
 * that the abort is what the parent sees. */
enum { ACC_HAS, ACC_STR, ACC_INT, ACC_ENUM, ACC_FORMAT, ACC_PARSE, ACC_SET_STR, ACC_SET_INT,
       ACC_SET_NULL, ACC_UNSET, ACC__COUNT };
static const char *const acc_names[] = {
    "gs_record_has",      "gs_record_str",     "gs_record_int",     "gs_record_enum",
    "gs_record_format",   "gs_record_parse",   "gs_record_set_str", "gs_record_set_int",
    "gs_record_set_null", "gs_record_unset"};

/* Calls accessor which with field f of r; true when it answered as for an
 * unset field (or refused). */
static bool call_accessor(int which, gs_record *r, int f)
{
    gs_buf b = GS_BUF_INIT;
    bool safe = true;
    switch (which) {
    case ACC_HAS: safe = !gs_record_has(r, f); break;
    case ACC_STR: safe = !gs_record_str(r, f); break;
    case ACC_INT: safe = gs_record_int(r, f, -7) == -7; break;
    case ACC_ENUM: safe = gs_record_enum(r, f) == -1; break;
    case ACC_FORMAT:
        gs_record_format(r, f, &b);
        safe = b.len == 0;
        break;
    case ACC_PARSE: safe = gs_record_parse(r, f, "x", NULL) == GS_EINVAL; break;
    case ACC_SET_STR: safe = gs_record_set_str(r, f, "x") == GS_EINVAL; break;
    case ACC_SET_INT: safe = gs_record_set_int(r, f, 1) == GS_EINVAL; break;
    case ACC_SET_NULL: gs_record_set_null(r, f); break;
    case ACC_UNSET: gs_record_unset(r, f); break;
    }
    gs_buf_free(&b);
    return safe;
}

START_TEST(accessor_checks_index)
{
    const int bad[] = {-1, GS_INCIDENT__NFIELDS, 1000};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
            dup2(fds[1], 2);
            gs_record *r = gs_record_new(gs_rectype_get(GS_RT_INCIDENT));
            bool safe = r && call_accessor(_i, r, bad[k]);
            gs_record_destroy(&r);
            _exit(safe ? 0 : 1);
        }
        close(fds[1]);
        char err[512] = "";
        size_t n = 0;
        ssize_t got;
        while (n < sizeof err - 1 && (got = read(fds[0], err + n, sizeof err - 1 - n)) > 0)
            n += (size_t)got;
        err[n] = '\0';
        close(fds[0]);
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        char want[160];
        snprintf(want, sizeof want, "gridsync: %s: field %d of incident out of range (0..14)\n",
                 acc_names[_i], bad[k]);
        ck_assert_str_eq(err, want);
#ifdef NDEBUG
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: not safe",
                      acc_names[_i]);
#else
        ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT, "%s did not abort",
                      acc_names[_i]);
#endif
    }
}
END_TEST

/* One accepted input and its canonical form, or a rejected input (want NULL). */
static const struct {
    const char *type, *field, *input, *want;
} parse_cases[] = {
    {"incident", "status", "受理", "accepted"},
    {"incident", "status", "accepted", "accepted"},
    {"incident", "status", "受理中", NULL},
    {"incident", "severity", "4", "4"},
    {"incident", "severity", "5", NULL},
    {"incident", "severity", "0", NULL},
    {"incident", "severity", "2x", NULL},
    {"incident", "reported_at", "2026-11-28 09:30", "2026-11-28T09:30:00+08:00"},
    {"incident", "reported_at", "2026/3/1", "2026-03-01T00:00:00+08:00"},
    {"incident", "reported_at", "2026-11-28T01:30:00Z", "2026-11-28T09:30:00+08:00"},
    {"incident", "reported_at", "2026-12-31T20:00:00Z", "2027-01-01T04:00:00+08:00"},
    {"incident", "reported_at", "2026-02-30 10:00", NULL},
    {"incident", "village_code", "411122101201", "411122101201"},
    {"incident", "village_code", "41112210120", NULL},
    {"incident", "village_code", "41112210120a", NULL},
    {"incident", "category", "dispute.neighbour", "dispute.neighbour"},
    {"incident", "category", "Dispute", NULL},
    {"incident", "title", "  邻里 纠纷  ", "邻里 纠纷"},
    {"election", "election_date", "2026年3月8日", "2026-03-08"},
    {"election", "election_date", "2024-02-29", "2024-02-29"},
    {"election", "election_date", "2025-02-29", NULL},
    {"election", "committee", "村民委员会", "village"},
    {"candidate", "gender", "女", "female"},
    {"candidate", "party_secretary", "是", "1"},
    {"candidate", "party_secretary", "否", "0"},
    {"candidate", "party_secretary", "maybe", NULL},
    {"affair", "kind", "白事", "funeral"},
    {"affair", "cremation", "豁免", "exempt"},
    {"affair", "host", "", ""}, /* empty -> null */
    /* what Excel makes of typed values */
    {"affair", "tables", "1,200", "1200"},
    {"affair", "gift", "1,234,567", "1234567"},
    {"affair", "gift", "-1,000", NULL}, /* read as -1000: below the minimum */
    {"affair", "tables", "1,20", NULL},
    {"affair", "tables", "12,0000", NULL},
    {"affair", "tables", "1234,567", NULL},
    {"affair", "tables", ",200", NULL},
    {"affair", "event_date", "46000", "2025-12-09"},
    {"affair", "event_date", "45352", "2024-03-01"},
    {"affair", "event_date", "2026", NULL}, /* a year alone is not a serial */
    {"affair", "event_date", "46000.5", NULL},
    {"incident", "reported_at", "46000", "2025-12-09T00:00:00+08:00"},
    {"incident", "reported_at", "46000.75", "2025-12-09T18:00:00+08:00"},
    {"incident", "reported_at", "46000.", NULL},
    {"grid", "code", "4.11121E+14", NULL},
    {"incident", "id", "4.11121E+14", NULL},
    {"incident", "title", "'=HYPERLINK(\"x\")", "=HYPERLINK(\"x\")"},
    {"incident", "title", "'-减少", "-减少"},
    {"incident", "title", "'@x", "@x"},
    {"incident", "title", "'abc", "'abc"}, /* only before a formula start */
    {"incident", "title", "''=x", "''=x"},
};

/* A code or id shown in scientific notation: the message names the field and
 * says how to fix the spreadsheet. */
START_TEST(parse_excel_scientific_message)
{
    static const char *const cases[][2] = {{"grid", "code"}, {"grid", "village_code"},
                                           {"candidate", "election_id"}, {"incident", "grid_code"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const gs_rectype *rt = gs_rectype_find(cases[i][0]);
        int f = gs_field_find(rt, cases[i][1]);
        gs_record *r = gs_record_new(rt);
        gs_errbuf eb = {{0}};
        ck_assert_int_eq(gs_record_parse(r, f, "4.11121E+14", &eb), GS_EINVAL);
        ck_assert_msg(strstr(eb.msg, rt->fields[f].label_zh) && strstr(eb.msg, cases[i][1]),
                      "%s", eb.msg);
        ck_assert_msg(strstr(eb.msg, "\"4.11121E+14\" 是 Excel 的科学计数法"), "%s", eb.msg);
        ck_assert_msg(strstr(eb.msg, "单元格格式设为“文本”，再重新输入"), "%s", eb.msg);
        ck_assert_msg(strstr(eb.msg, "set the column's format to Text"), "%s", eb.msg);
        ck_assert_int_eq(r->v[f].state, GS_V_UNSET);
        gs_record_destroy(&r);
    }
}
END_TEST

START_TEST(parse_case)
{
    const gs_rectype *rt = gs_rectype_find(parse_cases[_i].type);
    int f = gs_field_find(rt, parse_cases[_i].field);
    ck_assert_int_ge(f, 0);
    gs_record *r = gs_record_new(rt);
    gs_errbuf eb = {{0}};
    int rc = gs_record_parse(r, f, parse_cases[_i].input, &eb);
    if (!parse_cases[_i].want) {
        ck_assert_int_eq(rc, GS_EINVAL);
        /* the message names the field in Chinese and in English */
        ck_assert_ptr_nonnull(strstr(eb.msg, rt->fields[f].label_zh));
        ck_assert_ptr_nonnull(strstr(eb.msg, rt->fields[f].name));
        ck_assert_int_eq(r->v[f].state, GS_V_UNSET);
    } else {
        ck_assert_int_eq(rc, GS_OK);
        gs_buf b = GS_BUF_INIT;
        gs_record_format(r, f, &b);
        ck_assert_str_eq(b.data ? b.data : "", parse_cases[_i].want);
        gs_buf_free(&b);
    }
    gs_record_destroy(&r);
    ck_assert_ptr_null(r);
}
END_TEST

/* d holds what r holds, field by field (unset, null or the same value). */
static void assert_same_values(const gs_record *d, const gs_record *r)
{
    for (int i = 0; i < r->rt->nfields; i++) {
        ck_assert_int_eq(d->v[i].state, r->v[i].state);
        ck_assert_int_eq(d->v[i].i, r->v[i].i);
        if (r->v[i].s)
            ck_assert_str_eq(d->v[i].s, r->v[i].s);
    }
}

/* Builds a complete incident with Chinese text. */
static gs_record *sample_incident(void)
{
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    gs_record *r = gs_record_new(rt);
    const char *kv[][2] = {{"id", "0192f0aa-1"},        {"village_code", "411122101201"},
                           {"category", "dispute.land"}, {"title", "宅基地边界纠纷，\"王家\"与李家"},
                           {"reported_at", "2026-11-28 08:00"}, {"description", "第一行\n第二行"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        ck_assert_int_eq(gs_record_parse(r, gs_field_find(rt, kv[i][0]), kv[i][1], NULL), GS_OK);
    gs_record_apply_defaults(r);
    return r;
}

START_TEST(complete_and_defaults)
{
    gs_record *r = sample_incident();
    gs_errbuf eb = {{0}};
    ck_assert_int_eq(gs_record_check(r, GS_CHECK_COMPLETE, &eb), GS_OK);
    ck_assert_str_eq(gs_record_str(r, GS_INCIDENT_STATUS), "reported");
    ck_assert_int_eq(gs_record_int(r, GS_INCIDENT_SEVERITY, 0), 2);
    gs_record_unset(r, GS_INCIDENT_TITLE);
    ck_assert_int_eq(gs_record_check(r, GS_CHECK_COMPLETE, &eb), GS_EREQUIRED);
    ck_assert_ptr_nonnull(strstr(eb.msg, "标题"));
    ck_assert_int_eq(gs_record_check(r, GS_CHECK_PARTIAL, &eb), GS_OK);
    gs_record_destroy(&r);
}
END_TEST

/* A record of every type, encoded and decoded, equals itself field by field. */
START_TEST(msgpack_round_trip)
{
    const gs_rectype *rt = gs_rectype_get(_i);
    gs_record *r = gs_record_new(rt);
    /* a valid value for every field, built from the field's own description */
    for (int i = 0; i < rt->nfields; i++) {
        const gs_field *f = &rt->fields[i];
        char text[64];
        switch (f->type) {
        case GS_FT_TEXT: strcpy(text, "漯河 测试"); break;
        case GS_FT_ID: strcpy(text, "id-1.a_B"); break;
        case GS_FT_CODE: snprintf(text, sizeof text, "%.*s", (int)f->max, "411122101201999"); break;
        case GS_FT_SLUG: strcpy(text, "safety.fire"); break;
        case GS_FT_INT: snprintf(text, sizeof text, "%lld", (long long)f->max); break;
        case GS_FT_BOOL: strcpy(text, "是"); break;
        case GS_FT_ENUM: strcpy(text, f->enums_zh[0]); break;
        case GS_FT_DATE: strcpy(text, "2026-01-31"); break;
        case GS_FT_DATETIME: strcpy(text, "2026-01-31 23:59:59"); break;
        }
        gs_errbuf eb = {{0}};
        ck_assert_msg(gs_record_parse(r, i, text, &eb) == GS_OK, "%s.%s: %s", rt->name, f->name,
                      eb.msg);
    }
    /* one optional field null */
    for (int i = 0; i < rt->nfields; i++)
        if (!(rt->fields[i].flags & GS_F_REQUIRED)) {
            gs_record_parse(r, i, "", NULL);
            break;
        }
    ck_assert_int_eq(gs_record_check(r, GS_CHECK_COMPLETE, NULL), GS_OK);
    gs_buf b = GS_BUF_INIT;
    gs_record_encode(r, &b);
    ck_assert_int_eq(b.err, GS_OK);
    gs_mp_reader rd;
    gs_mp_reader_init(&rd, b.data, b.len);
    gs_record *d = gs_record_new(rt);
    gs_errbuf eb = {{0}};
    ck_assert_msg(gs_record_decode(&rd, d, &eb) == GS_OK, "%s", eb.msg);
    ck_assert_uint_eq(gs_mp_left(&rd), 0);
    /* a derived value is never part of a change: the computed fields are
     * left out of the encoding, every other field comes back as it was */
    for (int i = 0; i < rt->nfields; i++)
        if (rt->fields[i].flags & GS_F_COMPUTED) {
            ck_assert_msg(d->v[i].state == GS_V_UNSET, "%s.%s was encoded", rt->name,
                          rt->fields[i].name);
            gs_record_unset(r, i);
        }
    assert_same_values(d, r);
    gs_buf_free(&b);
    gs_record_destroy(&r);
    gs_record_destroy(&d);
}
END_TEST

/* Encodes a map by hand, to feed the decoder what a hostile peer would. */
START_TEST(decode_rejects)
{
    const gs_rectype *rt = gs_rectype_get(GS_RT_INCIDENT);
    struct {
        const char *what;
        int rc;
    } cases[] = {{"unknown", GS_EUNKNOWN}, {"wrongtype", GS_ETYPE},  {"badutf8", GS_EUTF8},
                 {"toolong", GS_ETOOBIG},  {"badenum", GS_EINVAL},   {"twice", GS_EMALFORMED},
                 {"label", GS_EUNKNOWN}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        gs_buf b = GS_BUF_INIT;
        const char *w = cases[k].what;
        gs_mp_map(&b, 2);
        gs_mp_str(&b, "id");
        gs_mp_str(&b, "x1");
        if (!strcmp(w, "unknown")) {
            gs_mp_str(&b, "colour");
            gs_mp_str(&b, "red");
        } else if (!strcmp(w, "wrongtype")) {
            gs_mp_str(&b, "severity");
            gs_mp_str(&b, "high");
        } else if (!strcmp(w, "badutf8")) {
            gs_mp_str(&b, "title");
            gs_mp_strn(&b, "\xc0\xaf", 2);
        } else if (!strcmp(w, "toolong")) {
            char big[1000];
            memset(big, 'a', sizeof big - 1);
            big[sizeof big - 1] = 0;
            gs_mp_str(&b, "title");
            gs_mp_str(&b, big);
        } else if (!strcmp(w, "badenum")) {
            gs_mp_str(&b, "status");
            gs_mp_str(&b, "bogus");
        } else if (!strcmp(w, "label")) { /* the field's Chinese label is not its name */
            gs_mp_str(&b, rt->fields[GS_INCIDENT_TITLE].label_zh);
            gs_mp_str(&b, "宅基地纠纷");
        } else {
            gs_mp_str(&b, "id");
            gs_mp_str(&b, "x2");
        }
        gs_mp_reader rd;
        gs_mp_reader_init(&rd, b.data, b.len);
        gs_record *d = gs_record_new(rt);
        gs_errbuf eb = {{0}};
        ck_assert_msg(gs_record_decode(&rd, d, &eb) == cases[k].rc, "%s: got '%s'", w, eb.msg);
        ck_assert_msg(strlen(eb.msg) > 0, "%s: no message", w);
        gs_record_destroy(&d);
        gs_buf_free(&b);
    }
}
END_TEST

/* A peer may write the fields in any order: the same record decodes from
 * them in reverse order as in the table's. */
START_TEST(decode_any_order)
{
    gs_record *r = sample_incident();
    const gs_rectype *rt = r->rt;
    int n = 0;
    for (int i = 0; i < rt->nfields; i++)
        n += r->v[i].state != GS_V_UNSET;
    ck_assert_int_ge(n, 5);
    gs_buf b = GS_BUF_INIT;
    gs_mp_map(&b, (uint32_t)n);
    for (int i = rt->nfields - 1; i >= 0; i--) {
        const gs_value *v = &r->v[i];
        if (v->state == GS_V_UNSET)
            continue;
        gs_mp_str(&b, rt->fields[i].name);
        if (v->state == GS_V_NULL)
            gs_mp_nil(&b);
        else if (v->s)
            gs_mp_str(&b, v->s);
        else
            gs_mp_int(&b, v->i);
    }
    gs_mp_reader rd;
    gs_mp_reader_init(&rd, b.data, b.len);
    gs_record *d = gs_record_new(rt);
    gs_errbuf eb = {{0}};
    ck_assert_msg(gs_record_decode(&rd, d, &eb) == GS_OK, "%s", eb.msg);
    assert_same_values(d, r);
    gs_buf_free(&b);
    gs_record_destroy(&r);
    gs_record_destroy(&d);
}
END_TEST

START_TEST(json_and_csv)
{
    gs_record *r = sample_incident();
    gs_buf b = GS_BUF_INIT;
    gs_record_json(r, &b);
    ck_assert_ptr_nonnull(strstr(b.data, "\"title\":\"宅基地边界纠纷，\\\"王家\\\"与李家\""));
    ck_assert_ptr_nonnull(strstr(b.data, "\"description\":\"第一行\\n第二行\""));
    ck_assert_ptr_nonnull(strstr(b.data, "\"severity\":2"));
    gs_buf_reset(&b);
    gs_record_csv(r, &b);
    ck_assert_ptr_nonnull(strstr(b.data, ",\"宅基地边界纠纷，\"\"王家\"\"与李家\","));
    ck_assert_ptr_nonnull(strstr(b.data, "\"第一行\n第二行\""));
    gs_buf_reset(&b);
    gs_schema_csv_header(r->rt, true, &b);
    ck_assert_ptr_nonnull(strstr(b.data, "事件编号,村社区代码,网格编码,事件类别,标题"));
    ck_assert_ptr_null(strstr(b.data, "结案时间")); /* computed fields are not imported */
    gs_buf_free(&b);
    gs_record_destroy(&r);
}
END_TEST

/* A text cell a spreadsheet would run as a formula is written behind a "'";
 * numbers are not; parsing the row's cells gives the same record back. */
START_TEST(csv_formula_guard)
{
    static const char *const starts[] = {"=1+2", "+86 138", "-减少", "@SUM(A1)", "\tx", "\rx"};
    const gs_rectype *rt = gs_rectype_get(GS_RT_AFFAIR);
    for (size_t i = 0; i < sizeof starts / sizeof starts[0]; i++) {
        gs_record *r = gs_record_new(rt);
        ck_assert_int_eq(gs_record_set_str(r, GS_AFFAIR_ID, "a-1"), GS_OK);
        ck_assert_int_eq(gs_record_set_str(r, GS_AFFAIR_HOST, starts[i]), GS_OK);
        ck_assert_int_eq(gs_record_set_str(r, GS_AFFAIR_SUPERVISOR, "王=五"), GS_OK);
        ck_assert_int_eq(gs_record_set_int(r, GS_AFFAIR_GIFT, -5), GS_OK);
        gs_buf b = GS_BUF_INIT;
        gs_record_csv(r, &b);
        ck_assert_msg(strstr(b.data, ",-5,"), "%s", b.data); /* a number stays a number */
        ck_assert_msg(strstr(b.data, ",王=五\r\n"), "%s", b.data);
        char want[32];
        snprintf(want, sizeof want, "'%s", starts[i]);
        ck_assert_msg(strstr(b.data, want), "%s not guarded in %s", starts[i], b.data);
        /* the cell as a CSV reader gives it back parses to the value */
        gs_record *back = gs_record_new(rt);
        int f = GS_AFFAIR_HOST;
        ck_assert_int_eq(gs_record_parse(back, f, want, NULL), GS_OK);
        ck_assert_str_eq(gs_record_str(back, f), starts[i][0] == '\t' ? "\tx" : starts[i]);
        gs_record_destroy(&back);
        gs_buf_free(&b);
        gs_record_destroy(&r);
    }
}
END_TEST

START_TEST(ddl_has_every_field)
{
    for (int t = 0; t < GS_RT__COUNT; t++) {
        const gs_rectype *rt = gs_rectype_get(t);
        gs_buf b = GS_BUF_INIT;
        gs_schema_ddl(rt, &b);
        for (int i = 0; i < rt->nfields; i++) {
            char col[80];
            snprintf(col, sizeof col, "  %s ", rt->fields[i].name);
            ck_assert_msg(strstr(b.data, col), "%s lacks %s", rt->name, rt->fields[i].name);
        }
        ck_assert_ptr_nonnull(strstr(b.data, "_clock BLOB"));
        gs_buf_free(&b);
    }
}
END_TEST

/* Terminal tables go out as CSV too (lists, reports): a text cell that a
 * spreadsheet would run is written behind a "'", a number and the "-" of a
 * missing value are not. */
START_TEST(table_csv_formula_guard)
{
    const char *head[] = {"名称", "数"};
    gs_table *t = gs_table_new(2, head);
    const char *r1[] = {"=HYPERLINK(\"http://x\",\"点我\")", "-12"};
    const char *r2[] = {"@SUM(A1)", "-"};
    const char *r3[] = {"-危险", "97.2%"};
    gs_table_add(t, r1);
    gs_table_add(t, r2);
    gs_table_add(t, r3);
    gs_buf b = GS_BUF_INIT;
    gs_table_csv(t, &b);
    ck_assert_str_eq(b.data, "名称,数\r\n"
                             "\"'=HYPERLINK(\"\"http://x\"\",\"\"点我\"\")\",-12\r\n"
                             "'@SUM(A1),-\r\n"
                             "'-危险,97.2%\r\n");
    gs_buf_free(&b);
    gs_table_destroy(&t);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("record");
    TCase *tc = tcase_create("schema");
    tcase_add_test(tc, schema_invariants);
    tcase_add_test(tc, field_constants_name_their_fields);
    tcase_add_loop_test(tc, accessor_checks_index, 0, ACC__COUNT);
    tcase_add_test(tc, ddl_has_every_field);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_loop_test(tc, parse_case, 0, sizeof parse_cases / sizeof parse_cases[0]);
    tcase_add_test(tc, complete_and_defaults);
    tcase_add_test(tc, parse_excel_scientific_message);
    suite_add_tcase(s, tc);
    tc = tcase_create("codec");
    tcase_add_loop_test(tc, msgpack_round_trip, 0, GS_RT__COUNT);
    tcase_add_test(tc, decode_rejects);
    tcase_add_test(tc, decode_any_order);
    tcase_add_test(tc, json_and_csv);
    tcase_add_test(tc, table_csv_formula_guard);
    tcase_add_test(tc, csv_formula_guard);
    suite_add_tcase(s, tc);
    return gst_run_suite(s);
}
