/* err — the one table of error kinds and their exit codes. */
#include "err.h"
#include "text.h"

#include <stdio.h>
#include <string.h>

static const struct {
	int exit_code;
	const char *name;
	const char *describe;
} kinds[ERR_KIND_COUNT] = {
	[ERR_OK]          = {0,   "ok",          "success"},
	[ERR_FAILED]      = {1,   "failed",      "the operation failed (see the message)"},
	[ERR_USAGE]       = {2,   "usage",       "bad command line"},
	[ERR_PROFILE]     = {2,   "profile",     "bad, missing or ambiguous profile"},
	[ERR_DB]          = {3,   "db",          "database unreachable, bad credentials or SQL error"},
	[ERR_VERIFY]      = {4,   "verify",      "bundle or row-count verification failed"},
	[ERR_SSH]         = {5,   "ssh",         "SSH connection, host key or remote command failed"},
	[ERR_HEALTH]      = {6,   "health",      "a health check did not pass"},
	[ERR_SPACE]       = {7,   "space",       "not enough disk space"},
	[ERR_LOCK]        = {8,   "lock",        "another ferry run holds the lock"},
	[ERR_TOOL]        = {9,   "tool",        "a required program is missing or too old"},
	[ERR_REFUSED]     = {10,  "refused",     "confirmation missing or declined; nothing was changed"},
	[ERR_INTERRUPTED] = {130, "interrupted", "interrupted by SIGINT or SIGTERM; partial work removed"},
	[ERR_OFFSITE]     = {11,  "offsite",     "S3 offsite storage refused a request (credentials, permissions) or cannot be reached"},
};

static int kind_valid(enum err_kind kind)
{
	return (int)kind >= 0 && kind < ERR_KIND_COUNT;
}

int err_exit_code(enum err_kind kind)
{
	return kind_valid(kind) ? kinds[kind].exit_code : 1;
}

const char *err_kind_name(enum err_kind kind)
{
	return kind_valid(kind) ? kinds[kind].name : "failed";
}

const char *err_kind_describe(enum err_kind kind)
{
	return kind_valid(kind) ? kinds[kind].describe : "unknown";
}

int err_set(struct err *e, enum err_kind kind, const char *fmt, ...)
{
	if (!e)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	e->kind = kind;
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
	text_clean(e->msg, true);
	e->hint[0] = '\0';
	return -1;
}

int err_hint(struct err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->hint, sizeof e->hint, fmt, ap);
	va_end(ap);
	text_clean(e->hint, true);
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	char prefix[ERR_MSG_MAX];
	char old[ERR_MSG_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	text_clean(prefix, true);
	memcpy(old, e->msg, sizeof old);
	/* Truncation is acceptable: messages are for people, and bounded. */
	int n = snprintf(e->msg, sizeof e->msg, "%s: ", prefix);
	if (n >= 0 && (size_t)n < sizeof e->msg)
		strncat(e->msg, old, sizeof e->msg - (size_t)n - 1);
	return -1;
}

void err_clear(struct err *e)
{
	if (!e)
		return;
	e->kind = ERR_OK;
	e->msg[0] = '\0';
	e->hint[0] = '\0';
}
