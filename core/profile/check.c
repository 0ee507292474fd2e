/* check — what `ferry profiles check` adds to loading: the paths a run of
 * the profile needs on this machine (app.root, app.paths, backup.dir) exist. */
#include "profile_int.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* "" when path is a directory (or anything, with want_dir false), else
 * what it is instead. */
static const char *path_problem(const char *path, bool want_dir)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno == ENOENT ? "does not exist" : strerror(errno);
	if (want_dir && !S_ISDIR(st.st_mode))
		return "is not a directory";
	return "";
}

/* One path: a problem line into out ("name.key: PATH does not exist"). */
static void check_one(const struct profile *p, const char *key, const char *path, bool want_dir,
		      struct strv *out)
{
	const char *why = path_problem(path, want_dir);
	if (!*why)
		return;
	char *line = xasprintf("%s.%s: %s %s", p->name, key, path, why);
	strv_push(out, line);
	free(line);
}

size_t profile_check_paths(const struct profile *p, struct strv *errors, struct strv *notes)
{
	/* With an ssh section the paths may be the SSH host's: a missing one
	 * is noted, not counted. */
	struct strv *out = p->has_ssh ? notes : errors;
	size_t before = out->n;
	if (p->has_app) {
		check_one(p, "app.root", p->app.root, true, out);
		if (!*path_problem(p->app.root, true)) {
			for (size_t i = 0; i < p->app.paths.n; i++) {
				char *full = xasprintf("%s/%s", p->app.root, p->app.paths.v[i]);
				char key[64];
				snprintf(key, sizeof key, "app.paths[%zu]", i);
				check_one(p, key, full, false, out);
				free(full);
			}
		}
	}
	check_one(p, "backup.dir", p->backup.dir, true, out);
	if (p->has_ssh) {
		for (size_t i = before; i < out->n; i++) {
			char *line = xasprintf("%s here (fine when it is on %s, the profile's ssh host)",
					       out->v[i], p->ssh.host);
			free(out->v[i]);
			out->v[i] = line;
		}
		return 0;
	}
	return out->n - before;
}
