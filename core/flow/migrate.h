/* migrate — the application moved to a new server over SSH, and proven to
 * work there (core/flow/migrate.c). */
#ifndef FERRY_FLOW_MIGRATE_H
#define FERRY_FLOW_MIGRATE_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile/profile.h"
#include "step.h"
#include "flow/flow.h"

struct migrate_opts {
	bool yes;                     /* confirm without asking */
	bool accept_new_host_key;     /* record an unknown host key */
	bool break_lock;              /* remove a stale lock on the target */
	flow_confirm_fn confirm;      /* e.g. copying ferry to the target */
	void *confirm_ud;
	flow_hostkey_fn confirm_host_key;
	void *hostkey_ud;
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
};

struct migrate_result {
	char *bundle;                 /* made here */
	char *remote_bundle;          /* where it went */
	char *registry_file;          /* rewritten, or NULL */
	char *log_file;               /* migration_log.json */
	char *summary_file;           /* the human summary */
	char *summary;                /* its text */
	struct strv skipped;          /* steps finished by an earlier run */
	double duration_s;
};
void migrate_result_done(struct migrate_result *r);

/* Every step with hosts, paths and sizes; connects to nothing. */
int migrate_plan(const struct profile *from, const struct profile *to, const struct migrate_opts *o,
		 struct plan *plan, struct err *e);

/* Preflight both ends and lock the target → backup here → copy over SSH
 * (resumable, verified) → `ferry restore` there, its progress live →
 * registry → restart services → health, revisions and row counts on both
 * sides → migration log. A re-run continues where the last one stopped. */
int migrate_run(const struct profile *from, const struct profile *to, const struct migrate_opts *o,
		struct migrate_result *r, struct err *e);

#endif
