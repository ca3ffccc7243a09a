/*
 * gridsync/form.h: forms generated from the record tables (schema.h), for
 * both web doors (the village desk and the city's pages) and the JSON API.
 *
 * A form is one record type in one mode (create or update). It renders the
 * HTML of its fields (label, required mark, help text, the input by type,
 * the error beside the field) and parses what was submitted into a
 * gs_record with gs_record_parse, field by field, so that a message is
 * exactly the command line's. Nothing here touches a store: what the
 * pickers of references offer (grid code -> its name) comes from a
 * callback of the caller; saving is the caller's (node_entry_save).
 *
 * The rules of a form:
 *  - the key is shown only when the user must give it (a type whose key is
 *    not generated) and only on create; the village code (scope) is never
 *    an input: it is the node's (or, for the city, the caller's choice);
 *  - computed fields are never inputs: on update they are shown read-only;
 *    a submitted computed field is refused with the command line's message;
 *  - the required mark (*) is on the fields the user must give: required,
 *    with no default in the table and no preset of the caller (an
 *    incident's reported_at is "now" when omitted);
 *  - on create an empty optional field is left out (its default applies);
 *    an empty required field without default is "required"; on update an
 *    emptied field clears the value (null) unless the field is required;
 *  - what the user typed is shown again as typed (a wrong date stays on the
 *    screen with its message beside it), and every text is escaped
 *    (gs_html_escape).
 */
#ifndef GRIDSYNC_FORM_H
#define GRIDSYNC_FORM_H

#include <stdbool.h>

#include "gridsync/buf.h"
#include "gridsync/err.h"
#include "gridsync/record.h"
#include "gridsync/schema.h"

typedef enum { GS_FORM_CREATE, GS_FORM_UPDATE } gs_form_mode;

typedef struct gs_form gs_form;

/* The options of a reference picker, filled by the caller's callback. */
typedef struct gs_form_choices gs_form_choices;
/* Adds one option: the canonical value and the name a person reads
 * ("4101...001" -> "第一网格"; "dispute.neighbour" -> "纠纷调解 › 邻里纠纷").
 * Both are copied. */
void gs_form_choice_add(gs_form_choices *c, const char *value, const char *label);
/* A list of options of its own (a filter's select): new, count, the i-th
 * value and label, destroy (NULL-safe, nulls *cp). */
gs_form_choices *gs_form_choices_new(void);
int gs_form_choices_count(const gs_form_choices *c);
const char *gs_form_choice_value(const gs_form_choices *c, int i);
const char *gs_form_choice_label(const gs_form_choices *c, int i);
void gs_form_choices_destroy(gs_form_choices **cp);
/* Lists the options of reference field f of rt (rt->fields[f].ref names the
 * type referred to: grid, category, election, council, division). Adding
 * none makes the field a text input. */
typedef void (*gs_form_refs_fn)(void *arg, const gs_rectype *rt, int f, gs_form_choices *out);

/* A new, empty form of rt in mode; NULL when out of memory. The caller owns
 * it (gs_form_destroy). */
gs_form *gs_form_new(const gs_rectype *rt, gs_form_mode mode);
/* Frees *fp and sets it to NULL; NULL-safe. */
void gs_form_destroy(gs_form **fp);

/* English labels and help instead of Chinese. */
void gs_form_set_en(gs_form *fm, bool en);
/* The reference pickers' source. */
void gs_form_set_refs(gs_form *fm, gs_form_refs_fn fn, void *arg);
/* Field f is not part of this form: not shown (an incident's status, which
 * its workflow buttons change). It may still be parsed when submitted. */
void gs_form_omit(gs_form *fm, int f);
/* The value shown on create when nothing was typed yet, and that the entry
 * fills in when the field is left empty (reported_at: now): such a field
 * carries no required mark. text is copied. */
int gs_form_preset(gs_form *fm, int f, const char *text);

/* Takes one submitted field (name -> text, as the command line's option
 * takes it). The name is the field's English name or Chinese label. GS_OK;
 * GS_EUNKNOWN (an error at the top of the form) when rt has no such field;
 * GS_EINVAL when the field is computed (its message beside the field); a
 * repeated name keeps the last text. */
int gs_form_take(gs_form *fm, const char *name, const char *text);
/* The text taken for field f, or NULL. */
const char *gs_form_taken(const gs_form *fm, int f);

/* Parses every field taken into rec (of the form's type, normally empty;
 * on update the caller sets the key) with gs_record_parse, following the
 * rules above. Returns the number of errors of the form (those of take
 * included): each is beside its field (gs_form_error_of). */
int gs_form_parse(gs_form *fm, gs_record *rec);

/* Leaves out of edit (an update) every field whose value equals cur's, so
 * that saving an edit form records only what the user changed: an
 * unchanged field must not overwrite a newer value another PC or the city
 * set meanwhile (per-field clocks, replica.h). */
void gs_form_drop_unchanged(gs_record *edit, const gs_record *cur);

/* Adds an error: beside field f, or at the top of the form when f < 0.
 * msg is copied; a second error of one field is appended on a new line.
 * Every error is counted; only the first 32 messages are kept. */
void gs_form_error(gs_form *fm, int f, const char *msg);
/* Adds an error message from elsewhere (the entry's, the store's) beside
 * the field it names (gs_form_field_of_msg), else at the top. */
void gs_form_error_msg(gs_form *fm, const char *msg);
/* How many errors the form holds. */
int gs_form_nerrors(const gs_form *fm);
/* The error beside field f (f < 0: the top's), or NULL. */
const char *gs_form_error_of(const gs_form *fm, int f);

/* The field of rt that a message names, or -1: the messages of record.c,
 * entry and the rules name a field as "标签 (name)", "标签 (--name)" or
 * begin with its label. */
int gs_form_field_of_msg(const gs_rectype *rt, const char *msg);

/* Appends the HTML of the form's fields (no <form> element, no buttons: the
 * page adds them with its action and CSRF field): the errors at the top,
 * then for each field shown a <div class="field"> with its <label>, input,
 * help and error. values (may be NULL) holds the record's current values
 * (update) or the values to start from; what was taken wins over it. */
void gs_form_render(const gs_form *fm, const gs_record *values, gs_buf *out);

#endif
