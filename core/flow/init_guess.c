/* flow/init_guess — what `ferry init` suggests before it asks: a database
 * URL found on this machine, whether a directory looks like an app, the
 * app paths worth carrying, a profile name. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flow/init.h"
#include "fsx.h"
#include "profile/profile.h"

void init_guess_done(struct init_guess *g)
{
	free(g->url);
	memset(g, 0, sizeof *g);
}

/* A URL of the PG* variables that are set; NULL when none is. */
static char *url_from_pg_env(void)
{
	const char *host = getenv("PGHOST"), *port = getenv("PGPORT");
	const char *user = getenv("PGUSER"), *db = getenv("PGDATABASE");
	if (!(host && *host) && !(db && *db))
		return NULL;
	bool socket = host && host[0] == '/';
	struct sbuf b = {0};
	sbuf_adds(&b, "postgresql://");
	if (user && *user)
		sbuf_addf(&b, "%s@", user);
	if (host && *host && !socket)
		sbuf_adds(&b, host);
	if (port && *port && !socket)
		sbuf_addf(&b, ":%s", port);
	sbuf_addf(&b, "/%s", db && *db ? db : "");
	if (socket)
		sbuf_addf(&b, "?host=%s%s%s", host, port && *port ? "&port=" : "", port && *port ? port : "");
	return sbuf_take(&b);
}

/* The first ~/.pgpass line (PGPASSFILE) naming a host, port, database and
 * user without wildcards, as a URL (the password stays in the file). */
static char *url_from_pgpass(void)
{
	const char *env = getenv("PGPASSFILE");
	char *path = env && *env ? xstrdup(env) : xasprintf("%s/.pgpass", getenv("HOME") ? getenv("HOME") : "");
	FILE *f = fopen(path, "r");
	free(path);
	if (!f)
		return NULL;
	char line[1024];
	char *url = NULL;
	while (!url && fgets(line, sizeof line, f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || strchr(line, '\\'))
			continue;   /* a comment, or escapes this reader does not undo */
		char *field[5] = {0};
		char *save = NULL, *tok = strtok_r(line, ":", &save);
		int n = 0;
		for (; tok && n < 5; tok = strtok_r(NULL, ":", &save))
			field[n++] = tok;
		if (n < 4)
			continue;
		bool wild = false;
		for (int i = 0; i < 4; i++)
			wild |= strcmp(field[i], "*") == 0;
		if (!wild)
			url = xasprintf("postgresql://%s@%s:%s/%s", field[3], field[0], field[1], field[2]);
	}
	fclose(f);
	return url;
}

bool init_guess_url(const char *dir, struct init_guess *g)
{
	memset(g, 0, sizeof *g);
	const char *env = getenv("DATABASE_URL");
	if (env && *env) {
		g->url = xstrdup(env);
		g->source = "DATABASE_URL";
		return true;
	}
	char *file = xasprintf("%s/.env", dir);
	g->url = profile_env_file_get(file, "DATABASE_URL");
	free(file);
	if (g->url && *g->url) {
		g->source = "DATABASE_URL in .env";
		g->from_env_file = true;
		return true;
	}
	free(g->url);
	if ((g->url = url_from_pg_env())) {
		g->source = "the PG* variables";
		return true;
	}
	if ((g->url = url_from_pgpass())) {
		g->source = "~/.pgpass";
		return true;
	}
	return false;
}

void init_app_markers(const char *dir, struct strv *markers)
{
	static const char *const files[] = {".env", "docker-compose.yml", "compose.yaml", "package.json",
					    "alembic.ini", "manage.py", "Gemfile", "Cargo.toml", "go.mod",
					    "pyproject.toml", NULL};
	for (size_t i = 0; files[i]; i++) {
		char *p = xasprintf("%s/%s", dir, files[i]);
		if (fsx_exists(p))
			strv_push(markers, files[i]);
		free(p);
	}
}

void init_suggest_paths(const char *root, struct strv *out)
{
	static const char *const dirs[] = {"uploads", "media", "storage", "config", "exports",
					   "public/uploads", "data", NULL};
	for (size_t i = 0; dirs[i]; i++) {
		char *p = xasprintf("%s/%s", root, dirs[i]);
		struct stat st;
		if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
			strv_push(out, dirs[i]);
		free(p);
	}
}

char *init_profile_name(const char *database)
{
	char *name = xstrdup(database ? database : "");
	for (char *p = name; *p; p++)
		if (!(*p == '-' || *p == '_' || (*p >= '0' && *p <= '9') || ((*p | 32) >= 'a' && (*p | 32) <= 'z')))
			*p = '-';
	if (!*name || name[strspn(name, "-")] == '\0') {
		free(name);
		name = xstrdup("main");
	}
	return name;
}
