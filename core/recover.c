/* recover — see recover.h. */
#include "recover.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsx.h"
#include "restore_db.h"
#include "util.h"

char *recover_journal_path(const struct profile *p)
{
	return xasprintf("%s/.ferry-journal-%s.json", p->backup.dir, p->name);
}

/* The records in the file: the last run's and any earlier one it carried. */
static json_t *load_records(const char *path)
{
	json_t *top = json_load_file(path, 0, NULL);
	if (!json_is_object(top)) {
		json_decref(top);
		return NULL;
	}
	json_t *all = json_array();
	json_t *earlier = json_object_get(top, "earlier");
	if (json_is_object(earlier))
		json_array_append(all, earlier);
	json_object_del(top, "earlier");
	json_array_append_new(all, top);
	return all;
}

bool recover_pending(const struct profile *p, char **what)
{
	char *path = recover_journal_path(p);
	json_t *all = load_records(path);
	free(path);
	if (!all)
		return false;
	json_t *last = json_array_get(all, json_array_size(all) - 1);
	if (what)
		*what = xasprintf("a %s (pid %lld, started %s) did not finish",
				  json_string_value(json_object_get(last, "flow")) ? json_string_value(json_object_get(last, "flow")) : "run",
				  (long long)json_integer_value(json_object_get(last, "pid")),
				  json_string_value(json_object_get(last, "started")) ? json_string_value(json_object_get(last, "started")) : "?");
	json_decref(all);
	return true;
}

struct recovery {
	const struct profile *p;
	const struct event_sink *ev;
	db_conn *admin;
	int actions;
	struct err *e;
};

static int need_admin(struct recovery *r)
{
	if (r->admin)
		return 0;
	r->admin = restore_db_connect_admin(r->p->database.url, NULL, r->e);
	return r->admin ? 0 : err_prefix(r->e, "recovering what a killed run left");
}

static const char *str(const json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

/* The swap's renames commit together: whichever database is where, allow
 * connections again on it. */
static int recover_swap(struct recovery *r, const json_t *step)
{
	const char *live = str(step, "live"), *prev = str(step, "previous");
	if (!live || need_admin(r) < 0)
		return -1;
	const char *names[] = {live, prev};
	for (size_t i = 0; i < 2; i++) {
		if (!names[i])
			continue;
		int there = restore_db_exists(r->admin, names[i], r->e);
		if (there < 0 || (there && restore_db_allow_connections(r->admin, names[i], true, r->e) < 0))
			return -1;
	}
	event_log(r->ev, EV_WARN, "recovered an interrupted swap: %s accepts connections again", live);
	r->actions++;
	return 0;
}

/* Move one path still in staging into place, keeping the old one aside. */
static int finish_move(struct recovery *r, const char *root, const char *staging, const char *rel,
		       const char *stamp)
{
	char *src = xasprintf("%s/%s", staging, rel), *dst = xasprintf("%s/%s", root, rel);
	char *aside = xasprintf("%s.prev-%s", dst, stamp);
	struct stat st;
	int rc = 0;
	if (lstat(src, &st) == 0) {
		if (lstat(dst, &st) == 0 && lstat(aside, &st) < 0 && rename(dst, aside) < 0)
			rc = err_set(r->e, ERR_FAILED, "cannot move %s aside: %s", dst, strerror(errno));
		if (rc == 0 && rename(src, dst) < 0)
			rc = err_set(r->e, ERR_FAILED, "cannot move %s into place: %s", dst, strerror(errno));
		if (rc == 0) {
			event_log(r->ev, EV_WARN, "recovered an interrupted restore: %s put in place", dst);
			r->actions++;
		}
	}
	free(src), free(dst), free(aside);
	return rc;
}

static int recover_files(struct recovery *r, const json_t *step)
{
	const char *root = str(step, "root"), *staging = str(step, "staging"), *stamp = str(step, "stamp");
	if (!root || !staging || !stamp)
		return 0;
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(step, "paths"), i, v) {
		if (json_is_string(v) && finish_move(r, root, staging, json_string_value(v), stamp) < 0)
			return -1;
	}
	return 0;
}

static int recover_steps(struct recovery *r, const json_t *record)
{
	size_t i;
	json_t *step;
	json_array_foreach(json_object_get(record, "steps"), i, step) {
		const char *op = str(step, "op"), *state = str(step, "state");
		if (!op || !state || strcmp(state, "begun") != 0)
			continue;
		if (strcmp(op, "swap") == 0 && recover_swap(r, step) < 0)
			return -1;
		if (strcmp(op, "files") == 0 && recover_files(r, step) < 0)
			return -1;
	}
	return 0;
}

/* Drop the databases and remove the directories the record says ferry made. */
static int remove_made(struct recovery *r, const json_t *record)
{
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(record, "created"), i, v) {
		const char *kind = str(v, "kind"), *name = str(v, "name");
		if (!kind || !name)
			continue;
		if (strcmp(kind, "database") == 0) {
			if (need_admin(r) < 0)
				return -1;
			int there = restore_db_exists(r->admin, name, r->e);
			if (there < 0 || (there && restore_db_drop(r->admin, name, r->e) < 0))
				return -1;
			if (there) {
				event_log(r->ev, EV_WARN, "removed database %s, left by a killed run", name);
				r->actions++;
			}
		} else if (strcmp(kind, "dir") == 0 && fsx_exists(name)) {
			fsx_rm_rf(name);
			event_log(r->ev, EV_WARN, "removed %s, left by a killed run", name);
			r->actions++;
		}
	}
	return 0;
}

int recover_profile(const struct profile *p, const struct event_sink *ev, int *actions, struct err *e)
{
	char *path = recover_journal_path(p);
	json_t *all = load_records(path);
	struct recovery r = {.p = p, .ev = ev, .e = e};
	int rc = 0;
	size_t i;
	json_t *record;
	json_array_foreach(all, i, record) {
		if (rc == 0)
			rc = recover_steps(&r, record);
		if (rc == 0)
			rc = remove_made(&r, record);
	}
	if (rc == 0 && all)
		unlink(path);
	if (rc < 0)
		err_hint(e, "the journal %s is kept: run `ferry recover --profile %s` once the database is reachable",
			 path, p->name);
	db_close(r.admin);
	json_decref(all);
	free(path);
	if (actions)
		*actions = r.actions;
	return rc;
}
