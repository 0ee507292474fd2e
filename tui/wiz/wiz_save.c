/* wiz_save — "Save as profile" on the summary: a copy of the chosen
 * profile's JSON object (for a migrate, the new server's), with the
 * wizard's answers applied, added to the profiles file under a new name.
 * The file is replaced atomically (fsx_write_atomic), then loaded again; a
 * file that no longer loads is put back. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fsx.h"

#include "wiz/wiz_save.h"

/* The profile Save copies. */
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

/* Replace the profiles file with text (atomically, keeping its mode). */
static int write_profiles(const char *path, const char *text, mode_t mode, char *why, size_t n)
{
	struct err e = {0};
	if (fsx_write_atomic(path, text, strlen(text), mode & 07777, &e) == 0)
		return 0;
	snprintf(why, n, "%.500s", e.msg);
	return -1;
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
	struct err ignored = {0};
	char *old = fsx_read_file(w->profiles_path, PROFILE_FILE_MAX, NULL, &ignored);
	json_error_t je;
	json_t *root = old ? json_loads(old, JSON_DECODE_ANY, &je) : NULL;
	char *text = json_is_object(root) ? with_copy(w, root, name, why, sizeof why) : NULL;
	int rc = -1;
	if (!old || !json_is_object(root))
		snprintf(why, sizeof why, "cannot read %s as JSON", w->profiles_path);
	else if (text && stat(w->profiles_path, &sb) == 0 &&
		 write_profiles(w->profiles_path, text, sb.st_mode, why, sizeof why) == 0) {
		rc = 0;
		if (!still_loads(w->profiles_path, why, sizeof why)) {
			char unused[256];
			write_profiles(w->profiles_path, old, sb.st_mode, unused, sizeof unused);
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
