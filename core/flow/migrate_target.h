/* migrate_target — what ferry migrate asks of the new server over SSH: its
 * OS and architecture, free space, pg_restore, and a ferry to run there
 * (copying this binary when none is there and the platform fits).
 * Strings returned are the caller's to free. */
#ifndef FERRY_MIGRATE_TARGET_H
#define FERRY_MIGRATE_TARGET_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "event.h"
#include "profile/profile.h"
#include "ssh/ssh.h"

/* `uname -sm` there, e.g. "Linux x86_64". */
char *migrate_target_uname(sshc_conn *ssh, struct err *e);

/* Free bytes in dir there (created when missing). */
int migrate_target_free_space(sshc_conn *ssh, const char *dir, uint64_t *avail, struct err *e);

/* The target's newest pg_restore must not be older than pg_dump here
 * (ERR_TOOL with the install hint). */
int migrate_target_check_pg_restore(sshc_conn *ssh, struct err *e);

/* A ferry there of this version or newer: the profile's ssh.ferry_path
 * (default "ferry"), else one copied earlier to
 * <backup.dir>/.ferry-bin/ferry-<version>. Returns its path, or NULL when
 * there is none (*found_version, when not NULL, names an older one). */
char *migrate_target_find_ferry(sshc_conn *ssh, const struct profile *to, char **found_version);

/* Where this binary goes when it is copied there. */
char *migrate_target_ferry_path(const struct profile *to);

/* Whether this binary can run there (same OS and architecture). */
bool migrate_target_can_run_here(const char *remote_uname);

/* Copy this binary to migrate_target_ferry_path() (resumable upload) and
 * check with ldd that its libraries are there. */
int migrate_target_copy_ferry(sshc_conn *ssh, const struct profile *to, const struct event_sink *ev,
			      volatile sig_atomic_t *cancel, struct err *e);

#endif
