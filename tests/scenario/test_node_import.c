/*
 * test_node_import.c: gridnode's CSV files end to end: import, export and
 * template through the real binary, the way village office staff use them
 * with Excel (issue 3).
 *
 * What is proven: an import is all rows or none; every error names the
 * file, the row as Excel numbers it (header = row 1), the column and what
 * was expected, and all errors come at once; --dry-run saves nothing; UTF-8,
 * UTF-8 with BOM, GBK and GB18030 files (made at test time with iconv(3)
 * from the UTF-8 literals) and English or Chinese headers all import the
 * same; every record type imports, with its rules applied (election
 * findings, affair violations); Chinese text comes back byte for byte
 * through add, import, export (CSV and JSON) and show; an exported file
 * imports back, a row with an existing id updating that record.
 *
 * Each test has a fresh node database in a temporary directory; main()
 * points TMPDIR at a directory of its own and removes it at the end, so
 * nothing is left behind even when a test fails.
 */
#include <check.h>
#include <errno.h>
#include <iconv.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gstest_cli.h"

#define NODE_ID "411122101201-n1"
#define VILLAGE "411122101201"
#define HUB     "tcp://127.0.0.1:7700"
#define GRID1   "411122101201001"

/* ---- running gridnode (GN, GNDB and ASSERT_* of gstest_cli.h) ----------- */

static char *tmp;
static char db[PATH_MAX];
static gst_result R;

/* ---- files ----------------------------------------------------------------------- */

/* Writes len bytes to tmp/name; returns the path (malloc'd). */
static char *put_file(const char *name, const void *data, size_t len)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    ck_assert_msg(gst_write_file(path, data, len) == 0, "%s: %s", path, strerror(errno));
    return strdup(path);
}

/* utf8 converted with iconv(3) to charset (GBK, GB18030); malloc'd, *len set. */
static char *convert(const char *utf8, const char *charset, size_t *len)
{
    iconv_t cd = iconv_open(charset, "UTF-8");
    ck_assert_msg(cd != (iconv_t)-1, "iconv_open %s: %s", charset, strerror(errno));
    size_t n = strlen(utf8), cap = 2 * n + 16;
    char *out = malloc(cap), *op = out, *ip = (char *)utf8;
    ck_assert_ptr_nonnull(out);
    size_t il = n, ol = cap;
    ck_assert_msg(iconv(cd, &ip, &il, &op, &ol) != (size_t)-1, "iconv to %s: %s", charset,
                  strerror(errno));
    ck_assert_msg(iconv(cd, NULL, NULL, &op, &ol) != (size_t)-1, "iconv flush");
    iconv_close(cd);
    *len = cap - ol;
    return out;
}

/* The encodings a file may come in. */
typedef enum { ENC_UTF8, ENC_UTF8_BOM, ENC_GBK, ENC_GB18030 } encoding;
static const char *const enc_names[] = {"UTF-8", "UTF-8 BOM", "GBK", "GB18030"};
/* What gridnode says it read. */
static const char *const enc_reported[] = {"(UTF-8)", "(UTF-8 BOM)", "(GB18030/GBK)",
                                           "(GB18030/GBK)"};

/* Writes the UTF-8 text as a file in encoding e; returns the path (malloc'd). */
static char *put_encoded(const char *name, const char *utf8, encoding e)
{
    size_t len = strlen(utf8);
    char *data;
    switch (e) {
    case ENC_UTF8: data = strdup(utf8); break;
    case ENC_UTF8_BOM:
        data = malloc(len + 4);
        ck_assert_ptr_nonnull(data);
        memcpy(data, "\xEF\xBB\xBF", 3);
        memcpy(data + 3, utf8, len + 1);
        len += 3;
        break;
    case ENC_GBK: data = convert(utf8, "GBK", &len); break;
    default: data = convert(utf8, "GB18030", &len); break;
    }
    if (e == ENC_GBK || e == ENC_GB18030) /* really converted: not UTF-8 any more */
        ck_assert_msg(len != strlen(utf8) || memcmp(data, utf8, len), "%s is ASCII", name);
    char *path = put_file(name, data, len);
    free(data);
    return path;
}

/* ---- reading output -------------------------------------------------------------- */

/* Skips a JSON string starting at the quote p; returns the char after it. */
static const char *skip_str(const char *p)
{
    for (p++; *p && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return *p ? p + 1 : p;
}

/* The flat object of a JSON array whose key has the string value; malloc'd,
 * NULL when none. */
static char *json_object_with(const char *json, const char *key, const char *value)
{
    const char *p = json;
    while (*p) {
        if (*p == '"') {
            p = skip_str(p);
            continue;
        }
        if (*p != '{') {
            p++;
            continue;
        }
        const char *start = p++;
        while (*p && *p != '}')
            p = *p == '"' ? skip_str(p) : p + 1;
        char *obj = strndup(start, (size_t)(p - start + 1));
        char *v = gst_json_get(obj, key);
        int match = v && !strcmp(v, value);
        free(v);
        if (match)
            return obj;
        free(obj);
    }
    return NULL;
}

/* Objects in a JSON array of flat objects. */
static int json_array_len(const char *json)
{
    int n = 0;
    for (const char *p = json; *p;) {
        if (*p == '"')
            p = skip_str(p);
        else
            n += *p++ == '{';
    }
    return n;
}

/* CSV records in text (quoted line breaks do not end a record). */
static int csv_records(const char *text)
{
    int n = 0, quoted = 0, any = 0;
    for (const char *p = text; *p; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == '\n' && !quoted) {
            n += any;
            any = 0;
            continue;
        }
        if (*p != '\r')
            any = 1;
    }
    return n + any;
}

/* Lines in text. */
static int count_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; *p; p++)
        n += *p == '\n';
    return n;
}

/* A number from `status --json` of database path. */
static long long status_num_of(const char *path, const char *key)
{
    GNDB(path, "status", "--json");
    ASSERT_OK();
    char *v = gst_json_get(R.out, key);
    ck_assert_msg(v != NULL, "no %s in %s", key, R.out);
    long long n = atoll(v);
    free(v);
    return n;
}
#define status_num(key) status_num_of(db, key)

/* `export TYPE --format json` of database path, malloc'd. */
static char *export_json_of(const char *path, const char *type)
{
    GNDB(path, "export", type, "--format", "json");
    ASSERT_OK();
    return strdup(R.out);
}

static char *show_json(const char *type, const char *id)
{
    GN(type, "show", id, "--json");
    ASSERT_OK();
    return strdup(R.out);
}

/* ---- fixture -------------------------------------------------------------------- */

static void init_db(const char *path, const char *node_id)
{
    GNDB(path, "init", "--node-id", node_id, "--village", VILLAGE, "--hub", HUB);
    ASSERT_OK();
}

static void setup(void)
{
    tmp = gst_tmpdir();
    snprintf(db, sizeof db, "%s/node.db", tmp);
    init_db(db, NODE_ID);
    GN("grid", "add", "--code", GRID1, "--name", "第一网格");
    ASSERT_OK();
}

static void teardown(void)
{
    gst_result_free(&R);
    gst_rmrf(tmp);
    free(tmp);
    tmp = NULL;
}

/* ==== import: encodings and headers ================================================ */

/* Chinese text GBK can hold, with the CSV specials: comma, quote, line break. */
static const char t1[] = "井盖缺失 “危险”，东街口";
static const char d1[] = "夜间无照明, 已设警示牌\r\n请\"市政\"尽快处理";
static const char t2[] = "邻里纠纷：漏水";
static const char d2[] = "二楼漏水影响一楼";
static const char t3[] = "流浪人员救助";
static const char r3[] = "王小二";

/* The same three incidents with English or Chinese headers. */
static const char rows_en[] = "title,category,grid_code,description,reporter,reported_at,severity\r\n"
                              "井盖缺失 “危险”，东街口,safety.building,411122101201001,"
                              "\"夜间无照明, 已设警示牌\r\n请\"\"市政\"\"尽快处理\",,"
                              "2026-03-01 09:30,3\r\n"
                              "邻里纠纷：漏水,dispute.neighbour,411122101201001,二楼漏水影响一楼,,"
                              "2026/3/2 10:05,\r\n"
                              "流浪人员救助,rescue,,,王小二,2026年3月3日 08:00,4\r\n";
static const char rows_zh[] = "标题,事件类别,网格编码,描述,上报人,上报时间,紧急程度\r\n"
                              "井盖缺失 “危险”，东街口,safety.building,411122101201001,"
                              "\"夜间无照明, 已设警示牌\r\n请\"\"市政\"\"尽快处理\",,"
                              "2026-03-01 09:30,3\r\n"
                              "邻里纠纷：漏水,dispute.neighbour,411122101201001,二楼漏水影响一楼,,"
                              "2026/3/2 10:05,\r\n"
                              "流浪人员救助,rescue,,,王小二,2026年3月3日 08:00,4\r\n";

/* Checks the three incidents of rows_en/rows_zh in the export of path. */
static void check_three(const char *path)
{
    char *js = export_json_of(path, "incidents");
    ck_assert_int_eq(json_array_len(js), 3);
    char *o1 = json_object_with(js, "title", t1);
    char *o2 = json_object_with(js, "title", t2);
    char *o3 = json_object_with(js, "title", t3);
    ck_assert_msg(o1 && o2 && o3, "titles not found byte for byte in\n%s", js);
    ASSERT_JSON(o1, "description", d1);
    ASSERT_JSON(o1, "category", "safety.building");
    ASSERT_JSON(o1, "grid_code", GRID1);
    ASSERT_JSON(o1, "reported_at", "2026-03-01T09:30:00+08:00");
    ASSERT_JSON(o1, "severity", "3");
    ASSERT_JSON(o2, "description", d2);
    ASSERT_JSON(o2, "reported_at", "2026-03-02T10:05:00+08:00");
    ASSERT_JSON(o2, "severity", "2"); /* empty cell: the default */
    ASSERT_JSON(o3, "reporter", r3);
    ASSERT_JSON(o3, "reported_at", "2026-03-03T08:00:00+08:00");
    ASSERT_JSON(o3, "grid_code", "");
    ASSERT_JSON(o3, "status", "reported");
    free(o1);
    free(o2);
    free(o3);
    free(js);
}

/* Every encoding with both header languages: 4 x 2 loop iterations. */
START_TEST(import_encodings_and_headers)
{
    encoding e = (encoding)(_i / 2);
    int zh = _i % 2;
    char name[64];
    snprintf(name, sizeof name, "事件 %s %s.csv", enc_names[e], zh ? "中文" : "en");
    char *path = put_encoded(name, zh ? rows_zh : rows_en, e);
    GN("import", "incidents", path);
    ASSERT_OK();
    ASSERT_OUT_HAS("imported 3 incidents");
    ASSERT_OUT_HAS(enc_reported[e]);
    ASSERT_OUT_HAS("3 new, 0 updated, 0 unchanged");
    ck_assert_int_eq(status_num("incident"), 3);
    ck_assert_int_eq(status_num("seq"), 4);
    check_three(db);
    GN("incident", "list");
    ASSERT_OUT_HAS(t1);
    ASSERT_OUT_HAS("(3 网格事件)");
    free(path);
}
END_TEST

/* A character outside GBK (𠮷, four bytes in UTF-8 and in GB18030) survives a
 * GB18030 file. */
START_TEST(import_gb18030_four_byte)
{
    static const char text[] = "标题,事件类别,描述\r\n吉野家𠮷门前积水,sanitation,𠮷字 四字节\r\n";
    char *path = put_encoded("gb18030.csv", text, ENC_GB18030);
    GN("import", "网格事件", path); /* the type by its Chinese name, too */
    ASSERT_OK();
    ASSERT_OUT_HAS("(GB18030/GBK)");
    char *js = export_json_of(db, "incidents");
    char *o = json_object_with(js, "title", "吉野家𠮷门前积水");
    ck_assert_msg(o != NULL, "title not found byte for byte:\n%s", js);
    ASSERT_JSON(o, "description", "𠮷字 四字节");
    free(o);
    free(js);
    free(path);
}
END_TEST

/* Every record type imports from a Chinese-header file, with its rules
 * applied: references checked, election findings and candidate outcomes
 * computed (candidates of one file re-evaluating the same election),
 * affair violations found against the council imported before. */
START_TEST(import_every_type)
{
    static const struct {
        const char *type, *csv, *done;
    } files[] = {
        {"grids",
         "网格编码,网格名称,网格类型,户数,网格员\r\n"
         "411122101201002,第二网格,综合网格,210,刘建军\r\n"
         "411122101201003,第三网格（回民街）,专属网格,180,马秀兰\r\n",
         "imported 2 grids"},
        {"councils",
         "理事会编号,名称,桌数上限,车辆上限,丧事天数上限,要求火化\r\n"
         "hb-1,王庄村红白理事会,10,6,3,是\r\n",
         "imported 1 councils"},
        {"members",
         "成员编号,理事会编号,姓名,职务,党员\r\n"
         "m-1,hb-1,马德明,会长,是\r\n"
         "m-2,hb-1,白秀兰,理事,否\r\n",
         "imported 2 members"},
        {"elections",
         "选举编号,委员会类型,选举日,登记选民数,投票人数,有效票数,无效票数,主任名额,委员名额\r\n"
         "e-1,村民委员会,2026-03-15,1000,600,600,0,1,2\r\n"
         "e-2,村民委员会,2026-03-15,1000,500,500,0,1,2\r\n",
         "imported 2 elections"},
        {"candidates",
         "候选人编号,选举编号,姓名,性别,职务,轮次,得票数,党组织书记\r\n"
         "c-1,e-1,王建国,男,主任,第一轮,350,否\r\n"
         "c-2,e-1,马书记,男,主任,第一轮,400,是\r\n"
         "c-3,e-1,李秀英,女,委员,第一轮,300,\r\n"
         "c-4,e-1,白建华,男,委员,第一轮,450,\r\n",
         "imported 4 candidates"},
        {"affairs",
         "事项编号,类型,事主,举办日期,桌数,车辆数,火化,豁免理由,天数\r\n"
         "a-1,红事,刘家,2026-05-01,12,8,,,\r\n"
         "a-2,白事,马德福,2026-06-01,,,豁免,回族,3\r\n"
         "a-3,白事,赵家,2026-06-02,,,否,,5\r\n",
         "imported 3 affairs"},
        {"incidents", "标题,事件类别,网格编码\r\n回民街路灯不亮,safety,411122101201003\r\n",
         "imported 1 incidents"},
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.csv", files[i].type);
        char *path = put_encoded(name, files[i].csv, i % 2 ? ENC_UTF8_BOM : ENC_GBK);
        GN("import", files[i].type, path);
        ck_assert_msg(R.status == 0, "%s: exit %d: %s", files[i].type, R.status, R.err);
        ASSERT_OUT_HAS(files[i].done);
        free(path);
    }
    ck_assert_int_eq(status_num("grid"), 3);
    ck_assert_int_eq(status_num("council"), 1);
    ck_assert_int_eq(status_num("member"), 2);
    ck_assert_int_eq(status_num("election"), 2);
    ck_assert_int_eq(status_num("candidate"), 4);
    ck_assert_int_eq(status_num("affair"), 3);
    ck_assert_int_eq(status_num("incident"), 1);

    char *js = show_json("grid", "411122101201003");
    ASSERT_JSON(js, "name", "第三网格（回民街）");
    ASSERT_JSON(js, "kind", "dedicated");
    free(js);
    js = show_json("member", "m-1");
    ASSERT_JSON(js, "role", "president");
    free(js);
    js = show_json("election", "e-2");
    ck_assert_msg(gst_json_set_has(js, "findings", "TURNOUT_INVALID"), "%s", js);
    free(js);
    js = show_json("election", "e-1");
    ck_assert_msg(!gst_json_set_has(js, "findings", "TURNOUT_INVALID"), "%s", js);
    ck_assert_msg(gst_json_set_has(js, "findings", "NO_WOMAN"), "%s", js);
    ASSERT_JSON(js, "elected", "2");      /* 马书记 (chair) and 白建华 */
    ASSERT_JSON(js, "yijiantiao", "true"); /* the chair is the Party secretary */
    ASSERT_JSON(js, "unfilled", "1");
    free(js);
    static const char *const outcome[][2] = {{"c-1", "not_elected"},
                                             {"c-2", "elected"},
                                             {"c-3", "not_elected"},
                                             {"c-4", "elected"}};
    for (int i = 0; i < 4; i++) {
        js = show_json("candidate", outcome[i][0]);
        ASSERT_JSON(js, "outcome", outcome[i][1]);
        free(js);
    }
    js = show_json("candidate", "c-3"); /* exactly half of 600 */
    ck_assert_msg(gst_json_set_has(js, "findings", "BELOW_HALF"), "%s", js);
    free(js);
    js = show_json("affair", "a-1");
    ck_assert_msg(gst_json_set_has(js, "violations", "AFFAIR_TABLES"), "%s", js);
    ck_assert_msg(gst_json_set_has(js, "violations", "AFFAIR_CARS"), "%s", js);
    free(js);
    js = show_json("affair", "a-2");
    ASSERT_JSON(js, "violations", "");
    ASSERT_JSON(js, "exemption", "回族");
    free(js);
    js = show_json("affair", "a-3");
    ck_assert_msg(gst_json_set_has(js, "violations", "AFFAIR_CREMATION"), "%s", js);
    ck_assert_msg(gst_json_set_has(js, "violations", "AFFAIR_DAYS"), "%s", js);
    free(js);

    /* export of every type: as many rows in CSV and in JSON as are stored */
    static const char *const counted[][2] = {{"grids", "grid"},         {"councils", "council"},
                                             {"members", "member"},     {"elections", "election"},
                                             {"candidates", "candidate"}, {"affairs", "affair"},
                                             {"incidents", "incident"}};
    for (int i = 0; i < 7; i++) {
        long long n = status_num(counted[i][1]);
        GN("export", counted[i][0]);
        ASSERT_OK();
        ck_assert_msg(csv_records(R.out) == n + 1, "export %s: %d CSV records for %lld rows",
                      counted[i][0], csv_records(R.out), n);
        GN("export", counted[i][0], "--format", "json");
        ASSERT_OK();
        ck_assert_msg(json_array_len(R.out) == n, "export %s: %d JSON objects for %lld rows",
                      counted[i][0], json_array_len(R.out), n);
    }
    GN("export", "affairs", "--format", "json"); /* computed fields are in the JSON */
    js = json_object_with(R.out, "id", "a-1");
    ck_assert_ptr_nonnull(js);
    ck_assert_msg(gst_json_set_has(js, "violations", "AFFAIR_TABLES"), "%s", js);
    free(js);
}
END_TEST

/* ==== import: errors ================================================================== */

/* Three bad rows among good ones: three errors, each naming file, Excel row,
 * column (number and header) and what was expected; then one summary line;
 * nothing imported, not even the good rows. */
START_TEST(import_reports_all_errors)
{
    static const char csv[] =
        "title,category,grid_code,reported_at,severity\r\n"
        "好的一行,dispute,411122101201001,2026-03-01 09:30,2\r\n"         /* row 2 */
        "坏日期,dispute,411122101201001,三月一日,2\r\n"                     /* row 3 */
        "好的第二行,safety,,2026-03-01 09:30,1\r\n"                        /* row 4 */
        "坏紧急程度,dispute,411122101201001,2026-03-01 09:30,9\r\n"         /* row 5 */
        "坏网格,dispute,4111221012010,2026-03-01 09:30,1\r\n";              /* row 6 */
    char *path = put_file("三个错误.csv", csv, sizeof csv - 1);
    long long seq = status_num("seq");
    GN("import", "incidents", path);
    ASSERT_EXIT(1);
    ck_assert_msg(count_lines(R.err) == 4, "want 3 errors and a summary:\n%s", R.err);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "%s: row 3, column 4 \"reported_at\": ", path);
    ASSERT_ERR_HAS(want);
    ASSERT_ERR_HAS("\"三月一日\" is not valid; expected a date and time like 2026-11-28 09:30");
    snprintf(want, sizeof want, "%s: row 5, column 5 \"severity\": ", path);
    ASSERT_ERR_HAS(want);
    ASSERT_ERR_HAS("expected a whole number from 1 to 4");
    snprintf(want, sizeof want, "%s: row 6, column 3 \"grid_code\": ", path);
    ASSERT_ERR_HAS(want);
    ASSERT_ERR_HAS("expected a 15-digit code");
    ASSERT_ERR_HAS("3 error(s); nothing was imported");
    ck_assert_int_eq(status_num("incident"), 0);
    ck_assert_int_eq(status_num("seq"), seq);
    free(path);
}
END_TEST

/* Errors found by the entry rules (not the cell format) name the row too. */
START_TEST(import_rule_errors_name_the_row)
{
    static const char affairs[] = "类型,事主,举办日期,火化,豁免理由\r\n"
                                  "白事,马德福,2026-06-01,豁免,回族\r\n"
                                  "白事,马家,2026-06-02,豁免,\r\n"; /* row 3: no reason */
    char *path = put_file("affairs.csv", affairs, sizeof affairs - 1);
    GN("import", "affairs", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("affairs.csv: row 3: ");
    ASSERT_ERR_HAS("豁免理由");
    ASSERT_ERR_HAS("1 error(s); nothing was imported");
    ck_assert_int_eq(status_num("affair"), 0);
    free(path);

    static const char elections[] =
        "id,committee,election_date,registered,voted,valid,invalid,seats_member\r\n"
        "e-1,village,2026-03-15,1000,600,600,0,2\r\n"
        "e-2,village,2026-03-15,1000,600,590,11,2\r\n"  /* row 3: 590 + 11 != 600 */
        "e-3,village,2026-03-15,500,600,600,0,2\r\n";   /* row 4: voted > registered */
    path = put_file("elections.csv", elections, sizeof elections - 1);
    GN("import", "elections", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("elections.csv: row 3: ");
    ASSERT_ERR_HAS("BALLOTS_SUM");
    ASSERT_ERR_HAS("elections.csv: row 4: ");
    ASSERT_ERR_HAS("CAST_OVER_REGISTERED");
    ck_assert_int_eq(status_num("election"), 0);
    free(path);

    static const char incidents[] = "title,category,grid_code\r\n"
                                    "别村网格,dispute,411122101299001\r\n";
    path = put_file("incidents.csv", incidents, sizeof incidents - 1);
    GN("import", "incidents", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("incidents.csv: row 2: ");
    ASSERT_ERR_HAS("does not belong to village");
    free(path);
}
END_TEST

/* A row spanning several lines (a quoted line break) is still one Excel row:
 * the error after it names the record's row, not the line. */
START_TEST(import_row_numbers_count_records)
{
    static const char csv[] = "title,category,description\r\n"
                              "多行,dispute,\"第一行\r\n第二行\r\n第三行\"\r\n" /* row 2 */
                              "坏类别,Dispute!,x\r\n";                          /* row 3 */
    char *path = put_file("multiline.csv", csv, sizeof csv - 1);
    GN("import", "incidents", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("multiline.csv: row 3, column 2 \"category\"");
    free(path);
}
END_TEST

/* Excel numbers every row, an empty one included. An empty row in the
 * middle (a row whose contents were deleted) must not shift the row numbers
 * of the errors after it. */
START_TEST(import_row_numbers_after_blank_row)
{
    static const char csv[] = "title,category,severity\r\n"
                              "好的一行,dispute,1\r\n" /* row 2 */
                              ",,\r\n"                  /* row 3: emptied in Excel */
                              "坏行,dispute,9\r\n";     /* row 4 */
    char *path = put_file("blank-row.csv", csv, sizeof csv - 1);
    GN("import", "incidents", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("blank-row.csv: row 4, column 3 \"severity\"");
    free(path);
}
END_TEST

/* A row with more cells than the header: Excel's empty padding cells are
 * fine, but a cell with text beyond the last column (a stray comma, a note
 * typed in a column without a header) must not be dropped without a word:
 * it is an error naming the row and the column. */
START_TEST(import_row_longer_than_header)
{
    static const char padded[] = "title,category,description\r\n"
                                 "路灯不亮,safety,东街口,,\r\n"
                                 ",,,,\r\n";
    char *path = put_file("padded.csv", padded, sizeof padded - 1);
    GN("import", "incidents", path);
    ASSERT_OK();
    ASSERT_OUT_HAS("1 new");
    free(path);

    static const char longer[] = "title,category,description\r\n"
                                 "井盖缺失,safety,东街口,靠近学校\r\n"; /* row 2, column 4 */
    path = put_file("longer.csv", longer, sizeof longer - 1);
    GN("import", "incidents", path);
    ck_assert_msg(R.status == 1,
                  "the text \"靠近学校\" beyond the last column was dropped silently (exit %d):\n%s",
                  R.status, R.out);
    ASSERT_ERR_HAS("longer.csv: row 2, column 4");
    ck_assert_int_eq(status_num("incident"), 1);
    free(path);
}
END_TEST

/* Header errors are all reported at once, as row 1 with the column. */
START_TEST(import_header_errors)
{
    static const char csv[] = "title,colour,closed_at,title,severity\r\nx,red,,x,1\r\n";
    char *path = put_file("headers.csv", csv, sizeof csv - 1);
    GN("import", "incidents", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("headers.csv: row 1, column 2 \"colour\": not a column of incidents");
    ASSERT_ERR_HAS("headers.csv: row 1, column 3 \"closed_at\": computed");
    ASSERT_ERR_HAS("headers.csv: row 1, column 4 \"title\": the column appears twice");
    ASSERT_ERR_HAS("headers.csv: row 1: the required column 事件类别 (category) is missing");
    ASSERT_ERR_HAS("4 error(s) in the header row; nothing was imported");
    ck_assert_int_eq(status_num("incident"), 0);
    free(path);
}
END_TEST

/* Files that cannot be read as CSV: the message says which file and why. */
START_TEST(import_unreadable_files)
{
    char *path = put_file("empty.csv", "", 0);
    GN("import", "incidents", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("empty.csv");
    ASSERT_ERR_HAS("empty file");
    free(path);

    static const char stray[] = "title,category\r\n好的,dispute\r\n\"引号\"多余,dispute\r\n";
    path = put_file("stray.csv", stray, sizeof stray - 1);
    GN("import", "incidents", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("stray.csv: line 3");
    ASSERT_ERR_HAS("quote");
    free(path);

    path = put_file("utf16.csv", "\xFF\xFEt\0i\0", 6);
    GN("import", "incidents", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("UTF-16");
    free(path);

    char missing[PATH_MAX];
    snprintf(missing, sizeof missing, "%s/没有这个文件.csv", tmp);
    GN("import", "incidents", missing);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS(missing);
    ck_assert_int_eq(status_num("incident"), 0);
}
END_TEST

/* One bad row at the end of 500 good ones: none of the 500 is saved. */
START_TEST(import_all_or_none)
{
    size_t cap = 64 * 1024, len = 0;
    char *csv = malloc(cap);
    ck_assert_ptr_nonnull(csv);
    len += (size_t)snprintf(csv + len, cap - len, "title,category,grid_code\r\n");
    for (int i = 0; i < 500; i++)
        len += (size_t)snprintf(csv + len, cap - len, "第%d号 路面破损,urban,%s\r\n", i, GRID1);
    len += (size_t)snprintf(csv + len, cap - len, "别村的事,urban,411122101202001\r\n");
    char *path = put_file("501.csv", csv, len);
    long long seq = status_num("seq");
    GN("import", "incidents", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("501.csv: row 502: ");
    ASSERT_ERR_HAS("1 error(s); nothing was imported");
    ck_assert_int_eq(status_num("incident"), 0);
    ck_assert_int_eq(status_num("seq"), seq);
    GN("incident", "list");
    ASSERT_OUT_HAS("(0 网格事件)");
    free(path);
    free(csv);
}
END_TEST

/* --dry-run checks everything and saves nothing. */
START_TEST(import_dry_run)
{
    char *path = put_encoded("dry.csv", rows_zh, ENC_GBK);
    long long seq = status_num("seq");
    GN("import", "incidents", path, "--dry-run");
    ASSERT_OK();
    ASSERT_OUT_HAS("dry run: 3 rows");
    ASSERT_OUT_HAS("3 new, 0 updates, 0 unchanged; nothing was saved");
    ASSERT_OUT_HAS("(GB18030/GBK)");
    ck_assert_int_eq(status_num("incident"), 0);
    ck_assert_int_eq(status_num("seq"), seq);
    GN("incident", "list");
    ASSERT_OUT_HAS("(0 网格事件)");

    /* a dry run of a bad file reports the errors and fails */
    static const char bad[] = "title,category,severity\r\nx,dispute,0\r\n";
    char *bpath = put_file("dry-bad.csv", bad, sizeof bad - 1);
    GN("import", "--dry-run", "incidents", bpath);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("row 2, column 3 \"severity\"");

    /* the real import then saves the same rows */
    GN("import", "incidents", path);
    ASSERT_OK();
    ck_assert_int_eq(status_num("incident"), 3);
    check_three(db);
    free(path);
    free(bpath);
}
END_TEST

/* ==== export and template ================================================================ */

START_TEST(export_csv_json_bom)
{
    char *path = put_encoded("in.csv", rows_en, ENC_UTF8);
    GN("import", "incidents", path);
    ASSERT_OK();
    free(path);

    GN("export", "incidents");
    ASSERT_OK();
    ck_assert_msg(!strncmp(R.out, "id,village_code,grid_code,category,title,", 41), "%.80s",
                  R.out);
    ck_assert_int_eq(csv_records(R.out), 4); /* header + 3 */
    ck_assert_msg(strstr(R.out, "closed_at") == NULL, "a computed column was exported");
    /* the field with a comma, quotes and a line break, quoted as Excel does */
    ASSERT_OUT_HAS("\"夜间无照明, 已设警示牌\r\n请\"\"市政\"\"尽快处理\"");

    GN("export", "incidents", "--bom");
    ASSERT_OK();
    ck_assert_msg(R.out_len > 3 && !memcmp(R.out, "\xEF\xBB\xBFid,", 6), "no BOM: %.8s", R.out);

    GN("export", "incidents", "--zh", "--bom");
    ASSERT_OK();
    static const char zh_head[] = "\xEF\xBB\xBF" "事件编号,村社区代码,网格编码,事件类别,标题,";
    ck_assert_msg(!memcmp(R.out, zh_head, sizeof zh_head - 1), "%.80s", R.out);

    GN("export", "incidents", "--format", "json");
    ASSERT_OK();
    ck_assert_msg(R.out[0] == '[', "%.20s", R.out);
    ck_assert_int_eq(json_array_len(R.out), 3);
    char *o = json_object_with(R.out, "title", t1);
    ck_assert_ptr_nonnull(o);
    ASSERT_JSON(o, "description", d1);
    free(o);

    GN("--json", "export", "incidents"); /* the global --json works as well */
    ASSERT_OK();
    ck_assert_int_eq(json_array_len(R.out), 3);

    GN("export", "elections");
    ASSERT_OK();
    ck_assert_int_eq(csv_records(R.out), 1); /* the header alone */
    GN("export", "elections", "--format", "json");
    ASSERT_OK();
    ck_assert_int_eq(json_array_len(R.out), 0);
}
END_TEST

/* template TYPE: the header row of the CSV file, English or Chinese, with
 * --bom the mark first; the same columns export writes. */
static const char *const templates[][3] = {
    {"grids", "code,village_code,name,kind,households,population,worker,worker_phone\r\n",
     "网格编码,村社区代码,网格名称,网格类型,户数,人口,网格员,联系电话\r\n"},
    {"incidents",
     "id,village_code,grid_code,category,title,description,source,reporter,reported_at,"
     "severity,status,assignee,deadline,note\r\n",
     "事件编号,村社区代码,网格编码,事件类别,标题,描述,来源,上报人,上报时间,紧急程度,状态,"
     "处置人,处置期限,处置说明\r\n"},
    {"elections",
     "id,village_code,committee,election_date,list_published,registered,voted,valid,invalid,"
     "supp_voted,seats_chair,seats_vice,seats_member,note\r\n",
     "选举编号,村社区代码,委员会类型,选举日,选民名单公布日,登记选民数,投票人数,有效票数,"
     "无效票数,另行选举投票人数,主任名额,副主任名额,委员名额,备注\r\n"},
    {"candidates", "id,village_code,election_id,name,gender,post,round,votes,party_secretary\r\n",
     "候选人编号,村社区代码,选举编号,姓名,性别,职务,轮次,得票数,党组织书记\r\n"},
    {"councils",
     "id,village_code,name,established_on,charter_version,max_tables,max_cost_per_table,"
     "max_gift,max_cars,max_funeral_days,max_bride_price,cremation_required\r\n",
     "理事会编号,村社区代码,名称,成立日期,章程版本,桌数上限,每桌费用上限,礼金上限,车辆上限,"
     "丧事天数上限,彩礼上限,要求火化\r\n"},
    {"members",
     "id,village_code,council_id,name,gender,role,party_member,term_start,term_end,phone\r\n",
     "成员编号,村社区代码,理事会编号,姓名,性别,职务,党员,任期开始,任期结束,联系电话\r\n"},
    {"affairs",
     "id,village_code,kind,host,declared_on,event_date,tables,cost_per_table,gift,guests,cars,"
     "days,bride_price,cremation,exemption,host_is_cadre,savings,supervisor\r\n",
     "事项编号,村社区代码,类型,事主,申报日期,举办日期,桌数,每桌费用,礼金,宾客人数,车辆数,天数,"
     "彩礼,火化,豁免理由,党员干部,节约金额,监督人\r\n"},
};
#define NTEMPLATES ((int)(sizeof templates / sizeof templates[0]))

START_TEST(template_every_type)
{
    const char *type = templates[_i][0];
    GN("template", type);
    ASSERT_OK();
    ck_assert_str_eq(R.out, templates[_i][1]);
    GN("template", type, "--zh");
    ASSERT_OK();
    ck_assert_str_eq(R.out, templates[_i][2]);
    GN("template", type, "--zh", "--bom");
    ASSERT_OK();
    ck_assert(!memcmp(R.out, "\xEF\xBB\xBF", 3));
    ck_assert_str_eq(R.out + 3, templates[_i][2]);
    GN("export", type); /* export writes the same columns */
    ASSERT_OK();
    ck_assert_msg(!strncmp(R.out, templates[_i][1], strlen(templates[_i][1])), "%s", R.out);

    /* a template with no rows imports as nothing, in either language */
    char *path = put_file("template.csv", templates[_i][2], strlen(templates[_i][2]));
    GN("import", type, path);
    ASSERT_OK();
    ASSERT_OUT_HAS("0 new, 0 updated");
    free(path);
}
END_TEST

/* ==== round trips ============================================================================ */

/* Chinese text with every CSV special (comma, quotes, CRLF and LF), a tab and
 * a 4-byte character: byte for byte through add, show, export csv and json,
 * and an import of the exported file into another node of the village. */
static const char rt_title[] = "东街“老槐树”下, 井盖\"缺失\"";
static const char rt_desc[] = "二楼漏水，\r\n影响一楼；\n吉野家𠮷\t请尽快处理";

START_TEST(roundtrip_chinese_text)
{
    GN("incident", "add", "--category", "safety", "--title", rt_title, "--description", rt_desc,
       "--reporter", "欧阳娜娜");
    ASSERT_OK();
    char *id = strndup(R.out, strcspn(R.out, "\n"));

    GN("incident", "show", id);
    ASSERT_OUT_HAS(rt_title);
    ASSERT_OUT_HAS(rt_desc);
    char *js = show_json("incident", id);
    ASSERT_JSON(js, "title", rt_title);
    ASSERT_JSON(js, "description", rt_desc);
    free(js);

    GN("export", "incidents", "--bom", "--zh");
    ASSERT_OK();
    ASSERT_OUT_HAS("\"东街“老槐树”下, 井盖\"\"缺失\"\"\"");
    ASSERT_OUT_HAS("\"二楼漏水，\r\n影响一楼；\n吉野家𠮷\t请尽快处理\"");
    char *csv = put_file("export.csv", R.out, R.out_len);

    js = export_json_of(db, "incidents");
    char *o = json_object_with(js, "id", id);
    ck_assert_ptr_nonnull(o);
    ASSERT_JSON(o, "title", rt_title);
    ASSERT_JSON(o, "description", rt_desc);
    ASSERT_JSON(o, "reporter", "欧阳娜娜");
    free(o);
    free(js);

    /* another node of the same village imports the exported file */
    char other[PATH_MAX];
    snprintf(other, sizeof other, "%s/other.db", tmp);
    init_db(other, "411122101201-n2");
    GNDB(other, "grid", "add", "--code", GRID1, "--name", "第一网格");
    ASSERT_OK();
    GNDB(other, "import", "incidents", csv);
    ASSERT_OK();
    ASSERT_OUT_HAS("(UTF-8 BOM): 1 new, 0 updated");
    js = export_json_of(other, "incidents");
    o = json_object_with(js, "id", id);
    ck_assert_msg(o != NULL, "id %s not kept:\n%s", id, js);
    ASSERT_JSON(o, "title", rt_title);
    ASSERT_JSON(o, "description", rt_desc);
    free(o);
    free(js);
    GNDB(other, "incident", "show", id);
    ASSERT_OUT_HAS(rt_desc);
    free(csv);
    free(id);
}
END_TEST

/* The same text in a GBK file (without the 4-byte character, which GBK
 * lacks) comes out of export as the UTF-8 literal. */
START_TEST(roundtrip_gbk_file)
{
    static const char csv[] = "标题,事件类别,描述\r\n"
                              "\"东街“老槐树”下, 井盖\"\"缺失\"\"\",safety,"
                              "\"二楼漏水，\r\n影响一楼；\n请尽快处理\"\r\n";
    char *path = put_encoded("gbk.csv", csv, ENC_GBK);
    GN("import", "incidents", path);
    ASSERT_OK();
    GN("export", "incidents");
    ASSERT_OK();
    ASSERT_OUT_HAS("\"东街“老槐树”下, 井盖\"\"缺失\"\"\"");
    ASSERT_OUT_HAS("\"二楼漏水，\r\n影响一楼；\n请尽快处理\"");
    char *js = export_json_of(db, "incidents");
    ASSERT_JSON(js, "title", rt_title);
    ASSERT_JSON(js, "description", "二楼漏水，\r\n影响一楼；\n请尽快处理");
    free(js);
    free(path);
}
END_TEST

/* Export, edit in "Excel" (here: a text replacement), import back: the rows
 * with existing ids update their records, new rows are created. Every type
 * but incidents (see reimport_exported_incidents). */
START_TEST(reimport_exported_records)
{
    GN("grid", "add", "--code", "411122101201002", "--name", "第二网格", "--worker", "刘建军");
    ASSERT_OK();
    GN("council", "add", "--id", "hb-1", "--name", "红白理事会", "--max-tables", "7");
    ASSERT_OK();
    GN("affair", "add", "--id", "a-1", "--kind", "红事", "--host", "刘家", "--event-date",
       "2026-05-01", "--tables", "8");
    ASSERT_OK();

    GN("export", "grids", "--bom", "--zh");
    ASSERT_OK();
    /* rename a grid and add a row, as staff would in Excel */
    char *text = malloc(R.out_len + 256);
    ck_assert_ptr_nonnull(text);
    const char *at = strstr(R.out, "第二网格");
    ck_assert_ptr_nonnull(at);
    size_t pre = (size_t)(at - R.out);
    memcpy(text, R.out, pre);
    size_t len = pre;
    len += (size_t)sprintf(text + len, "第二网格（西片）");
    const char *rest = at + strlen("第二网格");
    memcpy(text + len, rest, R.out_len - pre - strlen("第二网格"));
    len += R.out_len - pre - strlen("第二网格");
    len += (size_t)sprintf(text + len, "411122101201003,%s,第三网格,综合网格,,,,\r\n", VILLAGE);
    char *path = put_file("grids-edited.csv", text, len);
    free(text);
    GN("import", "grids", path);
    ASSERT_OK();
    ASSERT_OUT_HAS("(UTF-8 BOM): 1 new, 1 updated, 1 unchanged");
    char *js = show_json("grid", "411122101201002");
    ASSERT_JSON(js, "name", "第二网格（西片）");
    ASSERT_JSON(js, "worker", "刘建军");
    free(js);
    ck_assert_int_eq(status_num("grid"), 3);
    free(path);

    /* an affair re-imported with fewer tables is checked again: 8 -> 1 */
    js = show_json("affair", "a-1");
    ck_assert_msg(gst_json_set_has(js, "violations", "AFFAIR_TABLES"), "%s", js);
    free(js);
    GN("export", "affairs");
    ASSERT_OK();
    char *edited = strdup(R.out);
    char *cell = strstr(edited, ",2026-05-01,8,");
    ck_assert_ptr_nonnull(cell);
    cell[12] = '1';
    path = put_file("affairs.csv", edited, strlen(edited));
    GN("import", "affairs", path);
    ASSERT_OK();
    ASSERT_OUT_HAS("0 new, 1 updated");
    js = show_json("affair", "a-1");
    ASSERT_JSON(js, "tables", "1");
    ASSERT_JSON(js, "violations", "");
    free(js);
    free(edited);
    free(path);

    /* the other types go back unchanged */
    static const char *const types[] = {"councils", "affairs", "grids"};
    for (int i = 0; i < 3; i++) {
        GN("export", types[i]);
        ASSERT_OK();
        char name[32];
        snprintf(name, sizeof name, "same-%s.csv", types[i]);
        path = put_file(name, R.out, R.out_len);
        GN("import", types[i], path);
        ck_assert_msg(R.status == 0, "%s: %s", types[i], R.err);
        ASSERT_OUT_HAS("0 new, 0 updated, ");
        ASSERT_OUT_HAS("没有新的内容");
        free(path);
    }
}
END_TEST

/* An exported incidents file, edited and imported back, updates the
 * incidents, whatever their status. */
START_TEST(reimport_exported_incidents)
{
    GN("incident", "add", "--category", "urban", "--title", "占道经营");
    ASSERT_OK();
    char *a = strndup(R.out, strcspn(R.out, "\n"));
    GN("incident", "add", "--category", "sanitation", "--title", "垃圾堆放");
    ASSERT_OK();
    char *b = strndup(R.out, strcspn(R.out, "\n"));
    GN("incident", "update", b, "--status", "accepted");
    ASSERT_OK();

    GN("export", "incidents");
    ASSERT_OK();
    char *edited = strdup(R.out);
    char *t = strstr(edited, "占道经营");
    ck_assert_ptr_nonnull(t);
    memcpy(t, "占道摆摊", strlen("占道摆摊")); /* same byte length */
    char *path = put_file("incidents-edited.csv", edited, strlen(edited));
    GN("import", "incidents", path);
    ck_assert_msg(R.status == 0,
                  "re-importing an exported incidents file failed (exit %d):\n%s", R.status, R.err);
    ASSERT_OUT_HAS("0 new, 1 updated, 1 unchanged");
    char *js = show_json("incident", a);
    ASSERT_JSON(js, "title", "占道摆摊");
    free(js);
    js = show_json("incident", b);
    ASSERT_JSON(js, "status", "accepted");
    free(js);
    free(path);
    free(edited);
    free(a);
    free(b);
}
END_TEST

/* ==== importing twice ======================================================================= */

/* A ledger as village offices keep it: a 序号 column, no ids, two rows alike. */
static const char ledger[] = "序号,标题,事件类别,网格编码,上报时间\r\n"
                             "1,路灯不亮,safety,411122101201001,2026-03-01 09:30\r\n"
                             "2,占道经营,urban,,2026-03-02 10:00\r\n"
                             "3,垃圾堆放,sanitation,,2026-03-03 08:00\r\n"
                             "4,垃圾堆放,sanitation,,2026-03-03 08:00\r\n" /* a second pile */
                             "5,邻里纠纷,dispute,,2026-03-04 16:20\r\n";

/* The same file imported twice adds nothing the second time and says so;
 * the column order, an encoding and the 序号 numbers do not matter; a new
 * row appended to the ledger is the only new record of the third import;
 * identical rows stay two records. */
START_TEST(import_twice_adds_nothing)
{
    char *path = put_file("台账.csv", ledger, sizeof ledger - 1);
    GN("import", "incidents", path);
    ASSERT_OK();
    ASSERT_OUT_HAS("imported 5 incidents");
    ASSERT_OUT_HAS("5 new, 0 updated, 0 unchanged");
    long long seq = status_num("seq");

    GN("import", "incidents", path);
    ASSERT_OK();
    ASSERT_OUT_HAS("imported 0 incidents");
    ASSERT_OUT_HAS("0 new, 0 updated, 5 unchanged; 文件里没有新的内容，什么也没有改");
    ck_assert_int_eq(status_num("incident"), 5);
    ck_assert_int_eq(status_num("seq"), seq);

    /* the same rows with other 序号, columns in another order, saved as GBK */
    static const char moved[] = "上报时间,事件类别,标题,序号,网格编码\r\n"
                                "2026-03-04 16:20,dispute,邻里纠纷,15,\r\n"
                                "2026/3/3 8:00,sanitation,垃圾堆放,13,\r\n"
                                "2026-03-01 09:30,safety,路灯不亮,11,411122101201001\r\n"
                                "2026-03-03 08:00,sanitation,垃圾堆放,14,\r\n"
                                "2026-03-02 10:00,urban,占道经营,12,\r\n"
                                "2026-03-05 07:45,safety,井盖缺失,16,\r\n"; /* new */
    char *gbk = put_encoded("台账-GBK.csv", moved, ENC_GBK);
    GN("import", "incidents", gbk);
    ASSERT_OK();
    ASSERT_OUT_HAS("1 new, 0 updated, 5 unchanged");
    ck_assert_int_eq(status_num("incident"), 6);
    ck_assert_int_eq(status_num("seq"), seq + 1);
    GN("incident", "list");
    ASSERT_OUT_HAS("(6 网格事件)");
    free(gbk);
    free(path);
}
END_TEST

/* Rows with ids: an edited export updates only the record that changed, and
 * only the field that changed becomes a change (through the entry path: the
 * workflow still applies); the others are unchanged and append nothing. */
START_TEST(reimport_edited_updates_only_changes)
{
    GN("incident", "add", "--category", "urban", "--title", "占道经营", "--reporter", "马丽");
    ASSERT_OK();
    char *a = strndup(R.out, strcspn(R.out, "\n"));
    GN("incident", "add", "--category", "sanitation", "--title", "垃圾堆放");
    ASSERT_OK();
    GN("incident", "add", "--category", "dispute", "--title", "邻里纠纷");
    ASSERT_OK();
    GN("export", "incidents", "--zh", "--bom");
    ASSERT_OK();
    char *same = put_file("same.csv", R.out, R.out_len);
    long long seq = status_num("seq");
    GN("import", "incidents", same);
    ASSERT_OK();
    ASSERT_OUT_HAS("0 new, 0 updated, 3 unchanged");
    ck_assert_int_eq(status_num("seq"), seq);

    GN("export", "incidents", "--zh", "--bom");
    char *edited = strdup(R.out);
    char *t = strstr(edited, "占道经营");
    ck_assert_ptr_nonnull(t);
    memcpy(t, "占道摆摊", strlen("占道摆摊")); /* same byte length */
    char *path = put_file("edited.csv", edited, strlen(edited));
    GN("import", "incidents", path);
    ASSERT_OK();
    ASSERT_OUT_HAS("imported 1 incidents");
    ASSERT_OUT_HAS("0 new, 1 updated, 2 unchanged");
    ck_assert_int_eq(status_num("seq"), seq + 1);
    GN("incident", "show", a);
    ASSERT_OK();
    ASSERT_OUT_HAS("占道摆摊");
    ASSERT_OUT_HAS("马丽");
    /* the last history line is the import's change: the title alone */
    const char *last = R.out + strlen(R.out);
    while (last > R.out && (last[-1] == '\n'))
        last--;
    while (last > R.out && last[-1] != '\n')
        last--;
    ck_assert_msg(strstr(last, "标题=占道摆摊") && !strstr(last, "事件类别=") &&
                      !strstr(last, "上报人="),
                  "the update is not the title alone: %s", last);

    /* the workflow still applies to an imported status: reported -> closed
     * is no transition (the status is written in Chinese, as staff would) */
    t = strstr(edited, ",reported,");
    ck_assert_ptr_nonnull(t);
    char *bad = malloc(strlen(edited) + 16);
    ck_assert_ptr_nonnull(bad);
    size_t pre = (size_t)(t - edited);
    memcpy(bad, edited, pre);
    sprintf(bad + pre, ",结案,%s", t + strlen(",reported,"));
    char *bpath = put_file("closed.csv", bad, strlen(bad));
    GN("import", "incidents", bpath);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("closed.csv: row ");
    ASSERT_ERR_HAS("cannot go to");
    ck_assert_int_eq(status_num("seq"), seq + 1);
    free(bpath);
    free(bad);
    free(path);
    free(edited);
    free(same);
    free(a);
}
END_TEST

/* Ordinal columns are ignored: 序号, 行号, No., # and a bare 编号 holding
 * row numbers; a bare 编号 holding anything else is refused with the fix. */
START_TEST(import_ordinal_columns)
{
    static const char csv[] = "序号,No.,#,行号,编号,名称,桌数上限\r\n"
                              "1,1,1,2,001,王庄村红白理事会,10\r\n"
                              "2,2,2,3,002,李庄村红白理事会,8\r\n";
    char *path = put_file("councils.csv", csv, sizeof csv - 1);
    GN("import", "councils", path);
    ASSERT_OK();
    ASSERT_OUT_HAS("2 new, 0 updated, 0 unchanged");
    GN("import", "councils", path);
    ASSERT_OK();
    ASSERT_OUT_HAS("0 new, 0 updated, 2 unchanged");
    ck_assert_int_eq(status_num("council"), 2);
    free(path);

    static const char ids[] = "编号,名称\r\n1,甲\r\nhb-1,乙\r\n"; /* row 3 */
    path = put_file("ids.csv", ids, sizeof ids - 1);
    GN("import", "councils", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("ids.csv: row 3, column 1 \"编号\": \"hb-1\" 不是行号");
    ASSERT_ERR_HAS("请把表头改为 理事会编号（或 id）");
    ASSERT_ERR_HAS("若是行号，请改为 序号");
    ASSERT_ERR_HAS("1 error(s) in the header row; nothing was imported");
    ck_assert_int_eq(status_num("council"), 2);
    free(path);
}
END_TEST

/* Values Excel mangled: a code in scientific notation is refused with the
 * file, the row, the column and how to fix the spreadsheet, and nothing of
 * the file is stored; thousands separators and date serials are read as
 * what they stand for. */
START_TEST(import_excel_mangled_values)
{
    static const char sci[] = "网格编码,网格名称,户数\r\n"
                              "411122101201002,第二网格,210\r\n"
                              "4.11121E+14,第三网格,180\r\n"; /* row 3 */
    char *path = put_file("网格.csv", sci, sizeof sci - 1);
    GN("import", "grids", path);
    ASSERT_EXIT(1);
    char want[PATH_MAX + 128];
    snprintf(want, sizeof want,
             "%s: row 3, column 1 \"网格编码\": 网格编码 (code): \"4.11121E+14\" 是 Excel 的"
             "科学计数法，代码的后几位已经丢失；请在 Excel 中把这一列的单元格格式设为“文本”，"
             "再重新输入",
             path);
    ASSERT_ERR_HAS(want);
    ASSERT_ERR_HAS("set the column's format to Text and type the values again");
    ASSERT_ERR_HAS("1 error(s); nothing was imported");
    ck_assert_int_eq(status_num("grid"), 1);
    free(path);

    static const char ok[] = "网格编码,网格名称,户数,人口\r\n"
                             "411122101201002,第二网格,210,\"1,200\"\r\n";
    path = put_file("网格2.csv", ok, sizeof ok - 1);
    GN("import", "grids", path);
    ASSERT_OK();
    char *js = show_json("grid", "411122101201002");
    ASSERT_JSON(js, "population", "1200");
    free(js);
    free(path);

    static const char dates[] = "事项编号,类型,事主,举办日期,申报日期,礼金\r\n"
                                "a-1,红事,刘家,46000,45995,\"1,000\"\r\n";
    path = put_file("红白事.csv", dates, sizeof dates - 1);
    GN("import", "affairs", path);
    ASSERT_OK();
    js = show_json("affair", "a-1");
    ASSERT_JSON(js, "event_date", "2025-12-09");
    ASSERT_JSON(js, "declared_on", "2025-12-04");
    ASSERT_JSON(js, "gift", "1000");
    free(js);
    GN("import", "affairs", path); /* the serial is the stored date: unchanged */
    ASSERT_OK();
    ASSERT_OUT_HAS("0 new, 0 updated, 1 unchanged");
    free(path);
}
END_TEST

/* A row without an id in a refused import leaves no fingerprint behind: the
 * corrected file then imports every row. */
START_TEST(import_refused_remembers_nothing)
{
    static const char bad[] = "标题,事件类别,紧急程度\r\n好的一行,dispute,1\r\n坏的一行,dispute,9\r\n";
    static const char good[] = "标题,事件类别,紧急程度\r\n好的一行,dispute,1\r\n坏的一行,dispute,3\r\n";
    char *path = put_file("fix.csv", bad, sizeof bad - 1);
    long long seq = status_num("seq");
    GN("import", "incidents", path);
    ASSERT_EXIT(1);
    ASSERT_ERR_HAS("fix.csv: row 3, column 3 \"紧急程度\"");
    ck_assert_int_eq(status_num("seq"), seq);
    free(path);
    path = put_file("fix.csv", good, sizeof good - 1);
    GN("import", "incidents", path);
    ASSERT_OK();
    ASSERT_OUT_HAS("2 new, 0 updated, 0 unchanged");
    ck_assert_int_eq(status_num("incident"), 2);
    free(path);
}
END_TEST

/* Text cells a spreadsheet would run as formulas are exported behind a "'"
 * (numbers are not); the exported file imports back unchanged, and into
 * another node with the text as it was typed. JSON is not touched. */
START_TEST(export_formula_cells)
{
    static const char formula[] = "=HYPERLINK(\"http://example.com\",\"点我\")";
    GN("incident", "add", "--category", "urban", "--title", formula, "--description", "-减少了",
       "--reporter", "@马丽", "--assignee", "+86 138");
    ASSERT_OK();
    char *id = strndup(R.out, strcspn(R.out, "\n"));
    GN("election", "add", "--id", "e-1", "--committee", "村民委员会", "--election-date",
       "2026-03-15", "--registered", "1000", "--voted", "600", "--valid", "600", "--invalid",
       "0", "--seats-member", "2", "--note", "=1+1");
    ASSERT_OK();

    GN("export", "incidents");
    ASSERT_OK();
    ASSERT_OUT_HAS(",\"'=HYPERLINK(\"\"http://example.com\"\",\"\"点我\"\")\",'-减少了,");
    ASSERT_OUT_HAS(",'@马丽,");
    ASSERT_OUT_HAS(",'+86 138,");
    char *csv = put_file("formula.csv", R.out, R.out_len);
    GN("export", "elections");
    ASSERT_OK();
    ASSERT_OUT_HAS(",1000,600,600,0,,1,0,2,'=1+1\r\n"); /* numbers as they are */
    char *ecsv = put_file("elections.csv", R.out, R.out_len);

    GN("export", "incidents", "--format", "json");
    ASSERT_OK();
    ASSERT_JSON(R.out, "reporter", "@马丽");

    long long seq = status_num("seq");
    GN("import", "incidents", csv);
    ASSERT_OK();
    ASSERT_OUT_HAS("0 new, 0 updated, 1 unchanged");
    GN("import", "elections", ecsv);
    ASSERT_OK();
    ASSERT_OUT_HAS("0 new, 0 updated, 1 unchanged");
    ck_assert_int_eq(status_num("seq"), seq);

    char other[PATH_MAX];
    snprintf(other, sizeof other, "%s/other.db", tmp);
    init_db(other, "411122101201-n2");
    GNDB(other, "import", "incidents", csv);
    ASSERT_OK();
    ASSERT_OUT_HAS("1 new, 0 updated, 0 unchanged");
    char *js = export_json_of(other, "incidents");
    char *o = json_object_with(js, "id", id);
    ck_assert_msg(o != NULL, "%s", js);
    ASSERT_JSON(o, "title", formula);
    ASSERT_JSON(o, "description", "-减少了");
    ASSERT_JSON(o, "reporter", "@马丽");
    ASSERT_JSON(o, "assignee", "+86 138");
    free(o);
    free(js);
    free(csv);
    free(ecsv);
    free(id);
}
END_TEST

/* ==== suite ================================================================================= */

static Suite *node_import_suite(void)
{
    Suite *s = suite_create("node_import");
    TCase *tc;

    /* 120 s per test: gridnode is slow under sanitizers */
    tc = gst_tcase(s, "import", setup, teardown, 120);
    tcase_add_loop_test(tc, import_encodings_and_headers, 0, 8);
    tcase_add_test(tc, import_gb18030_four_byte);
    tcase_add_test(tc, import_every_type);
    tcase_add_test(tc, import_dry_run);

    tc = gst_tcase(s, "import_errors", setup, teardown, 120);
    tcase_add_test(tc, import_reports_all_errors);
    tcase_add_test(tc, import_rule_errors_name_the_row);
    tcase_add_test(tc, import_row_numbers_count_records);
    tcase_add_test(tc, import_row_numbers_after_blank_row);
    tcase_add_test(tc, import_row_longer_than_header);
    tcase_add_test(tc, import_header_errors);
    tcase_add_test(tc, import_unreadable_files);
    tcase_add_test(tc, import_all_or_none);

    tc = gst_tcase(s, "export", setup, teardown, 120);
    tcase_add_test(tc, export_csv_json_bom);
    tcase_add_loop_test(tc, template_every_type, 0, NTEMPLATES);

    tc = gst_tcase(s, "roundtrip", setup, teardown, 120);
    tcase_add_test(tc, roundtrip_chinese_text);
    tcase_add_test(tc, roundtrip_gbk_file);
    tcase_add_test(tc, reimport_exported_records);
    tcase_add_test(tc, reimport_exported_incidents);
    tcase_add_test(tc, export_formula_cells);

    tc = gst_tcase(s, "import_twice", setup, teardown, 120);
    tcase_add_test(tc, import_twice_adds_nothing);
    tcase_add_test(tc, reimport_edited_updates_only_changes);
    tcase_add_test(tc, import_ordinal_columns);
    tcase_add_test(tc, import_excel_mangled_values);
    tcase_add_test(tc, import_refused_remembers_nothing);
    return s;
}

int main(void)
{
    char *top = gst_tmp_top();
    int rc = gst_run_suite(node_import_suite());
    gst_rmrf(top);
    free(top);
    return rc;
}
