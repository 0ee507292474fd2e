/* recover — finish or undo what a killed run left in a profile's journal
 * (core/journal.h), so that a kill -9 is a normal event.
 *
 * Every run that changes the database or the app files takes the profile
 * lock and then calls recover_profile: with the lock held, a journal on
 * disk can only be a dead run's. What it does, in order:
 *   swap begun   connections are allowed again on the live database and
 *                on the previous one (the two renames commit together, so
 *                the swap either happened or did not);
 *   files begun  the restored paths still in the staging directory are
 *                moved into place, as the run would have (the database was
 *                swapped before the files step starts), old ones kept as
 *                <path>.prev-<stamp>;
 *   made things  shadow and scratch databases and work directories the
 *                journal lists are dropped / removed (never a name the
 *                journal does not list);
 * then the journal goes. Each action is reported on ev as a warning. */
#ifndef FERRY_RECOVER_H
#define FERRY_RECOVER_H

#include <stdbool.h>

#include "err.h"
#include "event.h"
#include "profile/profile.h"

/* The journal file of profile p. Caller frees. */
char *recover_journal_path(const struct profile *p);

/* Whether a dead run left something to recover; *what (may be NULL) gets
 * a one-line description (caller frees). */
bool recover_pending(const struct profile *p, char **what);

/* Recover (see above). Call with the profile lock held. 0 when there was
 * nothing or all is done; -1 (e filled, the journal kept) otherwise.
 * *actions (may be NULL) gets how many things were done. */
int recover_profile(const struct profile *p, const struct event_sink *ev, int *actions, struct err *e);

#endif
