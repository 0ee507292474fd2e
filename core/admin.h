/* admin — the operator's database tools over a profile: named actions,
 * SQL files, one-off statements, psql, seeds and a full reset.
 *
 * Values from the operator are always bound as parameters ($1, $2, ...),
 * never pasted into SQL text. Results come back as struct admin_rows,
 * owned by the caller and freed with admin_rows_done. Confirmation is the
 * front end's job: these functions do what they are asked. */
#ifndef FERRY_ADMIN_H
#define FERRY_ADMIN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "event.h"
#include "profile/profile.h"
#include "util.h"

/* Rows of a statement, as text. */
struct admin_rows {
	size_t ncols, nrows;
	char **headers;        /* ncols column names */
	char **cells;          /* nrows * ncols, row by row; NULL = SQL NULL */
	long long affected;    /* rows affected or returned, as the server reports */
};
void admin_rows_done(struct admin_rows *r);

/* --- actions ---------------------------------------------------------------- */

/* The profile's action called name, or NULL. */
const struct profile_action *admin_find_action(const struct profile *p, const char *name);

/* ERR_USAGE for an unknown action name, with a did-you-mean or the list. */
int admin_unknown_action(const struct profile *p, const char *name, struct err *e);

/* ERR_USAGE unless nargs equals the action's parameter count; the message
 * names the expected parameters in order. */
int admin_check_args(const struct profile_action *a, size_t nargs, struct err *e);

/* "NAME <WORKER_ID> <STATE>", the action's command line; caller frees. */
char *admin_action_synopsis(const struct profile_action *a);

/* Run the action's SQL in one transaction with args bound as $1..$n
 * (admin_check_args first). ERR_DB with the server's message (rolled back). */
int admin_run_action(const struct profile *p, const struct profile_action *a,
		     const char *const *args, size_t nargs, struct admin_rows *out, struct err *e);

/* --- statements and files --------------------------------------------------- */

/* Run one statement (no parameters) and return its rows. */
int admin_exec(const struct profile *p, const char *sql, struct admin_rows *out, struct err *e);

/* Run each SQL file in its own transaction (BEGIN; file; COMMIT), in order.
 * Every file is checked readable first (ERR_FAILED naming it). The first
 * failure is rolled back and stops the run: ERR_DB naming the file and the
 * server's message; files before it stay applied. *applied (may be NULL)
 * counts the files committed. Files are plain SQL run by the server: no
 * psql backslash commands, no COPY FROM STDIN, no BEGIN/COMMIT of their own. */
int admin_run_sql_files(const struct profile *p, const struct strv *files,
			const struct event_sink *ev, volatile sig_atomic_t *cancel,
			size_t *applied, struct err *e);

/* The rows as an aligned text table: headers, a separator, the rows and
 * "(N rows)"; for a statement without columns "N rows affected". Control
 * characters in values are shown escaped (\n, \t). Caller frees. */
char *admin_format_table(const struct admin_rows *r);

/* --- psql ------------------------------------------------------------------- */

/* The argv of psql for a password-free connection string, with extra
 * arguments after it. Pure; out is appended to. */
void admin_psql_argv(const char *psql_path, const char *conninfo, const struct strv *extra,
		     struct strv *out);

/* Find psql (dump_find_tool) and build its argv for the profile's
 * database; *password (NULL when the URL has none) is for the child's
 * PGPASSWORD, never its argv. Caller frees both. */
int admin_shell_argv(const struct profile *p, const struct strv *extra, struct strv *argv,
		     char **password, struct err *e);

#endif
