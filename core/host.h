/* host — where commands run: this machine, or the server behind an sshc
 * connection, through one interface, so a flow says "run this there"
 * instead of branching on whether it has a connection.
 *
 * A command is a shell command line run by `sh -c` on either side (not by
 * the remote user's login shell), in a working directory, with extra
 * environment variables. Its output lines become log events (stdout
 * EV_INFO, stderr EV_WARN; over ssh prefixed "[host] "; empty lines
 * dropped); cancel stops it (SIGTERM to it, ERR_INTERRUPTED), a timeout
 * too. No stdin: the command reads /dev/null here, EOF there.
 *
 * Ownership: host_local / host_over_ssh return a heap object freed by
 * host_free (NULL-safe); an ssh host borrows the connection, which must
 * outlive it. */
#ifndef FERRY_HOST_H
#define FERRY_HOST_H

#include <signal.h>
#include <stdbool.h>

#include "err.h"
#include "event.h"
#include "ssh/ssh.h"

typedef struct host host;

/* This machine. */
host *host_local(void);
/* The server behind c (borrowed). */
host *host_over_ssh(sshc_conn *c);
void host_free(host *h);

/* For messages: "this machine", or "user@host:port". Belongs to h. */
const char *host_describe(const host *h);
bool host_is_local(const host *h);
/* The connection of an ssh host; NULL for this machine. */
sshc_conn *host_ssh(const host *h);

struct host_run_opts {
	const char *cwd;                   /* NULL = ferry's own here, the home directory there */
	const char *const *env;            /* extra "KEY=VALUE" entries, NULL-terminated;
	                                    * KEY is [A-Za-z_][A-Za-z0-9_]* */
	const struct event_sink *events;   /* output lines as log events; NULL = dropped */
	volatile sig_atomic_t *cancel;     /* non-zero: stop the command */
	int timeout_s;                     /* 0 = none */
	int *exit_status;                  /* when not NULL: the status (0..255, 128+N for
	                                    * signal N) once the command ran to its end;
	                                    * -1 when it did not */
};

/* Run command on h. Returns 0 when it exited with status 0; else -1 with e
 * filled:
 *   non-zero exit   ERR_FAILED: "command `CMD` exited with status N: LINE"
 *                   here, "command `CMD` on user@host:port exited with
 *                   status N: LINE" there (LINE: its last stderr line)
 *   cancelled       ERR_INTERRUPTED
 *   timed out       ERR_FAILED here, ERR_SSH there
 *   a bad env entry ERR_USAGE; cannot start / connection lost: ERR_FAILED
 *                   here, ERR_SSH there. */
int host_run(host *h, const char *command, const struct host_run_opts *o, struct err *e);

/* host_run with the command's stdout collected into *out (NUL-terminated,
 * each line ending in '\n' here, the bytes as sent there; at most 16 MiB;
 * caller frees; always set, "" when nothing came, also when the command
 * failed) instead of being logged; stderr lines are still events. */
int host_capture(host *h, const char *command, const struct host_run_opts *o, char **out,
		 struct err *e);

#endif
