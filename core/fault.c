/* fault — the test build's seams (see fault.h); empty otherwise. */
#include "fault.h"

#ifdef FERRY_FAULTS
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The action FERRY_FAULT sets for name at its count-th passing, or NULL. */
static const char *fault_action(const char *name, unsigned count)
{
	const char *spec = getenv("FERRY_FAULT");
	size_t nl = strlen(name);
	for (const char *p = spec; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
		if (strncmp(p, name, nl) != 0)
			continue;
		const char *q = p + nl;
		unsigned want = 1;
		if (*q == '@')
			want = (unsigned)strtoul(q + 1, (char **)&q, 10);
		if (*q != ':' || want != count)
			continue;
		return q + 1;
	}
	return NULL;
}

static bool action_is(const char *action, const char *word)
{
	size_t n = strlen(word);
	return strncmp(action, word, n) == 0 && (action[n] == '\0' || action[n] == ',');
}

/* Create the marker and wait (polling its existence) until it is gone. */
static void fault_pause(const char *name)
{
	const char *dir = getenv("FERRY_FAULT_DIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.paused", dir && *dir ? dir : "/tmp", name);
	FILE *f = fopen(path, "w");
	if (!f)
		return;
	fprintf(f, "%ld\n", (long)getpid());
	fclose(f);
	struct stat st;
	const struct timespec tick = {0, 20 * 1000 * 1000};
	while (stat(path, &st) == 0)
		nanosleep(&tick, NULL);
}

/* Append a line to $FERRY_FAULT_DIR/NAME.count: tests count the passes. */
static void fault_mark(const char *name)
{
	const char *dir = getenv("FERRY_FAULT_DIR");
	char path[4096];
	snprintf(path, sizeof path, "%s/%s.count", dir && *dir ? dir : "/tmp", name);
	FILE *f = fopen(path, "a");
	if (f) {
		fprintf(f, "%ld\n", (long)getpid());
		fclose(f);
	}
}

int fault_point(const char *name)
{
	/* One counter per process is enough: a test sets one point at a time. */
	static unsigned passes[64];
	static char *names[64];   /* copies: callers may pass a built name */
	size_t i;
	for (i = 0; i < 64 && names[i] && strcmp(names[i], name) != 0; i++)
		;
	if (i == 64)
		return 0;
	if (!names[i])
		names[i] = strdup(name);
	const char *action = fault_action(name, ++passes[i]);
	if (!action)
		action = fault_action(name, 0);   /* NAME@0: every passing */
	if (!action)
		return 0;
	if (action_is(action, "mark"))
		fault_mark(name);
	if (action_is(action, "kill"))
		kill(getpid(), SIGKILL);
	if (action_is(action, "pause"))
		fault_pause(name);
	return action_is(action, "fail") ? -1 : 0;
}

uint64_t fault_free_bytes(uint64_t real)
{
	const char *fake = getenv("FERRY_FAULT_FREE_BYTES");
	return fake && *fake ? strtoull(fake, NULL, 10) : real;
}

bool fault_kill_after(uint64_t bytes)
{
	const char *limit = getenv("FERRY_FAULT_KILL_AFTER_BYTES");
	return limit && *limit && bytes >= strtoull(limit, NULL, 10);
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int fault_unused;
#endif
