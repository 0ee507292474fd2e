/* flow_reset — `ferry reset`: safety backup, the database dropped and made
 * again with the same owner, encoding and locale, migrations, seeds.
 * Refuses the template databases. Database-level settings (ALTER DATABASE
 * ... SET) and grants on the database itself are not carried over. */
#ifndef FERRY_FLOW_RESET_H
#define FERRY_FLOW_RESET_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile/profile.h"
#include "step.h"

struct reset_opts {
	bool no_seed;                 /* do not load the profile's seeds */
	bool yes;                     /* confirmed already (--yes) */
	step_confirm_fn confirm;      /* asks for the database name; NULL and !yes = refused */
	void *confirm_ud;
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
};

struct reset_result {
	char *database;
	char *safety_bundle;          /* NULL when there was no database to save */
	bool existed;                 /* the database was there before */
	bool migrated;                /* the profile's migrations ran */
	size_t seeded;                /* seed files loaded */
	double duration_s;
	struct flow_report report;
};
void reset_result_done(struct reset_result *r);

int reset_plan(const struct profile *p, const struct reset_opts *o, struct plan *plan, struct err *e);
int reset_run(const struct profile *p, const struct reset_opts *o, struct reset_result *r,
	      struct err *e);

#endif
