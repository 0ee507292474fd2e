/* lock — one migrate or deploy at a time per target.
 *
 * The lock is a file `.ferry.lock` in the target profile's backup.dir, on
 * the target host (over SSH) or here, holding who took it (user@host, pid,
 * flow, time). It is created atomically; a second run is refused with the
 * holder and its age; a lock whose holder ran on this host and is gone is
 * taken over; --break-lock removes one held from elsewhere. */
#ifndef FERRY_LOCK_H
#define FERRY_LOCK_H

#include <stdbool.h>

#include "err.h"
#include "ssh/ssh.h"

#define LOCK_FILE ".ferry.lock"

/* Take the lock in dir on the host behind c (NULL = this machine). A lock
 * whose holder ran on this host (the remote lock records the ferry that
 * took it, here) and whose pid is gone is taken over: *took_over (may be
 * NULL) gets its text, caller frees. */
int lock_acquire(sshc_conn *c, const char *dir, const char *flow, bool break_lock, char **took_over,
		 struct err *e);
/* Remove it (best effort). */
void lock_release(sshc_conn *c, const char *dir);

/* The lock file's text for flow (JSON, one line); caller frees. */
char *lock_text(const char *flow);
/* A message about an existing lock from its text; ERR_LOCK. */
int lock_refuse(const char *where, const char *text, struct err *e);

/* The profile lock: one backup, restore, rollback, reset or recover at a
 * time per profile, in <dir>/.ferry-<profile>.lock (dir: the profile's
 * backup.dir). Re-entrant within a process. A lock whose holder ran on this
 * host and is gone (killed) is taken over: *took_over (may be NULL) gets
 * its text, caller frees. 0 when taken, 1 when this process held it
 * already, -1 with ERR_LOCK naming the holder otherwise. */
int lock_profile_acquire(const char *dir, const char *profile, const char *flow, char **took_over,
			 struct err *e);
void lock_profile_release(const char *dir, const char *profile);

#endif
