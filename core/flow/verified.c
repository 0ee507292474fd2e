/* verified — <bundle>.verified: the verify and drill outcomes of a bundle. */
#include "flow/verified.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fsx.h"
#include "util.h"

#define DRILL_MARK "drilled "

/* One line, control characters (a message from the bundle) made blanks. */
static char *clean_line(const char *s)
{
	char *c = xstrdup(s);
	for (char *q = c; *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			*q = ' ';
	return c;
}

void verified_read(const char *bundle, struct verified_record *out)
{
	memset(out, 0, sizeof *out);
	char *side = xasprintf("%s.verified", bundle);
	char *text = fsx_read_file(side, 64 * 1024, NULL, NULL);
	free(side);
	if (!text)
		return;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (str_starts(line, DRILL_MARK) && !out->drill)
			out->drill = xstrdup(line + strlen(DRILL_MARK));
		else if (!str_starts(line, DRILL_MARK) && !out->verify)
			out->verify = xstrdup(line);
	}
	free(text);
}

void verified_record_done(struct verified_record *r)
{
	free(r->verify);
	free(r->drill);
	memset(r, 0, sizeof *r);
}

/* Write both lines back. */
static void write_record(const char *bundle, const struct verified_record *r)
{
	char *side = xasprintf("%s.verified", bundle);
	char *text = xasprintf("%s%s%s%s%s", r->verify ? r->verify : "", r->verify ? "\n" : "",
			       r->drill ? DRILL_MARK : "", r->drill ? r->drill : "", r->drill ? "\n" : "");
	fsx_write_atomic(side, text, strlen(text), 0600, NULL);
	free(text);
	free(side);
}

/* "<time> ok" or "<time> FAILED <why>" — the verify line puts the word first. */
static char *outcome(bool word_first, bool ok, const char *why)
{
	char *when = util_iso_time(time(NULL));
	char *reason = clean_line(why ? why : "");
	char *line = word_first ? (ok ? xasprintf("ok %s", when) : xasprintf("FAILED %s %s", when, reason))
				: (ok ? xasprintf("%s ok", when) : xasprintf("%s FAILED %s", when, reason));
	free(when);
	free(reason);
	return line;
}

void verified_write_verify(const char *bundle, bool ok, const char *why)
{
	struct verified_record r;
	verified_read(bundle, &r);
	free(r.verify);
	r.verify = outcome(true, ok, why);
	write_record(bundle, &r);
	verified_record_done(&r);
}

void verified_write_drill(const char *bundle, bool ok, const char *why)
{
	struct verified_record r;
	verified_read(bundle, &r);
	free(r.drill);
	r.drill = outcome(false, ok, why);
	write_record(bundle, &r);
	verified_record_done(&r);
}

bool verified_ok(const char *line)
{
	if (!line)
		return false;
	if (str_starts(line, "ok"))
		return true;
	const char *space = strchr(line, ' ');   /* a drill line: "<time> ok" */
	return space && strcmp(space + 1, "ok") == 0;
}
