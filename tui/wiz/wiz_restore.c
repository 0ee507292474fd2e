/* wiz_restore — the restore wizard: profile, a bundle from the list, what
 * to restore, the plan from restore_plan(), then restore_run() with its
 * confirm callback asking for the database name to be typed.
 *
 * A profile with offsite targets lists their copies beside the local
 * bundles (where_list). A copy that is only offsite is fetched first, as
 * `ferry restore NAME --from TARGET --identity FILE` does: the plan is the
 * pull's steps and then the restore's, the run is offsite_pull_run (the
 * copy fetched, decrypted and verified into backup.dir) and then
 * restore_run on what arrived. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "flow/list.h"
#include "flow/offsite.h"
#include "flow/restore.h"
#include "flow/where.h"
#include "wiz/wiz_restore.h"

/* An offsite-only copy's item value: OFFSITE_PICK "<target>:<object>". */
#define OFFSITE_PICK "offsite:"

struct restore_state {
	struct restore_result r;
	bool have_r;
};

static const char *const what_options[] = {"database and app files", "database only",
					   "app files only", NULL};
static const char *const yes_no[] = {"yes", "no", NULL};
enum { WHAT_BOTH, WHAT_DB, WHAT_FILES };

/* The identity file: given, a regular file, readable. */
static int check_identity(const struct wiz *w, const struct wiz_page_field *f, char *why, size_t n)
{
	(void)w;
	struct stat sb;
	if (!f->line.text[0])
		return snprintf(why, n, "give the age key or ssh private key that decrypts the copy"), -1;
	if (stat(f->line.text, &sb) < 0)
		return snprintf(why, n, "%.200s: %s", f->line.text, strerror(errno)), -1;
	if (!S_ISREG(sb.st_mode))
		return snprintf(why, n, "%.200s is not a file", f->line.text), -1;
	if (access(f->line.text, R_OK) < 0)
		return snprintf(why, n, "%.200s cannot be read: %s", f->line.text, strerror(errno)), -1;
	return 0;
}

/* The page that asks for the identity of an encrypted offsite copy (skipped
 * for every other pick). */
static void add_identity_page(struct wiz *w)
{
	struct wiz_page *pg = wiz_add_page(w, "identity", WP_FORM, "Which key decrypts the copy?",
		"The copy on the offsite target is encrypted for the profile's "
		"encryption.recipients. Give the file of the matching age identity (or ssh "
		"private key), as `ferry restore --from TARGET --identity FILE` takes it. "
		"It is only read, never copied.");
	wiz_page_add_text(pg, "file", "Identity file",
		"The path of the age key or ssh private key (read by age -d -i).", check_identity);
}

/* Pages: the profile, the bundle, the identity (an encrypted offsite copy), the options. */
static void restore_setup(struct wiz *w)
{
	w->st = xcalloc(1, sizeof(struct restore_state));
	wiz_add_profile_page(w, "profile", "Which profile do you want to restore into?");
	wiz_add_page(w, "bundle", WP_CHOICE, "Which bundle?",
		"The bundles in the profile's backup directory, newest first: when it was "
		"made (UTC, to the second), its type (pre-* are safety copies), its scope "
		"(full or partial), size, the schema revision inside, and whether "
		"`ferry verify` checked it. The newest bundle that is not a safety copy is "
		"picked. The restore verifies it again before it touches anything. With "
		"offsite targets, their copies are listed too: \"where\" says local, which "
		"targets hold a copy, or that it is only offsite (fetched, decrypted and "
		"verified into the backup directory first).");
	add_identity_page(w);
	struct wiz_page *pg = wiz_add_page(w, "options", WP_FORM, "What should be restored?",
		"The database is restored into a shadow copy, every table's row count is "
		"checked against the manifest, and only then is it swapped in; the old "
		"database is kept for `ferry rollback`. App files are moved aside, not deleted.");
	wiz_page_add_option(pg, "what", "Restore",
		"Left/Right: database and app files, database only, or app files only.", what_options);
	wiz_page_add_option(pg, "safety", "Safety backup first",
		"A backup (type pre-restore) of what is there now, before anything is replaced.", yes_no);
}

/* "yes", "FAILED" or "no" from the bundle's .verified record. */
static const char *verified_word(const struct bundle_info *b)
{
	if (!b->verified)
		return "no";
	return strncmp(b->verified, "ok", 2) == 0 ? "yes" : "FAILED";
}

/* A safety copy: what ferry made of the live side before a restore,
 * deploy or reset (type pre-*). */
static bool is_safety_copy(const struct bundle_info *b)
{
	return b->type && strncmp(b->type, "pre-", 4) == 0;
}

/* One bundle as a row of the list: made (to the second), type, scope,
 * size, revision, verified; another profile's bundle says whose. */
static void bundle_row(struct wiz_page *pg, const struct bundle_info *b, const char *profile)
{
	struct tm tm;
	gmtime_r(&b->created, &tm);
	char when[32], sz[32], whose[96] = "";
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	if (b->profile && strcmp(b->profile, profile) != 0)
		snprintf(whose, sizeof whose, "  (profile %s)", b->profile);
	wiz_page_item(pg, b->path, "%-19s  %-11s %-7.7s %9s  %-12.12s  %-8s%s", when, b->type,
		      b->scope ? b->scope : "?", util_human_bytes(b->size, sz, sizeof sz),
		      b->revision ? b->revision : "unknown", verified_word(b), whose);
}

/* List the bundles in the profile's backup directory, the newest ordinary
 * one (not a safety copy) picked. */
static void fill_bundles(struct wiz *w, struct wiz_page *pg)
{
	struct bundle_list l;
	struct err e = {0};
	wiz_page_clear_items(pg);
	pg->blocked = false;
	free(pg->header);
	pg->header = xasprintf("%-19s  %-11s %-7s %9s  %-12s  %-8s", "made (UTC)", "type", "scope", "size",
			       "revision", "verified");
	if (list_bundles(w->p->backup.dir, NULL, &l, &e) < 0) {
		wiz_page_text(pg, "The bundles cannot be listed: %s", e.msg);
		pg->blocked = true;
		return;
	}
	bool picked = false;
	for (size_t i = 0; i < l.n; i++) {
		bundle_row(pg, &l.v[i], w->p->name);
		if (!picked && !is_safety_copy(&l.v[i])) {
			pg->sel = i;
			picked = true;
		}
	}
	if (l.n == 0)
		wiz_page_text(pg, "There are no bundles in %s yet. Make one with \"Backup your instance\" "
			      "first (Esc goes back).", w->p->backup.dir);
	else
		wiz_page_text(pg, "Bundles in %s. Those of type pre-restore, pre-deploy and pre-reset are "
			      "safety copies ferry made of what was there before.", w->p->backup.dir);
	list_done(&l);
}

/* "local", "local+s3main", or "s3main only" (", encrypted" when it is). */
static void where_word(const struct where_table *t, const struct where_row *r, char *out, size_t n)
{
	size_t len = (size_t)snprintf(out, n, "%s", r->local_path ? "local" : "");
	for (size_t i = 0; i < t->ntargets && len < n; i++)
		if (r->copies[i].present)
			len += (size_t)snprintf(out + len, n - len, "%s%s", len ? "+" : "", t->targets[i].t->name);
	if (!r->local_path && len < n) {
		const char *obj = r->copies[0].present ? r->copies[0].object : "";
		for (size_t i = 0; i < t->ntargets; i++)
			if (r->copies[i].present) {
				obj = r->copies[i].object;
				break;
			}
		size_t ol = strlen(obj);
		snprintf(out + len, n - len, " only%s", ol > 4 && strcmp(obj + ol - 4, ".age") == 0 ? ", encrypted" : "");
	}
}

/* The local bundle's "verified" word, or "-" for an offsite-only copy. */
static const char *row_verified(const struct bundle_list *local, const struct where_row *r)
{
	for (size_t k = 0; r->local_path && k < local->n; k++)
		if (strcmp(local->v[k].path, r->local_path) == 0)
			return verified_word(&local->v[k]);
	return "-";
}

/* One row of the merged list; the value is the local path, or
 * OFFSITE_PICK "<target>:<object>" for a copy that is only offsite. */
static void where_item(struct wiz_page *pg, const struct where_table *t, const struct where_row *r,
		       const struct bundle_list *local)
{
	struct tm tm;
	gmtime_r(&r->created, &tm);
	char when[32], sz[32], where[64];
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	where_word(t, r, where, sizeof where);
	uint64_t size = r->local_size;
	char *value = r->local_path ? xstrdup(r->local_path) : NULL;
	for (size_t i = 0; i < t->ntargets && !value; i++)
		if (r->copies[i].present) {
			value = xasprintf(OFFSITE_PICK "%s:%s", t->targets[i].t->name, r->copies[i].object);
			size = r->copies[i].size;
		}
	wiz_page_item(pg, value, "%-19s %-11.11s %9s %-8s %s", when, r->type ? r->type : "?",
		      util_human_bytes(size, sz, sizeof sz), row_verified(local, r), where);
	free(value);
}

/* The page's text: where the bundles are, and each target that cannot be reached. */
static void where_text(struct wiz_page *pg, const struct wiz *w, const struct where_table *t)
{
	struct sbuf sb = {0};
	sbuf_addf(&sb, "Bundles in %s and on the offsite targets (\"only\": not here, fetched "
		  "first).", w->p->backup.dir);
	for (size_t i = 0; i < t->ntargets; i++)
		if (t->targets[i].error)
			sbuf_addf(&sb, " Offsite target %s cannot be reached: %s. The local bundles are "
				  "listed.", t->targets[i].t->name, t->targets[i].error);
	if (t->n == 0)
		sbuf_addf(&sb, " There are no bundles yet. Make one with \"Backup your instance\" "
			  "first (Esc goes back).");
	wiz_page_text(pg, "%s", sb.data ? sb.data : "");
	sbuf_done(&sb);
}

/* The profile has offsite targets: local bundles and offsite copies merged. */
static void fill_where(struct wiz *w, struct wiz_page *pg)
{
	struct where_table t;
	struct bundle_list local;
	struct err e = {0};
	wiz_page_clear_items(pg);
	pg->blocked = false;
	free(pg->header);
	pg->header = xasprintf("%-19s %-11s %9s %-8s %s", "made (UTC)", "type", "size", "verified", "where");
	struct offsite_flow_opts o = {.profile = w->p};
	if (where_list(&o, false, &t, &e) < 0 || list_bundles(w->p->backup.dir, w->p->name, &local, &e) < 0) {
		wiz_page_text(pg, "The bundles cannot be listed: %s", e.msg);
		pg->blocked = true;
		return;
	}
	bool picked = false;
	for (size_t i = 0; i < t.n; i++) {
		where_item(pg, &t, &t.v[i], &local);
		if (!picked && !(t.v[i].type && strncmp(t.v[i].type, "pre-", 4) == 0)) {
			pg->sel = i;
			picked = true;
		}
	}
	where_text(pg, w, &t);
	list_done(&local);
	where_table_done(&t);
}

/* The pick is an offsite-only copy: its target and object (*target the caller's). */
static bool picked_offsite(const struct wiz *w, char **target, const char **object)
{
	const char *v = wiz_choice(w, "bundle");
	if (!v || strncmp(v, OFFSITE_PICK, strlen(OFFSITE_PICK)) != 0)
		return false;
	v += strlen(OFFSITE_PICK);
	const char *colon = strchr(v, ':');
	if (!colon)
		return false;
	if (target)
		*target = xstrndup(v, (size_t)(colon - v));
	if (object)
		*object = colon + 1;
	return true;
}

/* The pick is an offsite-only copy that is encrypted (an .age object). */
static bool offsite_encrypted(const struct wiz *w)
{
	const char *object;
	if (!picked_offsite(w, NULL, &object))
		return false;
	size_t n = strlen(object);
	return n > 4 && strcmp(object + n - 4, ".age") == 0;
}

/* Fill the pages that depend on the profile (answers kept on Back). */
static void restore_enter(struct wiz *w, struct wiz_page *pg)
{
	if (strcmp(pg->id, "bundle") == 0 && wiz_page_refill(pg, w->p->name)) {
		if (w->p->noffsite > 0)
			fill_where(w, pg);
		else
			fill_bundles(w, pg);
	}
	if (strcmp(pg->id, "identity") == 0)
		pg->skip = !offsite_encrypted(w);
	if (strcmp(pg->id, "options") == 0 && wiz_page_refill(pg, w->p->name)) {
		pg->fields[0].option = w->p->has_app ? WHAT_BOTH : WHAT_DB;
		pg->fields[1].option = 0;
	}
}

/* The bundle's file name (an offsite copy's object name). */
static const char *bundle_name(const struct wiz *w)
{
	const char *path = wiz_choice(w, "bundle"), *object;
	if (picked_offsite(w, NULL, &object))
		return object;
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

/* The identity given for an encrypted offsite copy, or NULL. */
static const char *identity_of(const struct wiz *w)
{
	return offsite_encrypted(w) ? wiz_answer(w, "identity", "file") : NULL;
}

/* One line: what is about to happen. */
static void restore_about(const struct wiz *w, char *out, size_t n)
{
	const struct wiz_page *bp = wiz_find_page_c(w, "bundle");
	const char *name = w->p ? bundle_name(w) : NULL;
	if (!name || !bp || w->cur <= (size_t)(bp - w->pages)) {
		snprintf(out, n, "About to restore a bundle: verified first, a safety backup, then an atomic swap.");
		return;
	}
	char *db = profile_db_name(w->p);
	snprintf(out, n, "About to restore %s into profile %s (database %s).", name, w->p->name, db ? db : "?");
	free(db);
}

/* The options from the answers: the same struct `ferry restore` fills. */
static void restore_options(const struct wiz *w, struct restore_opts *o)
{
	memset(o, 0, sizeof *o);
	const struct wiz_page_field *what = wiz_field(w, "options", "what");
	const struct wiz_page_field *safety = wiz_field(w, "options", "safety");
	o->db_only = what && what->option == WHAT_DB;
	o->files_only = what && what->option == WHAT_FILES;
	o->no_safety_backup = safety && safety->option == 1;
}

/* An offsite-only copy's plan: the pull's steps (checked: the target,
 * the identity), then the restore's over the copy that will arrive. */
static int fetch_plan(struct wiz *w, const struct restore_opts *o, struct plan *plan, struct err *e)
{
	char *target = NULL;
	const char *object = NULL;
	picked_offsite(w, &target, &object);
	struct offsite_flow_opts fo = {.profile = w->p, .target = target};
	int rc = offsite_pull_plan(&fo, object, identity_of(w), plan, e);
	if (rc == 0) {
		restore_plan_fetched(w->p, o, plan);
		free(plan->title);
		plan->title = xasprintf("restore %s from offsite target %s into %s", object, target, w->p->name);
	}
	free(target);
	return rc;
}

/* Worker: the plan (restore_plan verifies the bundle and reads the live side). */
static int restore_plan_hook(struct wiz *w, struct plan *plan, struct err *e)
{
	struct restore_opts o;
	restore_options(w, &o);
	if (picked_offsite(w, NULL, NULL))
		return fetch_plan(w, &o, plan, e);
	return restore_plan(w->p, wiz_choice(w, "bundle"), &o, plan, e);
}

/* Worker: an offsite-only copy fetched into backup.dir, decrypted and
 * verified (offsite_pull_run, steps connect and fetch); its path. */
static char *fetch_copy(struct wiz *w, struct wiz_job *j, struct err *e)
{
	char *target = NULL;
	const char *object = NULL;
	picked_offsite(w, &target, &object);
	struct offsite_flow_opts fo = {.profile = w->p, .target = target, .events = &j->sink,
				       .cancel = &j->cancel};
	struct offsite_pull_flow_result res;
	char *path = NULL;
	if (offsite_pull_run(&fo, object, identity_of(w), &res, e) == 0)
		path = xstrdup(res.pull.path);
	offsite_pull_flow_result_done(&res);
	free(target);
	return path;
}

/* Worker: THE core call, restore_run(); the confirmation goes to the UI. */
static int restore_run_hook(struct wiz *w, struct wiz_job *j, struct err *e)
{
	struct restore_state *st = w->st;
	struct restore_opts o;
	restore_options(w, &o);
	o.events = &j->sink;
	o.cancel = &j->cancel;
	o.confirm = wiz_job_confirm_word;
	o.confirm_ud = j;
	char *fetched = NULL;
	if (picked_offsite(w, NULL, NULL) && !(fetched = fetch_copy(w, j, e)))
		return -1;
	int rc = restore_run(w->p, fetched ? fetched : wiz_choice(w, "bundle"), &o, &st->r, e);
	st->have_r = true;
	free(fetched);
	return rc;
}

/* Push "prefix value suffix" as a result line. */
static void result_line(struct wiz *w, const char *prefix, const char *value, const char *suffix)
{
	char *line = xasprintf("%s%s%s", prefix, value, suffix);
	strv_push(&w->result, line);
	free(line);
}

/* The final page: what was restored, what was kept, how to go back. */
static void restore_result_hook(struct wiz *w)
{
	struct restore_state *st = w->st;
	if (w->rc != 0 || !st->have_r)
		return;
	const struct restore_result *r = &st->r;
	char *line = xasprintf("Restored %zu tables; %lld rows checked against the manifest; %.1f s.",
			       r->ntables, (long long)r->total_rows, r->duration_s);
	strv_push(&w->result, line);
	free(line);
	if (r->safety_bundle)
		result_line(w, "Safety backup of what was there: ", r->safety_bundle, "");
	if (r->previous_db)
		result_line(w, "The previous database is kept as ", r->previous_db, ".");
	for (size_t i = 0; i < r->previous_paths.n; i++)
		result_line(w, "Previous files kept as ", r->previous_paths.v[i], ".");
	char *db = profile_db_name(w->p);
	w->written = xasprintf("database %s (profile %s) from %s", db ? db : "?", w->p->name, bundle_name(w));
	free(db);
	if (r->previous_db || r->previous_paths.n)
		w->next_cmd = xasprintf("ferry rollback --profile %s   (puts the previous data back)", w->p->name);
}

/* Free the result. */
static void restore_free(struct wiz *w)
{
	struct restore_state *st = w->st;
	if (!st)
		return;
	if (st->have_r)
		restore_result_done(&st->r);
	free(st);
	w->st = NULL;
}

const struct wiz_flow wiz_restore_flow = {
	.name = "restore",
	.title = "Restore from a backup",
	.doing = "Restoring",
	.setup = restore_setup,
	.enter = restore_enter,
	.about = restore_about,
	.plan = restore_plan_hook,
	.run = restore_run_hook,
	.result = restore_result_hook,
	.free_state = restore_free,
};
