/* proc — child processes (pg_dump, pg_restore, psql, hooks, services).
 *
 * A child runs in its own process group so a cancel reaches all of it.
 * Its stdout goes to a file, or to our stderr... as the options say; its
 * stderr (and stdout when streamed) is read line by line: each line goes
 * to the on_line callback and the last lines are kept for error messages.
 * proc_spawn returns a heap object freed by proc_free (NULL-safe). */
#ifndef FERRY_PROC_H
#define FERRY_PROC_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#include "err.h"

struct proc_opts {
	const char *cwd;                 /* NULL = inherit */
	const char *const *env;          /* extra "KEY=VALUE" entries, NULL-terminated */
	const char *stdout_path;         /* write stdout here (truncate); NULL = see below */
	bool stdout_lines;               /* stdout read as lines too (else inherited) */
	bool stdout_null;                /* stdout to /dev/null */
	const char *stdin_path;          /* read stdin from this file; NULL = /dev/null */
	void (*on_line)(void *ud, const char *line, bool is_stderr);
	void *ud;
	void (*on_tick)(void *ud);       /* called about every 100 ms while waiting */
	volatile sig_atomic_t *cancel;   /* non-zero: stop the child (TERM, then KILL) */
	int timeout_s;                   /* 0 = none */
};

typedef struct proc proc;

proc *proc_spawn(const char *const argv[], const struct proc_opts *opts, struct err *e);

/* Wait for the child, delivering its output lines. Returns its exit status
 * (0..255), 128+signal when killed by a signal, or -1 with e filled when it
 * was cancelled (ERR_INTERRUPTED) or timed out (ERR_FAILED). */
int proc_wait(proc *p, struct err *e);

/* Last lines of the child's stderr (up to ~2 KiB), for messages. */
const char *proc_stderr_tail(const proc *p);
/* The last non-empty line of that tail, into out. */
void proc_last_line(const proc *p, char *out, size_t len);
/* Hand p a heap block to free with it (callback data that must outlive it). */
void proc_set_owned(proc *p, void *block);
/* That block (NULL when none). */
void *proc_owned(const proc *p);
pid_t proc_pid(const proc *p);
/* Whether the child has ended (it is not reaped: proc_wait still gives its
 * status and output). */
bool proc_ended(const proc *p);
void proc_free(proc *p);

/* Spawn + wait; a non-zero exit becomes an error naming argv[0], the status
 * and the stderr tail. Returns 0 or -1. */
int proc_run(const char *const argv[], const struct proc_opts *opts, struct err *e);

/* Run `/bin/sh -c command` the same way (hooks, service commands). */
int proc_run_shell(const char *command, const struct proc_opts *opts, struct err *e);

/* The full path of a program found in PATH, or NULL. Caller frees. */
char *proc_which(const char *program);

#endif
