/* err — error values shared by every module.
 *
 * A failing function returns -1 and fills a caller-supplied struct err:
 * the kind (which fixes the process exit code), a lowercase message that says
 * what failed and with what value, and an optional hint with the fix.
 * The struct is plain data: nothing to free. */
#ifndef FERRY_ERR_H
#define FERRY_ERR_H

#include <stdarg.h>

enum err_kind {
	ERR_OK = 0,
	ERR_FAILED,       /* an operation failed */
	ERR_USAGE,        /* bad command line */
	ERR_PROFILE,      /* bad or missing profile */
	ERR_DB,           /* database unreachable or refused */
	ERR_VERIFY,       /* bundle or row-count verification failed */
	ERR_SSH,          /* SSH connect, host key or remote command failed */
	ERR_HEALTH,       /* a health check did not pass */
	ERR_SPACE,        /* not enough disk space */
	ERR_LOCK,         /* another run holds the lock */
	ERR_TOOL,         /* a required program is missing or too old */
	ERR_REFUSED,      /* confirmation missing or declined */
	ERR_INTERRUPTED,  /* SIGINT / SIGTERM */
	ERR_OFFSITE,      /* offsite storage refused a request or cannot be reached */
	ERR_KIND_COUNT
};

#define ERR_MSG_MAX 1024
#define ERR_HINT_MAX 512

struct err {
	enum err_kind kind;
	char msg[ERR_MSG_MAX];
	char hint[ERR_HINT_MAX];
};

/* Exit code of the process for an error kind (0 for ERR_OK). */
int err_exit_code(enum err_kind kind);

/* Short stable name of a kind ("usage", "db", ...) for --json output. */
const char *err_kind_name(enum err_kind kind);

/* One-line description of a kind, for the README and `ferry help exit-codes`. */
const char *err_kind_describe(enum err_kind kind);

/* Fill e (when not NULL) and return -1, so callers can `return err_set(...)`. */
int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set or replace the hint of an already filled error; returns -1. */
int err_hint(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prefix the message with "what: ", keeping kind and hint; returns -1. */
int err_prefix(struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Reset to ERR_OK with empty strings. */
void err_clear(struct err *e);

#endif
