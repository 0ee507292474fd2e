/* redact — a profile as JSON text for people: secrets replaced by "***". */
#include "profile_int.h"
#include "db.h"
#include "util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* A connection string with its passwords masked, as db_conninfo_redact. */
char *profile_redact_url(const char *url)
{
	return db_conninfo_redact(url);
}

/* s with every remembered secret replaced by "***", longest first. */
static char *redact_secrets(const struct profile *p, const char *s)
{
	char *out = xstrdup(s);
	bool *done = xcalloc(p->secrets.n + 1, sizeof *done);
	for (size_t round = 0; round < p->secrets.n; round++) {
		size_t best = p->secrets.n;
		for (size_t i = 0; i < p->secrets.n; i++)
			if (!done[i] && (best == p->secrets.n ||
					 strlen(p->secrets.v[i]) > strlen(p->secrets.v[best])))
				best = i;
		done[best] = true;
		const char *secret = p->secrets.v[best];
		struct sbuf b = {0};
		const char *from = out, *hit;
		while ((hit = strstr(from, secret))) {
			sbuf_add(&b, from, (size_t)(hit - from));
			sbuf_adds(&b, "***");
			from = hit + strlen(secret);
		}
		sbuf_adds(&b, from);
		free(out);
		out = sbuf_take(&b);
	}
	free(done);
	return out;
}

/* A JSON string, with bytes that are not UTF-8 shown as '?'. */
static json_t *json_text(const char *s)
{
	json_t *j = json_string(s);
	if (j)
		return j;
	char *copy = xstrdup(s);
	for (char *q = copy; *q; q++)
		if ((unsigned char)*q >= 0x80)
			*q = '?';
	j = json_string(copy);
	free(copy);
	return j;
}

/* o.key = s with secrets redacted; nothing when s is NULL. */
static void put_str(json_t *o, const struct profile *p, const char *key, const char *s)
{
	if (!s)
		return;
	char *r = redact_secrets(p, s);
	json_object_set_new(o, key, json_text(r));
	free(r);
}

/* o.key = a connection string with its passwords and secrets redacted. */
static void put_url(json_t *o, const struct profile *p, const char *key, const char *url)
{
	char *r = profile_redact_url(url);
	put_str(o, p, key, r);
	free(r);
}

/* o.key = the list with secrets redacted; nothing when empty. */
static void put_strv(json_t *o, const struct profile *p, const char *key, const struct strv *sv)
{
	if (sv->n == 0)
		return;
	json_t *a = json_array();
	for (size_t i = 0; i < sv->n; i++) {
		char *r = redact_secrets(p, sv->v[i]);
		json_array_append_new(a, json_text(r));
		free(r);
	}
	json_object_set_new(o, key, a);
}

/* Adds section under key unless it is empty (then frees it). */
static void put_section(json_t *o, const char *key, json_t *section)
{
	bool empty = json_is_object(section) ? json_object_size(section) == 0
					     : json_array_size(section) == 0;
	if (empty)
		json_decref(section);
	else
		json_object_set_new(o, key, section);
}

/* The app section. */
static json_t *app_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "root", p->app.root);
	put_strv(o, p, "paths", &p->app.paths);
	put_strv(o, p, "exclude", &p->app.exclude);
	put_str(o, p, "env_file", p->app.env_file);
	if (p->app.keep_ownership)
		json_object_set_new(o, "keep_ownership", json_true());
	return o;
}

/* The backup section, defaults included. */
static json_t *backup_json(const struct profile *p)
{
	const struct profile_keep *k = &p->backup.keep;
	json_t *o = json_object();
	put_str(o, p, "dir", p->backup.dir);
	put_str(o, p, "compression", p->backup.compression);
	json_object_set_new(o, "level", json_integer(p->backup.level));
	json_object_set_new(o, "globals", json_boolean(p->backup.globals));
	json_object_set_new(o, "keep", json_pack("{s:i, s:i, s:i, s:i, s:i}",
		"last", k->last, "daily", k->daily, "weekly", k->weekly,
		"monthly", k->monthly, "manual_days", k->manual_days));
	put_strv(o, p, "schedule", &p->backup.schedule);
	if (p->backup.offsite)
		json_object_set_new(o, "offsite", json_true());
	return o;
}

/* One offsite target, its keep included. */
static json_t *target_json(const struct profile *p, const struct profile_offsite *t)
{
	const struct profile_keep *k = &t->keep;
	json_t *o = json_object();
	put_str(o, p, "name", t->name);
	put_str(o, p, "type", t->type);
	if (strcmp(t->type, "s3") == 0) {
		put_str(o, p, "endpoint", t->endpoint);
		put_str(o, p, "region", t->region);
		put_str(o, p, "bucket", t->bucket);
		put_str(o, p, "prefix", t->prefix);
		json_object_set_new(o, "path_style", json_boolean(t->path_style));
		json_object_set_new(o, "part_size_mib", json_integer(t->part_size_mib));
		json_object_set_new(o, "parallel", json_integer(t->parallel));
	} else {
		put_str(o, p, "host", t->host);
		json_object_set_new(o, "port", json_integer(t->port));
		put_str(o, p, "user", t->user);
		put_str(o, p, "identity_file", t->identity_file);
		put_str(o, p, "known_hosts", t->known_hosts);
		put_str(o, p, "dir", t->dir);
	}
	json_object_set_new(o, "keep", json_pack("{s:i, s:i, s:i, s:i, s:i}",
		"last", k->last, "daily", k->daily, "weekly", k->weekly,
		"monthly", k->monthly, "manual_days", k->manual_days));
	return o;
}

/* offsite, encryption and signing. */
static void offsite_json(json_t *o, const struct profile *p)
{
	json_t *a = json_array();
	for (size_t i = 0; i < p->noffsite; i++)
		json_array_append_new(a, target_json(p, &p->offsite[i]));
	put_section(o, "offsite", a);
	if (p->has_encryption) {
		json_t *en = json_object();
		put_strv(en, p, "recipients", &p->encryption.recipients);
		json_object_set_new(en, "local", json_boolean(p->encryption.local));
		json_object_set_new(o, "encryption", en);
	}
	json_t *sg = json_object();
	put_str(sg, p, "key", p->signing.key);
	put_str(sg, p, "public_key", p->signing.public_key);
	put_section(o, "signing", sg);
}

/* The ssh section, defaults included. */
static json_t *ssh_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "host", p->ssh.host);
	json_object_set_new(o, "port", json_integer(p->ssh.port));
	put_str(o, p, "user", p->ssh.user);
	put_str(o, p, "identity_file", p->ssh.identity_file);
	put_str(o, p, "known_hosts", p->ssh.known_hosts);
	json_object_set_new(o, "use_ssh_config", json_boolean(p->ssh.use_ssh_config));
	put_str(o, p, "ferry_path", p->ssh.ferry_path);
	put_str(o, p, "remote_profiles", p->ssh.remote_profiles);
	return o;
}

/* The services section. */
static json_t *services_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "orchestrator", p->services.orchestrator);
	put_strv(o, p, "restart", &p->services.restart);
	put_strv(o, p, "stop", &p->services.stop);
	put_strv(o, p, "start", &p->services.start);
	put_strv(o, p, "status", &p->services.status);
	put_strv(o, p, "rollback", &p->services.rollback);
	return o;
}

/* The health checks, defaults included. */
static json_t *health_json(const struct profile *p)
{
	json_t *a = json_array();
	for (size_t i = 0; i < p->nhealth; i++) {
		const struct profile_health *h = &p->health[i];
		json_t *o = json_object();
		put_str(o, p, "name", h->name);
		put_str(o, p, "url", h->url);
		json_object_set_new(o, "expect", json_integer(h->expect));
		json_object_set_new(o, "timeout_s", json_integer(h->timeout_s));
		json_object_set_new(o, "retries", json_integer(h->retries));
		json_object_set_new(o, "interval_s", json_integer(h->interval_s));
		json_object_set_new(o, "follow_redirects", json_boolean(h->follow_redirects));
		json_array_append_new(a, o);
	}
	return a;
}

/* The registry section. */
static json_t *registry_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "file", p->registry.file);
	put_url(o, p, "primary_url", p->registry.primary_url);
	put_url(o, p, "fallback_url", p->registry.fallback_url);
	put_str(o, p, "grace_period", p->registry.grace_period);
	return o;
}

/* The hooks. */
static json_t *hooks_json(const struct profile *p)
{
	json_t *o = json_object();
	put_strv(o, p, "pre_backup", &p->hooks.pre_backup);
	put_strv(o, p, "post_backup", &p->hooks.post_backup);
	put_strv(o, p, "pre_restore", &p->hooks.pre_restore);
	put_strv(o, p, "post_restore", &p->hooks.post_restore);
	put_strv(o, p, "pre_deploy", &p->hooks.pre_deploy);
	put_strv(o, p, "post_deploy", &p->hooks.post_deploy);
	return o;
}

/* The migrations section. */
static json_t *migrations_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "command", p->migrations.command);
	put_str(o, p, "status_command", p->migrations.status_command);
	put_str(o, p, "dir", p->migrations.dir);
	return o;
}

/* The actions, by name. */
static json_t *actions_json(const struct profile *p)
{
	json_t *o = json_object();
	for (size_t i = 0; i < p->nactions; i++) {
		const struct profile_action *a = &p->actions[i];
		json_t *ao = json_object();
		put_str(ao, p, "sql", a->sql);
		put_strv(ao, p, "params", &a->params);
		json_object_set_new(ao, "confirm", json_boolean(a->confirm));
		put_str(ao, p, "description", a->description);
		json_object_set_new(o, a->name, ao);
	}
	return o;
}

/* The drill section, defaults included. */
static json_t *drill_json(const struct profile *p)
{
	json_t *checks = json_array();
	for (size_t i = 0; i < p->drill.nchecks; i++) {
		const struct profile_drill_check *k = &p->drill.checks[i];
		json_t *o = json_object();
		put_str(o, p, "name", k->name);
		put_str(o, p, "sql", k->sql);
		put_str(o, p, "expect", k->expect);
		put_strv(o, p, "params", &k->params);
		json_array_append_new(checks, o);
	}
	json_t *o = json_object();
	put_section(o, "checks", checks);
	json_object_set_new(o, "max_age_days", json_integer(p->drill.max_age_days));
	put_str(o, p, "schedule", p->drill.schedule);
	return o;
}

/* A webhook URL shows its scheme and host only: the path of a chat
 * webhook is its key. */
static char *redact_webhook(const char *url)
{
	const char *host = strstr(url, "://");
	host = host ? host + 3 : url;
	size_t n = strcspn(host, "/?#");
	return xasprintf("%.*s%s", (int)(host - url + (ptrdiff_t)n), url, host[n] ? "/***" : "");
}

/* The notify section: header values are not shown. */
static json_t *notify_json(const struct profile *p)
{
	json_t *o = json_object();
	put_strv(o, p, "on", &p->notify.on);
	put_str(o, p, "command", p->notify.command);
	if (p->notify.webhook_url) {
		json_t *w = json_object();
		char *url = redact_webhook(p->notify.webhook_url);
		put_str(w, p, "url", url);
		free(url);
		json_t *h = json_object();
		for (size_t i = 0; i < p->notify.webhook_headers.n; i++) {
			const char *line = p->notify.webhook_headers.v[i];
			char *name = xstrndup(line, strcspn(line, ":"));
			json_object_set_new(h, name, json_string("***"));
			free(name);
		}
		put_section(w, "headers", h);
		json_object_set_new(o, "webhook", w);
	}
	json_object_set_new(o, "timeout_s", json_integer(p->notify.timeout_s));
	return o;
}

/* The whole profile, keys in the fixed order. */
static json_t *profile_json(const struct profile *p)
{
	json_t *o = json_object();
	put_str(o, p, "name", p->name);
	put_str(o, p, "file", p->file);
	put_str(o, p, "description", p->description);
	json_t *db = json_object();
	put_url(db, p, "url", p->database.url);
	put_section(o, "database", db);
	if (p->has_app)
		put_section(o, "app", app_json(p));
	put_section(o, "backup", backup_json(p));
	if (p->has_ssh)
		put_section(o, "ssh", ssh_json(p));
	put_section(o, "services", services_json(p));
	put_section(o, "health", health_json(p));
	if (p->has_registry)
		json_object_set_new(o, "registry", registry_json(p));
	put_section(o, "hooks", hooks_json(p));
	put_section(o, "migrations", migrations_json(p));
	put_section(o, "actions", actions_json(p));
	put_strv(o, p, "seeds", &p->seeds);
	put_str(o, p, "log_dir", p->log_dir);
	json_object_set_new(o, "drill", drill_json(p));
	if (p->has_notify)
		json_object_set_new(o, "notify", notify_json(p));
	offsite_json(o, p);
	return o;
}

/* The profile as pretty JSON with secrets redacted; caller frees. */
char *profile_to_json_redacted(const struct profile *p)
{
	if (!p)
		return xstrdup("null");
	json_t *o = profile_json(p);
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return xstrdup("{}");
	char *out = xstrdup(text);
	free(text);
	return out;
}
