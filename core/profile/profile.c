/* profile — the loaded file and its profiles: picking one by name, freeing. */
#include "profile_int.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* ---- freeing ------------------------------------------------------------ */

/* Free what a health check owns. */
static void health_done(struct profile_health *h)
{
	free(h->name);
	free(h->url);
}

/* Free what an action owns. */
static void action_done(struct profile_action *a)
{
	free(a->name);
	free(a->sql);
	strv_done(&a->params);
	free(a->description);
}

/* Free every string and list a profile owns (not the struct). */
void profile_done(struct profile *p)
{
	free(p->name);
	free(p->file);
	free(p->dir);
	free(p->database.url);
	free(p->app.root);
	strv_done(&p->app.paths);
	strv_done(&p->app.exclude);
	free(p->app.env_file);
	free(p->backup.dir);
	free(p->backup.compression);
	strv_done(&p->backup.schedule);
	free(p->ssh.host);
	free(p->ssh.user);
	free(p->ssh.identity_file);
	free(p->ssh.known_hosts);
	free(p->ssh.ferry_path);
	free(p->ssh.remote_profiles);
	free(p->services.orchestrator);
	strv_done(&p->services.restart);
	strv_done(&p->services.stop);
	strv_done(&p->services.start);
	strv_done(&p->services.status);
	strv_done(&p->services.rollback);
	for (size_t i = 0; i < p->nhealth; i++)
		health_done(&p->health[i]);
	free(p->health);
	free(p->registry.file);
	free(p->registry.primary_url);
	free(p->registry.fallback_url);
	free(p->registry.grace_period);
	strv_done(&p->hooks.pre_backup);
	strv_done(&p->hooks.post_backup);
	strv_done(&p->hooks.pre_restore);
	strv_done(&p->hooks.post_restore);
	strv_done(&p->hooks.pre_deploy);
	strv_done(&p->hooks.post_deploy);
	free(p->migrations.command);
	free(p->migrations.status_command);
	free(p->migrations.dir);
	for (size_t i = 0; i < p->nactions; i++)
		action_done(&p->actions[i]);
	free(p->actions);
	strv_done(&p->seeds);
	free(p->log_dir);
	free(p->description);
	strv_done(&p->secrets);
}

/* Free a loaded file and its profiles; NULL is fine. */
void profile_file_free(profile_file *pf)
{
	if (!pf)
		return;
	for (size_t i = 0; i < pf->n; i++)
		profile_done(&pf->profiles[i]);
	free(pf->profiles);
	free(pf->path);
	free(pf);
}

/* ---- the file's profiles ------------------------------------------------ */

/* How many profiles the file holds. */
size_t profile_file_count(const profile_file *pf)
{
	return pf ? pf->n : 0;
}

/* The i-th profile in file order, or NULL. */
const struct profile *profile_file_at(const profile_file *pf, size_t i)
{
	return pf && i < pf->n ? &pf->profiles[i] : NULL;
}

/* The path the file was loaded from, as given. */
const char *profile_file_path(const profile_file *pf)
{
	return pf ? pf->path : NULL;
}

/* ---- picking a profile -------------------------------------------------- */

/* "a, b, c": the file's profile names; caller frees. */
static char *profile_names(const profile_file *pf)
{
	struct sbuf b = {0};
	for (size_t i = 0; i < pf->n; i++) {
		if (i)
			sbuf_adds(&b, ", ");
		sbuf_adds(&b, pf->profiles[i].name);
	}
	return sbuf_take(&b);
}

/* The profile named name, or NULL. */
static const struct profile *find_profile(const profile_file *pf, const char *name)
{
	for (size_t i = 0; i < pf->n; i++)
		if (strcmp(pf->profiles[i].name, name) == 0)
			return &pf->profiles[i];
	return NULL;
}

/* "no profile X in FILE", with a did-you-mean and the names. */
static void fail_no_profile(const profile_file *pf, const char *name, struct err *e)
{
	const char **names = xcalloc(pf->n, sizeof *names);
	for (size_t i = 0; i < pf->n; i++)
		names[i] = pf->profiles[i].name;
	const char *guess = profile_did_you_mean(names, pf->n, name);
	char *all = profile_names(pf);
	err_set(e, ERR_PROFILE, "no profile \"%s\" in %s", name, pf->path);
	if (guess)
		err_hint(e, "did you mean \"%s\"? profiles: %s", guess, all);
	else
		err_hint(e, "profiles: %s", all);
	free(all);
	free(names);
}

/* The profile to use: by name, $FERRY_PROFILE, or the only one. */
const struct profile *profile_file_get(const profile_file *pf, const char *name,
				       struct err *e)
{
	if (!pf) {
		err_set(e, ERR_PROFILE, "no profiles loaded");
		return NULL;
	}
	if (!name || !*name)
		name = getenv("FERRY_PROFILE");
	if (name && *name) {
		const struct profile *p = find_profile(pf, name);
		if (!p)
			fail_no_profile(pf, name, e);
		return p;
	}
	if (pf->n == 1)
		return &pf->profiles[0];
	char *all = profile_names(pf);
	err_set(e, ERR_PROFILE, "%s has %zu profiles; pick one", pf->path, pf->n);
	err_hint(e, "use --profile NAME (%s) or set FERRY_PROFILE", all);
	free(all);
	return NULL;
}
