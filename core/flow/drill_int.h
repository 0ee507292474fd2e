/* drill_int — what the parts of the drill flow share (drill.c: the flow,
 * its preflight, verify, load, gate and content steps; drill_checks.c: the
 * application checks and the record step). Not for other modules. */
#ifndef FERRY_FLOW_DRILL_INT_H
#define FERRY_FLOW_DRILL_INT_H

#include "flow/drill.h"
#include "flow/restore_int.h"
#include "journal.h"

struct drill_ctx {
	const struct profile *p;       /* the bundle's profile: backup.dir, log_dir, drill.checks */
	const struct profile *server;  /* whose PostgreSQL takes the scratch database */
	const struct drill_opts *o;
	struct drill_result *r;
	struct err *e;
	const struct event_sink *ev;
	struct restore_opts ro;        /* what the restore's load reads of its options */
	struct restore_result rr;      /* the load's manifest and counts */
	struct restore_ctx rc;         /* the load: the scratch database is its "shadow" */
	journal *journal;
	char *fetched_path;            /* --from: the copy fetched into the work directory */
	bool content_possible;         /* a directory-format dump */
	double started;
};

/* drill_checks.c */
bool drill_wants_checks(void *ctx);
char *drill_checks_detail(void *ctx);
int drill_step_checks(void *ctx, struct step_run *sr, struct err *e);
char *drill_record_detail(void *ctx);
int drill_step_record(void *ctx, struct step_run *sr, struct err *e);
/* Drop the scratch database this run made, unless it is kept. */
void drill_drop_scratch(struct drill_ctx *c);

#endif
