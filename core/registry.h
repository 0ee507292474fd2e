/* registry — the application's connection registry (a JSON file clients
 * read to find the database), rewritten after a migration: the new URL
 * becomes primary, the old one the fallback for a grace period, and a
 * migration notice tells clients what happened. Other keys are kept. */
#ifndef FERRY_REGISTRY_H
#define FERRY_REGISTRY_H

#include <time.h>

#include "err.h"

struct registry_update {
	const char *primary_url;     /* the new server */
	const char *fallback_url;    /* the old one; NULL = the file's old primary */
	const char *grace_period;    /* ISO-8601 duration, e.g. "P7D"; NULL = P7D */
	const char *from, *to;       /* profile names, for the notice */
	time_t now;
};

/* Rewrite path atomically (write path.part, rename); creates it when missing. */
int registry_rewrite(const char *path, const struct registry_update *u, struct err *e);

/* Seconds in an ISO-8601 duration (PnDTnHnMnS, PnW); -1 when malformed. */
long long registry_duration_s(const char *iso);

#endif
