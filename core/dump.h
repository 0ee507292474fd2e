/* dump — the PostgreSQL client programs (pg_dump, pg_dumpall, pg_restore,
 * psql) as child processes: finding the right version, building their
 * command lines, running them without secrets in argv.
 *
 * Connection strings handed in may carry a password: it is split off and
 * given to the child in PGPASSWORD, never on its command line. */
#ifndef FERRY_DUMP_H
#define FERRY_DUMP_H

#include <signal.h>
#include <stdbool.h>

#include "err.h"
#include "event.h"
#include "util.h"

struct proc;

struct pg_tool {
	char *path;       /* absolute path */
	char *version;    /* "15.20" */
	int major, minor;
};
void pg_tool_done(struct pg_tool *t);

/* Find a client program: $FERRY_PG_BIN/NAME, then
 * /usr/lib/postgresql/<server_major>/bin/NAME, then the newest
 * /usr/lib/postgresql/N/bin/NAME, then PATH. server_major 0 = unknown.
 * ERR_TOOL when none is found, with an install hint; also when
 * FERRY_PG_BIN is set to what is not a directory with a pg_dump (naming
 * it: the setting is never passed over quietly). */
int dump_find_tool(const char *name, int server_major, struct pg_tool *out, struct err *e);

/* Parse "pg_dump (PostgreSQL) 15.20 (Debian ...)" → major 15, minor 20. */
int dump_parse_version(const char *text, int *major, int *minor);

/* ERR_TOOL when the tool is older (major) than the server it works on. */
int dump_check_not_older(const struct pg_tool *tool, const char *what,
			 int need_major, const char *need_version, struct err *e);

enum dump_format { DUMP_DIRECTORY, DUMP_CUSTOM };

struct dump_opts {
	enum dump_format format;
	int jobs;                 /* -j, directory format only; 0 = 1 */
	const char *snapshot;     /* --snapshot */
	bool schema_only, data_only;
	const struct strv *schemas, *tables, *exclude_tables;
	int compress;             /* -Z; default 0: the bundle compresses */
};

/* Where the dump lives inside a bundle: "db/dump" (directory format) or
 * "db/dump.pgdump" (custom format). */
const char *dump_member_path(enum dump_format f);

/* The argv of pg_dump, with "{CONNINFO}" standing for the connection
 * string (see dump_run_pg_program). */
void dump_pg_dump_argv(struct strv *argv, const char *pg_dump, const char *out_path,
		       const struct dump_opts *o);

struct dump_run_opts {
	const struct event_sink *events;
	volatile sig_atomic_t *cancel;
	const char *step;         /* event step id for log lines */
};

/* Run a PostgreSQL client program with conninfo passed safely: the argv
 * element "{CONNINFO}" is replaced with the password-free connection
 * string and the password goes to PGPASSWORD. stderr lines become log
 * events; a failure names the program, its status and its last line. */
int dump_run_pg_program(const struct strv *argv, const char *conninfo,
			const char *stdout_path, const struct dump_run_opts *o,
			struct err *e);

/* The same, started in the background: wait with dump_wait. on_tick (may be
 * NULL) is called about every 100 ms while waiting. */
struct proc *dump_spawn_pg_program(const struct strv *argv, const char *conninfo,
				   const char *stdout_path, const struct dump_run_opts *o,
				   void (*on_tick)(void *), void *tick_ud, struct err *e);
/* Wait for a program from dump_spawn_pg_program and free it; a non-zero
 * exit is an error naming the program and its last stderr line. */
int dump_wait(struct proc *p, const char *what, struct err *e);

#endif
