/* deploy — a new release shipped: restore point, migrations, restart,
 * health, and a way back (core/flow/deploy.c). */
#ifndef FERRY_FLOW_DEPLOY_H
#define FERRY_FLOW_DEPLOY_H

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

struct deploy_opts {
	bool yes;
	bool skip_backup;             /* no restore point */
	bool break_lock;
	bool accept_new_host_key;
	flow_hostkey_fn confirm_host_key;
	void *hostkey_ud;
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
};

struct deploy_result {
	char *restore_point;          /* the pre-deploy bundle (there when remote), or NULL */
	bool remote;                  /* ran over SSH */
	bool rolled_back;             /* the profile's rollback commands ran */
	char *restore_command;        /* the exact `ferry restore` of the restore point */
	char *log_file, *summary_file, *summary;
	double duration_s;
};
void deploy_result_done(struct deploy_result *r);

int deploy_plan(const struct profile *p, const struct deploy_opts *o, struct plan *plan,
		struct err *e);

/* Lock → restore point (pre-deploy bundle) → pre_deploy hooks → schema
 * migrations → restart services → health checks → post_deploy hooks → log.
 * Runs on the profile's ssh host when it has one, else here. When a step
 * after the restore point fails: the profile's services.rollback commands,
 * and the exact restore command in the result and the error hint. */
int deploy_run(const struct profile *p, const struct deploy_opts *o, struct deploy_result *r,
	       struct err *e);

#endif
