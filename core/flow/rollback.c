/* flow_rollback — swap the previous database (and the previous app
 * files) of the last restore back, as a table of steps: preflight (the
 * restore record, the previous database still there) → swap → files. */
#include <errno.h>
#include <sys/stat.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "flow/restore.h"
#include "flow/rollback.h"
#include "dbname.h"
#include "restore_db.h"
#include "journal.h"
#include "step.h"
#include "util.h"
#include "flow/flow.h"

struct rollback_ctx {
	const struct profile *p;
	json_t *root;                 /* the restore record */
	const char *database, *previous_db, *at;
	json_t *paths;
	char *stamp;
	int keep;                     /* rolled-back databases kept */
	db_conn *admin;
	char *admin_conninfo;
	struct sbuf report;
	journal *journal;             /* the swap, for a run that is killed in it */
};

static int load_state(struct rollback_ctx *c, struct err *e)
{
	char *path = xasprintf("%s/%s", c->p->backup.dir, RESTORE_STATE_FILE);
	c->root = json_load_file(path, 0, NULL);
	if (!c->root) {
		err_set(e, ERR_USAGE, "nothing to roll back: no restore recorded in %s", path);
		free(path);
		return err_hint(e, "rollback undoes the last `ferry restore` of this profile");
	}
	free(path);
	c->database = json_string_value(json_object_get(c->root, "database"));
	c->previous_db = json_string_value(json_object_get(c->root, "previous_db"));
	if (json_is_true(json_object_get(c->root, "database_back")))
		c->previous_db = NULL;   /* swapped back by a run killed before the files */
	c->at = json_string_value(json_object_get(c->root, "at"));
	c->paths = json_object_get(c->root, "paths");
	if (!c->database || !c->at)
		return err_set(e, ERR_FAILED, "the restore record %s/%s is damaged", c->p->backup.dir,
			       RESTORE_STATE_FILE);
	return 0;
}

static int prepare(void *ctx, struct err *e)
{
	struct rollback_ctx *c = ctx;
	if (load_state(c, e) < 0)
		return -1;
	if (!c->previous_db)
		return 0;
	c->admin = restore_db_connect_admin(c->p->database.url, &c->admin_conninfo, e);
	return c->admin ? 0 : -1;
}

static char *plan_title(void *ctx)
{
	(void)ctx;
	return xstrdup("roll back the last restore");
}

static char *confirm_word(void *ctx)
{
	return xstrdup(((struct rollback_ctx *)ctx)->database);
}

static bool has_previous_db(void *ctx)
{
	return ((struct rollback_ctx *)ctx)->previous_db != NULL;
}

/* The previous database must still be there to swap it back. */
static int check_previous_db(void *ctx, struct err *e)
{
	const struct rollback_ctx *c = ctx;
	int exists = restore_db_exists(c->admin, c->previous_db, e);
	if (exists != 0)
		return exists < 0 ? -1 : 0;
	err_set(e, ERR_FAILED, "the previous database %s no longer exists", c->previous_db);
	return err_hint(e, "restore the safety bundle instead (`ferry list`, type pre-restore)");
}

static char *swap_detail(void *ctx)
{
	const struct rollback_ctx *c = ctx;
	return xasprintf("%s → %s", c->previous_db, c->database);
}

static int step_swap(void *ctx, struct step_run *sr, struct err *e)
{
	struct rollback_ctx *c = ctx;
	char *aside = dbname_unique(c->database, "rolledback", c->stamp, restore_db_exists_fn, c->admin, e);
	if (!aside)
		return -1;
	int step = journal_begin(c->journal, json_pack("{s:s, s:s, s:s, s:s}", "op", "swap", "live", c->database,
						       "previous", aside, "incoming", c->previous_db), e);
	int rc = step < 0 ? -1 : restore_db_swap(c->admin, c->database, aside, c->previous_db, e);
	if (step >= 0)
		journal_done(c->journal, step, NULL);
	if (rc == 0) {
		/* Rolled-back databases are kept like previous ones (--keep-previous). */
		char *prefix = dbname_prefix(c->database, "rolledback", strlen(c->stamp));
		restore_db_prune_prefixed(c->admin, prefix, c->keep, step_events(sr));
		free(prefix);
		sbuf_addf(&c->report, "database: %s is back as %s; the restored one is now %s\n",
			  c->previous_db, c->database, aside);
		/* A run killed after this point continues with the files. */
		json_object_set_new(c->root, "database_back", json_true());
		char *path = xasprintf("%s/%s", c->p->backup.dir, RESTORE_STATE_FILE);
		flow_json_write(path, c->root, NULL);
		free(path);
		step_note(sr, "%s", aside);
	}
	free(aside);
	return rc;
}

static char *files_detail(void *ctx)
{
	return xasprintf("%zu path(s)", json_array_size(((struct rollback_ctx *)ctx)->paths));
}

static int step_files(void *ctx, struct step_run *sr, struct err *e)
{
	struct rollback_ctx *c = ctx;
	size_t i, n = 0;
	json_t *item;
	json_array_foreach(c->paths, i, item) {
		const char *path = json_string_value(json_object_get(item, "path"));
		const char *prev = json_string_value(json_object_get(item, "previous"));
		struct stat st;
		if (!path || !prev || lstat(prev, &st) < 0)
			continue;   /* nothing kept, or put back by an earlier, killed run */
		char *aside = xasprintf("%s.rolledback-%s", path, c->stamp);
		if (rename(path, aside) < 0 || rename(prev, path) < 0) {
			err_set(e, ERR_FAILED, "cannot put %s back: %s", prev, strerror(errno));
			free(aside);
			return -1;
		}
		sbuf_addf(&c->report, "files: %s is back; the restored copy is %s\n", path, aside);
		free(aside);
		n++;
	}
	step_note(sr, "%zu path(s)", n);
	return STEP_DONE;
}

static const struct step rollback_steps[] = {
	{.id = "swap", .title = "swap the previous database back", .applies = has_previous_db,
	 .check = check_previous_db, .detail = swap_detail, .run = step_swap, .destructive = true},
	{.id = "files", .title = "put the previous app files back", .detail = files_detail,
	 .run = step_files, .destructive = true},
};

static int rollback_lock(void *ctx, const struct event_sink *ev, struct err *e)
{
	struct rollback_ctx *c = ctx;
	if (flow_lock_profile(c->p, "rollback", ev, e) < 0)
		return -1;
	c->journal = journal_open(c->p->backup.dir, c->p->name, "rollback", e);
	if (c->journal)
		return 0;
	flow_unlock_profile(c->p);
	return -1;
}

static void rollback_unlock(void *ctx)
{
	struct rollback_ctx *c = ctx;
	journal_close(c->journal);
	c->journal = NULL;
	flow_unlock_profile(c->p);
}

static const struct flow_def rollback_flow = {
	.name = "rollback",
	.lock = rollback_lock,
	.unlock = rollback_unlock,
	.steps = rollback_steps,
	.nsteps = sizeof rollback_steps / sizeof rollback_steps[0],
	.prepare = prepare,
	.title = plan_title,
	.confirm_word = confirm_word,
};

static void ctx_done(struct rollback_ctx *c)
{
	json_decref(c->root);
	db_close(c->admin);
	free(c->admin_conninfo);
	free(c->stamp);
	sbuf_done(&c->report);
}

int rollback_run(const struct profile *p, const struct restore_opts *o, char **report,
		 struct err *e)
{
	struct rollback_ctx c = {.p = p, .stamp = util_stamp(time(NULL)),
				 .keep = o->keep_previous > 0 ? o->keep_previous : 1};
	struct flow_run_opts ro = {.events = o->events, .cancel = o->cancel, .yes = o->yes,
				   .confirm = o->confirm, .confirm_ud = o->confirm_ud};
	int rc = flow_run(&rollback_flow, &c, &ro, NULL, e);
	if (rc == 0) {
		char *path = xasprintf("%s/%s", p->backup.dir, RESTORE_STATE_FILE);
		unlink(path);
		free(path);
	}
	*report = sbuf_take(&c.report);
	ctx_done(&c);
	return rc;
}

int rollback_plan(const struct profile *p, const struct restore_opts *o, struct plan *plan,
		  struct err *e)
{
	(void)o;
	struct rollback_ctx c = {.p = p, .stamp = util_stamp(time(NULL))};
	int rc = flow_plan(&rollback_flow, &c, plan, e);
	ctx_done(&c);
	return rc;
}
