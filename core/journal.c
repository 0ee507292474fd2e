/* journal — a run's made things and destructive steps, on disk. */
#include "journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsx.h"
#include "util.h"

struct journal {
	char *path;
	json_t *earlier;    /* an unfinished run's record, or NULL */
	json_t *now;        /* this run's */
};

static int save(const journal *j, struct err *e)
{
	json_t *all = json_deep_copy(j->now);
	if (j->earlier)
		json_object_set(all, "earlier", j->earlier);
	char *text = json_dumps(all, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(all);
	int rc = text ? fsx_write_atomic(j->path, text, strlen(text), 0600, e)
		      : err_set(e, ERR_FAILED, "cannot encode the journal %s", j->path);
	free(text);
	return rc;
}

/* A record whose made things and steps are all gone is nothing to keep. */
static bool empty_record(const json_t *r)
{
	return json_array_size(json_object_get(r, "created")) == 0 &&
	       json_array_size(json_object_get(r, "steps")) == 0;
}

/* What a file holds: its own run and an older one it carried along. */
static json_t *load_earlier(const char *path)
{
	json_t *old = json_load_file(path, 0, NULL);
	if (!json_is_object(old))
		return NULL;
	json_t *older = json_incref(json_object_get(old, "earlier"));
	json_object_del(old, "earlier");
	/* Two unfinished runs: keep what the older one made in the record too. */
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(older, "created"), i, v) {
		json_array_append(json_object_get(old, "created"), v);
	}
	json_decref(older);
	if (empty_record(old)) {
		json_decref(old);
		return NULL;
	}
	return old;
}

journal *journal_open(const char *dir, const char *profile, const char *flow, struct err *e)
{
	if (fsx_mkdir_p(dir, 0700, e) < 0)
		return NULL;
	journal *j = xcalloc(1, sizeof *j);
	j->path = xasprintf("%s/.ferry-journal-%s.json", dir, profile);
	j->earlier = load_earlier(j->path);
	char *host = util_hostname();
	char *when = util_iso_time(time(NULL));
	j->now = json_pack("{s:s, s:s, s:i, s:s, s:s, s:[], s:[]}", "profile", profile, "flow", flow,
			   "pid", (int)getpid(), "host", host, "started", when, "created", "steps");
	free(host);
	free(when);
	return j;
}

const json_t *journal_earlier(const journal *j)
{
	return j ? j->earlier : NULL;
}

static bool lists(const json_t *record, const char *kind, const char *name)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(record, "created"), i, v) {
		const char *k = json_string_value(json_object_get(v, "kind"));
		const char *n = json_string_value(json_object_get(v, "name"));
		if (k && n && strcmp(k, kind) == 0 && strcmp(n, name) == 0)
			return true;
	}
	return false;
}

bool journal_made(const journal *j, const char *kind, const char *name)
{
	return j && (lists(j->now, kind, name) || (j->earlier && lists(j->earlier, kind, name)));
}

int journal_make(journal *j, const char *kind, const char *name, struct err *e)
{
	if (!j || lists(j->now, kind, name))
		return 0;
	json_array_append_new(json_object_get(j->now, "created"),
			      json_pack("{s:s, s:s}", "kind", kind, "name", name));
	return save(j, e);
}

/* Remove kind/name from record's made things; true when it was there. */
static bool drop_from(json_t *record, const char *kind, const char *name)
{
	json_t *created = json_object_get(record, "created");
	for (size_t i = 0; i < json_array_size(created); i++) {
		json_t *v = json_array_get(created, i);
		if (strcmp(json_string_value(json_object_get(v, "kind")), kind) == 0 &&
		    strcmp(json_string_value(json_object_get(v, "name")), name) == 0) {
			json_array_remove(created, i);
			return true;
		}
	}
	return false;
}

int journal_forget(journal *j, const char *kind, const char *name, struct err *e)
{
	if (!j)
		return 0;
	bool changed = drop_from(j->now, kind, name);
	if (j->earlier && drop_from(j->earlier, kind, name)) {
		changed = true;
		if (empty_record(j->earlier)) {
			json_decref(j->earlier);
			j->earlier = NULL;
		}
	}
	return changed ? save(j, e) : 0;
}

int journal_begin(journal *j, json_t *step, struct err *e)
{
	if (!j) {
		json_decref(step);
		return 0;
	}
	json_object_set_new(step, "state", json_string("begun"));
	json_t *steps = json_object_get(j->now, "steps");
	json_array_append_new(steps, step);
	int index = (int)json_array_size(steps) - 1;
	return save(j, e) < 0 ? -1 : index;
}

int journal_done(journal *j, int step, struct err *e)
{
	if (!j)
		return 0;
	json_t *s = json_array_get(json_object_get(j->now, "steps"), (size_t)step);
	if (!s)
		return 0;
	json_object_set_new(s, "state", json_string("done"));
	return save(j, e);
}

int journal_clear_earlier(journal *j, struct err *e)
{
	if (!j || !j->earlier)
		return 0;
	json_decref(j->earlier);
	j->earlier = NULL;
	return save(j, e);
}

/* Steps all done and nothing made left over: the run is over. */
static bool finished(const json_t *record)
{
	if (json_array_size(json_object_get(record, "created")) > 0)
		return false;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(record, "steps"), i, v)
		if (strcmp(json_string_value(json_object_get(v, "state")), "done") != 0)
			return false;
	return true;
}

void journal_close(journal *j)
{
	if (!j)
		return;
	if (finished(j->now) && !j->earlier)
		unlink(j->path);
	else
		save(j, NULL);
	json_decref(j->earlier);
	json_decref(j->now);
	free(j->path);
	free(j);
}
