/*
 * test_form.c: forms generated from the record tables (gridsync/form.h):
 * what a clerk sees (labels, required marks, Chinese options, pickers
 * with names, read-only computed fields, every text escaped) and what a
 * submitted form becomes (a record, or the command line's message beside
 * the field that is wrong).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gridsync/form.h"
#include "gridsync/record.h"

static const gs_rectype *incident(void)
{
    return gs_rectype_get(GS_RT_INCIDENT);
}

static int fi(const char *name)
{
    return gs_field_find(incident(), name);
}

/* The HTML of one field's <div class="field">, from "<div" to "</div>";
 * "" when the form does not show it. The caller frees it. */
static char *field_html(const char *html, const char *name)
{
    char needle[80];
    snprintf(needle, sizeof needle, "<label for=\"f-%s\">", name);
    const char *p = strstr(html, needle);
    if (!p)
        return strdup("");
    while (p > html && strncmp(p, "<div", 4))
        p--;
    const char *e = strstr(p, "</div>");
    return strndup(p, (size_t)(e - p) + 6);
}

static char *render(gs_form *fm, const gs_record *values)
{
    gs_buf b = GS_BUF_INIT;
    gs_form_render(fm, values, &b);
    ck_assert_int_eq(b.err, 0);
    return gs_buf_steal(&b);
}

/* The pickers of the tests: two grids and a category with its parent. */
static void refs(void *arg, const gs_rectype *rt, int f, gs_form_choices *out)
{
    (void)rt;
    (void)f;
    int *calls = arg;
    ++*calls;
    if (!strcmp(rt->fields[f].ref, "grid")) {
        gs_form_choice_add(out, "411122101201001", "第一网格");
        gs_form_choice_add(out, "411122101201002", "第二网格 <东>");
    } else if (!strcmp(rt->fields[f].ref, "category")) {
        gs_form_choice_add(out, "dispute.neighbour", "纠纷调解 › 邻里纠纷");
    }
}

START_TEST(new_incident_form_follows_the_table)
{
    gs_form *fm = gs_form_new(incident(), GS_FORM_CREATE);
    int calls = 0;
    gs_form_set_refs(fm, refs, &calls);
    char *html = render(fm, NULL);
    /* neither the generated id, the village, nor a computed field is an input */
    ck_assert_ptr_null(strstr(html, "name=\"id\""));
    ck_assert_ptr_null(strstr(html, "name=\"village_code\""));
    ck_assert_ptr_null(strstr(html, "closed_at"));
    ck_assert_ptr_null(strstr(html, "结案时间"));
    /* required marks: title and category must be given; status and severity
     * have defaults, description is optional */
    char *title = field_html(html, "title"), *cat = field_html(html, "category"),
         *status = field_html(html, "status"), *desc = field_html(html, "description"),
         *sev = field_html(html, "severity"), *rep = field_html(html, "reported_at"),
         *grid = field_html(html, "grid_code"), *deadline = field_html(html, "deadline");
    ck_assert_ptr_nonnull(strstr(title, "标题<span class=\"req\""));
    ck_assert_ptr_nonnull(strstr(title, "maxlength=\"200\""));
    ck_assert_ptr_nonnull(strstr(title, "1–200 字"));
    ck_assert_ptr_nonnull(strstr(cat, "class=\"req\""));
    ck_assert_ptr_null(strstr(status, "class=\"req\""));
    ck_assert_ptr_null(strstr(desc, "class=\"req\""));
    ck_assert_ptr_null(strstr(sev, "class=\"req\""));
    /* reported_at is required but has no default in the table: marked */
    ck_assert_ptr_nonnull(strstr(rep, "class=\"req\""));
    /* inputs by type */
    ck_assert_ptr_nonnull(strstr(desc, "<textarea"));
    ck_assert_ptr_nonnull(strstr(title, "<input type=\"text\""));
    ck_assert_ptr_nonnull(strstr(sev, "type=\"number\" step=\"1\" min=\"1\" max=\"4\""));
    ck_assert_ptr_nonnull(strstr(sev, "value=\"2\""));
    ck_assert_ptr_nonnull(strstr(deadline, "type=\"date\""));
    ck_assert_ptr_nonnull(strstr(rep, "type=\"datetime-local\""));
    /* enumerations in Chinese, canonical values, the default chosen */
    ck_assert_ptr_nonnull(strstr(status, "<option value=\"reported\" selected>上报</option>"));
    ck_assert_ptr_nonnull(strstr(status, "<option value=\"closed\">结案</option>"));
    /* references as pickers that show names, escaped */
    ck_assert_ptr_nonnull(strstr(grid, "<select"));
    ck_assert_ptr_nonnull(strstr(grid, "<option value=\"411122101201001\">第一网格</option>"));
    ck_assert_ptr_nonnull(strstr(grid, "第二网格 &lt;东&gt;"));
    ck_assert_ptr_nonnull(strstr(grid, "（无）")); /* optional: may stay empty */
    ck_assert_ptr_nonnull(strstr(cat, "纠纷调解 › 邻里纠纷"));
    ck_assert_ptr_nonnull(strstr(cat, "— 请选择 —"));
    ck_assert_int_eq(calls, 2);
    free(title), free(cat), free(status), free(desc), free(sev), free(rep), free(grid),
        free(deadline);
    free(html);
    gs_form_destroy(&fm);
    ck_assert_ptr_null(fm);
}
END_TEST

/* A preset (reported_at: now) takes the required mark off and is shown. */
START_TEST(preset_is_shown_and_not_required)
{
    gs_form *fm = gs_form_new(incident(), GS_FORM_CREATE);
    gs_form_preset(fm, fi("reported_at"), "2026-11-28T09:30:00+08:00");
    gs_form_omit(fm, fi("status"));
    char *html = render(fm, NULL);
    char *rep = field_html(html, "reported_at");
    ck_assert_ptr_null(strstr(rep, "class=\"req\""));
    ck_assert_ptr_nonnull(strstr(rep, "value=\"2026-11-28T09:30:00\""));
    ck_assert_ptr_null(strstr(html, "name=\"status\""));
    free(rep);
    free(html);
    gs_form_destroy(&fm);
}
END_TEST

/* English labels with the language switch. */
START_TEST(english_labels)
{
    gs_form *fm = gs_form_new(incident(), GS_FORM_CREATE);
    gs_form_set_en(fm, true);
    char *html = render(fm, NULL);
    ck_assert_ptr_nonnull(strstr(html, ">Reported at<"));
    ck_assert_ptr_nonnull(strstr(html, ">in_progress</option>"));
    ck_assert_ptr_null(strstr(html, "标题"));
    free(html);
    gs_form_destroy(&fm);
}
END_TEST

/* A stored title with markup shows as text, in the input and read-only. */
START_TEST(values_are_escaped)
{
    gs_record *r = gs_record_new(incident());
    ck_assert_int_eq(gs_record_parse(r, fi("title"), "<script>alert(1)</script>", NULL), 0);
    ck_assert_int_eq(gs_record_parse(r, fi("description"), "a \"quote\" & 'apos' </textarea>", NULL), 0);
    ck_assert_int_eq(gs_record_parse(r, fi("closed_at"), "2026-11-29 10:00", NULL), 0);
    ck_assert_int_eq(gs_record_parse(r, fi("status"), "closed", NULL), 0);
    gs_form *fm = gs_form_new(incident(), GS_FORM_UPDATE);
    char *html = render(fm, r);
    ck_assert_ptr_null(strstr(html, "<script>"));
    ck_assert_ptr_null(strstr(html, "' </textarea>"));
    ck_assert_ptr_nonnull(strstr(html, "value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""));
    ck_assert_ptr_nonnull(strstr(html, "a &quot;quote&quot; &amp; "));
    ck_assert_ptr_nonnull(strstr(html, "apos&#39; &lt;/textarea&gt;") ? "" : strstr(html, "apos&#x27; &lt;/textarea&gt;"));
    /* computed: read-only on update, never an input */
    ck_assert_ptr_null(strstr(html, "name=\"closed_at\""));
    ck_assert_ptr_nonnull(strstr(html, "结案时间</span> <span class=\"value\">2026-11-29T10:00:00+08:00"));
    /* the stored enum chosen */
    ck_assert_ptr_nonnull(strstr(html, "<option value=\"closed\" selected>结案</option>"));
    free(html);
    gs_form_destroy(&fm);
    gs_record_destroy(&r);
}
END_TEST

/* What the user typed becomes the record; the messages are the command
 * line's (gs_record_parse), each beside its field, and the typed text is
 * shown again. */
START_TEST(parse_gives_the_command_lines_messages)
{
    gs_form *fm = gs_form_new(incident(), GS_FORM_CREATE);
    ck_assert_int_eq(gs_form_take(fm, "title", "<b>井盖缺失</b>"), 0);
    ck_assert_int_eq(gs_form_take(fm, "category", "dispute.neighbour"), 0);
    ck_assert_int_eq(gs_form_take(fm, "status", "受理"), 0);
    ck_assert_int_eq(gs_form_take(fm, "deadline", "2026-02-30"), 0);
    ck_assert_int_eq(gs_form_take(fm, "severity", "9"), 0);
    ck_assert_int_eq(gs_form_take(fm, "description", ""), 0);
    ck_assert_int_eq(gs_form_take(fm, "reported_at", "2026-11-28T09:30"), 0);
    gs_record *r = gs_record_new(incident());
    ck_assert_int_eq(gs_form_parse(fm, r), 2);
    /* the same text gs_record_parse (the command line's parser) gives */
    gs_record *cli = gs_record_new(incident());
    gs_errbuf want = {{0}};
    ck_assert_int_ne(gs_record_parse(cli, fi("deadline"), "2026-02-30", &want), 0);
    ck_assert_str_eq(gs_form_error_of(fm, fi("deadline")), want.msg);
    ck_assert_ptr_nonnull(strstr(want.msg, "处置期限 (deadline)"));
    ck_assert_int_ne(gs_record_parse(cli, fi("severity"), "9", &want), 0);
    ck_assert_str_eq(gs_form_error_of(fm, fi("severity")), want.msg);
    ck_assert_ptr_null(gs_form_error_of(fm, fi("title")));
    ck_assert_ptr_null(gs_form_error_of(fm, -1));
    /* good values parsed to canonical form; the empty optional one left out */
    ck_assert_str_eq(gs_record_str(r, fi("status")), "accepted");
    ck_assert_str_eq(gs_record_str(r, fi("reported_at")), "2026-11-28T09:30:00+08:00");
    ck_assert_int_eq(r->v[fi("description")].state, GS_V_UNSET);
    /* the form again: typed values kept, the message beside its field */
    char *html = render(fm, NULL);
    char *dl = field_html(html, "deadline"), *sev = field_html(html, "severity"),
         *title = field_html(html, "title");
    ck_assert_ptr_nonnull(strstr(dl, "value=\"2026-02-30\""));
    ck_assert_ptr_nonnull(strstr(dl, "aria-invalid=\"true\""));
    ck_assert_ptr_nonnull(strstr(dl, "<p class=\"err\" id=\"e-deadline\">处置期限 (deadline): &quot;2026-02-30&quot; is not valid"));
    ck_assert_ptr_nonnull(strstr(sev, "a whole number from 1 to 4"));
    ck_assert_ptr_null(strstr(title, "aria-invalid"));
    ck_assert_ptr_nonnull(strstr(title, "value=\"&lt;b&gt;井盖缺失&lt;/b&gt;\""));
    ck_assert_ptr_nonnull(strstr(html, "<option value=\"accepted\" selected>受理</option>"));
    free(dl), free(sev), free(title), free(html);
    gs_record_destroy(&cli);
    gs_record_destroy(&r);
    gs_form_destroy(&fm);
}
END_TEST

/* Required fields on create; what emptying a field means on update;
 * computed and unknown fields refused. */
START_TEST(required_empty_and_refused)
{
    gs_form *fm = gs_form_new(incident(), GS_FORM_CREATE);
    gs_form_take(fm, "description", "只有描述");
    gs_record *r = gs_record_new(incident());
    ck_assert_int_eq(gs_form_parse(fm, r), 3); /* title, category, reported_at */
    ck_assert_str_eq(gs_form_error_of(fm, fi("title")), "标题 (title) is required");
    ck_assert_str_eq(gs_form_error_of(fm, fi("category")), "事件类别 (category) is required");
    ck_assert_ptr_null(gs_form_error_of(fm, fi("status"))); /* its default applies */
    gs_form_destroy(&fm);
    gs_record_destroy(&r);

    fm = gs_form_new(incident(), GS_FORM_UPDATE);
    r = gs_record_new(incident());
    gs_form_take(fm, "assignee", " ");
    gs_form_take(fm, "title", "");
    ck_assert_int_eq(gs_form_take(fm, "closed_at", "2026-11-28"), GS_EINVAL);
    ck_assert_int_eq(gs_form_take(fm, "colour", "red"), GS_EUNKNOWN);
    ck_assert_int_eq(gs_form_parse(fm, r), 3);
    ck_assert_int_eq(r->v[fi("assignee")].state, GS_V_NULL); /* cleared */
    ck_assert_int_eq(r->v[fi("title")].state, GS_V_UNSET);
    ck_assert_int_eq(r->v[fi("closed_at")].state, GS_V_UNSET);
    ck_assert_str_eq(gs_form_error_of(fm, fi("title")),
                     "标题 (title) is required and may not be empty");
    ck_assert_str_eq(gs_form_error_of(fm, fi("closed_at")),
                     "incident: 结案时间 (closed_at) is computed by the rules and cannot be set");
    ck_assert_ptr_nonnull(strstr(gs_form_error_of(fm, -1), "colour"));
    gs_form_destroy(&fm);
    gs_record_destroy(&r);
}
END_TEST

/* The required marks of every type follow its table: required, no default,
 * not generated, not the village, not computed. */
START_TEST(required_marks_follow_every_table)
{
    for (int t = 0; t < GS_RT__COUNT; t++) {
        const gs_rectype *rt = gs_rectype_get(t);
        gs_form *fm = gs_form_new(rt, GS_FORM_CREATE);
        char *html = render(fm, NULL);
        for (int i = 0; i < rt->nfields; i++) {
            const gs_field *f = &rt->fields[i];
            char *div = field_html(html, f->name);
            bool shown = *div != '\0';
            bool input = !(f->flags & (GS_F_SCOPE | GS_F_COMPUTED | GS_F_GENERATED));
            ck_assert_msg(shown == input, "%s.%s shown %d", rt->name, f->name, shown);
            bool marked = strstr(div, "class=\"req\"") != NULL;
            bool must = (f->flags & GS_F_REQUIRED) && !f->def && input;
            ck_assert_msg(marked == must, "%s.%s marked %d", rt->name, f->name, marked);
            free(div);
        }
        free(html);
        gs_form_destroy(&fm);
    }
}
END_TEST

/* An entry's message lands beside the field it names. */
START_TEST(messages_find_their_field)
{
    const gs_rectype *rt = incident();
    ck_assert_int_eq(gs_form_field_of_msg(rt, "状态 (--status) 上报(reported) cannot go to 结案(closed)"),
                     fi("status"));
    ck_assert_int_eq(gs_form_field_of_msg(rt, "网格编码 (grid_code): no grid 4111"), fi("grid_code"));
    ck_assert_int_eq(gs_form_field_of_msg(rt, "database is locked"), -1);
    gs_form *fm = gs_form_new(rt, GS_FORM_UPDATE);
    gs_form_error_msg(fm, "上报时间 (reported_at) is required");
    gs_form_error_msg(fm, "磁盘已满");
    ck_assert_int_eq(gs_form_nerrors(fm), 2);
    ck_assert_str_eq(gs_form_error_of(fm, fi("reported_at")), "上报时间 (reported_at) is required");
    ck_assert_str_eq(gs_form_error_of(fm, -1), "磁盘已满");
    gs_form_destroy(&fm);
}
END_TEST

/* A request with thousands of unknown names: all counted, a few kept. */
START_TEST(many_errors_bounded)
{
    gs_form *fm = gs_form_new(incident(), GS_FORM_CREATE);
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "x%d", i);
        ck_assert_int_eq(gs_form_take(fm, name, "v"), GS_EUNKNOWN);
    }
    ck_assert_int_eq(gs_form_nerrors(fm), 5000);
    const char *top = gs_form_error_of(fm, -1);
    int lines = 1;
    for (const char *p = top; *p; p++)
        lines += *p == '\n';
    ck_assert_int_eq(lines, 32);
    ck_assert_ptr_nonnull(strstr(top, "x0"));
    gs_form_destroy(&fm);
}
END_TEST

/* An edit records only what changed. */
START_TEST(unchanged_fields_dropped)
{
    gs_record *cur = gs_record_new(incident()), *edit = gs_record_new(incident());
    gs_record_parse(cur, fi("id"), "abc", NULL);
    gs_record_parse(cur, fi("title"), "旧标题", NULL);
    gs_record_parse(cur, fi("severity"), "2", NULL);
    gs_record_parse(edit, fi("id"), "abc", NULL);
    gs_record_parse(edit, fi("title"), "旧标题", NULL);
    gs_record_parse(edit, fi("severity"), "3", NULL);
    gs_record_set_null(edit, fi("assignee"));
    gs_form_drop_unchanged(edit, cur);
    ck_assert_int_eq(edit->v[fi("title")].state, GS_V_UNSET);
    ck_assert_int_eq(edit->v[fi("assignee")].state, GS_V_UNSET);
    ck_assert_int_eq(gs_record_int(edit, fi("severity"), 0), 3);
    ck_assert_str_eq(gs_record_key(edit), "abc");
    gs_record_destroy(&cur);
    gs_record_destroy(&edit);
}
END_TEST

static Suite *form_suite(void)
{
    Suite *s = suite_create("form");
    TCase *tc = tcase_create("render");
    tcase_add_test(tc, new_incident_form_follows_the_table);
    tcase_add_test(tc, preset_is_shown_and_not_required);
    tcase_add_test(tc, english_labels);
    tcase_add_test(tc, values_are_escaped);
    tcase_add_test(tc, required_marks_follow_every_table);
    suite_add_tcase(s, tc);
    tc = tcase_create("parse");
    tcase_add_test(tc, parse_gives_the_command_lines_messages);
    tcase_add_test(tc, required_empty_and_refused);
    tcase_add_test(tc, messages_find_their_field);
    tcase_add_test(tc, many_errors_bounded);
    tcase_add_test(tc, unchanged_fields_dropped);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(form_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
