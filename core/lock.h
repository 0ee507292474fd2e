/* lock — one migrate or deploy at a time per target.
 *
 * The lock is a file `.ferry.lock` in the target profile's backup.dir, on
 * the target host (over SSH) or here, holding who took it (user@host, pid,
 * flow, time). It is created atomically; a second run is refused with the
 * holder and its age; --break-lock removes a stale one. */
#ifndef FERRY_LOCK_H
#define FERRY_LOCK_H

#include <stdbool.h>

#include "err.h"
#include "ssh/ssh.h"

#define LOCK_FILE ".ferry.lock"

/* Take the lock in dir on the host behind c (NULL = this machine). */
int lock_acquire(sshc_conn *c, const char *dir, const char *flow, bool break_lock, struct err *e);
/* Remove it (best effort). */
void lock_release(sshc_conn *c, const char *dir);

/* The lock file's text for flow (JSON, one line); caller frees. */
char *lock_text(const char *flow);
/* A message about an existing lock from its text; ERR_LOCK. */
int lock_refuse(const char *where, const char *text, struct err *e);

#endif
