/* profile — the loaded file and its profiles: picking one by name, freeing;
 * a profile of one's own (a deep copy) changed for one run. */
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
	profile_alerts_done(p);
	strv_done(&p->seeds);
	free(p->log_dir);
	free(p->description);
	strv_done(&p->secrets);
	profile_offsite_done(p);
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

/* ---- a profile of one's own --------------------------------------------- */

/* dst = a copy of src's strings. */
static void copy_strv(struct strv *dst, const struct strv *src)
{
	*dst = (struct strv){0};
	for (size_t i = 0; i < src->n; i++)
		strv_push(dst, src->v[i]);
}

/* The strings of every section, copied (the scalars are copied already). */
static void clone_sections(struct profile *c, const struct profile *p)
{
	c->database.url = xstrdup(p->database.url);
	c->app.root = xstrdup(p->app.root);
	copy_strv(&c->app.paths, &p->app.paths);
	copy_strv(&c->app.exclude, &p->app.exclude);
	c->app.env_file = xstrdup(p->app.env_file);
	c->backup.dir = xstrdup(p->backup.dir);
	c->backup.compression = xstrdup(p->backup.compression);
	copy_strv(&c->backup.schedule, &p->backup.schedule);
	c->ssh.host = xstrdup(p->ssh.host);
	c->ssh.user = xstrdup(p->ssh.user);
	c->ssh.identity_file = xstrdup(p->ssh.identity_file);
	c->ssh.known_hosts = xstrdup(p->ssh.known_hosts);
	c->ssh.ferry_path = xstrdup(p->ssh.ferry_path);
	c->ssh.remote_profiles = xstrdup(p->ssh.remote_profiles);
	c->services.orchestrator = xstrdup(p->services.orchestrator);
	copy_strv(&c->services.restart, &p->services.restart);
	copy_strv(&c->services.stop, &p->services.stop);
	copy_strv(&c->services.start, &p->services.start);
	copy_strv(&c->services.status, &p->services.status);
	copy_strv(&c->services.rollback, &p->services.rollback);
	c->registry.file = xstrdup(p->registry.file);
	c->registry.primary_url = xstrdup(p->registry.primary_url);
	c->registry.fallback_url = xstrdup(p->registry.fallback_url);
	c->registry.grace_period = xstrdup(p->registry.grace_period);
	copy_strv(&c->hooks.pre_backup, &p->hooks.pre_backup);
	copy_strv(&c->hooks.post_backup, &p->hooks.post_backup);
	copy_strv(&c->hooks.pre_restore, &p->hooks.pre_restore);
	copy_strv(&c->hooks.post_restore, &p->hooks.post_restore);
	copy_strv(&c->hooks.pre_deploy, &p->hooks.pre_deploy);
	copy_strv(&c->hooks.post_deploy, &p->hooks.post_deploy);
	c->migrations.command = xstrdup(p->migrations.command);
	c->migrations.status_command = xstrdup(p->migrations.status_command);
	c->migrations.dir = xstrdup(p->migrations.dir);
}

/* The health checks and the actions, copied. */
static void clone_lists(struct profile *c, const struct profile *p)
{
	c->health = p->nhealth ? xcalloc(p->nhealth, sizeof *c->health) : NULL;
	for (size_t i = 0; i < p->nhealth; i++) {
		c->health[i] = p->health[i];
		c->health[i].name = xstrdup(p->health[i].name);
		c->health[i].url = xstrdup(p->health[i].url);
	}
	c->actions = p->nactions ? xcalloc(p->nactions, sizeof *c->actions) : NULL;
	for (size_t i = 0; i < p->nactions; i++) {
		const struct profile_action *a = &p->actions[i];
		c->actions[i] = (struct profile_action){
			.name = xstrdup(a->name), .sql = xstrdup(a->sql), .confirm = a->confirm,
			.description = xstrdup(a->description)};
		copy_strv(&c->actions[i].params, &a->params);
	}
}

/* A deep copy of p; the caller frees it with profile_free. */
struct profile *profile_clone(const struct profile *p)
{
	struct profile *c = xmalloc(sizeof *c);
	*c = *p;   /* the scalars; every pointer is replaced by a copy below */
	c->name = xstrdup(p->name);
	c->file = xstrdup(p->file);
	c->dir = xstrdup(p->dir);
	clone_sections(c, p);
	clone_lists(c, p);
	profile_alerts_clone(c, p);
	copy_strv(&c->seeds, &p->seeds);
	c->log_dir = xstrdup(p->log_dir);
	c->description = xstrdup(p->description);
	copy_strv(&c->secrets, &p->secrets);
	profile_offsite_clone(c, p);
	return c;
}

/* Free a profile from profile_clone; NULL is fine. */
void profile_free(struct profile *p)
{
	if (!p)
		return;
	profile_done(p);
	free(p);
}

/* Replace *field by a copy of value (NULL when value is NULL or ""). */
static void set_optional(char **field, const char *value)
{
	free(*field);
	*field = value && *value ? xstrdup(value) : NULL;
}

/* The server p reaches over SSH, as given in o (see profile.h). */
int profile_set_ssh(struct profile *p, const struct profile_ssh_override *o, struct err *e)
{
	if (!o->host || !*o->host) {
		err_set(e, ERR_PROFILE, "profile %s: ssh.host must not be empty", p->name);
		return err_hint(e, "give the server's name or address");
	}
	if (o->port < 1 || o->port > 65535)
		return err_set(e, ERR_PROFILE, "profile %s: ssh.port: expected 1-65535, got %d",
			       p->name, o->port);
	set_optional(&p->ssh.host, o->host);
	set_optional(&p->ssh.user, o->user);
	p->ssh.port = o->port;
	free(p->ssh.identity_file);
	p->ssh.identity_file = o->identity_file && *o->identity_file
				       ? profile_path_resolve(p->dir, o->identity_file) : NULL;
	p->has_ssh = true;
	return 0;
}
