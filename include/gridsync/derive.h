/*
 * gridsync/derive.h: derived values and the hard checks of entry, in one
 * place for the village node and the city hub.
 *
 * A derived value (an election's findings, counts and unfilled seats, a
 * candidate's outcome, an incident's closed_at, an affair's violations) is a
 * function of the converged rows: it is never taken from a change and never
 * replicated as a fact. The replica (replica.c) calls these functions after
 * every change it applies, local or received, on the node and on the hub, so
 * two replicas holding the same base rows hold the same derived values,
 * whatever order the changes came in.
 *
 * The judge functions are the hard checks of entry (figures that cannot be
 * true, contradictory fields). gridnode runs them before it stores an entry;
 * gridhub runs them on every pushed change, on the row as it would be after
 * the change, and quarantines a change that fails: what a village PC computed
 * or checked is never taken on trust.
 *
 * Everything here is pure over its arguments: no I/O, no clock, no state
 * (it may allocate working memory, and says so where that can fail).
 */
#ifndef GRIDSYNC_DERIVE_H
#define GRIDSYNC_DERIVE_H

#include <stddef.h>

#include "gridsync/err.h"
#include "gridsync/hlc.h"
#include "gridsync/record.h"
#include "gridsync/rules.h"

/* ---- derived values ---------------------------------------------------- */

/* Sets the election's computed fields (findings, elected, women_elected,
 * unfilled, yijiantiao) and each candidate's (outcome, findings) from the
 * election row and its live candidates (any order; the rules do not depend
 * on it). Figures that break a hard rule can only be the merge of two PCs'
 * valid edits: the election's findings are then that rule's name, nobody is
 * elected and every seat is unfilled, until someone corrects the figures.
 * GS_OK, or GS_ENOMEM with nothing changed. */
int gs_derive_election(gs_record *e, gs_record *const *cands, size_t n);

/* Sets the affair's violations against its village's council (NULL when the
 * village has none: no standard, no violation). */
void gs_derive_affair(gs_record *a, const gs_record *council);

/* Sets the incident's closed_at: when its status is closed or evaluated, the
 * time (China time, to the second) of closed_hlc, the greatest clock of any
 * change that set the status to closed, or of status_hlc (the change that
 * set the current status) when no change ever did (an incident entered as
 * already evaluated); otherwise no closed_at. */
void gs_derive_incident(gs_record *inc, gs_hlc status_hlc, gs_hlc closed_hlc);

/* True if field f of rt is derived (never taken from a change). */
bool gs_derived_field(const gs_rectype *rt, int f);

/* The field whose clock slot keeps the greatest clock of the changes that
 * closed the incident (closed_at's own slot, which no change writes), or -1
 * for a type without one. */
int gs_derive_closed_slot(const gs_rectype *rt);
/* The field that holds rt's findings, the derived "A;B" list of rule names
 * (an election's or a candidate's findings, an affair's violations), or -1
 * for a type without one. */
int gs_derive_findings_field(const gs_rectype *rt);
/* True if change record rec sets the incident's status to closed. */
bool gs_derive_closes(const gs_record *rec);

/* ---- hard checks --------------------------------------------------------- */

/* The checks of one record's own fields, on its full state after the change:
 * an election's ballot arithmetic; an affair's cremation and exemption; a
 * grid's or an incident's grid code inside its village. GS_OK, or GS_ERULE
 * (GS_ESCOPE for a code of another village) with a message that names each
 * field by its Chinese label and its option and gives the numbers that
 * conflict: "投票人数 --voted 1001 超过登记选民数 --registered 1000
 * [CAST_OVER_REGISTERED]". */
int gs_judge_record(const gs_record *r, gs_errbuf *eb);

/* The checks of an election together with its live candidates: the
 * election's own arithmetic, then each candidate's votes against the valid
 * ballots of its round, then each round's total against seats × ballots. */
int gs_judge_election(const gs_record *e, gs_record *const *cands, size_t n, gs_errbuf *eb);

/* Appends "登记选民数 --registered" for field f of rt. */
void gs_field_label_opt(const gs_rectype *rt, int f, gs_buf *b);

#endif
