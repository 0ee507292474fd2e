/* wiz_save — "Save as profile" on the summary: a copy of the chosen
 * profile's JSON object (for a migrate, the new server's), with the
 * wizard's answers applied, added to the profiles file under a new name. The file is written to a temporary file
 * and renamed, then loaded again; a file that no longer loads is put back. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wiz/wiz.h"

/* Write text to path atomically (temp file, fsync, rename), keeping mode. */
static int write_atomic(const char *path, const char *text, mode_t mode, char *why, size_t n)
{
	char *tmp = xasprintf("%s.ferry-tmp-%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	int rc = -1;
	if (!f) {
		snprintf(why, n, "cannot write %s: %s", tmp, strerror(errno));
	} else {
		bool ok = fputs(text, f) >= 0 && fflush(f) == 0 && fsync(fileno(f)) == 0;
		ok = fclose(f) == 0 && ok;
		if (ok && chmod(tmp, mode & 07777) == 0 && rename(tmp, path) == 0)
			rc = 0;
		else
			snprintf(why, n, "cannot write %s: %s", path, strerror(errno));
	}
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	return rc;
}

const char *wiz_save_base(const struct wiz *w)
{
	return w->flow->save_base ? w->flow->save_base(w) : w->p->name;
}

/* The new file's text: the profiles with the copy added; caller frees. */
static char *with_copy(const struct wiz *w, json_t *root, const char *name, char *why, size_t n)
{
	const char *base_name = wiz_save_base(w);
	json_t *base = base_name ? json_object_get(root, base_name) : NULL;
	if (!json_is_object(base)) {
		snprintf(why, n, "profile %s is not an object in %s", base_name ? base_name : "?",
			 w->profiles_path);
		return NULL;
	}
	json_t *copy = json_deep_copy(base);
	if (w->flow->save)
		w->flow->save(w, copy);
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(when, sizeof when, "%Y-%m-%d", &tm);
	char *desc = xasprintf("saved by the %s wizard from %s on %s", w->flow->name, base_name, when);
	json_object_set_new(copy, "description", json_string(desc));
	free(desc);
	json_object_set_new(root, name, copy);
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		snprintf(why, n, "cannot encode the profiles as JSON");
	return text;
}

/* Read the whole file; caller frees. */
static char *read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 8192, len = 0, got;
	char *buf = xmalloc(cap);
	while ((got = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += got;
		if (cap - len < 2)
			buf = xrealloc(buf, cap *= 2);
	}
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* Whether the file still loads; when not, why. */
static bool still_loads(const char *path, char *why, size_t n)
{
	struct err e = {0};
	profile_file *pf = profile_file_load(path, &e);
	profile_file_free(pf);
	if (!pf)
		snprintf(why, n, "%.500s", e.msg);
	return pf != NULL;
}

/* Add the new profile to the file; msg says what happened. */
int wiz_save_profile(struct wiz *w, const char *name, char *msg, size_t n)
{
	char why[768] = "";
	struct stat sb;
	char *old = read_all(w->profiles_path);
	json_error_t je;
	json_t *root = old ? json_loads(old, JSON_DECODE_ANY, &je) : NULL;
	char *text = json_is_object(root) ? with_copy(w, root, name, why, sizeof why) : NULL;
	int rc = -1;
	if (!old || !json_is_object(root))
		snprintf(why, sizeof why, "cannot read %s as JSON", w->profiles_path);
	else if (text && stat(w->profiles_path, &sb) == 0 &&
		 write_atomic(w->profiles_path, text, sb.st_mode, why, sizeof why) == 0) {
		rc = 0;
		if (!still_loads(w->profiles_path, why, sizeof why)) {
			char ignored[256];
			write_atomic(w->profiles_path, old, sb.st_mode, ignored, sizeof ignored);
			rc = -1;
		}
	}
	if (rc == 0) {
		char *next = w->flow->save_next ? w->flow->save_next(w, name)
						: xasprintf("ferry %s --profile %s", w->flow->name, name);
		/* One screen line: the dialog already named the file. */
		snprintf(msg, n, "saved profile \"%s\"; next time: %s", name, next);
		free(next);
	} else
		snprintf(msg, n, "not saved: %s", why);
	json_decref(root);
	free(text);
	free(old);
	return rc;
}
