/* rollback — the last restore undone: its previous database and app files
 * swapped back (core/flow/rollback.c). */
#ifndef FERRY_FLOW_ROLLBACK_H
#define FERRY_FLOW_ROLLBACK_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include "err.h"
#include "event.h"
#include "plan.h"
#include "profile/profile.h"
#include "step.h"
#include "flow/restore.h"

/* Swap the previous database (and files) of the last restore back. */
int rollback_run(const struct profile *p, const struct restore_opts *o, char **report,
		 struct err *e);
int rollback_plan(const struct profile *p, const struct restore_opts *o, struct plan *plan,
		  struct err *e);

#endif
