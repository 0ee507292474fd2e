/* status_int — what the files of the status flow share (status.c: the
 * checks and the report; status_offsite.c: the offsite check). Private to
 * core/flow/status*.c. */
#ifndef FERRY_STATUS_INT_H
#define FERRY_STATUS_INT_H

#include <jansson.h>

#include "flow/status.h"

struct status_ctx {
	const struct profile *p;
	const struct status_opts *o;
	struct status_report *r;
};

/* Append a check and tell the front end about it. */
void status_add_check(struct status_ctx *c, const char *name, const char *subject,
		      enum status_state state, enum err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* One "offsite" check per target of the profile: reachable, and its newest
 * copy of this profile's bundles younger than offsite_max_age. */
void status_check_offsite(struct status_ctx *c);
/* The numbers of the offsite check of target into o. */
void status_offsite_fields(json_t *o, const struct status_report *r, const char *target);
/* Free r's offsite facts. */
void status_offsite_facts_done(struct status_report *r);

#endif
